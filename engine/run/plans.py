"""A platform's plans simulated path by path, and the platform's totals.

Each plan is a scenario of its own ages and rules (:mod:`engine.config.platform`); its paths
are simulated by :func:`engine.run.simulate.simulate_paths` on the platform's seed, so the
systematic incidence level and the joins' over-dispersion (drawn per path from the seed, and
fixed at the platform) are the same in every plan, and cell draws are keyed by absolute
age. With ``age_out = "next_plan"`` the plans run in age order and the members who pass
a plan's oldest age enter the plan that starts at the next age in the next quarter, at the
duration they had (capped at the receiving plan's).

The platform's value of a variable is its ``total`` (:mod:`engine.variables`): the sum over
plans, or a mean weighted by each plan's sharers or members, or the common value. Members
who move between plans are counted once: the platform's ``aged_out`` leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model.inputs import ModelInputs, build_inputs
from engine.model.tilt import CLAIM_STATS_KEY
from engine.variables import PLAN_SUFFIX, VARIABLES, WEIGHT

MOVES = ("moved_in", "moved_out")   # per-plan extras: members who moved between plans


@dataclass(frozen=True)
class PlatformInputs:
    """The plans' inputs in the file's order, their names and the age-out rule."""

    name: str
    plan_names: tuple[str, ...]
    plans: tuple[ModelInputs, ...]
    age_out: str

    @property
    def quarters(self) -> int:
        return self.plans[0].quarters

    @property
    def quarter_labels(self) -> tuple[str, ...]:
        return self.plans[0].quarter_labels

    def receiver(self, j: int) -> int:
        """The plan that members past plan ``j``'s oldest age move to, or −1."""
        if self.age_out != "next_plan":
            return -1
        nxt = self.plans[j].age_max + 1
        for k, plan in enumerate(self.plans):
            if plan.age_min == nxt:
                return k
        return -1


def build_run_inputs(scenario) -> ModelInputs | PlatformInputs:
    """What a run simulates for one scenario: its inputs, or its plans' if it has plans."""
    if not scenario.plans:
        return build_inputs(scenario)
    return PlatformInputs(scenario.name, tuple(p.name.rsplit(".", 1)[-1].split("[")[0]
                                               for p in scenario.plans),
                          tuple(build_inputs(p) for p in scenario.plans), scenario.age_out)


def plan_order(platform: PlatformInputs) -> list[int]:
    """Plans by their youngest age (senders before receivers)."""
    return sorted(range(len(platform.plans)), key=lambda j: platform.plans[j].age_min)


def simulate_platform(platform: PlatformInputs, seed: int, start: int, count: int,
                      backend: str = "numba") -> dict[str, np.ndarray]:
    """Every plan's paths ``start .. start + count − 1`` and the platform's totals.

    Returns the totals under each variable's name ``(P, T)`` and each plan's values under
    ``name + "_by_plan"`` ``(n_plans, P, T)``, plus ``moved_in_by_plan`` and
    ``moved_out_by_plan`` (members who moved between plans).
    """
    from engine.run.simulate import simulate_paths

    n = len(platform.plans)
    runs: list[dict | None] = [None] * n
    arrivals: list[np.ndarray | None] = [None] * n
    for j in plan_order(platform):
        k = platform.receiver(j)
        runs[j] = simulate_paths(platform.plans[j], seed, start, count, backend,
                                 arrivals=arrivals[j], keep_aged_out=k >= 0)
        if k >= 0:
            arrivals[k] = _fit_durations(runs[j].pop("aged_out_cells"),
                                         platform.plans[k].n_durations)
    return combine(runs)


def _fit_durations(aged: np.ndarray, n_durations: int) -> np.ndarray:
    """Aged-out members ``(P, T, R, Dn_sender)``, by their duration in the quarter they
    left, at the receiver's duration after that quarter: ``min(d + 1, D_receiver)``."""
    out = np.zeros(aged.shape[:-1] + (n_durations,), dtype=aged.dtype)
    for d in range(aged.shape[-1]):
        out[..., min(d + 1, n_durations - 1)] += aged[..., d]
    return out


def combine(runs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The platform's totals and the per-plan arrays (see :func:`simulate_platform`)."""
    out: dict[str, np.ndarray] = {}
    members = [r["members"].astype(np.float64) for r in runs]
    sharers = [r["sharers"].astype(np.float64) for r in runs]
    for v in VARIABLES:
        values = [r[v.name] for r in runs]
        out[v.name + PLAN_SUFFIX] = np.stack(values)
        if v.total == "common":
            out[v.name] = values[0].copy()
        elif v.total == "sum":
            total = np.zeros_like(values[0])
            for x in values:                      # fixed order: same bits on every run
                total = total + x
            out[v.name] = total
        else:
            weights = sharers if v.total == "sharers" else members
            num = np.zeros(values[0].shape)
            den = np.zeros(values[0].shape)
            for x, w in zip(values, weights, strict=True):
                num = num + x * w
                den = den + w
            out[v.name] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    # the tilted drivers are the platform's, drawn alike in every plan: one likelihood ratio
    # (an expected path has none)
    if WEIGHT in runs[0]:
        out[WEIGHT] = runs[0][WEIGHT]
    if CLAIM_STATS_KEY in runs[0]:
        # each plan's claim counts are its own draws: their likelihood ratios multiply, and
        # the cross-entropy statistics of the one claim tilt add up
        stats = runs[0][CLAIM_STATS_KEY].copy()
        for r in runs[1:]:
            out[WEIGHT] = out[WEIGHT] * np.exp(r[CLAIM_STATS_KEY][:, 0])
            stats = stats + r[CLAIM_STATS_KEY]
        out[CLAIM_STATS_KEY] = stats
    for name in MOVES:
        out[name + PLAN_SUFFIX] = np.stack([r.get(name, np.zeros_like(r["members"]))
                                            for r in runs])
    # members who moved to another plan did not leave the platform
    out["aged_out"] = out["aged_out"] - out["moved_out" + PLAN_SUFFIX].sum(axis=0)
    return out


def expected_paths(inputs: ModelInputs | PlatformInputs) -> dict[str, np.ndarray]:
    """The expected path (:func:`engine.model.reference.expected_path`) of a scenario, or of
    a platform: its totals ``(T,)`` and each plan's ``name + "_by_plan"`` ``(n_plans, T)``,
    members moving between plans in expectation too."""
    from engine.model import reference

    if not isinstance(inputs, PlatformInputs):
        return reference.expected_path(inputs)
    n = len(inputs.plans)
    runs: list[dict | None] = [None] * n
    arrivals: list[np.ndarray | None] = [None] * n
    for j in plan_order(inputs):
        plan = inputs.plans[j]
        k = inputs.receiver(j)
        T = plan.quarters
        out = {v.name: np.zeros((1, T)) for v in VARIABLES}
        state = reference.initial_state(plan, 1, dtype=np.float64)
        aged = np.zeros((1, T, plan.n_rows, plan.n_durations)) if k >= 0 else None
        for t in range(T):
            moves = {"in": None if arrivals[j] is None else arrivals[j][:, t],
                     "out": None if aged is None else aged[:, t]}
            reference.step_quarter(plan, state, t, reference.MeanDraws(),
                                   np.zeros(1, dtype=np.int64), np.ones(1), np.ones(1), out,
                                   moves=moves)
        if arrivals[j] is not None:
            out["moved_in"] = arrivals[j].sum(axis=(2, 3))
        if aged is not None:
            out["moved_out"] = aged.sum(axis=(2, 3))
            arrivals[k] = _fit_durations(aged, inputs.plans[k].n_durations)
        runs[j] = out
    return {name: values[..., 0, :] for name, values in combine(runs).items()}
