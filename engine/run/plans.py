"""Every run goes through here: a scenario is a platform of one plan. The plans are
simulated path by path, in age order, and a platform's totals are made of them.

A plain scenario is a platform of one plan whose results carry no plan dimension: its
plan's arrays are its results, bit for bit. Each plan of a platform file is a scenario of
its own ages and rules (:mod:`engine.config.platform`); its paths are simulated by
:func:`engine.run.simulate.simulate_paths` on the platform's seed, so the
systematic incidence level and the joins' over-dispersion (drawn per path from the seed, and
fixed at the platform) are the same in every plan, and cell draws are keyed by absolute
age. With ``age_out = "next_plan"`` the plans run in age order and the members who pass
a plan's oldest age enter the plan that starts at the next age in the next quarter, at the
duration they had (capped at the receiving plan's).

The platform's value of a variable is its ``total`` (:mod:`engine.variables`): the sum over
plans, or a mean weighted by each plan's sharers or members, or the common value. Members
who move between plans are counted once: the platform's ``aged_out`` leaves them out.

A plan enrolled by another (``enrolled_with``) runs after the plan that enrols it and is
given, path by path, that plan's joins and the share of its members who left by lapsing or
being suspended (:class:`engine.run.simulate.Enrolment`, :func:`enrolment_of`): the same
integers in both engines, so they agree bit for bit; the expected path passes expected
values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from engine.config.platform import plan_label
from engine.model.drivers import is_driver
from engine.model.inputs import ModelInputs, build_inputs
from engine.model.mean_path import mean_paths
from engine.model.tilt import CLAIM_STATS_KEY
from engine.run.detail import shape_detail, stack_plans
from engine.run.simulate import (
    Chunk,
    Enrolment,
    plan_chunks,
    scenario_seeds,
    simulate_paths,
    with_moves,
)
from engine.variables import DETAIL_SUFFIX, PLAN_SUFFIX, VARIABLES, WEIGHT

MOVES = ("moved_in", "moved_out")   # per-plan extras: members who moved between plans


@dataclass(frozen=True)
class PlatformInputs:
    """What a run simulates for one scenario: its plans' inputs in the file's order (one
    plan for a plain scenario), their names (``()``: a plain scenario, whose results have
    no plan dimension) and the age-out rule."""

    name: str
    plan_names: tuple[str, ...]
    plans: tuple[ModelInputs, ...]
    age_out: str
    enrolled_by: tuple[int, ...] = ()   # per plan: the plan that enrols it, or −1
    detail_by: tuple[str, ...] = ()     # [output] by: the detail's dimensions

    @classmethod
    def of_plan(cls, inputs: ModelInputs, detail_by: tuple[str, ...] = ()) -> PlatformInputs:
        """A plain scenario's inputs as the platform of its one plan."""
        return cls(inputs.name, (), (inputs,), "leave", detail_by=detail_by)

    def enroller(self, j: int) -> int:
        """The plan whose joiners enrol plan ``j``'s (``enrolled_with``), or −1."""
        return self.enrolled_by[j] if self.enrolled_by else -1

    @property
    def per_plan(self) -> bool:
        """Whether the results carry each plan's values (a platform file)."""
        return bool(self.plan_names)

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


def build_run_inputs(scenario) -> PlatformInputs:
    """What a run simulates for one scenario: a platform of its plans, or of itself."""
    by = tuple(scenario.output.by) if scenario.output.detail else ()
    if not scenario.plans:
        return PlatformInputs.of_plan(build_inputs(scenario), by)
    return PlatformInputs(scenario.name, tuple(plan_label(p.name)
                                               for p in scenario.plans),
                          tuple(build_inputs(p) for p in scenario.plans), scenario.age_out,
                          tuple(p.enrolled_with[0] if p.enrolled_with else -1
                                for p in scenario.plans), by)


def plan_order(platform: PlatformInputs) -> list[int]:
    """Plans by their youngest age (senders before receivers), each enrolled plan after
    the plan that enrols it (which is not itself enrolled, and members do not move between
    plans then: :mod:`engine.config.platform`)."""
    by_age = sorted(range(len(platform.plans)), key=lambda j: platform.plans[j].age_min)
    return ([j for j in by_age if platform.enroller(j) < 0]
            + [j for j in by_age if platform.enroller(j) >= 0])


# One plan's run: (plan inputs, arrivals from a younger plan or None, keep who ages out,
# what an enrolled plan follows of the plan that enrols it or None)
PlanRun = Callable[[ModelInputs, "np.ndarray | None", bool, "Enrolment | None"], dict]


def enrolment_of(run: dict[str, np.ndarray], initial_members: float) -> Enrolment:
    """What a plan enrolled by the plan of ``run`` follows: its joins ``J^k_t`` and its
    leavers' share ``f^k_t = (lapses_t + suspended_t) / (members_{t−1} + J^k_t)``
    (``members_{−1}``: ``initial_members``; 0 where nobody was there), ``(P, T)``."""
    joins = np.asarray(run["joins"], dtype=np.float64)
    members = np.asarray(run["members"], dtype=np.float64)
    start = np.concatenate([np.full((len(members), 1), float(initial_members)),
                            members[:, :-1]], axis=1)
    exposed = start + joins
    leaving = (np.asarray(run["lapses"], dtype=np.float64)
               + np.asarray(run["suspended"], dtype=np.float64))
    share = np.where(exposed > 0, leaving / np.where(exposed > 0, exposed, 1.0), 0.0)
    return Enrolment(joins, np.minimum(share, 1.0))


def chain_plans(platform: PlatformInputs, run_plan: PlanRun) -> dict[str, np.ndarray]:
    """Run the plans in age order with ``run_plan``, members who age out of a plan entering
    the next one, and return the platform's totals and each plan's arrays (:func:`combine`);
    a plain scenario's one plan's arrays as they are."""
    if not platform.per_plan:
        return run_plan(platform.plans[0], None, False, None)
    n = len(platform.plans)
    runs: list[dict | None] = [None] * n
    arrivals: list[np.ndarray | None] = [None] * n
    for j in plan_order(platform):
        k = platform.receiver(j)
        source = platform.enroller(j)
        enrolment = (None if source < 0 else
                     enrolment_of(runs[source],
                                  float(platform.plans[source].initial_members.sum())))
        runs[j] = run_plan(platform.plans[j], arrivals[j], k >= 0, enrolment)
        if k >= 0:
            arrivals[k] = _fit_durations(runs[j].pop("aged_out_cells"),
                                         platform.plans[k].n_durations)
    return combine(runs)


def simulate_plans(platform: PlatformInputs, seed: int, start: int, count: int,
                   backend: str = "numba") -> dict[str, np.ndarray]:
    """Every plan's paths ``start .. start + count − 1`` and the platform's totals.

    Returns the totals under each variable's name ``(P, T)`` and, for a platform file, each
    plan's values under ``name + "_by_plan"`` ``(n_plans, P, T)``, plus
    ``moved_in_by_plan`` and ``moved_out_by_plan`` (members who moved between plans).
    """
    def run_plan(plan, arrivals, keep_aged_out, enrolment):
        return simulate_paths(plan, seed, start, count, backend, arrivals=arrivals,
                              keep_aged_out=keep_aged_out, enrolment=enrolment)

    return shape_detail(chain_plans(platform, run_plan), platform.detail_by,
                        platform.plans[0].n_groups)


def expected_paths(platform: PlatformInputs, detail: bool = False) -> dict[str, np.ndarray]:
    """The expected path (:mod:`engine.model.mean_path`) of a scenario or platform: its
    totals ``(T,)`` and each plan's ``name + "_by_plan"`` ``(n_plans, T)``, members moving
    between plans in expectation too; with ``detail``, also the ``[output]`` detail's
    ``NAME_by`` ``(T, <by>)`` (expected counts)."""
    def run_plan(plan, arrivals, keep_aged_out, enrolment):
        ones = np.ones((1, plan.quarters))
        aged = np.zeros((1, plan.quarters, plan.n_rows, plan.n_durations))
        out = mean_paths(plan, ones, ones, moves_in=arrivals,
                         moves_out=aged if keep_aged_out else None, enrolment=enrolment,
                         detail=detail and bool(plan.detail))
        del out[CLAIM_STATS_KEY]
        return with_moves(out, arrivals, aged if keep_aged_out else None)

    shaped = chain_plans(platform, run_plan)
    if detail:
        shaped = shape_detail(shaped, platform.detail_by, platform.plans[0].n_groups)
    return {name: values[0] if name.endswith(DETAIL_SUFFIX) else values[..., 0, :]
            for name, values in shaped.items()}


def run_chunks(scenarios, n_paths: int, seed: int, chunk_paths: int, backend: str = "numba",
               skip: Callable[[Chunk], bool] | None = None, streams_choice: str = "common",
               order=None) -> Iterator[tuple[Chunk, dict[str, np.ndarray]]]:
    """Yield ``(chunk, results)`` for every chunk of every scenario not skipped, or, given
    an ``order`` (:class:`engine.run.precision.ChunkOrder`), for each chunk it asks for
    (asked again after each chunk is consumed, so its decisions see every chunk before)."""
    inputs = [build_run_inputs(s) for s in scenarios]
    seeds = scenario_seeds(seed, len(scenarios), streams_choice)
    if order is None:
        chunks = iter([c for c in plan_chunks(len(scenarios), n_paths, chunk_paths)
                       if skip is None or not skip(c)])
        order_next = lambda: next(chunks, None)  # noqa: E731
    else:
        order_next = order.next_chunk
    while (chunk := order_next()) is not None:
        yield chunk, simulate_plans(inputs[chunk.scenario], seeds[chunk.scenario],
                                    chunk.start, chunk.count, backend)


def _fit_durations(aged: np.ndarray, n_durations: int) -> np.ndarray:
    """Aged-out members ``(P, T, R, Dn_sender)``, by their duration in the quarter they
    left, at the receiver's duration after that quarter: ``min(d + 1, D_receiver)``."""
    out = np.zeros(aged.shape[:-1] + (n_durations,), dtype=aged.dtype)
    for d in range(aged.shape[-1]):
        out[..., min(d + 1, n_durations - 1)] += aged[..., d]
    return out


def combine(runs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The platform's totals and the per-plan arrays (see :func:`simulate_plans`)."""
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
    out.update({name: x for name, x in runs[0].items() if is_driver(name)})
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
    out.update(stack_plans(runs))
    # members who moved to another plan did not leave the platform
    out["aged_out"] = out["aged_out"] - out["moved_out" + PLAN_SUFFIX].sum(axis=0)
    return out
