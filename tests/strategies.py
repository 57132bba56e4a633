"""Hypothesis strategies shared by the test modules (random scenarios of the model)."""

from hypothesis import strategies as st


@st.composite
def scenarios(draw, feedback: bool = True):
    age_min = draw(st.integers(0, 90))
    age_max = draw(st.integers(age_min, min(110, age_min + 3)))
    quarters = draw(st.integers(1, 6))
    model = draw(st.sampled_from(["fixed", "bass", "logistic"]))
    growth = {"model": model, "dispersion": draw(st.sampled_from([0.0, 0.3]))}
    initial = draw(st.integers(0 if model != "logistic" else 1, 4000))
    if model == "fixed":
        growth["series"] = draw(st.lists(st.floats(0, 3000), min_size=quarters,
                                         max_size=quarters))
    else:
        growth["market_potential"] = draw(st.floats(max(1.0, initial), 1e5 + initial))
        growth["innovation"] = draw(st.floats(0, 2))
        growth["imitation"] = draw(st.floats(0, 3))
    lapse = {"base_quarterly": draw(st.floats(0, 0.5)),
             "cost_driven_share": draw(st.floats(0, 1))}
    risk = {}
    if feedback:
        lapse.update(cost_elasticity=draw(st.floats(0, 2)), reference_cost=draw(st.floats(1, 50)),
                     cost_window_quarters=draw(st.integers(1, 4)))
        growth["cost_elasticity"] = draw(st.floats(0, 2))
        risk = draw(risk_groups())
    split = draw(st.integers(age_min, age_max))
    bands = [[age_min, split, draw(st.floats(0, 5e5))]]
    if split < age_max:
        bands.append([split + 1, age_max, draw(st.floats(0, 5e5))])
    sharing = {"fee_rate": draw(st.floats(0, 0.2)),
               "rule": draw(st.sampled_from(["equal", "age_rated"])),
               "sharers": draw(st.sampled_from(["all", "eligible"])),
               "shortfall": draw(st.sampled_from(["reserve", "haircut", "platform"]))}
    prepaid = {}
    if sharing["rule"] == "equal" and draw(st.booleans()):
        sharing["funding"] = "prepaid"
        prepaid = {"deposit": draw(st.floats(0, 50)),
                   "topup_amount": draw(st.just(0.0) | st.floats(0.01, 50)),
                   # a short cohort that does not top up is suspended: a feedback of
                   # cost on members, so without feedback every short cohort tops up
                   "topup_probability": draw(st.floats(0, 1)) if feedback else 1.0}
    if draw(st.booleans()):
        sharing["cap_per_quarter"] = draw(st.floats(0, 100))
    if draw(st.booleans()):
        sharing["cap_per_year"] = draw(st.floats(0, 300))
    quarter_labels = ["2019Q3", "2019Q4", "2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    if draw(st.booleans()):
        growth["stop_joins_from"] = draw(st.sampled_from(quarter_labels))
    pattern = draw(st.sampled_from([[1.0], [0.5, 0.5], [0.25, 0.5, 0.25], [0.0, 0.7, 0.3]]))
    closure = {}
    if draw(st.booleans()):
        closure["quarter"] = draw(st.sampled_from(quarter_labels))
    if draw(st.booleans()):
        closure["platform_funds_from"] = draw(st.sampled_from(quarter_labels))
    return {
        "prepaid": prepaid,
        "closure": closure,
        "risk": risk,
        "scenario": {"name": "h", "start": "2019Q3", "quarters": quarters, "paths": 3,
                     "seed": draw(st.integers(0, 2**64 - 1))},
        "population": {"initial_members": initial, "age_min": age_min, "age_max": age_max},
        "growth": growth,
        "incidence": {"selection": draw(st.lists(st.floats(0, 20), min_size=1, max_size=3)),
                      "trend_per_year": draw(st.floats(-0.5, 0.5)),
                      **(draw(systematic_risk()) if feedback else {})},
        "mortality": {"multiplier": draw(st.floats(0, 1))},
        "lapse": lapse,
        "benefits": {"waiting_quarters": draw(st.integers(0, 3)), "amount_by_age": bands,
                     "mild_share": draw(st.floats(0, 1)), "mild_amount": 50000.0,
                     "inflation_per_year": draw(st.floats(-0.2, 0.2)),
                     "payment_pattern": pattern, "payout_levels": draw(payout_levels())},
        "sharing": sharing,
        "reserve": {"initial": draw(st.floats(0, 1e6)),
                    "loading_per_member_quarter": draw(st.floats(0, 5))},
    }


@st.composite
def payout_levels(draw, max_levels: int = 3):
    """``benefits.payout_levels``: none, or 1-3 levels whose probabilities sum to at most 1
    (sometimes exactly 1: no claim at the full amount)."""
    k = draw(st.integers(0, max_levels))
    raw = [draw(st.floats(0.0, 1.0)) for _ in range(k)]
    total = max(1.0, sum(raw)) if not draw(st.booleans()) else (sum(raw) or 1.0)
    return [{"share_of_cap": draw(st.floats(0.01, 1.0)), "probability": x / total}
            for x in raw]


@st.composite
def risk_groups(draw, max_groups: int = 3):
    """``[risk]``: none, or 1–3 groups whose shares sum to 1 and whose share-weighted
    incidence multiplier is 1."""
    k = draw(st.integers(0, max_groups))
    if k == 0:
        return {}
    raw_shares = [draw(st.floats(0.05, 1.0)) for _ in range(k)]
    shares = [x / sum(raw_shares) for x in raw_shares]
    shares[-1] = 1.0 - sum(shares[:-1])
    raw = [draw(st.floats(0.0, 5.0)) for _ in range(k)]
    mean = sum(s * m for s, m in zip(shares, raw, strict=True))
    # (a mean of subnormal numbers does not rescale to 1: treat it as all zero)
    mults = [m / mean for m in raw] if mean > 1e-6 else [1.0] * k
    groups = [{"name": f"g{j}", "population_share": shares[j], "incidence": mults[j],
               "lapse_sensitivity": draw(st.floats(0.0, 3.0)),
               "join_sensitivity": draw(st.floats(0.0, 3.0))} for j in range(k)]
    return {"groups": groups}


@st.composite
def systematic_risk(draw):
    """``[incidence]`` keys of systematic risk, each possibly 0."""
    return {"level_sd_per_year": draw(st.sampled_from([0.0, 0.05, 0.3])),
            "level_autocorrelation": draw(st.floats(-0.9, 0.9)),
            "trend_sd": draw(st.sampled_from([0.0, 0.02])),
            "shock_probability_per_year": draw(st.sampled_from([0.0, 0.5, 1.0])),
            "shock_size": draw(st.floats(-0.5, 0.5)),
            "shock_quarters": draw(st.integers(1, 3)),
            "shock_catch_up": draw(st.floats(0, 1))}

