"""The Markdown table of one bench record, and where it is written.

:func:`table` renders the rows of whatever measurements the record holds (a full run gives
the table ``docs/benchmarks.md`` shows); :func:`write_between_markers` puts it between
:data:`MARKERS` in a Markdown file, creating the file or the markers where missing.
"""

from __future__ import annotations

import functools
from pathlib import Path

from benchmarks.tail import TAIL_YEAR

MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
NAN = float("nan")


def _row(measure: str, value: str) -> str:
    """One row of the table: what is measured, then its value with units."""
    return f"| {measure} | {value} |"


def needs(key: str):
    """A section of rows drawn only from a record that holds ``key`` (a record of a subset
    of measurements, or from before a measurement existed, has none of its rows)."""
    def wrap(rows_of):
        @functools.wraps(rows_of)
        def rows(r: dict) -> list[str]:
            return rows_of(r) if key in r else []
        return rows
    return wrap


@needs("cells_per_s")
def _kernel_rows(r: dict) -> list[str]:
    return [
        _row("kernel, default scenario, all threads",
             f"{r['cells_per_s'] / 1e6:.1f} M cells/s, {r['paths_per_s']:.0f} paths/s "
             f"({r['cells_per_path']:,} cells per path)"),
        _row("numpy reference, same scenario",
             f"{r['numpy_cells_per_s'] / 1e6:.2f} M cells/s, "
             f"{r['numpy_paths_per_s']:.1f} paths/s"),
        _row("kernel / reference", f"{r['kernel_vs_numpy_ratio']:.1f}×")]


@needs("sampler_ns_per_draw")
def _sampler_rows(r: dict) -> list[str]:
    rows = [_row("binomial, the scenario's own draws (ours / numpy)",
                 f"{r['sampler_ns_per_draw']:.1f} / {r['numpy_sampler_ns_per_draw']:.1f} ns "
                 "per draw")]
    if r.get("poisson_draws_recorded"):
        rows.append(_row("Poisson, the scenario's own draws (ours / numpy)",
                         f"{r['poisson_ns_per_draw']:.1f} / "
                         f"{r['numpy_poisson_ns_per_draw']:.1f} ns per draw"))
    else:
        rows.append(_row("Poisson, the scenario's own draws", "none drawn (its joins are "
                         "binomial within the market; Poisson by regime below)"))
    if "one_at_a_time_ns_per_draw" in r:      # (records before issue 15: none)
        rows.append(_row("binomial, the same draws one at a time (the kernel before issue "
                         "15)", f"{r['one_at_a_time_ns_per_draw']:.1f} ns per draw"))
    return rows


@needs("philox_ns_per_block")
def _philox_rows(r: dict) -> list[str]:
    return [_row("Philox4x32-10 block, one at a time / a stage's together",
                 f"{r['philox_ns_per_block']:.1f} / "
                 f"{r.get('philox_batch_ns_per_block', NAN):.1f} ns")]


@needs("kernel_cells_per_s_1thread")
def _share_rows(r: dict) -> list[str]:
    return [_row("kernel, one thread / its draws alone",
                 f"{r['kernel_cells_per_s_1thread'] / 1e6:.2f} / "
                 f"{r['sampler_bound_cells_per_s_1thread'] / 1e6:.2f} M cells/s"),
            _row("share of kernel time outside the samplers",
                 f"{r['share_outside_samplers']:.0%}")]


def _previous_rows(r: dict) -> list[str]:
    if "kernel_over_previous" in r:
        rev = r.get("previous_kernel_rev", "a5c48f7")   # records before issue 25: a5c48f7
        return [_row(f"kernel today / previous kernel (git {rev}), same run: one thread, "
                     "all threads", f"{r['kernel_over_previous_1thread']:.2f}× / "
                     f"{r['kernel_over_previous']:.2f}×")]
    if "only" in r:
        return []
    return [_row("kernel today / a previous kernel", "not measured (no `--previous REV`)")]


@needs("kernel_cells_per_s_1thread")
def _yardstick_rows(r: dict) -> list[str]:
    ns = 1e9 / r["kernel_cells_per_s_1thread"] / r["numpy_sampler_ns_per_draw"]
    return [_row("yardstick: kernel ns per cell (one thread) in numpy binomial draws",
                 f"{ns:.2f}")]


@needs("run_seconds_numba")
def _end_to_end_rows(r: dict) -> list[str]:
    return [_row(f"`mutualsim run`, default scenario, {r['run_paths']:,} paths: numba / "
                 "numpy", f"{r['run_seconds_numba']:.1f} / {r['run_seconds_numpy']:.1f} s "
                 f"({r['run_numba_over_numpy']:.1f}×)")]


def _joined(values, fmt: str, sep: str = ", ") -> str:
    return sep.join(format(v, fmt) for v in values)


@needs("scaling_ns_per_cell_by_paths")
def _scaling_rows(r: dict) -> list[str]:
    return [
        _row("ns per cell, whole run, by paths (10^3, 10^4, 10^5, 10^6; small plan, 20 "
             "quarters)", _joined(r["scaling_ns_per_cell_by_paths"].values(), ".0f")),
        _row("ns per cell, whole run, by quarters (20, 40, 80; 5·10^4 paths)",
             _joined(r["scaling_ns_per_cell_by_quarters"].values(), ".0f")),
        _row("ns per added cell, paths 10^4→10^5 / 10^5→10^6",
             _joined(r["scaling_marginal_ns_per_cell_paths"], ".0f", " / ")
             + f" (deviation {r['scaling_deviation_paths']:.0%})"),
        _row("ns per added cell, quarters 20→40 / 40→80",
             _joined(r["scaling_marginal_ns_per_cell_quarters"], ".0f", " / ")
             + f" (deviation {r['scaling_deviation_quarters']:.0%})")]


@needs("kernel_ns_per_cell_by_quarters")
def _kernel_scaling_rows(r: dict) -> list[str]:
    return [
        _row("kernel alone, ns per cell by quarters (20, 40, 80; 2·10^4 paths)",
             _joined(r["kernel_ns_per_cell_by_quarters"].values(), ".1f")
             + f" (spread {r['kernel_scaling_spread_quarters']:.0%})"),
        _row("kernel alone, ns per cell by paths (10^3, 10^4, 10^5; 20 quarters)",
             _joined(r["kernel_ns_per_cell_by_paths"].values(), ".1f")
             + f" (spread 10^4–10^5 {r['kernel_scaling_spread_paths']:.0%})")]


def _memory_and_compile_rows(r: dict) -> list[str]:
    rows = []
    if "peak_rss_mb_1e4" in r:
        rows.append(_row("peak memory at 10^4 / 10^6 paths",
                         f"{r['peak_rss_mb_1e4']:.0f} / {r['peak_rss_mb_1e6']:.0f} MB"))
    if "compile_s_cold" in r:
        rows.append(_row("compile, cold / cached",
                         f"{r['compile_s_cold']:.1f} / {r['compile_s_cached']:.2f} s"))
    return rows


@needs("single_process_paths_per_s")
def _cluster_rows(r: dict) -> list[str]:
    return [
        _row("Dask LocalCluster, 1 / 2 worker processes (default scenario, incl. start-up)",
             f"{r['cluster_1_worker_paths_per_s']:.0f} / "
             f"{r['cluster_2_workers_paths_per_s']:.0f} paths/s, against "
             f"{r['single_process_paths_per_s']:.0f} in one threaded process"),
        _row("Dask: cluster start-up, overhead per block",
             f"{r['cluster_startup_s']:.1f} s, {r['cluster_overhead_s_per_block'] * 1e3:.1f} ms"),
        _row("results file size", f"{r['result_bytes_per_path']:.0f} bytes per path")]


@needs("analysis_per_scenario_ratio")
def _analysis_set_rows(r: dict) -> list[str]:
    sizes = sorted(int(k.rsplit("_", 1)[1]) for k in r if k.startswith("set_run_s_"))
    small, large = sizes[0], sizes[-1]

    def seconds(n):
        return (f"run {r[f'set_run_s_{n}']:.1f} s, compare {r[f'set_compare_s_{n}']:.1f} s, "
                f"report {r[f'set_report_s_{n}']:.1f} s")

    # records before the base was kept ran the small plan
    base = Path(r.get("analysis_sets_base", "benchmarks/small_plan.toml")).stem
    return [
        _row(f"a Latin set of {small} / {large} scenarios × {r['analysis_sets_paths']} paths "
             f"({base})", f"{seconds(small)} / {seconds(large)}"),
        _row(f"compare + report per scenario, {large} over {small} scenarios (target ≤ 1.2)",
             f"{r['analysis_per_scenario_ratio']:.2f}"),
        _row(f"compare + report over the run, {large} scenarios (target ≤ 5 %)",
             f"{r['analysis_over_run_large']:.1%}")]


@needs("sobol_max_halfwidth")
def _sobol_rows(r: dict) -> list[str]:
    return [
        _row(f"Sobol study: {r['sobol_scenarios']} scenarios, paths with the pilot's "
             "(target ≤ 200,000)", f"{r['sobol_paths']:,} in {r['sobol_run_s']:.0f} s"),
        _row("Sobol study: widest total index's 95 % half-interval (target ≤ 0.1)",
             f"{r['sobol_max_halfwidth']:.3f}")]


def _pair(values: dict, fmt: str, unit: str = "") -> str:
    """VaR and TVaR 99.5 % of one figure, ``VaR / TVaR``, each followed by ``unit``."""
    return f"{values['var_995']:{fmt}}{unit} / {values['tvar_995']:{fmt}}{unit}"


@needs("tail_paths_plain")
def _tail_rows(r: dict) -> list[str]:
    runs, paths = r["tail_replications"]
    return [
        _row(f"VaR / TVaR 99.5 %, year {TAIL_YEAR}'s shortfall: paths for ±2 % s.e., plain",
             _pair(r["tail_paths_plain"], ",.0f")),
        _row("same, importance sampling (pilot not counted; s.e. from replications)",
             _pair(r["tail_paths_is"], ",.0f")),
        _row("variance reduction per path; time to ±2 % plain / IS, pilot counted "
             "(target ≥ 10×)" + (f"; pilot: {r['tail_pilot_paths']} paths, "
                                 f"{r['tail_pilot_seconds']:.1f} s"
                                 if "tail_pilot_paths" in r else ""),
             _pair(r["tail_variance_reduction"], ".1f", "×") + "; "
             + _pair(r["tail_seconds_ratio"], ".1f", "×")),
        _row("same, importance sampling: effective sample share; reported s.e. / spread of "
             f"{runs} runs of {paths} paths", f"{r['tail_effective_sample_share']:.1%}; "
             + _pair(r["tail_is_reported_over_spread"], ".2f"))]


@needs("precision_paths_saved")
def _precision_rows(r: dict) -> list[str]:
    met = sum(t["met"] for t in r["precision_targets"])
    return [_row("default scenario to its [precision] (±2 % mean cost per member, years 1-4; "
                 "±5 % VaR 99.5 % year 4): paths fixed / used = precision_paths_saved",
                 f"{r['precision_paths_fixed']:,} / {r['precision_paths_used']:,} = "
                 f"{r['precision_paths_saved']:.2f}× ({met} of {len(r['precision_targets'])} "
                 f"targets met, {r['precision_run_s']:.0f} s)")]


@needs("detail_seconds_ratio_all")
def _detail_rows(r: dict) -> list[str]:
    return [_row(f"[output] detail, {r['detail_paths']:,} paths of the default scenario: time "
                 "and file size / a plain run; claims, members, aid by sex, age band",
                 f"{r['detail_seconds_ratio_typical']:.2f}× / "
                 f"{r['detail_file_ratio_typical']:.2f}×"),
            _row("same, all 11 detailable variables by sex, age band, risk group",
                 f"{r['detail_seconds_ratio_all']:.2f}× / {r['detail_file_ratio_all']:.2f}×")]


@needs("tail_ruin_paths_plain")
def _ruin_rows(r: dict) -> list[str]:
    return [
        _row("ruin by quarter 8 of a closed group (0.125 % exactly; plain / IS estimate)",
             f"{r['tail_ruin_probability_plain']:.3%} / {r['tail_ruin_probability_is']:.3%}"),
        _row("same, paths for ±2 % s.e., plain / IS (claim counts tilted)",
             f"{r['tail_ruin_paths_plain']:,.0f} / {r['tail_ruin_paths_is']:,.0f}"),
        _row("same, variance reduction per path; time to ±2 % plain / IS (pilot counted)",
             f"{r['tail_ruin_variance_reduction']:.0f}×; "
             f"{r['tail_ruin_seconds_ratio']:.0f}×")]


@needs("regimes")
def _regime_rows(r: dict) -> list[str]:
    lines = ["", "Samplers by regime, ns per draw (ours / numpy):", "",
             "| regime | mean n·p or λ | ours | numpy |", "|---|---|---|---|"]
    for name, row in r["regimes"].items():
        lines.append(f"| {name} | {row['mean_np']:,.1f} | {row['ours_ns']:.1f} | "
                     f"{row['numpy_ns']:.1f} |")
    return lines


ROWS = (_kernel_rows, _sampler_rows, _philox_rows, _share_rows, _previous_rows,
        _yardstick_rows, _end_to_end_rows, _scaling_rows, _kernel_scaling_rows,
        _memory_and_compile_rows, _cluster_rows, _tail_rows, _ruin_rows, _precision_rows,
        _detail_rows,
        _analysis_set_rows,
        _sobol_rows)


def table(result: dict) -> str:
    """The record ``result`` as Markdown: a line naming the date and machine, the table of
    measures (the rows of the measurements it holds) and the samplers by regime.

    Returns
    -------
    str
        Markdown, no trailing newline; units are in each row (cells/s, ns, s, MB, ×).
    """
    m = result["machine"]
    head = [f"Measured {result['date']} on {m['cpu']} ({m['cores']} cores), "
            f"numba {m['numba']}, numpy {m['numpy']}."]
    if result.get("quick"):
        head.append("(`--quick`: tiny sizes, a smoke test; the numbers mean nothing.)")
    rows = [row for rows_of in ROWS for row in rows_of(result)]
    measures = ["", "| measure | value |", "|---|---|", *rows] if rows else []
    return "\n".join(head + measures + _regime_rows(result))


def write_between_markers(path: Path, text: str) -> str:
    """Put ``text`` between :data:`MARKERS` in the Markdown file ``path``.

    A missing file is created with a title and the markers; a file without the markers gets
    them appended at its end. Nothing outside the markers changes.

    Returns
    -------
    str
        What was done: ``"created"``, ``"appended"`` or ``"replaced"``.
    """
    start, end = MARKERS
    block = f"{start}\n{text}\n{end}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Benchmarks\n\nWritten by `make bench` (`python -m benchmarks`); "
                        f"the text between the markers is machine-written.\n\n{block}\n",
                        encoding="utf-8")
        return "created"
    current = path.read_text(encoding="utf-8")
    if start not in current or end not in current.split(start, 1)[1]:
        path.write_text(current.rstrip("\n") + f"\n\n{block}\n", encoding="utf-8")
        return "appended"
    head, rest = current.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{block}{tail}", encoding="utf-8")
    return "replaced"
