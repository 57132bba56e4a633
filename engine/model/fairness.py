"""Who pays for whom: contributions against benefits by age band, sex and risk group (the
cross-subsidy of equal sharing), and what age-rated sharing would change.

Everything here is an expectation, from the scenario's expected path (each draw replaced
by its mean, :class:`engine.model.mean_path.MeanDraws`): exact without cost feedback, first order
with it. Behaviour is held fixed: the age-rated column prices the expected path's costs and
memberships by age; to see members react to age-rated prices, simulate the scenario with
``sharing.rule = "age_rated"`` (``scenarios/stress/age_rated.toml``). The weights here are
the realised ``Σ B / Σ E`` by cell; the simulated rule uses the fully selected expected aid.

Notes
-----
Per cell ``(r, a)`` (row = sex and risk group, age in quarters) and quarter ``t``: exposure
``E`` (members at risk of diagnosis), expected benefits ``B`` (paid claims × aid, mild
ones at the mild amount, with benefit inflation) and sharers ``S``. Under equal sharing
each sharer pays ``c_t`` (the quarter's cost per member): contributions ``C = c_t · S``.
Age-rated sharing charges in proportion to the expected cost of a member of that age and sex,
``w = Σ_t B / Σ_t E`` over the projection, collecting the same total:
``C' = c_t · (Σ S) · w S / Σ (w S)``.

*Per member per year*: ``4 Σ_t C / Σ_t E`` and ``4 Σ_t B / Σ_t E`` by age band and sex.

*Over a member's time in the plan*: a member joining at the projection's start at age
``x`` stays until a claim, death, lapse, the plan's maximum age or the horizon; in quarter
``t`` (age ``x + t/4``, duration ``min(t, D)``) the survivors pay and receive as above, at
the expected path's costs and lapse rates. Undiscounted sums, per joiner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.model import lapse, payout
from engine.model.inputs import ModelInputs
from engine.model.mean_path import mean_paths
from engine.model.units import prob_from_hazard

BAND_YEARS = 5


@dataclass
class FairnessRow:
    sex: str
    group: str
    ages: str
    member_years: float
    benefits_per_member_year: float
    contributions_per_member_year: float
    age_rated_per_member_year: float
    lifetime_benefits: float
    lifetime_contributions: float
    lifetime_age_rated: float

    @property
    def ratio(self) -> float:
        """Contributions per yuan of benefit under equal sharing (> 1: subsidises others)."""
        b = self.benefits_per_member_year
        return self.contributions_per_member_year / b if b > 0 else math.inf


def analyse(inputs: ModelInputs) -> list[FairnessRow]:
    """The fairness table of a scenario (see the module docstring)."""
    T = inputs.quarters
    traces = [{} for _ in range(T)]
    ones = np.ones((1, T))
    out = mean_paths(inputs, ones, ones, traces=traces)
    cost = out["cost_per_member"][0]
    W = inputs.waiting_quarters
    R = inputs.n_rows
    eligible = _eligible_share(inputs.n_durations, W)                         # (Dn,)
    per_claim = payout.expected_aid_per_claim(                              # (T, A)
        inputs.benefit_yuan, inputs.mild_share, inputs.mild_yuan, inputs.payout_level_yuan,
        inputs.payout_probabilities)
    E = np.zeros((R, inputs.n_age_quarters))
    B = np.zeros((R, inputs.n_age_quarters))
    S_t = np.zeros((T, R, inputs.n_age_quarters))
    for t in range(T):
        E += traces[t]["at_risk_of_diagnosis"][0].sum(axis=2)
        paid = (traces[t]["diagnosed"][0] * eligible).sum(axis=2)
        B += paid * per_claim[t] * inputs.benefit_factor[t]
        first = W if inputs.sharers_eligible_only else 0
        S_t[t] = traces[t]["before_ageing"][0][:, :, first:].sum(axis=2)
    weight = np.divide(B, E, out=np.zeros_like(B), where=E > 0)
    C = (cost[:, None, None] * S_t).sum(axis=0)
    total_sharers = S_t.sum(axis=(1, 2))
    weighted = (weight[None] * S_t).sum(axis=(1, 2))
    scale = np.divide(cost * total_sharers, weighted, out=np.zeros(T), where=weighted > 0)
    C_rated = (scale[:, None, None] * weight[None] * S_t).sum(axis=0)
    life = _lifetime(inputs, cost, per_claim, weight, scale, eligible)
    rows = []
    K = inputs.n_groups
    for s in range(R):
        sex, group = ("female", "male")[s // K], inputs.group_names[s % K]
        for lo in range(inputs.age_min, inputs.age_max + 1, BAND_YEARS):
            hi = min(lo + BAND_YEARS - 1, inputs.age_max)
            cols = slice(4 * (lo - inputs.age_min), 4 * (hi - inputs.age_min + 1))
            exposure = E[s, cols].sum()
            years = exposure / 4.0
            mix = inputs.join_mix[s // K, cols]
            mix = mix / mix.sum() if mix.sum() > 0 else np.full(mix.shape, 1 / mix.size)

            def per_year(x, years=years):
                return float(x / years) if years > 0 else 0.0

            rows.append(FairnessRow(
                sex, group, f"{lo}-{hi}", float(years),
                per_year(B[s, cols].sum()), per_year(C[s, cols].sum()),
                per_year(C_rated[s, cols].sum()),
                float(mix @ life["benefits"][s, cols]),
                float(mix @ life["contributions"][s, cols]),
                float(mix @ life["age_rated"][s, cols])))
    return rows


def _eligible_share(n_durations: int, waiting: int) -> np.ndarray:
    """Share of a duration's diagnoses that are paid: 0 before the waiting period ends, 1/2
    in the quarter it ends (joiners arrive spread through the quarter), 1 after."""
    d = np.arange(n_durations)
    if waiting == 0:
        return np.ones(n_durations)
    return np.where(d < waiting, 0.0, np.where(d == waiting, 0.5, 1.0))


def _lifetime(inputs: ModelInputs, cost, per_claim, weight, scale, eligible) -> dict:
    """Per joiner at the start, by (row, age-quarter at joining): undiscounted sums."""
    T, A, D = inputs.quarters, inputs.n_age_quarters, inputs.n_durations - 1
    R = inputs.n_rows
    K = inputs.cost_window_quarters
    window = np.full(K, inputs.reference_cost_yuan_q)
    n = np.ones((R, A))
    alive_age = np.arange(A)[None, :].repeat(R, axis=0)     # each cohort's age-quarter
    benefits = np.zeros((R, A))
    contributions = np.zeros((R, A))
    rated = np.zeros((R, A))
    rows = np.arange(R)[:, None]
    for t in range(T):
        d = min(t, D)
        ratio = lapse.cost_ratio(window.mean(), inputs.reference_cost_yuan_q,
                                 inputs.lapse_exponent)                        # (R,)
        joiners = lapse.joiners_lapse(inputs.lapse_fixed_q[0], inputs.lapse_cost_q[0])
        lapse_q = (np.full(R, joiners) if d == 0 else lapse.lapse_probability(
            inputs.lapse_fixed_q[d], inputs.lapse_cost_q[d], ratio))[:, None]
        inside = alive_age < A
        age = np.minimum(alive_age, A - 1)
        n = np.where(inside, n, 0.0)
        q_death = inputs.death_q_joiners if d == 0 else inputs.death_q
        n1 = n * (1.0 - q_death[rows, age])
        p = prob_from_hazard(inputs.diagnosis_hazard_q[rows, age, d] * inputs.hazard_factor[t])
        diagnosed = n1 * p
        benefits += diagnosed * eligible[d] * per_claim[t][age] * inputs.benefit_factor[t]
        n3 = (n1 - diagnosed) * (1.0 - lapse_q)
        if d >= inputs.waiting_quarters or not inputs.sharers_eligible_only:
            contributions += n3 * cost[t]
            rated += n3 * scale[t] * weight[rows, age]
        window[t % K] = cost[t]
        n = n3
        alive_age = alive_age + 1
    return {"benefits": benefits, "contributions": contributions, "age_rated": rated}
