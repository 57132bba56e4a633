"""What a claim is paid: the full amount of its age, a mild amount, or a payout level below
the full amount (``benefits.payout_levels``).

Notes
-----
A claim is mild with probability ``m`` (paid ``mild_amount``); a claim that is not mild is
paid ``s_k · b[t, a]`` with probability ``π_k`` (``k = 1..K``, ``Σ π_k ≤ 1``) and the full
``b[t, a]`` otherwise. Both engines draw the levels exactly, per (row, age) cell, as a chain
of binomials over the not-mild claims ``n``: ``x_1 ~ Binomial(n, ρ_1)``, ``x_k ~
Binomial(n − x_1 − … − x_{k−1}, ρ_k)`` with the conditional probabilities
``ρ_k = π_k / (1 − π_1 − … − π_{k−1})``, which gives the multinomial split of ``n``. The
aid of a quarter is then the compound sum ``Σ_cells ((n − Σ x_k) b + Σ x_k ℓ_k)``; with
``ℓ_k = round(s_k b)``, a whole number of yuan when ``b`` is, amounts stay sums of
integer-valued products, exact in any order (engine.kernel.path).

The expected aid per claim, ``(1 − m) (b (1 − Σ π_k) + Σ π_k ℓ_k) + m · mild_amount``,
weights age-rated sharing and the fairness table.
"""

from __future__ import annotations

import numpy as np


def level_amounts_yuan(benefit_yuan: np.ndarray, shares_of_cap) -> np.ndarray:
    """``ℓ[..., k] = round(s_k · b[...])`` (yuan): each level's payout, shaped
    ``benefit_yuan.shape + (K,)``."""
    shares = np.asarray(shares_of_cap, dtype=np.float64)
    return np.round(benefit_yuan[..., None] * shares)


def conditional_probabilities(probabilities) -> np.ndarray:
    """``ρ_k = π_k / (1 − Σ_{j<k} π_j)`` (1 where nothing is left to split), ``(K,)``."""
    pi = np.asarray(probabilities, dtype=np.float64)
    left = 1.0 - np.concatenate([[0.0], np.cumsum(pi)[:-1]])
    return np.where(left > 0.0, np.minimum(1.0, pi / np.where(left > 0.0, left, 1.0)), 1.0)


def expected_aid_per_claim(benefit_yuan, mild_share: float, mild_yuan: float,
                           level_yuan: np.ndarray, probabilities) -> np.ndarray:
    """``(1 − m) (b (1 − Σ π_k) + Σ π_k ℓ_k) + m · mild_amount`` (yuan per claim), with
    ``level_yuan`` shaped ``benefit_yuan.shape + (K,)``; without levels exactly
    ``(1 − m) b + m · mild_amount``."""
    pi = np.asarray(probabilities, dtype=np.float64)
    b = np.asarray(benefit_yuan, dtype=np.float64)
    not_mild = b if pi.size == 0 else b * (1.0 - pi.sum()) + (level_yuan * pi).sum(axis=-1)
    return (1.0 - mild_share) * not_mild + mild_share * mild_yuan


def level_inputs(benefit_yuan: np.ndarray, levels: list[dict]) -> dict[str, np.ndarray]:
    """``ModelInputs``' payout fields from ``benefits.payout_levels``: ``payout_level_yuan``
    ``(T, A, K)``, ``payout_level_p`` (``ρ``) and ``payout_probabilities`` (``π``)."""
    pi = [level["probability"] for level in levels]
    return {"payout_level_yuan": level_amounts_yuan(benefit_yuan,
                                                    [lv["share_of_cap"] for lv in levels]),
            "payout_level_p": conditional_probabilities(pi),
            "payout_probabilities": np.array(pi, dtype=float)}
