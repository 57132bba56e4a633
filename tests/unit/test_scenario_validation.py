"""Every kind of bad scenario input gives one line naming file, key and value."""

import re

import pytest

from engine.config.scenario import load_scenario_set
from engine.errors import ScenarioError
from tests.conftest import constant_table, load, scenario_dict, write_csv, write_toml

LINE = re.compile(r"^(?P<file>[^:]+\.(toml|csv)): (?P<key>[^:]+): (?P<what>.+)$")


def problems_of(tmp_path, data) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, data)
    lines = [str(p) for p in info.value.problems]
    for line in lines:
        assert "\n" not in line
        assert LINE.match(line), line
    return lines


def one_problem(tmp_path, data, key: str, *fragments: str) -> str:
    lines = problems_of(tmp_path, data)
    assert len(lines) == 1, lines
    line = lines[0]
    assert f": {key}: " in line, line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_the_small_scenario_is_valid(tmp_path, small_dict):
    ss = load(tmp_path, small_dict)
    assert ss.base.name == "small" and len(ss.scenarios) == 1


def test_unknown_key_lists_the_valid_ones(tmp_path):
    line = one_problem(tmp_path, scenario_dict(lapse__base_quartely=0.1), "lapse.base_quartely",
                       "unknown key", "base_quarterly", "(got 0.1)")
    assert "cost_elasticity" in line


def test_unknown_table(tmp_path):
    data = scenario_dict()
    data["lapses"] = {"base_quarterly": 0.1}
    one_problem(tmp_path, data, "lapses", "unknown table", "lapse")


@pytest.mark.parametrize("key,value,fragment", [
    ("scenario__quarters", "8", "must be an integer"),
    ("scenario__quarters", 2.5, "must be an integer"),
    ("lapse__base_quarterly", "0.1", "must be a number"),
    ("lapse__base_quarterly", True, "must be a number"),
    ("scenario__name", 5, "must be a string"),
    ("incidence__selection", 1.0, "non-empty list"),
    ("growth__model", "gompertz", "must be one of bass, logistic, fixed"),
    ("scenario__start", "2020-01", "quarter like"),
])
def test_wrong_types(tmp_path, key, value, fragment):
    one_problem(tmp_path, scenario_dict(**{key: value}), key.replace("__", "."), fragment,
                f"(got {value!r})" if isinstance(value, str) else f"(got {value})")


@pytest.mark.parametrize("key,value", [
    ("lapse__base_quarterly", 1.5), ("lapse__base_quarterly", -0.1),
    ("lapse__cost_driven_share", 2.0), ("benefits__mild_share", -0.01),
    ("incidence__shock_probability_per_year", 1.5),
    ("incidence__shock_probability_per_year", -0.2),
])
def test_probabilities_outside_the_unit_interval(tmp_path, key, value):
    one_problem(tmp_path, scenario_dict(**{key: value}), key.replace("__", "."),
                "in [0, 1]", f"(got {value})")


def test_probability_in_a_list_is_checked_by_index(tmp_path):
    one_problem(tmp_path, scenario_dict(lapse__base_quarterly=None,
                                        lapse__by_duration=[0.1, 1.2]),
                "lapse.by_duration[1]", "(got 1.2)")


@pytest.mark.parametrize("key,value", [
    ("population__initial_members", -5), ("reserve__initial", -1.0),
    ("sharing__fee_rate", -0.08), ("benefits__mild_amount", -1.0),
    ("growth__dispersion", -0.5),
])
def test_negative_counts_and_amounts(tmp_path, key, value):
    one_problem(tmp_path, scenario_dict(**{key: value}), key.replace("__", "."), "≥ 0",
                f"(got {value})")


def test_negative_benefit_amount(tmp_path):
    one_problem(tmp_path, scenario_dict(benefits__amount_by_age=[[30, 34, -100]]),
                "benefits.amount_by_age[0]", "amount must be ≥ 0")


def test_zero_quarters(tmp_path):
    one_problem(tmp_path, scenario_dict(scenario__quarters=0, growth__series=[1.0]),
                "scenario.quarters", "≥ 1", "(got 0)")


def test_age_min_above_age_max(tmp_path):
    one_problem(tmp_path, scenario_dict(population__age_min=40), "population.age_min",
                "≤ age_max (34)", "(got 40)")


def test_band_gap(tmp_path):
    one_problem(tmp_path, scenario_dict(benefits__amount_by_age=[[30, 31, 1], [33, 34, 1]]),
                "benefits.amount_by_age", "gap at ages 32-32")


def test_band_overlap(tmp_path):
    one_problem(tmp_path, scenario_dict(benefits__amount_by_age=[[30, 32, 1], [32, 34, 1]]),
                "benefits.amount_by_age", "overlap at age 32")


def test_bands_must_cover_the_plan(tmp_path):
    one_problem(tmp_path, scenario_dict(benefits__amount_by_age=[[31, 34, 1]]),
                "benefits.amount_by_age", "cover ages 30-34")


def test_missing_required_key(tmp_path):
    one_problem(tmp_path, scenario_dict(population__age_max=None), "population.age_max",
                "required key is missing")


def test_model_specific_requirements(tmp_path):
    one_problem(tmp_path, scenario_dict(growth__model="bass", growth__series=None),
                "growth.market_potential", "required for the bass model")
    one_problem(tmp_path, scenario_dict(growth__series=[1.0, 2.0]), "growth.series",
                "one value per quarter (6)", "(got '2 values')")
    one_problem(tmp_path, scenario_dict(lapse__cost_elasticity=1.0), "lapse.reference_cost",
                "required when")
    one_problem(tmp_path, scenario_dict(lapse__by_duration=[0.1]), "lapse.by_duration",
                "not both")


def test_national_level_year_must_exist(tmp_path):
    one_problem(tmp_path, scenario_dict(incidence__national_level_year=1999),
                "incidence.national_level_year", "(got 1999)")


def test_mortality_multiplier_that_breaks_a_probability(tmp_path):
    data = scenario_dict(population__age_min=100, population__age_max=105,
                         benefits__amount_by_age=[[100, 105, 1000]], mortality__multiplier=1.5)
    one_problem(tmp_path, data, "mortality.multiplier", "exceed 1", "(got 1.5)")


def test_every_problem_is_reported_at_once(tmp_path):
    data = scenario_dict(lapse__base_quarterly=2.0, sharing__fee_rate=-1.0,
                         scenario__seed="x", population__age_min=50)
    data["extra"] = {}
    lines = problems_of(tmp_path, data)
    keys = {line.split(": ")[1] for line in lines}
    assert {"lapse.base_quarterly", "sharing.fee_rate", "scenario.seed",
            "population.age_min", "extra"} <= keys, lines


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[scenario\nname = 1\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario_set(path)
    line = str(info.value.problems[0])
    assert line.startswith(f"{path}: invalid TOML")


def test_missing_scenario_file(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario_set(tmp_path / "nope.toml")


# ---------------------------------------------------------------------------- CSV tables

def test_csv_tables_resolve_relative_to_the_scenario(tmp_path):
    (tmp_path / "tables").mkdir()
    constant_table(tmp_path / "tables" / "inc.csv", "rate_per_100k", 500.0)
    ss = load(tmp_path, scenario_dict(incidence__table="tables/inc.csv"))
    assert ss.base.incidence.table == "tables/inc.csv"


def test_missing_csv_table(tmp_path):
    one_problem(tmp_path, scenario_dict(incidence__table="nowhere.csv"), "incidence.table",
                "nor an existing CSV file", "(got 'nowhere.csv')")


@pytest.mark.parametrize("rows,fragment", [
    (["30-34,female,100", "30-34,mal,100"], "sex must be female or male"),
    (["30-34,female,abc", "30-34,male,1"], "is not a number"),
    (["30-34,female,-3", "30-34,male,1"], "must be ≥ 0"),
    (["30-x,female,3", "30-34,male,1"], "age must be like"),
    (["30-34,female,3", "32,female,4", "30-34,male,1"], "overlaps an earlier row"),
    (["30-34,female,3,9", "30-34,male,1"], "expected 3 fields"),
])
def test_malformed_csv_names_file_and_row(tmp_path, rows, fragment):
    csv = write_csv(tmp_path / "inc.csv", "age,sex,rate_per_100k", rows)
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, scenario_dict(incidence__table="inc.csv"))
    lines = [str(p) for p in info.value.problems]
    assert any(line.startswith(f"{csv}: row ") and fragment in line for line in lines), lines


def test_csv_missing_a_column(tmp_path):
    csv = write_csv(tmp_path / "inc.csv", "age,sex,rate", ["30-34,female,1"])
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, scenario_dict(incidence__table="inc.csv"))
    assert "missing column(s) rate_per_100k" in str(info.value.problems[0])
    assert str(info.value.problems[0]).startswith(str(csv))


def test_csv_that_misses_plan_ages(tmp_path):
    constant_table(tmp_path / "inc.csv", "rate_per_100k", 100.0, lo=0, hi=31)
    one_problem(tmp_path, scenario_dict(incidence__table="inc.csv"), "incidence.table",
                "does not cover age 32")


def test_sweep_of_an_unknown_key(tmp_path):
    data = scenario_dict()
    data["sweep"] = {"lapse.base_quartely": [0.1, 0.2]}
    one_problem(tmp_path, data, "sweep.lapse.base_quartely", "no such key to sweep")


def test_sweep_values_are_validated(tmp_path):
    data = scenario_dict()
    data["sweep"] = {"lapse.base_quarterly": [0.1, 1.5]}
    one_problem(tmp_path, data, "lapse.base_quarterly", "in [0, 1]", "sweep member")


def test_sweep_expands_the_grid(tmp_path):
    data = scenario_dict()
    data["sweep"] = {"lapse.base_quarterly": [0.01, 0.02, 0.03], "sharing.fee_rate": [0.0, 0.1]}
    ss = load(tmp_path, data)
    assert len(ss.scenarios) == 6
    assert ss.swept_keys == ("lapse.base_quarterly", "sharing.fee_rate")
    assert {s.lapse.base_quarterly for s in ss.scenarios} == {0.01, 0.02, 0.03}
    assert len({s.name for s in ss.scenarios}) == 6


def test_text_is_kept_for_provenance(tmp_path, small_dict):
    path = write_toml(tmp_path / "s.toml", small_dict)
    assert load_scenario_set(path).text == path.read_text()


def test_the_largest_seed_is_valid_and_one_more_is_not(tmp_path):
    assert load(tmp_path, scenario_dict(scenario__seed=2**64 - 1)).base.scenario.seed == 2**64 - 1
    one_problem(tmp_path, scenario_dict(scenario__seed=2**64), "scenario.seed",
                "in [0, 18446744073709551615]")


def test_a_retired_key_says_what_replaced_it(tmp_path):
    one_problem(tmp_path, scenario_dict(lapse__antiselection=0.5), "lapse.antiselection",
                "retired", "[risk] groups", "(got 0.5)")


GROUP = {"name": "a", "population_share": 1.0, "incidence": 1.0, "lapse_sensitivity": 1.0,
         "join_sensitivity": 0.0}


@pytest.mark.parametrize("groups,key,fragment", [
    ([], "risk.groups", "non-empty list"),
    ([{**GROUP, "population_share": 0.6}, {**GROUP, "name": "b", "population_share": 0.3}],
     "risk.groups.population_share", "shares must sum to 1"),
    ([{**GROUP, "incidence": -1.0}], "risk.groups[0].incidence", "≥ 0"),
    ([{**GROUP, "lapse_sensitivity": -0.5}], "risk.groups[0].lapse_sensitivity", "≥ 0"),
    ([{**GROUP, "join_sensitivity": -0.5}], "risk.groups[0].join_sensitivity", "[0, 50]"),
    ([{**GROUP, "incidence": 1.5}], "risk.groups.incidence", "must be 1"),
    ([{**GROUP, "colour": "red"}], "risk.groups[0].colour", "unknown key"),
    ([GROUP, {**GROUP, "population_share": 0.0}], "risk.groups[1].population_share",
     "in (0, 1]"),
])
def test_bad_risk_groups(tmp_path, groups, key, fragment):
    one_problem(tmp_path, scenario_dict(risk__groups=groups), key, fragment)


@pytest.mark.parametrize("key,value,fragment", [
    ("incidence__level_sd_per_year", -0.1, "≥ 0"),
    ("incidence__trend_sd", -0.01, "≥ 0"),
    ("incidence__level_autocorrelation", 1.0, "in (-1, 1)"),
    ("incidence__level_autocorrelation", -1.0, "in (-1, 1)"),
    ("incidence__shock_quarters", 0, "in [1, 8]"),
])
def test_bad_systematic_risk(tmp_path, key, value, fragment):
    one_problem(tmp_path, scenario_dict(**{key: value}), key.replace("__", "."), fragment,
                f"(got {value})")



def test_bad_stream_choice(tmp_path):
    data = scenario_dict()
    data["sweep"] = {"streams": "shared", "lapse.base_quarterly": [0.01, 0.02]}
    one_problem(tmp_path, data, "sweep.streams", "must be one of common, independent",
                "(got 'shared')")


def test_bad_gap_rule(tmp_path):
    one_problem(tmp_path, scenario_dict(valuation__gap_funded_by="ant"),
                "valuation.gap_funded_by", "must be one of platform, members, nobody",
                "(got 'ant')")


@pytest.mark.parametrize("prepaid,key", [({"deposit": 9.0, "topup_amount": 1e-300},
                                          "prepaid.topup_amount"),
                                         ({"deposit": 0.001}, "prepaid.deposit")])
def test_a_top_up_below_one_fen_is_refused(tmp_path, prepaid, key):
    """Found by hypothesis: a top-up of a few 1e-300 yuan overflowed the count of top-ups
    (NaN balances); none (0) or at least one fen."""
    data = scenario_dict(sharing__funding="prepaid")
    data["prepaid"] = prepaid
    one_problem(tmp_path, data, key, "at least 0.01 yuan")
    data["prepaid"] = {"deposit": 9.0, "topup_amount": 0.0}
    assert load(tmp_path, data).base.prepaid.topup_amount == 0.0


@pytest.mark.parametrize("levels,key,fragment", [
    ([{"share_of_cap": 0.5, "probability": 0.7}, {"share_of_cap": 0.2, "probability": 0.4}],
     "benefits.payout_levels.probability", "sum to at most 1"),
    ([{"share_of_cap": 0.0, "probability": 0.1}], "benefits.payout_levels[0].share_of_cap", "0"),
    ([{"share_of_cap": 1.5, "probability": 0.1}], "benefits.payout_levels[0].share_of_cap",
     "1.5"),
    ([{"share_of_cap": 0.5, "probability": -0.1}], "benefits.payout_levels[0].probability",
     "-0.1"),
    ([{"share_of_cap": 0.5, "chance": 0.1}], "benefits.payout_levels[0].chance", "unknown key"),
    ([{"share_of_cap": 0.5, "probability": 0.01}] * 9, "benefits.payout_levels", "at most 8"),
    (0.5, "benefits.payout_levels", "must be a list"),
])
def test_payout_levels_are_checked(tmp_path, levels, key, fragment):
    lines = problems_of(tmp_path, scenario_dict(benefits__payout_levels=levels))
    assert any(f": {key}: " in line and fragment in line for line in lines), lines
