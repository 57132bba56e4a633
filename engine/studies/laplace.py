"""The curvature behind a fit's parameter uncertainty (the Laplace approximation of
:mod:`engine.studies.calibrate`): central-difference Hessians of the objective, at the step
that measures curvature rather than the expected path's kinks.
"""

from __future__ import annotations

import numpy as np

HESSIAN_STEPS = (1e-2, 3e-2, 1e-1)   # on the fitting scale (see curvature)


def hessian(f, x: np.ndarray, step: float = HESSIAN_STEPS[0]) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    n = len(x)
    H = np.zeros((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = step
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / step**2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = step
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * step**2)
    return H


def curvature(f, x: np.ndarray) -> np.ndarray | None:
    """The Hessian of ``f`` at ``x`` that the Laplace approximation uses, or ``None`` when
    it is positive definite at no step of :data:`HESSIAN_STEPS`.

    The expected path has kinks (a pre-paid member tops up when the balance runs out, a
    cap binds), so a central difference at a small step can measure a kink rather than the
    curvature over the scale of the parameters' uncertainty, and overstate it (too narrow an
    interval) or make it indefinite. Of the steps at which it is positive definite, the one
    whose covariance is widest (largest determinant) is taken: on a smooth objective the
    steps agree, and on a kinked one the answer errs towards more uncertainty."""
    best, widest = None, -np.inf
    for step in HESSIAN_STEPS:
        H = hessian(f, x, step)
        eigenvalues = np.linalg.eigvalsh(H)
        if np.all(eigenvalues > 0):
            log_det_covariance = -float(np.sum(np.log(eigenvalues)))
            if log_det_covariance > widest:
                best, widest = H, log_det_covariance
    return best
