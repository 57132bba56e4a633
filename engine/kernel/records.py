"""Named records the kernel reads and writes, built by field name from ``ModelInputs``.

numba compiles functions that take NamedTuples field by field (and caches them), so the
kernel's steps read ``par.fee_rate`` or ``tab.death_q`` instead of parameter arrays
addressed by index constants. Four records travel through the steps:

``Params``   scalars and enums of the scenario (copied from ``ModelInputs`` by name)
``Tables``   arrays of the scenario (probabilities, amounts, mixes, quarter flags)
``Keys``     the stream key and each quarter's counter word per kind of draw
``State``    one path's state, carried from quarter to quarter (preallocated per thread;
             one-element arrays hold the scalars so that steps can update them)
``Scratch``  one path's work arrays within a quarter
``Outputs``  the (variable, path, quarter) arrays, with slots from
             :data:`engine.variables.VARIABLES` (``INT.members``, ``FLT.aid``, ...)
"""

from collections import namedtuple
from typing import NamedTuple

import numpy as np

from engine.model.events import DECREMENTS
from engine.model.inputs import ModelInputs
from engine.random import streams
from engine.variables import VARIABLES

INT_VARIABLES = tuple(v.name for v in VARIABLES if v.dtype is np.int64)
FLOAT_VARIABLES = tuple(v.name for v in VARIABLES if v.dtype is np.float64)
INT = namedtuple("IntSlots", INT_VARIABLES)(*range(len(INT_VARIABLES)))
FLT = namedtuple("FloatSlots", FLOAT_VARIABLES)(*range(len(FLOAT_VARIABLES)))
STAGE = namedtuple("Stages", [k.name.lower() for k in DECREMENTS])(*range(len(DECREMENTS)))


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
    antiselection: float
    waiting_quarters: int
    mild_share: float
    mild_yuan: float
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


class Tables(NamedTuple):
    """Arrays of the scenario, named as in :class:`~engine.model.inputs.ModelInputs`."""

    cell_id: np.ndarray
    death_q: np.ndarray
    diagnosis_hazard_q: np.ndarray
    hazard_factor: np.ndarray
    lapse_base_q: np.ndarray
    benefit_yuan: np.ndarray
    join_mix: np.ndarray
    initial_members: np.ndarray
    joins_series: np.ndarray
    joins_open: np.ndarray
    platform_funds: np.ndarray
    year_starts: np.ndarray
    benefit_factor: np.ndarray
    payment_pattern: np.ndarray
    share_weight: np.ndarray


class Keys(NamedTuple):
    """The stream key and counter words: ``joins[t]``, ``decrements[stage, t]``."""

    k0: np.uint64
    k1: np.uint64
    joins: np.ndarray
    decrements: np.ndarray


class State(NamedTuple):
    members: np.ndarray            # (S, A, Dn) int64
    cost_window: np.ndarray        # (K,) what a sharer paid in the last K quarters
    cell_window: np.ndarray        # (K, S, A) age-rated: what each cell paid
    paid_year_cells: np.ndarray    # (S, A) age-rated: paid this calendar year, per cell
    balance: np.ndarray            # (Dn,) pre-paid balance per member, by duration
    pending_aid: np.ndarray        # (max(L − 1, 1),) aid of earlier quarters due later
    pending_claims: np.ndarray     # (max(L − 1, 1),) their claims (expected shares)
    antiselection: np.ndarray      # (1,) anti-selection factor
    ever_joined: np.ndarray        # (1,) int64 persons ever joined
    reserve: np.ndarray            # (1,) reserve (yuan)
    paid_year: np.ndarray          # (1,) what a sharer paid this calendar year (yuan)
    last_charge: np.ndarray        # (1,) pre-paid: what a sharer paid last quarter


class Scratch(NamedTuple):
    claims_cells: np.ndarray       # (S, A) int64 claims of the quarter
    lapse_q: np.ndarray            # (Dn,) lapse probability by duration
    by_duration: np.ndarray        # (Dn,) int64 members by duration
    lapse_ratio_cells: np.ndarray  # (S, A) age-rated: (c / c_ref)^η per cell
    sharer_cells: np.ndarray       # (S, A) sharers per cell
    charged_cells: np.ndarray      # (S, A) age-rated: charge per sharer per cell
    short: np.ndarray              # (Dn,) bool pre-paid: balance below the last charge


class Outputs(NamedTuple):
    ints: np.ndarray               # (len(INT), P, T) int64, zeroed
    floats: np.ndarray             # (len(FLT), P, T) float64, zeroed


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
    return Keys(np.uint64(k0), np.uint64(k1),
                np.array([streams.quarter_kind_word(t, streams.Kind.JOINS) for t in quarters],
                         dtype=np.int64),
                np.array([[streams.quarter_kind_word(t, kind) for t in quarters]
                          for kind in DECREMENTS], dtype=np.int64))


def work_of(inputs: ModelInputs) -> tuple[State, Scratch]:
    """One thread's preallocated state and scratch arrays."""
    S, A, Dn = inputs.initial_members.shape
    K = inputs.cost_window_quarters
    pending = max(len(inputs.payment_pattern) - 1, 1)
    state = State(np.empty((S, A, Dn), np.int64), np.empty(K), np.empty((K, S, A)),
                  np.empty((S, A)), np.empty(Dn), np.zeros(pending), np.zeros(pending),
                  np.empty(1), np.empty(1, np.int64), np.empty(1), np.empty(1), np.empty(1))
    scratch = Scratch(np.empty((S, A), np.int64), np.empty(Dn), np.empty(Dn, np.int64),
                      np.empty((S, A)), np.empty((S, A)), np.empty((S, A)),
                      np.zeros(Dn, np.bool_))
    return state, scratch


def outputs_of(n_paths: int, quarters: int) -> Outputs:
    return Outputs(np.zeros((len(INT), n_paths, quarters), np.int64),
                   np.zeros((len(FLT), n_paths, quarters)))


def as_dict(out: Outputs) -> dict[str, np.ndarray]:
    """``{variable: (P, T) array}`` views of the outputs."""
    named = {name: out.ints[j] for j, name in enumerate(INT_VARIABLES)}
    named.update({name: out.floats[j] for j, name in enumerate(FLOAT_VARIABLES)})
    return named
