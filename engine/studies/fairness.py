"""Who pays for whom, as a table: :func:`format_table` of the model's fairness rows
(:mod:`engine.model.fairness`, computed when a run writes its results), and the table of a
results file as the file stores it.
"""

from __future__ import annotations

from engine.model.fairness import FairnessRow, analyse

__all__ = ["FairnessRow", "analyse", "expected_profiles", "format_table", "fairness_text"]


def format_table(rows: list[FairnessRow]) -> str:
    lines = ["fairness: expected contributions against expected benefits (yuan), equal sharing "
             "and age-rated",
             f"{'sex':<7}{'group':<8}{'ages':>7}{'member-yrs':>13}{'benefit/yr':>12}"
             f"{'paid/yr':>10}{'ratio':>7}{'rated/yr':>10}{'life benefit':>14}{'life paid':>11}"
             f"{'life rated':>11}"]
    for r in rows:
        lines.append(f"{r.sex:<7}{r.group[:7]:<8}{r.ages:>7}{r.member_years:>13,.0f}"
                     f"{r.benefits_per_member_year:>12.2f}"
                     f"{r.contributions_per_member_year:>10.2f}{r.ratio:>7.2f}"
                     f"{r.age_rated_per_member_year:>10.2f}{r.lifetime_benefits:>14.1f}"
                     f"{r.lifetime_contributions:>11.1f}{r.lifetime_age_rated:>11.1f}")
    lines.append("ratio > 1: the band pays more than it receives under equal sharing (it "
                 "subsidises the others); age-rated sharing sets the ratio near 1 for every "
                 "band, at fixed behaviour.")
    return "\n".join(lines)


def fairness_text(ds) -> str:
    """The fairness table of a results file's first scenario as the run stored it
    (``resolved`` group, format 2 on); a file of an earlier format says it has none, since
    rebuilding it would need the scenario's tables, which need not be at hand."""
    from engine.resolved import fairness_rows, format_version

    rows = fairness_rows(ds)
    if rows is None:
        return (f"not stored in this file (results format {format_version(ds)}, engine "
                f"{ds.attrs.get('engine_version', '?')}): run the scenario again with this "
                "engine, or `mutualsim fairness SCENARIO.toml`")
    return format_table([FairnessRow(**row) for row in rows])


def expected_profiles(scenario) -> dict:
    """Who claims and who is a member on the scenario's expected path (every draw at its
    mean, :mod:`engine.model.mean_path`): the profiles of :mod:`engine.analysis.profiles`
    from expected claims and members by sex, age band (the scenario's ``[output]`` bands,
    else five-year ones) and risk group, each figure one value (no spread over paths)."""
    from dataclasses import replace

    import numpy as np
    import xarray as xr

    from engine.analysis.profiles import profiles
    from engine.config.output import SEXES, age_band_index, band_labels, default_age_bands
    from engine.model.inputs import build_inputs
    from engine.model.mean_path import mean_paths
    from engine.run.detail import shape_detail

    inputs = build_inputs(scenario)
    bands = scenario.output.age_bands or default_age_bands(inputs.age_min, inputs.age_max)
    inputs = replace(inputs, detail=("claims", "members"), n_age_bands=len(bands),
                     age_band=age_band_index(bands, inputs.age_years))
    ones = np.ones((1, inputs.quarters))
    out = shape_detail(mean_paths(inputs, ones, ones, detail=True),
                       ("sex", "age_band", "risk_group"), inputs.n_groups)
    dims = ("scenario", "path", "quarter", "sex", "age_band", "risk_group")
    ds = xr.Dataset(
        {f"{name}_by": (dims, out[f"{name}_by"][None]) for name in ("claims", "members")}
        | {"age_band_lower": ("age_band", [b[0] for b in bands]),
           "age_band_upper": ("age_band", [b[1] for b in bands])},
        coords={"scenario": [scenario.name], "path": [0],
                "quarter": list(inputs.quarter_labels), "sex": list(SEXES),
                "age_band": band_labels(bands), "risk_group": list(inputs.group_names)})
    return profiles(ds, [0], list(inputs.quarter_labels), None)
