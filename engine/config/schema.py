"""The scenario file's tables and keys (DESIGN §3): types, ranges, defaults and meaning.

One entry per key. :mod:`engine.config.scenario` checks a file against this table and reports
every problem at once; the README's scenario reference is generated from the ``doc`` texts
(``mutualsim validate --keys`` prints it).

Units are in the key names or the docs: yuan, quarters, per 100,000 person-years, per year.
A default is either neutral (no effect: 0, 1, none) or names its source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

REQUIRED = object()


@dataclass(frozen=True)
class Key:
    """A key's type and allowed values.

    ``kind`` is one of ``int``, ``float``, ``str``, ``choice``, ``quarter``, ``float_list``,
    ``bands`` (``[[lo, hi, amount], ...]``), ``shocks`` (list of tables), ``groups`` (list
    of risk groups, :data:`GROUP_KEYS`), ``year_table``
    (a table of year → number ≥ 0), ``year_values`` and ``quarter_values`` (a table of
    calendar year or quarter → a number within the key's range), ``quarter_list`` (quarters)
    or ``table_ref`` (a built-in table's name or a CSV path).
    """

    kind: str
    doc: str
    default: Any = REQUIRED
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    choices: tuple = ()
    hi_open: bool = False


# The age at which incidence.age_tilt_per_decade leaves the claim rate as the table has it
# (judgement: near the middle of the members' ages, so that the tilt moves the level little).
AGE_TILT_PIVOT = 40


# The largest join elasticity or sensitivity accepted (judgement, see growth.cost_elasticity).
ELASTICITY_MAX = 50.0


def _prob(doc: str, default: Any = REQUIRED) -> Key:
    return Key("float", doc, default, lo=0.0, hi=1.0)


def _nonneg(doc: str, default: Any = REQUIRED, kind: str = "float") -> Key:
    return Key(kind, doc, default, lo=0.0)


SCHEMA: dict[str, dict[str, Key]] = {
    "scenario": {
        "name": Key("str", "Scenario name; labels the results."),
        "description": Key("str", "Free text.", ""),
        "start": Key("quarter", "First projected quarter, like \"2018Q4\"."),
        "quarters": Key("int", "Number of quarters projected (≥ 1).", REQUIRED, lo=1),
        "paths": Key("int", "Monte Carlo paths (≥ 1); `--paths` overrides.", 1000, lo=1),
        "seed": Key("int", "Root seed of the keyed streams, 0 ≤ seed < 2**64.", 1,
                    lo=0, hi=2**64 - 1),
    },
    "population": {
        "initial_members": _nonneg("Members at the start of the first quarter.", 0, "int"),
        "initial_age_mix": Key("table_ref", "Age–sex mix of initial members: built-in name "
                               "or CSV `age,sex,share`.", "cnnic2020_internet_users"),
        "age_min": Key("int", "Youngest age covered, years.", REQUIRED, lo=0, hi=110),
        "age_max": Key("int", "Oldest age covered, years; members leave on their next "
                       "birthday.", REQUIRED, lo=0, hi=110),
        "female_share": Key("float", "If set, both mixes are reweighted to this share of "
                            "women (0–1).", None, lo=0.0, hi=1.0),
        "initial_duration_quarters": Key("int", "Quarters since joining of the initial "
                                         "members (default: past waiting and selection).",
                                         None, lo=0),
    },
    "growth": {
        "model": Key("choice", "Growth model of expected joins.", REQUIRED,
                     choices=("bass", "logistic", "fixed")),
        "market_potential": Key("float", "Bass/logistic market potential M, persons.", None,
                                lo=0.0, lo_open=True),
        "innovation": _nonneg("Bass innovation coefficient p, per year.", 0.0),
        "imitation": _nonneg("Bass imitation coefficient q (logistic growth rate), per "
                             "year.", 0.0),
        "series": Key("float_list", "Fixed model: expected joins per quarter, one value per "
                      "quarter (≥ 0).", None, lo=0.0),
        "dispersion": _nonneg("Over-dispersion α of joins: Var = λ + α λ² (0 = Poisson).",
                              0.0),
        "cost_elasticity": Key("float", "ε in the join damping exp(−ε (c/c_ref − 1)), 0 ≤ ε ≤ "
                               "50 (judgement: at 50 a cost 10 % under the reference already "
                               "multiplies joins by e⁵ ≈ 150; far beyond, e^ε leaves the "
                               "floating-point range).", 0.0, lo=0.0, hi=ELASTICITY_MAX),
        "joiner_age_mix": Key("table_ref", "Age–sex mix of joiners: built-in name or CSV "
                              "`age,sex,share`.", "cnnic2020_internet_users"),
        "stop_joins_from": Key("quarter", "No joins from this quarter on (e.g. a regulator's "
                               "stop on new members).", None),
        "start_joins_from": Key("quarter", "No joins before this quarter (a plan launched "
                                "after its platform's start).", None),
    },
    "incidence": {
        "table": Key("table_ref", "Incidence per 100,000 person-years: built-in name or CSV "
                     "`age,sex,rate_per_100k`.", "ci5plus_china_pooled_2008_2012"),
        "national_level_year": Key("int", "If set, rescale the table's level by sex to NCC's "
                                   "national crude rate of this year.", None),
        "cancer_share_of_claims": Key("float", "Share of claims that the table's illness "
                                      "makes; rates are divided by it (0 < x ≤ 1).", 1.0,
                                      lo=0.0, hi=1.0, lo_open=True),
        "trend_per_year": Key("float", "Incidence trend: rates × (1 + trend)^(t/4).", 0.0,
                              lo=-1.0, lo_open=True),
        "selection": Key("float_list", "Multipliers by year since joining; the last applies "
                         "thereafter (≥ 0).", [1.0], lo=0.0),
        "age_tilt_per_decade": Key("float", "Selection by age: claim rates × exp(τ (age − "
                                   f"{AGE_TILT_PIVOT}) / 10), age in completed years; 0 keeps "
                                   "the table's age shape, below 0 members' claims rise less "
                                   "steeply with age than the population's (−5 ≤ τ ≤ 5).",
                                   0.0, lo=-5.0, hi=5.0),
        "shocks": Key("shocks", "Shocks: [{start = \"2020Q1\", quarters = 2, multiplier = "
                      "0.8}, ...].", []),
        # Systematic risk (DESIGN §1 step 3): one level Λ per path and quarter, shared by
        # every cell, group and scenario of a set (engine.model.systematic). 0 = off.
        "level_sd_per_year": _nonneg("Systematic risk: s.d. of the log of the yearly "
                                     "incidence level Λ (log-normal AR(1), mean 1).", 0.0),
        "level_autocorrelation": Key("float", "Year-to-year autocorrelation ρ of the log "
                                     "level, −1 < ρ < 1.", 0.0, lo=-1.0, hi=1.0,
                                     lo_open=True, hi_open=True),
        "trend_sd": _nonneg("S.d. of each path's error in the trend, per year (log scale): "
                            "Λ × exp(τ t/4), τ ~ N(0, trend_sd²).", 0.0),
        "shock_probability_per_year": _prob("Chance per year that a random shock event "
                                            "starts (at most one at a time).", 0.0),
        "shock_size": Key("float", "Relative change of incidence while a random shock lasts "
                          "(−0.2: a fifth fewer diagnoses, as in 2020).", 0.0, lo=-1.0),
        "shock_quarters": Key("int", "Quarters a random shock lasts.", 1, lo=1, hi=8),
        "shock_catch_up": _prob("Share of the diagnoses a shock removed (or added) that "
                                "return (or are given back) in as many quarters after it.",
                                0.0),
        "systematic_seed": Key("int", "Seed of the systematic draws (level, trend, shocks) "
                               "if not the run's: platforms of one sector share it, and so "
                               "the national incidence level, while their own draws differ.",
                               None, lo=0, hi=2 ** 64 - 1),
    },
    "mortality": {
        "table": Key("table_ref", "Mortality: built-in name or CSV `age,sex,qx`.",
                     "cl2010_2013_nonpension_1"),
        "multiplier": _nonneg("Multiplier on qx (or mx).", 1.0),
    },
    "lapse": {
        "base_quarterly": _prob("Base lapse probability per quarter.", 0.0),
        "by_duration": Key("float_list", "Base lapse per quarter by quarters since joining; "
                           "the last applies thereafter (0–1). Replaces base_quarterly.",
                           None, lo=0.0, hi=1.0),
        "cost_driven_share": _prob("φ: the share of the base lapse (at c = c_ref) that is "
                                   "driven by cost: ℓ = min(1, (1 − φ) ℓ_base + φ ℓ_base "
                                   "(c/c_ref)^(η σ_k)). Default: judgement, no public split "
                                   "of lapses by reason (calibrate or sweep it).", 0.5),
        "cost_elasticity": _nonneg("η in ℓ = min(1, ℓ0 + ℓc (c/c_ref)^(η σ_k)).", 0.0),
        "reference_cost": Key("float", "c_ref, yuan per member per quarter; needed when an "
                              "elasticity is positive.", None, lo=0.0, lo_open=True),
        "cost_window_quarters": Key("int", "c in the lapse and join formulas is the mean cost "
                                    "per member over the last k quarters (1: last quarter).",
                                    1, lo=1, hi=8),
    },
    "benefits": {
        "waiting_quarters": _nonneg("Quarters after joining in which diagnoses are not "
                                    "paid.", 0, "int"),
        "amount_by_age": Key("bands", "Aid per claim by age at diagnosis, yuan: [[lo, hi, "
                             "amount], ...] covering age_min..age_max."),
        "mild_share": _prob("Share of claims that are mild (paid mild_amount).", 0.0),
        "mild_amount": _nonneg("Aid per mild claim, yuan.", 0.0),
        "payout_levels": Key("payout_levels", "Payouts below the full amount: [{share_of_cap "
                             "= 0.5, probability = 0.3}, ...]: of the claims that are not "
                             "mild, each is paid share_of_cap (0-1) of its age's amount "
                             "with that probability, and the full amount otherwise "
                             "(probabilities sum to at most 1; at most 8 levels). [] (the "
                             "default): every claim is paid the full amount.", []),
        "inflation_per_year": Key("float", "Benefit amounts grow by (1 + i)^(t/4).", 0.0,
                                  lo=-1.0, lo_open=True),
        "changes": Key("changes", "Dated rule changes: [{from = \"2020Q3\", amount_by_age = "
                       "[[18, 50, 300000]]}, ...]: from that quarter on, the listed bands' "
                       "amounts replace the earlier ones (other ages keep theirs); the quarter "
                       "must be inside the run.", []),
        "payment_pattern": Key("float_list", "Shares of a quarter's claims paid in that "
                               "quarter and each of the next ones (sum 1; [1.0]: paid at "
                               "once). Sharing applies to what is paid.", [1.0], lo=0.0,
                               hi=1.0),
    },
    "sharing": {
        "funding": Key("choice", "postpaid: members are charged after each quarter; "
                       "prepaid: shares come out of balances members hold (see [prepaid]).",
                       "postpaid", choices=("postpaid", "prepaid")),
        "fee_rate": _nonneg("Management fee as a share of aid.", 0.0),
        "sharers": Key("choice", "Who shares: all members, or those past waiting.", "all",
                       choices=("all", "eligible")),
        "cap_per_quarter": Key("float", "Cap on each member's share per quarter, yuan.", None,
                               lo=0.0),
        "cap_per_year": Key("float", "Cap on each member's share per calendar year, yuan.",
                            None, lo=0.0),
        "shortfall": Key("choice", "Who meets what the caps leave unfunded.", "reserve",
                         choices=("reserve", "haircut", "platform")),
        "rule": Key("choice", "How the cost is split: equally, or in proportion to each "
                    "member's expected aid by age and sex (age_rated).", "equal",
                    choices=("equal", "age_rated")),
    },
    "risk": {
        "groups": Key("groups", "Risk groups: [{name, population_share, incidence, "
                      "lapse_sensitivity, join_sensitivity}, ...]; shares sum to 1 and the "
                      "share-weighted incidence multiplier is 1. Default: one group of "
                      "everyone.", None),
    },
    "reserve": {
        "initial": _nonneg("Reserve at the start, yuan.", 0.0),
        "interest_per_year": Key("float", "Interest on the reserve, per year.", 0.0,
                                 lo=-1.0, lo_open=True),
        "loading_per_member_quarter": _nonneg("Reserve loading each sharer pays per quarter, "
                                              "yuan (outside the caps).", 0.0),
    },
    "prepaid": {
        "deposit": _nonneg("Balance a member pays in on joining (and initial members hold), "
                           "yuan.", 0.0),
        "topup_amount": Key("float", "A top-up, yuan; a short balance gets as many as cover "
                            "the last quarter's charge (default: the deposit).", None,
                            lo=0.0),
        "topup_probability": _prob("Chance that such a member tops up; the others are "
                                   "suspended and leave.", 1.0),
    },
    "closure": {
        "quarter": Key("quarter", "The plan's last quarter: no joins from it; at its end every "
                       "member leaves; claims already incurred are still paid (see "
                       "benefits.payment_pattern).", None),
        "platform_funds_from": Key("quarter", "From this quarter members pay nothing and the "
                                   "platform pays aid and fee (platform_funding).", None),
    },
    "valuation": {
        "discount_rate": _nonneg("Annual discount rate for platform value.", 0.0),
        "user_value_per_quarter": _nonneg("Value to the platform of an active member per "
                                          "quarter, yuan.", 0.0),
        "acquisition_cost": _nonneg("Cost per join, yuan.", 0.0),
        "opex_per_member_quarter": _nonneg("Operating cost per member per quarter, yuan.",
                                           0.0),
        "gap_funded_by": Key("choice", "Who funds the solvency gap, for the platform's value: "
                             "the platform (its value bears each quarter's increase of the "
                             "gap), the members (later, outside the value) or nobody (the "
                             "unfunded aid is never paid, nor the fee on it). Default: the "
                             "platform, as Xiang Hu Bao's operator did at its close (the facts "
                             "file: no member apportionment in Dec 2021 / Jan 2022).",
                             "platform", choices=("platform", "members", "nobody")),
    },
    "tail": {
        "target": Key("choice", "Importance sampling chosen by a pilot run (engine/run/tail.py): "
                      "the statistic the run is for, the shortfall of projection year "
                      "tail.year (its VaR and TVaR at tail.level) or ruin by "
                      "tail.horizon_quarters. The pilot's tilt replaces the shifts below, "
                      "which are then its starting point. Default: none (the shifts as "
                      "given).", None, choices=("shortfall", "ruin")),
        "level": Key("float", "The target's level (VaR and TVaR).", 0.995, lo=0.0, hi=1.0,
                     lo_open=True, hi_open=True),
        "year": Key("int", "The projection year whose shortfall is the target (1 = the "
                    "first four quarters).", 1, lo=1),
        "horizon_quarters": Key("int", "Quarters over which ruin is the target (default: the "
                                "whole run).", None, lo=1),
        "pilot_paths": Key("int", "Paths of the pilot (of each of its cross-entropy rounds "
                           "where it keeps an elite), on a seed of their own. Default: 200 "
                           "for the surrogate (pilot_stop), 2000 otherwise.", None, lo=100,
                           hi=1_000_000),
        "drivers": Key("choice", "What the pilot tilts: the systematic drivers (level, "
                       "trend, shocks, join multipliers), the claim counts (an Esscher tilt "
                       "of each cell's binomial, for small pools and closed groups whose tail "
                       "is the count of claims), or both.", "systematic",
                       choices=("systematic", "claims", "both")),
        "pilot_stop": Key("choice", "When the pilot stops. extrapolate: for a shortfall "
                          "target whose tilt is of the systematic drivers and starts from the "
                          "model, after one round: the elite's shifts (the top 10 % of the "
                          "pilot) are scaled to the target's level as a normal tail's are, by "
                          "κ = λ(z_level) / λ(z_elite), λ the inverse Mills ratio (joins' means "
                          "1 + κ (m − 1); the shock chance as the elite's). target: rounds "
                          "until the elite is the target's own tail (at most three; the rule "
                          "before engine 0.11.0, and for ruin or claim-count targets). "
                          "surrogate: for the same targets as extrapolate, one round that "
                          "fits the target to the drivers by least squares (shocks drawn "
                          "more often, as a design) and runs cross-entropy on that fit, with "
                          "a shock chance per quarter (engine/run/surrogate.py; the default "
                          "from engine 0.13.0).",
                          "surrogate", choices=("surrogate", "extrapolate", "target")),
        "pilot": Key("choice", "How the pilot's paths are computed: each path's expected "
                     "path given its systematic drivers (every count replaced by its mean: "
                     "a large pool's tail is its drivers', and such a path costs a fraction "
                     "of a simulated one), or simulated in full. Default: conditional_mean "
                     "when only systematic drivers are tilted, simulated when claim counts "
                     "are (their tilt needs the counts).", None,
                     choices=("conditional_mean", "simulated")),
        "claim_tilt": Key("float", "Importance sampling (engine/model/tilt.py): θ, the "
                          "Esscher tilt of the claim counts per 100,000 yuan of aid: a cell "
                          "with benefit b draws its claims with p' = p e^(θ b) / (1 − p + "
                          "p e^(θ b)) (0 = the model's). Default: claims not tilted.", None,
                          lo=-10.0, hi=10.0),
        "level_shift": Key("float", "Importance sampling (engine/model/tilt.py): the mean of "
                           "each year's standard normal innovation of the systematic incidence "
                           "level under the tilted law (0 = the model's). Each path's "
                           "likelihood ratio is stored as `weight` and every statistic weighs "
                           "by it.", 0.0, lo=-8.0, hi=8.0),
        "trend_shift": Key("float", "Importance sampling: the mean of the trend error's "
                           "standard normal under the tilted law (0 = the model's).", 0.0,
                           lo=-8.0, hi=8.0),
        "shock_probability_per_year": Key("float", "Importance sampling: the chance per year "
                                          "that a shock event starts under the tilted law "
                                          "(default: the model's, "
                                          "incidence.shock_probability_per_year).", None,
                                          lo=0.0, hi=1.0, lo_open=True, hi_open=True),
        "join_multiplier_mean": Key("float", "Importance sampling: the mean of each quarter's "
                                    "join multiplier under the tilted law, Gamma(1/α, m α) "
                                    "(1 = the model's Gamma(1/α, α)).", 1.0, lo=0.0,
                                    lo_open=True, hi=20.0),
    },
    "market": {
        "health_premium_by_year": Key("year_table", "China's commercial health insurance "
                                      "premiums by year, yuan.", {}),
    },
    # Reverse stress testing (engine/model/systematic.py, FixedDrivers): systematic drivers
    # held at given values on every path, as `mutualsim reverse-stress` writes them to
    # replay an event; the counts stay random. Default: every driver drawn.
    "drivers": {
        "level_innovations": Key("year_values", "The yearly innovations ε_y of the "
                                 "systematic incidence level (in standard deviations: "
                                 "N(0, 1) under the model), held at these values on every "
                                 "path for the calendar years given, like {2020 = 1.5}; the "
                                 "other years are drawn.", {}, lo=-8.0, hi=8.0),
        "trend": Key("float", "The incidence trend's error ε_τ (in standard deviations), held "
                     "at this value on every path. Default: drawn.", None, lo=-8.0, hi=8.0),
        "join_multipliers": Key("quarter_values", "The joins' mixing multipliers G_t (mean 1 "
                                "under the model), held at these values on every path for "
                                "the quarters given, like {\"2020Q1\" = 0.4}; the others are "
                                "drawn.", {}, lo=0.0, lo_open=True, hi=20.0),
        "shock_starts": Key("quarter_list", "The quarters in which an incidence shock event "
                            "starts on every path, and no other ([] for none). Default: "
                            "drawn.", None),
    },
    # Runs that stop at a stated precision (engine/config/precision.py, engine/run/precision.py)
    "precision": {
        "targets": Key("precision_targets", "The statistics the run must know to a standard "
                       "error, each a table {statistic = \"mean\" | \"var\" | \"tvar\" | "
                       "\"ruin\", variable, year, level, by, relative_se or absolute_se}: the "
                       "run adds chunks of paths until every target of every scenario is met "
                       "or max_paths is reached; scenario.paths is then not used. Default: "
                       "none (a fixed count, scenario.paths).", []),
        "min_paths": Key("int", "Paths run before the first check (judgement: the batch-means "
                         "and order-statistic standard errors need a few hundred paths to be "
                         "trusted).", 1000, lo=1),
        "max_paths": Key("int", "The most paths a scenario runs, target met or not (judgement: "
                         "a guard on time; at most 2**32, the paths the streams can key).",
                         100_000, lo=1, hi=2 ** 32),
    },
    # Results by sex, age band, risk group and plan (engine/config/output.py, engine/run/detail.py)
    "output": {
        "detail": Key("detail_variables", "Variables also written by cell group, each as "
                      "NAME_by (scenario, path, quarter, <by>), summing to the total: any of "
                      "members, joins, lapses, deaths, claims, diagnosed_in_waiting, "
                      "mild_claims, suspended, claims_below_cap, sharers, aid. Default: none "
                      "(totals only).", []),
        "by": Key("detail_dims", "The dimensions of the detail, any of sex, age_band, "
                  "risk_group, plan (a platform's), stored in that order.",
                  ["sex", "age_band"]),
        "age_bands": Key("age_bands", "Age bands in completed years, [[lo, hi], ...] in "
                         "increasing order without gap or overlap, covering the scenario's "
                         "ages. Default: five-year bands [5k, 5k + 4] over the set's ages.",
                         None),
    },
}


# The keys that name a table (a built-in table or a CSV path relative to the scenario file)
TABLE_KEYS: tuple[str, ...] = tuple(f"{table}.{key}" for table, keys in SCHEMA.items()
                                    for key, spec in keys.items() if spec.kind == "table_ref")

# The keys of one risk group (``[risk] groups``), with their defaults (DESIGN §1 steps 1, 3, 4).
GROUP_KEYS: dict[str, Key] = {
    "name": Key("str", "The group's label in results and reports."),
    "population_share": Key("float", "Share of the population (and of joiners at c = c_ref) "
                            "in the group, 0 < x ≤ 1.", REQUIRED, lo=0.0, hi=1.0, lo_open=True),
    "incidence": _nonneg("Multiplier on the incidence table for the group.", 1.0),
    "lapse_sensitivity": _nonneg("σ_k: the group's cost-driven lapse is ℓc (c/c_ref)^(η σ_k) "
                                 "(0: cost does not move it).", 1.0),
    "join_sensitivity": Key("float", "β_k: the group's share of joiners ∝ share_k exp(−β_k "
                            "(c/c_ref − 1)), 0 ≤ β_k ≤ 50 (as growth.cost_elasticity).", 0.0,
                            lo=0.0, hi=ELASTICITY_MAX),
}

# Keys that were removed, with what replaced them (the error a file that still uses one gets).
RETIRED: dict[str, str] = {
    "lapse.antiselection": "retired in engine 0.2.0: anti-selection now emerges from "
                           "[risk] groups that lapse and join at different rates (CHANGELOG)",
}

