"""The scenario's settings with their comments and kinds (issue 26): every key of
scenarios/emutual.toml is listed, each comment read as the file's author meant it."""

import tomllib

from engine.studies.assumptions import (
    ASSUMED,
    FITTED,
    SETTING,
    SOURCED,
    UNSOURCED,
    fitted_header,
    read_assumptions,
)
from tests.conftest import ROOT

TEXT = """# a scenario
[scenario]
name = "x"                # the name
start = "2014Q3"          # ASSUMPTION: launched in 2014 (公益时报 2016-07-05)

[growth]
# Fitted by calibrate to the figures published to 2019
market_potential = 4.5e7
innovation = 0.003        # per year
dispersion = 0.05         # ASSUMPTION
joiner_age_mix = "cnnic2020_internet_users"

[benefits]
waiting_quarters = 2      # 180 days (tech.jiangsulong.com 2020-08-26)
amount_by_age = [
  [1, 17, 500000],        # city.ifeng.com/c/7oE4iOxKb5u
  [18, 50, 400000],
]
mild_share = 0.0
note = "a # inside a string"

[[plans]]
name = "kids"             # ages 1-17 (city.ifeng.com/c/7oE4iOxKb5u)
ages = [1, 17]
"""


def test_each_setting_gets_its_comment_and_kind(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(TEXT, encoding="utf-8")
    got = {a.key: a for a in read_assumptions(path)}
    assert list(got) == ["scenario.name", "scenario.start", "growth.market_potential",
                         "growth.innovation", "growth.dispersion", "growth.joiner_age_mix",
                         "benefits.waiting_quarters", "benefits.amount_by_age",
                         "benefits.mild_share", "benefits.note", "plans[kids].name",
                         "plans[kids].ages"]
    kinds = {k: a.kind for k, a in got.items()}
    assert kinds["scenario.name"] == SETTING
    assert kinds["scenario.start"] == ASSUMED
    assert kinds["growth.market_potential"] == FITTED          # the block above
    assert kinds["growth.innovation"] == FITTED                # the block still reaches it
    assert got["growth.innovation"].note_as_for == "growth.market_potential"
    assert kinds["growth.dispersion"] == ASSUMED               # its own comment first
    assert kinds["growth.joiner_age_mix"] == SOURCED           # a built-in table
    assert kinds["benefits.waiting_quarters"] == SOURCED
    assert kinds["benefits.amount_by_age"] == SOURCED          # a comment inside the array
    assert got["benefits.amount_by_age"].value.startswith("[[1, 17, 500000]")
    assert kinds["benefits.mild_share"] == UNSOURCED
    assert got["benefits.note"].value == '"a # inside a string"'
    assert kinds["plans[kids].ages"] == SOURCED                # the plan's own description
    # the calibration's keys are fitted whatever the comment says
    fitted = {a.key: a.kind for a in read_assumptions(path, {"growth.dispersion"})}
    assert fitted["growth.dispersion"] == FITTED


def _keys(doc, prefix=""):
    for k, v in doc.items():
        if isinstance(v, dict) and not prefix.startswith("plans"):
            yield from _keys(v, f"{prefix}{k}.")
        elif k == "plans":
            for plan in v:
                for pk in plan:
                    yield f"plans[{plan['name']}].{pk}"
        else:
            yield prefix + k


def test_every_key_of_the_emutual_scenario_is_listed():
    path = ROOT / "scenarios" / "emutual.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    listed = [a.key for a in read_assumptions(path)]
    assert sorted(listed) == sorted(_keys(doc))
    kinds = {a.key: a.kind for a in read_assumptions(path)}
    assert kinds["sharing.fee_rate"] == ASSUMED
    assert kinds["prepaid.deposit"] == SOURCED
    assert kinds["lapse.base_quarterly"] == FITTED
    assert kinds["plans[children].enrolled_with"] == ASSUMED


def test_a_fitted_files_header_names_its_base_and_fitted_keys(tmp_path):
    path = tmp_path / "f.toml"
    path.write_text("# Fitted by `mutualsim calibrate` on 2026-01-01.\n"
                    "# Base scenario: scenarios/emutual.toml; observations: o.csv.\n"
                    "# Fitted parameters (estimate, standard error on the fitting scale):\n"
                    "#   growth.market_potential (log): 17.8 ± 0.18\n"
                    "#   benefits.payout_levels (logit_total): 0.59 ± 0.02\n\n"
                    "[scenario]\nname = \"f\"\n", encoding="utf-8")
    base, keys = fitted_header(path)
    assert str(base) == "scenarios/emutual.toml"
    assert keys == ["growth.market_potential", "benefits.payout_levels"]
