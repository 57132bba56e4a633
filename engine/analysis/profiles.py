"""Who claims and who is a member: profiles from a results file's detail (``[output]``).

From ``claims_by`` and ``members_by`` (:mod:`engine.run.detail`), whichever dimensions they
have, per calendar year or year-end quarter:

- ``claims_male_share``: men's share of the year's claims (needs ``sex``);
- ``age_at_claim``: the mean and the quartiles of age at claim, all claims and by sex
  (needs ``age_band``), and ``claims_by_age_band``: each (sex, band)'s share of the year's
  claims. Ages are exact ages with each band's claims spread evenly over its
  years: a claim at completed age ``a`` counts as ``a + ½``, so a band ``[lo, hi]`` has
  mean ``(lo + hi + 1) / 2`` and quartiles are interpolated linearly within the band they
  fall in (exact for single-year bands up to that spread). A published mean of completed
  ages is about half a year lower;
- ``members_age_pyramid``: members' shares by sex and age band at the end of each
  calendar year in the run (its Q4, and the run's last quarter);
- ``members_risk_mix``: members' shares by risk group at the same quarters.

Each figure is a statistic of each path (a share or an age, paths without claims or
members in that year left out and counted), summarised over paths by its mean (weighted
by each path's likelihood ratio under a ``[tail]`` tilt), the mean's standard error and
the 5 %, 50 % and 95 % quantiles: the interval is the model's spread over paths, the range
a published figure should fall in if the model is right.
"""

from __future__ import annotations

import numpy as np

from engine.analysis import weighted as W
from engine.used_paths import scenario_paths

LEVELS = (0.05, 0.5, 0.95)
QUARTILES = (0.25, 0.5, 0.75)


def _stats(values: np.ndarray, w: np.ndarray | None) -> dict:
    """Mean, its s.e. and quantiles over the paths where ``values`` is finite."""
    ok = np.isfinite(values)
    x = values[ok]
    ww = None if w is None else w[ok]
    if x.size == 0:
        return {"mean": float("nan"), "se": float("nan"), "paths": 0,
                **{f"q{int(a * 100):02d}": float("nan") for a in LEVELS}}
    q = W.quantile(x, list(LEVELS), ww)
    return {"mean": W.mean(x, ww), "se": W.mean_standard_error(x, ww) if x.size > 1 else
            float("nan"), "paths": int(x.size),
            **{f"q{int(a * 100):02d}": float(v) for a, v in zip(LEVELS, q, strict=True)}}


def _values(ds, name: str, idx: list[int], keep: tuple[str, ...]) -> np.ndarray:
    """``name`` over the used paths of scenarios ``idx``, ``(P, T, *keep)``, summed over its
    other detail dimensions."""
    dims = ds[name].dims[3:]
    data = np.concatenate([scenario_paths(ds, name, i) for i in idx])
    drop = tuple(2 + j for j, d in enumerate(dims) if d not in keep)
    data = data.sum(axis=drop) if drop else data
    kept = [d for d in dims if d in keep]
    return np.moveaxis(data, [2 + kept.index(d) for d in keep], range(2, 2 + len(keep)))


def _has(ds, name: str, *dims: str) -> bool:
    return name in ds and all(d in ds[name].dims for d in dims)


def _years(labels: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for t, label in enumerate(labels):
        out.setdefault(label[:4], []).append(t)
    return out


def _year_ends(labels: list[str]) -> list[int]:
    """The quarters that end a calendar year, and the run's last quarter."""
    ends = [t for t, label in enumerate(labels) if label.endswith("Q4")]
    return ends + ([len(labels) - 1] if len(labels) - 1 not in ends else [])


def age_quantiles(counts: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                  levels=QUARTILES) -> np.ndarray:
    """Quantiles of exact age from counts by band ``(P, B)`` (bands ``[lower, upper]`` in
    completed years, spread evenly over ``[lower, upper + 1)``): ``(len(levels), P)``, NaN
    where a path has no count."""
    total = counts.sum(axis=1)
    cum = np.cumsum(counts, axis=1)
    out = np.full((len(levels), counts.shape[0]), np.nan)
    for j, q in enumerate(levels):
        target = q * total
        band = np.argmax(cum >= target[:, None], axis=1)
        before = np.take_along_axis(cum, band[:, None], axis=1)[:, 0] - counts[
            np.arange(len(band)), band]
        inside = counts[np.arange(len(band)), band]
        frac = np.where(inside > 0, (target - before) / np.where(inside > 0, inside, 1), 0.0)
        width = upper[band] + 1 - lower[band]
        out[j] = np.where(total > 0, lower[band] + frac * width, np.nan)
    return out


def _age_at_claim(counts: np.ndarray, lower, upper, w) -> dict:
    """Mean and quartiles of age at claim from one year's claims by band ``(P, B)``."""
    total = counts.sum(axis=1).astype(float)
    mid = (lower + upper + 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, counts @ mid / total, np.nan)
    q = age_quantiles(counts.astype(float), lower, upper)
    return {"mean": _stats(mean, w),
            **{f"q{int(a * 100)}": _stats(q[j], w) for j, a in enumerate(QUARTILES)}}


def profiles(ds, idx: list[int], labels: list[str], w: np.ndarray | None) -> dict:
    """The profiles (module docstring) of scenarios ``idx``' paths; ``{}`` without detail."""
    out: dict = {}
    years = _years(labels)
    if _has(ds, "claims_by", "sex"):
        claims = _values(ds, "claims_by", idx, ("sex",)).astype(float)    # (P, T, 2)
        out["claims_male_share"] = {}
        for year, ts in years.items():
            c = claims[:, ts].sum(axis=1)
            total = c.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(total > 0, c[:, 1] / total, np.nan)
            out["claims_male_share"][year] = _stats(share, w)
    if _has(ds, "claims_by", "age_band"):
        lower = ds["age_band_lower"].values.astype(float)
        upper = ds["age_band_upper"].values.astype(float)
        by_sex = _has(ds, "claims_by", "sex")
        claims = _values(ds, "claims_by", idx, ("sex", "age_band") if by_sex
                         else ("age_band",))
        groups = {"all": claims.sum(axis=2) if by_sex else claims}
        if by_sex:
            groups.update(female=claims[:, :, 0], male=claims[:, :, 1])
        out["age_at_claim"] = {
            who: {year: _age_at_claim(c[:, ts].sum(axis=1), lower, upper, w)
                  for year, ts in years.items()} for who, c in groups.items()}
        bands = [str(b) for b in ds["age_band"].values]
        by_band = claims if by_sex else claims[:, :, None, :]
        sexes = [str(x) for x in ds["sex"].values] if by_sex else ["all"]
        out["claims_by_age_band"] = {year: _shares(by_band[:, ts].sum(axis=1), sexes, bands, w)
                                     for year, ts in years.items()}
    ends = _year_ends(labels)
    if _has(ds, "members_by", "age_band"):
        keep = ("sex", "age_band") if _has(ds, "members_by", "sex") else ("age_band",)
        members = _values(ds, "members_by", idx, keep).astype(float)
        bands = [str(b) for b in ds["age_band"].values]
        sexes = [str(s) for s in ds["sex"].values] if "sex" in keep else ["all"]
        if "sex" not in keep:
            members = members[:, :, None, :]
        out["members_age_pyramid"] = {labels[t]: _shares(members[:, t], sexes, bands, w)
                                      for t in ends}
    if _has(ds, "members_by", "risk_group"):
        members = _values(ds, "members_by", idx, ("risk_group",)).astype(float)
        groups_ = [str(g) for g in ds["risk_group"].values]
        out["members_risk_mix"] = {labels[t]: _shares(members[:, t][:, None, :], ["all"],
                                                      groups_, w)["all"] for t in ends}
    return out


def _shares(counts: np.ndarray, rows: list[str], cols: list[str], w) -> dict:
    """Each cell's share of the path's total ``(P, rows, cols)``, summarised over paths."""
    total = counts.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[:, None, None] > 0,
                         counts / np.where(total > 0, total, 1.0)[:, None, None], np.nan)
    return {r: {c: _stats(share[:, i, j], w) for j, c in enumerate(cols)}
            for i, r in enumerate(rows)}


def _pct(s: dict, single: bool = False) -> str:
    if single:
        return f"{100 * s['mean']:.1f} %"
    return f"{100 * s['mean']:.1f} % (5-95 %: {100 * s['q05']:.1f}-{100 * s['q95']:.1f})"


def _age(s: dict, single: bool = False) -> str:
    return f"{s['mean']:.1f}" + ("" if single else f" ({s['q05']:.1f}-{s['q95']:.1f})")


def format_profiles(figures: dict, single: bool = False) -> list[str]:
    """The profiles as lines of the summary (nothing without detail); ``single``: one path
    (the expected path), its values without ranges."""
    spread = "" if single else "; mean over paths, 5-95 % range"
    lines = []
    if "claims_male_share" in figures:
        lines.append(f"men's share of claims, by year{f' ({spread[2:]})' if spread else ''}: "
                     + "; ".join(
            f"{y} {_pct(s, single)}" for y, s in figures["claims_male_share"].items()
            if s["paths"]))
    for who, by_year in figures.get("age_at_claim", {}).items():
        lines.append(f"age at claim, {who} (exact age, years{spread}): "
                     + "; ".join(f"{y} mean {_age(s['mean'], single)}, quartiles "
                                 f"{s['q25']['mean']:.1f}/{s['q50']['mean']:.1f}/"
                                 f"{s['q75']['mean']:.1f}"
                                 for y, s in by_year.items() if s["mean"]["paths"]))
    pyramid = figures.get("members_age_pyramid", {})
    if pyramid:
        last = list(pyramid)[-1]
        lines.append(f"members by sex and age band at {last} (share of members{spread}):")
        for sex, bands in pyramid[last].items():
            lines.append(f"  {sex}: " + ", ".join(f"{b} {_pct(s, single)}"
                                                  for b, s in bands.items()))
    for quarter, groups in figures.get("members_risk_mix", {}).items():
        lines.append(f"members by risk group at {quarter}: " + ", ".join(
            f"{g} {_pct(s, single)}" for g, s in groups.items()))
    return lines
