"""A reverse stress test's answer (:mod:`engine.studies.reverse_stress`) as HTML: a section
for ``report`` and a self-contained page (``DIR/reverse_stress.html``)."""

from __future__ import annotations

import html
from pathlib import Path

SHIFTS_SHOWN = 12      # driver components in the table and chart (all are in the CSV)
SCENARIOS_SHOWN = 10


def _label(driver: str, component: str) -> str:
    return f"{driver.removeprefix('driver_').replace('_', ' ')} {component}".strip()


def _percent(x: float) -> str:
    return f"{100 * x:.3g} %"


def probability_text(answer: dict) -> str:
    """The event's probability as a clause, with its s.e., paths and basis (the page and the
    terminal say it alike)."""
    p = answer["probability"]
    if p["paths_with_event"] == 0:
        bound = (f"below {_percent(p['upper_95'])} (one-sided 95 % Clopper–Pearson bound on "
                 "the plain paths)" if p["upper_95"] is not None else
                 "drawn from a tilted law, the paths bound no probability of the model's")
        return f"no path of the {p['paths']:,} has it: {bound}"
    basis = ("weighted by the file's importance-sampling tilt" if answer["weighted"]
             else "plain paths")
    one_in = f", about 1 in {p['one_in']:,.0f}" if p["one_in"] and p["one_in"] >= 2 else ""
    return (f"{_percent(p['estimate'])} (s.e. {_percent(p['standard_error'])}){one_in}: "
            f"{p['paths_with_event']:,} of {p['paths']:,} paths, "
            f"{p['effective_paths']:,.0f} effective, {basis}")


def probability_sentence(answer: dict) -> str:
    text = probability_text(answer)
    if answer["probability"]["paths_with_event"] == 0:
        return (text[0].upper() + text[1:] + ", and the file cannot say which drivers it "
                "comes from.")
    return f"Its probability is {text}."


def shifts_in_words(shifts: list[dict], most: int = 3) -> str:
    """The drivers the event moves beyond their noise, in a sentence ("" if none)."""
    moved = [s for s in shifts if not s["within_noise"]][:most]
    if not moved:
        return ("No driver moves beyond twice its standard error on the paths with the event: "
                "the file cannot tell which drivers it comes from (more paths, or a run aimed "
                "at it, would).") if shifts else ""
    parts = [f"{_label(s['driver'], s['component'])} ({s['shift_sd']:+.2f} s.d., ± "
             f"{2 * s['shift_sd_se']:.2f})" for s in moved]
    return ("On the paths where it happens, the drivers moved furthest from their law are "
            + ", ".join(parts) + ".")


def shift_chart(shifts: list[dict]):
    """Bars of the largest shifts with ±2 s.e."""
    from engine.report.plots import plt

    rows = shifts[:SHIFTS_SHOWN][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2))
    y = range(len(rows))
    ax.barh(list(y), [r["shift_sd"] for r in rows], xerr=[2 * r["shift_sd_se"] for r in rows],
            color="#4a7ab0", ecolor="#333", capsize=3)
    ax.set_yticks(list(y), [_label(r["driver"], r["component"]) for r in rows])
    ax.axvline(0.0, color="#888", linewidth=0.8)
    ax.set_xlabel("mean given the event less the mean over all paths, s.d. of the driver's "
                  "law (± 2 s.e.)")
    fig.tight_layout()
    return fig


def section(answer: dict, heading: str = "h2") -> str:
    """The answer as an HTML fragment (no figure needs the network)."""
    from engine.report.html import _png

    e = html.escape
    out = [f"<{heading}>What would break it: {e(answer['event_described'])}</{heading}>",
           f"<p>Scenario {e(answer['scenario'])}. {e(probability_sentence(answer))}</p>"]
    hint = answer.get("tail_hint")
    if hint and hint.startswith("[tail]"):
        out.append("<p>A run aimed at the event would add:</p><pre>" + e(hint) + "</pre>")
    elif hint:
        out.append(f"<p>{e(hint[0].upper() + hint[1:])}.</p>")
    if answer.get("drivers_note"):
        out.append(f"<p>{e(answer['drivers_note'][0].upper() + answer['drivers_note'][1:])}."
                   "</p>")
    shifts = answer.get("driver_shifts") or []
    words = shifts_in_words(shifts)
    if words:
        out.append(f"<p>{e(words)}</p>")
    if shifts:
        out.append("<p>The drivers the event comes from, ranked by how far it moves them: "
                   "each one's mean over the paths with the event less its mean over all "
                   "paths, in standard deviations of its own law, ± 2 s.e. (Glasserman, "
                   "Kang &amp; Kang 2015).</p>")
        out.append(f"<img alt='driver shifts' src='{_png(shift_chart(shifts))}'>")
        out.append("<table><tr><th>driver</th><th>mean given the event</th>"
                   "<th>shift, s.d.</th><th>± 2 s.e.</th><th></th></tr>")
        for s in shifts[:SHIFTS_SHOWN]:
            out.append(f"<tr><td>{e(_label(s['driver'], s['component']))}</td>"
                       f"<td>{s['mean_given_event']:.3f}</td><td>{s['shift_sd']:+.2f}</td>"
                       f"<td>{2 * s['shift_sd_se']:.2f}</td>"
                       f"<td>{'within noise' if s['within_noise'] else ''}</td></tr>")
        out.append("</table>")
    out += _failure_part(answer)
    out += _set_part(answer)
    return "\n".join(out)


def _failure_part(answer: dict) -> list[str]:
    e = html.escape
    failure = answer.get("likely_failure")
    if failure is None:
        note = answer.get("likely_failure_note")
        return [f"<p>The most likely way to fail was not searched: {e(note)}.</p>"] if note \
            else []
    out = ["<h3>The most likely way to fail</h3>", f"<p>{e(failure['in_words'])}</p>",
           "<p>The drivers of least Mahalanobis distance from their medians whose expected "
           "path has the event (a local design point, found by SLSQP; a join multiplier's "
           "score is its normal quantile; shock events held at none). The first-order "
           "estimate Φ(−β) reads how extreme the needed drivers are; it ignores the counts' "
           "own randomness and every other way to the event, so "
           "the simulated probability above is the figure to use.</p>"]
    if failure["drivers"] and failure["found"]:
        out.append("<p>Drivers at their median (score 0) are left out.</p>"
                   "<table><tr><th>driver</th><th>score, s.d.</th><th>value</th></tr>")
        moved = [d for d in failure["drivers"] if abs(d["score_sd"]) >= 0.01]
        for d in moved[:SHIFTS_SHOWN]:
            out.append(f"<tr><td>{e(_label(d['driver'], d['component']))}</td>"
                       f"<td>{d['score_sd']:+.2f}</td><td>{d['value']:.4g}</td></tr>")
        out.append("</table>")
    if answer.get("replay"):
        out.append(f"<p>Replayed by <code>{e(answer['replay']['file'])}</code>: these "
                   f"drivers at {answer['replay']['factor']:g} × the design point, held on "
                   "every path (<code>[drivers]</code>).</p>")
    return out


def _set_part(answer: dict) -> list[str]:
    rows = answer.get("set") or []
    if not rows:
        return []
    e = html.escape
    keys = [k for k in rows[0] if k not in ("scenario", "probability", "probability_se",
                                             "share")]
    out = ["<h3>The scenarios of the set where it is most likely</h3>",
           "<p>Share: of the set's summed probability, the scenarios taken as equally "
           "likely.</p><table><tr><th>scenario</th>"
           + "".join(f"<th>{e(k)}</th>" for k in keys)
           + "<th>probability</th><th>s.e.</th><th>share</th></tr>"]
    for r in rows[:SCENARIOS_SHOWN]:
        out.append(f"<tr><td>{e(r['scenario'])}</td>"
                   + "".join(f"<td>{r[k]:.4g}</td>" if isinstance(r[k], float)
                             else f"<td>{e(str(r[k]))}</td>" for k in keys)
                   + f"<td>{_percent(r['probability'])}</td>"
                   f"<td>{_percent(r['probability_se'])}</td>"
                   f"<td>{_percent(r['share'])}</td></tr>")
    out.append("</table>")
    return out


def write_page(answer: dict, provenance_line: str, out: Path) -> Path:
    """``out`` (``reverse_stress.html``): the section as a page of its own."""
    from engine.report.html import STYLE

    title = f"Reverse stress test: {answer['event_described']}"
    text = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(provenance_line)}</p>{section(answer)}</body></html>")
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
