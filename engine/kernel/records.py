"""Named records the kernel reads and writes, built by field name from ``ModelInputs``.

numba compiles functions that take NamedTuples field by field (and caches them), so the
kernel's steps read ``par.fee_rate`` or ``tab.death_q`` instead of parameter arrays
addressed by index constants. Four records travel through the steps:

``Params``   scalars and enums of the scenario (copied from ``ModelInputs`` by name)
``Tables``   arrays of the scenario (probabilities, amounts, mixes, quarter flags)
``Keys``     the stream key and each quarter's counter word per kind of draw
``Drivers``  per path and quarter, what the plan takes from outside its own draws
``State``    one path's state, carried from quarter to quarter (preallocated per thread;
             one-element arrays hold the scalars so that steps can update them)
``Scratch``  one path's work arrays within a quarter
``Outputs``  the (variable, path, quarter) arrays, with slots from
             :data:`engine.variables.VARIABLES` (``INT.members``, ``FLT.aid``, ...), and
             per path the tilted claims' statistics (:data:`engine.model.tilt.CLAIM_STATS`)
"""

from collections import namedtuple
from typing import NamedTuple

import numpy as np

from engine.model.events import DECREMENTS, Route
from engine.model.inputs import ModelInputs
from engine.model.tilt import CLAIM_STATS
from engine.random import streams
from engine.random.cells import CellDraws, cell_draws
from engine.variables import CELLS_PREFIX, VARIABLES

INT_VARIABLES = tuple(v.name for v in VARIABLES if v.dtype is np.int64)
FLOAT_VARIABLES = tuple(v.name for v in VARIABLES if v.dtype is np.float64)
INT = namedtuple("IntSlots", INT_VARIABLES)(*range(len(INT_VARIABLES)))
FLT = namedtuple("FloatSlots", FLOAT_VARIABLES)(*range(len(FLOAT_VARIABLES)))
STAGE = namedtuple("Stages", [d.kind.name.lower() for d in DECREMENTS])(*range(len(DECREMENTS)))
ROUTE = namedtuple("Routes", [r.name.lower() for r in Route])(*(int(r) for r in Route))
# the decrement table (engine.model.events) as constants the compiled stages index
STAGE_ROUTE = tuple(int(d.route) for d in DECREMENTS)
STAGE_SKIP = tuple(int(d.skip) for d in DECREMENTS)
STAGE_SLOT = tuple(INT_VARIABLES.index(d.output) for d in DECREMENTS)


class Params(NamedTuple):
    """Scalars of the scenario, named as in :class:`~engine.model.inputs.ModelInputs`."""

    growth_model: int
    market_potential: float
    innovation_q: float
    imitation_q: float
    join_cost_elasticity: float
    lapse_cost_elasticity: float
    reference_cost_yuan_q: float
    cost_window_quarters: int
    waiting_quarters: int
    mild_share: float
    mild_yuan: float
    n_payout_levels: int
    sharers_eligible_only: bool
    sharing_rule: int
    fee_rate: float
    cap_per_quarter_yuan: float
    cap_per_year_yuan: float
    shortfall_rule: int
    reserve_initial_yuan: float
    reserve_growth_q: float
    loading_yuan_q: float
    prepaid: bool
    deposit_yuan: float
    topup_yuan: float
    topup_probability: float
    closure_quarter: int
    claims_tilted: bool
    claim_tilt: float
    claim_tilt_first: int
    claim_tilt_stop: int
    enrolled_per_joiner: float


class Tables(NamedTuple):
    """Arrays of the scenario, named as in :class:`~engine.model.inputs.ModelInputs`."""

    cell_id: np.ndarray
    death_q: np.ndarray
    death_q_joiners: np.ndarray
    diagnosis_hazard_q: np.ndarray
    hazard_factor: np.ndarray
    lapse_fixed_q: np.ndarray
    lapse_cost_q: np.ndarray
    lapse_exponent: np.ndarray
    group_incidence: np.ndarray
    group_share: np.ndarray
    group_join_sensitivity: np.ndarray
    benefit_yuan: np.ndarray
    payout_level_yuan: np.ndarray
    payout_level_p: np.ndarray
    join_split_p: np.ndarray
    initial_members: np.ndarray
    joins_series: np.ndarray
    joins_open: np.ndarray
    platform_funds: np.ndarray
    year_starts: np.ndarray
    benefit_factor: np.ndarray
    payment_pattern: np.ndarray
    share_weight: np.ndarray


class Keys(NamedTuple):
    """The stream key and counter words: ``joins_total[t]``, ``joins[t]`` (the split over
    cells), ``joins_group[t]`` (over groups), ``decrements[stage, t]``."""

    k0: np.uint64
    k1: np.uint64
    joins_total: np.ndarray
    joins: np.ndarray
    joins_group: np.ndarray
    decrements: np.ndarray
    join_cell: np.int64             # added to the cells of join draws: a plan's own streams


class Drivers(NamedTuple):
    join_gamma: np.ndarray         # (P, T) the joins' mixing multipliers
    incidence_level: np.ndarray    # (P, T) the systematic incidence level Λ
    arrivals: np.ndarray           # (P, T, R, Dn) int64 members moving in from a younger
                                   # plan (no rows: none)
    aged_cells: np.ndarray         # (P, T, R, Dn) receives who aged out (no rows: not kept)
    source_joins: np.ndarray       # (P, T) an enrolled plan: the enrolling plan's joins
    source_leave_q: np.ndarray     # (P, T) and the share of its members who left (no rows:
                                   # not enrolled)


class State(NamedTuple):
    members: np.ndarray            # (R, A, Dn) int64 (rows: sex · K + group)
    cost_window: np.ndarray        # (K,) what a sharer paid in the last K quarters
    cell_window: np.ndarray        # (K, R, A) age-rated: what each cell paid
    paid_year_cells: np.ndarray    # (R, A) age-rated: paid this calendar year, per cell
    balance: np.ndarray            # (Dn,) pre-paid balance per member, by duration
    pending_aid: np.ndarray        # (max(L − 1, 1),) aid of earlier quarters due later
    pending_claims: np.ndarray     # (max(L − 1, 1),) their claims (expected shares)
    ever_joined: np.ndarray        # (1,) int64 persons ever joined
    reserve: np.ndarray            # (1,) reserve (yuan)
    paid_year: np.ndarray          # (1,) what a sharer paid this calendar year (yuan)
    last_charge: np.ndarray        # (1,) pre-paid: what a sharer paid last quarter


class Scratch(NamedTuple):
    claims_cells: np.ndarray       # (R, A) int64 claims of the quarter
    boundary_cells: np.ndarray     # (R, A) int64 diagnoses in the quarter waiting ends
    severe_cells: np.ndarray       # (R, A) int64 severe claims not yet given a payout level
    aid_cells: np.ndarray          # (R, A) aid detail: the quarter's aid per cell (yuan,
                                   # before benefit inflation)
    lapse_q: np.ndarray            # (R, Dn) lapse probability by row and duration
    lapse_ratio_cells: np.ndarray  # (R, A) age-rated: (c / c_ref)^(η σ) per cell
    sharer_cells: np.ndarray       # (R, A) sharers per cell
    charged_cells: np.ndarray      # (R, A) age-rated: charge per sharer per cell
    short: np.ndarray              # (Dn,) bool pre-paid: balance below the last charge
    join_nodes: np.ndarray         # (2 L,) int64 joiners at each node of the split tree
    group_weight: np.ndarray       # (K,) groups' weights among joiners
    group_suffix: np.ndarray       # (K,) their sums from group k on
    draws: CellDraws               # a stage's binomial draws, R·A·Dn cells (≥ a tree level)
    draw_norm: np.ndarray          # (R·A·Dn,) claim tilt: the cell's normaliser
    draw_cell: np.ndarray          # (R·A·Dn, 3) int64 (row, age, duration) of draw j


class Outputs(NamedTuple):
    ints: np.ndarray               # (len(INT), P, T) int64, zeroed
    floats: np.ndarray             # (len(FLT), P, T) float64, zeroed
    claim_stats: np.ndarray        # (P, len(CLAIM_STATS)) tilted claims, zeroed
    # [output] detail (engine.config.output), by row and age band; empty when not asked
    detail_counts: np.ndarray      # (V, P, T, R, B) int64: count variable INT j in
                                   # slot detail_slot[j] (−1: not detailed)
    detail_aid: np.ndarray         # (P, T, R, B) float64 aid (no rows: not detailed)
    detail_slot: np.ndarray        # (len(INT),) int64
    detail_band: np.ndarray        # (A,) int64 age band of each age-quarter


def params_of(inputs: ModelInputs) -> Params:
    """The scalars, converted to the record's types."""
    return Params(**{name: kind(getattr(inputs, name))
                     for name, kind in Params.__annotations__.items()})


def _array(value) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype.kind in "ui":
        value = value.astype(np.int64)
    return np.ascontiguousarray(value)


def tables_of(inputs: ModelInputs) -> Tables:
    return Tables(**{name: _array(getattr(inputs, name)) for name in Tables._fields})


def keys_of(inputs: ModelInputs, seed: int) -> Keys:
    k0, k1 = streams.seed_key(seed)
    quarters = range(inputs.quarters)

    def words(kind):
        return np.array([streams.quarter_kind_word(t, kind) for t in quarters], dtype=np.int64)

    return Keys(np.uint64(k0), np.uint64(k1), words(streams.Kind.JOINS_TOTAL),
                words(streams.Kind.JOINS), words(streams.Kind.JOINS_GROUP),
                np.array([words(d.kind) for d in DECREMENTS], dtype=np.int64),
                np.int64(inputs.join_cell))


def work_of(inputs: ModelInputs) -> tuple[State, Scratch]:
    """One thread's preallocated state and scratch arrays."""
    R, A, Dn = inputs.initial_members.shape
    K = inputs.cost_window_quarters
    G = inputs.n_groups
    pending = max(len(inputs.payment_pattern) - 1, 1)
    state = State(np.empty((R, A, Dn), np.int64), np.empty(K), np.empty((K, R, A)),
                  np.empty((R, A)), np.empty(Dn), np.zeros(pending), np.zeros(pending),
                  np.empty(1, np.int64), np.empty(1), np.empty(1), np.empty(1))
    scratch = Scratch(np.empty((R, A), np.int64), np.zeros((R, A), np.int64),
                      np.zeros((R, A), np.int64), np.zeros((R, A)),
                      np.empty((R, Dn)), np.empty((R, A)), np.empty((R, A)), np.empty((R, A)),
                      np.zeros(Dn, np.bool_), np.zeros(2 * len(inputs.join_split_p), np.int64),
                      np.empty(G), np.empty(G),
                      cell_draws(max(R * A * Dn, len(inputs.join_split_p))),
                      np.zeros(R * A * Dn), np.zeros((R * A * Dn, 3), np.int64))
    return state, scratch


def outputs_of(n_paths: int, quarters: int, inputs: ModelInputs) -> Outputs:
    """Zeroed outputs of ``n_paths`` paths, with the detail ``inputs.detail`` asks for."""
    counted = [name for name in inputs.detail if name in INT_VARIABLES]
    slots = np.array([counted.index(n) if n in counted else -1 for n in INT_VARIABLES],
                     dtype=np.int64)
    cells = (n_paths, quarters, inputs.n_rows, inputs.n_age_bands)
    band = (np.zeros(inputs.n_age_quarters, np.int64) if inputs.age_band is None
            else np.ascontiguousarray(inputs.age_band, dtype=np.int64))
    return Outputs(np.zeros((len(INT), n_paths, quarters), np.int64),
                   np.zeros((len(FLT), n_paths, quarters)),
                   np.zeros((n_paths, len(CLAIM_STATS))),
                   np.zeros((len(counted),) + (cells if counted else (0, 0, 0, 0)), np.int64),
                   np.zeros(cells if "aid" in inputs.detail else (0, 0, 0, 0)),
                   slots, band)


def as_dict(out: Outputs) -> dict[str, np.ndarray]:
    """``{variable: (P, T) array}`` views of the outputs, and each detailed variable's
    ``(P, T, R, B)`` array under ``CELLS_PREFIX + name``."""
    named = {name: out.ints[j] for j, name in enumerate(INT_VARIABLES)}
    named.update({name: out.floats[j] for j, name in enumerate(FLOAT_VARIABLES)})
    named.update({CELLS_PREFIX + name: out.detail_counts[slot]
                  for name, slot in zip(INT_VARIABLES, out.detail_slot, strict=True)
                  if slot >= 0})
    if out.detail_aid.shape[0] > 0:
        named[CELLS_PREFIX + "aid"] = out.detail_aid
    return named
