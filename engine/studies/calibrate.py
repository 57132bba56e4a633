"""Fitting a scenario to a platform's published figures, with parameter uncertainty.

What is fitted (on transformed scales ``θ``):

=======================  ======================================  ===========
parameter                scenario key(s)                          scale
=======================  ======================================  ===========
market potential M       ``growth.market_potential``              log
innovation p             ``growth.innovation`` (Bass)             log
imitation q              ``growth.imitation`` (Bass, logistic)    log
incidence level s        ``incidence.selection`` (every entry × s)  log
lapse level              ``lapse.base_quarterly`` (logit) or every entry of
                         ``lapse.by_duration`` × e^θ (capped at 1)
share paid below cap     ``benefits.payout_levels``: the levels'  logit
                         total probability, their shape kept
age tilt of claims τ     ``incidence.age_tilt_per_decade``        linear
=======================  ======================================  ===========

The age tilt (rates × ``exp(τ (age − 40) / 10)``) is fitted only where the figures include
a claimants' mean age or a share of claims by age (nothing else informs it).

The share of claims paid below the cap is fitted only where the scenario gives
``benefits.payout_levels`` (their total probability above 0): the levels' shares of the cap
and their relative probabilities are the scenario's (a judgement the figures cannot
inform), and one number, the total probability, moves (not fitted where a plan gives its
own levels: the fitted set's sweep sets the platform's). What identifies it is the mean
payout per case, the published aid amount over the published cases of the same period;
with one such pair of figures it is identified only as far as those two figures' stated
errors allow (the fit's interval says how far), and the levels' shape not at all.

Growth parameters are fitted only for the Bass (M, p, q) and logistic (M, q) models.

Objective (a penalised least squares on the log scale, i.e. a posterior mode)::

    J(θ) = ½ Σ_i ((log(1 + m_i(θ)) − log(1 + y_i)) / σ_i)²  +  ½ Σ_j ((θ_j − θ0_j) / τ)²

``y_i`` an observation, ``m_i(θ)`` the model's expected value for it (the expected path of
:func:`engine.model.reference.expected_path`, each draw replaced by its mean: exact without cost
feedback, first order with it), ``σ_i`` the observation's ``sd_log``, ``θ0`` the base
scenario's values and ``τ = PRIOR_SD`` a weak prior (a factor e on each parameter) that
keeps directions the data do not inform near the base. Minimised with L-BFGS-B from
``θ0``, then polished with Nelder–Mead (finite-difference line searches stall or stop
early in the flat valleys that sparse figures leave).

Parameter uncertainty: the Laplace approximation ``θ ~ N(θ̂, H⁻¹)`` with ``H`` the Hessian of
``J`` at ``θ̂`` (central differences). ``draws`` parameter sets drawn from it become the
fitted file's ``[sweep]`` (``method = "zip"``: one scenario per draw), so that running the
fitted file carries both parameter and process uncertainty.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import optimize

from engine.config.loading import read_document
from engine.config.platform import plan_label
from engine.config.scenario import scenario_set_from_dict
from engine.errors import InputError
from engine.run.plans import build_run_inputs, expected_paths
from engine.studies.laplace import curvature
from engine.studies.observations import (
    Observation,
    fitted_only,
    model_values,
    read_observations,
)
from engine.studies.profile_figures import PROFILES, detail_results, with_profile_detail
from engine.studies.verdicts import Verdict, conflict_lines

PRIOR_SD = 1.0
FD_STEP = 1e-3


class FitError(InputError):
    """The fit failed (did not converge, or its curvature is not usable); nothing written."""


@dataclass(frozen=True)
class Parameter:
    """One fitted quantity: its name, the keys it sets and its transform."""

    name: str
    key: str
    scale: str           # "log", "logit", "log_multiplier", "logit_total", "linear"


@dataclass
class Fit:
    """A fit's result: estimates, covariance, the observations and the model's values."""

    parameters: list[Parameter]
    theta0: np.ndarray
    theta: np.ndarray
    covariance: np.ndarray
    objective: float
    iterations: int
    raw: dict                      # the fitted scenario document (point estimate)
    used: list[Observation]
    fitted_values: np.ndarray       # expected path's value for each used observation
    base_raw: dict = field(default_factory=dict)

    @property
    def standard_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))


AGE_FIGURES = ("mean_age_at_claim", "claims_age_share")   # they identify the age tilt


def parameters_for(raw: dict, observations=()) -> list[Parameter]:
    """The fitted parameters of a scenario document and the figures used (see the module
    docstring)."""
    model = raw.get("growth", {}).get("model")
    out = []
    if model in ("bass", "logistic"):
        out.append(Parameter("market potential M", "growth.market_potential", "log"))
    if model == "bass":
        out.append(Parameter("innovation p (per year)", "growth.innovation", "log"))
    if model in ("bass", "logistic"):
        out.append(Parameter("imitation q (per year)", "growth.imitation", "log"))
    out.append(Parameter("incidence level (× selection)", "incidence.selection",
                         "log_multiplier"))
    lapse = raw.get("lapse", {})
    if "by_duration" in lapse:
        out.append(Parameter("lapse level (× by_duration)", "lapse.by_duration",
                             "log_multiplier"))
    else:
        out.append(Parameter("base quarterly lapse", "lapse.base_quarterly", "logit"))
    own_levels = any("payout_levels" in plan.get("benefits", {})
                     for plan in raw.get("plans", []) if isinstance(plan, dict))
    if _below_cap_total(raw.get("benefits", {}).get("payout_levels")) > 0 and not own_levels:
        out.append(Parameter("share of claims paid below the cap", "benefits.payout_levels",
                             "logit_total"))
    if any(o.metric in AGE_FIGURES for o in observations):
        out.append(Parameter("age tilt of claims (per decade)",
                             "incidence.age_tilt_per_decade", "linear"))
    return out


def _below_cap_total(levels) -> float:
    """The total probability of a ``payout_levels`` list (0 where absent)."""
    return float(sum(level["probability"] for level in levels or []))


def _scaled_levels(levels: list[dict], total: float) -> list[dict]:
    """``levels`` with their probabilities rescaled to sum to ``total``, shape kept."""
    now = _below_cap_total(levels)
    return [{**level, "probability": float(level["probability"] * total / now)}
            for level in levels]


def _get(raw: dict, dotted: str):
    table, key = dotted.split(".", 1)
    return raw.get(table, {}).get(key)


def _set(raw: dict, dotted: str, value) -> None:
    table, key = dotted.split(".", 1)
    raw.setdefault(table, {})[key] = value


_DEFAULT_START = {"growth.innovation": 0.05, "growth.imitation": 0.3,
                  "lapse.base_quarterly": 0.02}


def initial_theta(raw: dict, parameters: list[Parameter]) -> np.ndarray:
    """θ0 from the base scenario (a neutral start where a value is 0 or absent)."""
    theta = []
    for p in parameters:
        value = _get(raw, p.key)
        if p.scale == "log_multiplier":
            theta.append(0.0)
        elif p.scale == "linear":
            theta.append(float(value or 0.0))
        elif p.scale == "logit_total":
            x = min(max(_below_cap_total(value), 1e-6), 1 - 1e-6)
            theta.append(math.log(x / (1 - x)))
        elif p.scale == "logit":
            x = value if value not in (None, 0.0) else _DEFAULT_START[p.key]
            x = min(max(x, 1e-6), 1 - 1e-6)
            theta.append(math.log(x / (1 - x)))
        else:
            x = value if value not in (None, 0.0) else _DEFAULT_START.get(p.key, 1.0)
            theta.append(math.log(x))
    return np.array(theta)


def apply_theta(base_raw: dict, parameters: list[Parameter], theta) -> dict:
    """A scenario document with the parameters set from ``θ``."""
    raw = copy.deepcopy(base_raw)
    for p, t in zip(parameters, theta, strict=True):
        if p.scale == "log":
            _set(raw, p.key, float(math.exp(t)))
        elif p.scale == "linear":
            _set(raw, p.key, float(t))
        elif p.scale == "logit":
            _set(raw, p.key, float(1.0 / (1.0 + math.exp(-t))))
        elif p.scale == "logit_total":
            total = 1.0 / (1.0 + math.exp(-t))
            _set(raw, p.key, _scaled_levels(_get(base_raw, p.key), total))
        else:
            base = _get(base_raw, p.key) or [1.0]
            factor = math.exp(t)
            values = [float(v * factor) for v in base]
            if p.key == "lapse.by_duration":
                values = [min(1.0, v) for v in values]
            _set(raw, p.key, values)
    return raw


class Model:
    """Expected values of the observations as a function of θ."""

    def __init__(self, base_raw: dict, file: str, base_dir: Path,
                 parameters: list[Parameter], observations: list[Observation]):
        self.base_raw = base_raw
        self.file = file
        self.base_dir = base_dir
        self.parameters = parameters
        self.observations = observations
        self.initial = float(base_raw.get("population", {}).get("initial_members", 0))
        # profile figures need the claims and members by sex and age
        self.profiles = any(o.metric in PROFILES for o in observations)

    def scenario(self, theta):
        raw = apply_theta(self.base_raw, self.parameters, theta)
        raw.pop("sweep", None)
        return scenario_set_from_dict(raw, self.file, "", self.base_dir,
                                      check_tables=False).base

    def values(self, theta) -> np.ndarray:
        scenario = self.scenario(theta)
        platform = build_run_inputs(scenario)
        if not self.profiles:
            return values_of(self.observations, expected_paths(platform), scenario,
                             self.initial)
        platform, bands = with_profile_detail(platform)
        results = expected_paths(platform, detail=True)
        return values_of(self.observations, results | detail_results(results, bands),
                         scenario, self.initial)


def plan_names(raw: dict) -> tuple[str, ...]:
    """The plan names of a (platform) scenario document, in order; () without plans."""
    return tuple(str(p.get("name", "")) for p in raw.get("plans", [])
                 if isinstance(p, dict))


def values_of(observations: list[Observation], results: dict, scenario, initial: float
              ) -> np.ndarray:
    """:func:`~engine.studies.observations.model_values` of a scenario or platform's
    results (plan figures against the plan's values)."""
    plans = tuple(plan_label(p.name) for p in scenario.plans)
    return model_values(observations, results, initial, plans,
                        tuple(float(p.population.initial_members) for p in scenario.plans))


def objective(model: Model, theta0: np.ndarray, theta: np.ndarray) -> float:
    y = np.array([o.value for o in model.observations])
    sd = np.array([o.sd_log for o in model.observations])
    try:
        m = model.values(theta)
    except InputError:
        return 1e12  # a parameter outside what the scenario allows
    resid = (np.log1p(np.maximum(m, 0.0)) - np.log1p(y)) / sd
    prior = (theta - theta0) / PRIOR_SD
    return float(0.5 * resid @ resid + 0.5 * prior @ prior)


def fit(observations_path: str | Path, scenario_path: str | Path,
        until: dt.date | None = None, start=None) -> Fit:
    """Fit the base scenario to the observations dated up to ``until`` (all if None).

    The prior is centred on the base scenario's values; the optimiser starts there too,
    or at ``start`` (parameters on the fit's scale, as ``Fit.theta``) when given.

    Raises
    ------
    InputError
        For a bad observations file or scenario (exit 2).
    FitError
        When the optimiser does not converge or the Hessian is not positive definite.
    """
    scenario_path = Path(scenario_path)
    base_raw, text = read_document(scenario_path)       # a file that extends another too
    base_set = scenario_set_from_dict(base_raw, str(scenario_path), text,
                                      scenario_path.resolve().parent)
    base = base_set.base.scenario
    observations = fitted_only(read_observations(observations_path, base.start,
                                                 base.quarters, plan_names(base_raw)))
    used = [o for o in observations if until is None or o.last_day <= until]
    if not used:
        raise FitError.one(str(observations_path), "--until",
                           "no observations on or before that date", str(until))
    parameters = parameters_for(base_raw, used)
    base_raw = {k: v for k, v in base_raw.items() if k != "sweep"}
    model = Model(base_raw, str(scenario_path), scenario_path.resolve().parent, parameters,
                  used)
    theta0 = initial_theta(base_raw, parameters)
    f = lambda th: objective(model, theta0, th)  # noqa: E731
    bounds = [(t - 8.0, t + 8.0) for t in theta0]
    first = theta0 if start is None else np.asarray(start, dtype=float)
    result = optimize.minimize(f, first, method="L-BFGS-B", bounds=bounds,
                               options={"maxiter": 500, "eps": FD_STEP})
    if result.x is not None:
        # Finite-difference line searches stall, or stop early, in the flat valleys sparse
        # data leave; finish with Nelder–Mead from where L-BFGS-B stopped (no gradients).
        polished = optimize.minimize(f, result.x, method="Nelder-Mead",
                                     options={"xatol": 1e-4, "fatol": 1e-7, "maxfev": 4000})
        if polished.success and polished.fun <= result.fun:
            polished.nit = int(result.nit) + int(polished.nit)
            result = polished
    if not result.success:
        raise FitError.one(str(observations_path), "calibrate",
                           f"the fit did not converge ({result.message})", has_got=False)
    H = curvature(f, result.x)
    if H is None:
        raise FitError.one(str(observations_path), "calibrate", "the fit's curvature is not "
                           "positive definite (a parameter is not identified)",
                           has_got=False)
    covariance = np.linalg.inv(H)
    raw = apply_theta(base_raw, parameters, result.x)
    return Fit(parameters, theta0, result.x, covariance, float(result.fun), int(result.nit),
               raw, used, model.values(result.x), base_raw)


def parameter_draws(fit_result: Fit, draws: int, seed: int) -> np.ndarray:
    """``draws`` parameter vectors from the Laplace approximation ``N(θ̂, H⁻¹)``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA1B]))
    return rng.multivariate_normal(fit_result.theta, fit_result.covariance, size=draws)


def fitted_document(fit_result: Fit, draws: int, seed: int, base_dir: Path | None = None,
                    out_dir: Path | None = None) -> dict:
    """The fitted scenario: the point estimate, plus a ``zip`` sweep over parameter draws
    with independent streams.

    Paths per draw are the base's paths divided among the draws (rounded up), so a run of
    the fitted set costs about what a run of the base does; the base's ``[precision]``
    table is dropped. CSV tables named relative to
    the base scenario are renamed relative to ``out_dir``.
    """
    from engine.config.loading import rebase_table_refs

    raw = copy.deepcopy(fit_result.raw)
    name = raw["scenario"]["name"]
    raw["scenario"]["name"] = f"{name}_fitted"
    if draws > 0:
        raw["scenario"]["paths"] = -(-int(raw["scenario"].get("paths", 1000)) // draws)
        # the pool of draws answers with its paths shared out: a precision table asked of
        # the base would stop each draw as if it were the question (docs/precision.md)
        raw.pop("precision", None)
    if base_dir is not None and out_dir is not None:
        rebase_table_refs(raw, base_dir, out_dir)
    if draws > 0:
        thetas = parameter_draws(fit_result, draws, seed)
        # each draw its own noise: parameter and process uncertainty both sampled, and
        # pooled paths independent (DESIGN §2)
        sweep: dict = {"method": "zip", "streams": "independent"}
        for p in fit_result.parameters:
            sweep[p.key] = []
        for theta in thetas:
            doc = apply_theta(fit_result.base_raw, fit_result.parameters, theta)
            for p in fit_result.parameters:
                sweep[p.key].append(_get(doc, p.key))
        raw["sweep"] = sweep
    return raw


def natural_values(fit_result: Fit, theta) -> list:
    """Each parameter in its scenario units (a multiplier for the level parameters)."""
    out = []
    for p, t in zip(fit_result.parameters, theta, strict=True):
        if p.scale == "linear":
            out.append(float(t))
        elif p.scale == "log":
            out.append(math.exp(t))
        elif p.scale in ("logit", "logit_total"):
            out.append(1.0 / (1.0 + math.exp(-t)))
        else:
            out.append(math.exp(t))
    return out


def report_table(fit_result: Fit) -> str:
    """Parameters with approximate 90 % intervals, then observed against fitted values."""
    lines = [f"objective J = {fit_result.objective:.4g} after {fit_result.iterations} "
             "iterations", "", f"{'parameter':<34} {'base':>12} {'fitted':>12} "
             f"{'90% interval':>27}"]
    base = natural_values(fit_result, fit_result.theta0)
    est = natural_values(fit_result, fit_result.theta)
    se = fit_result.standard_errors
    lo = natural_values(fit_result, fit_result.theta - 1.645 * se)
    hi = natural_values(fit_result, fit_result.theta + 1.645 * se)
    for p, b, e, a, z in zip(fit_result.parameters, base, est, lo, hi, strict=True):
        lines.append(f"{p.name:<34} {b:>12.4g} {e:>12.4g} {a:>12.4g} – {z:<12.4g}")
    # "met" is the one yardstick of every table (engine.studies.verdicts.inside): a fitted
    # expected value has no interval of its own, so |z| ≤ 1.645 on the figure's sd_log
    lines += ["", f"{'row':>4} {'date':<12} {'metric':<26} {'plan':<9} {'observed':>14} "
              f"{'fitted':>14} {'error':>8} {'z':>6} {'met':>4}"]
    for v in verdicts(fit_result):
        o = v.observation
        lines.append(f"{o.row:>4} {o.date:<12} {o.label:<26} {o.plan or '-':<9} "
                     f"{o.value:>14,.6g} {v.fitted:>14,.6g} {v.error:>8.1%} {v.z:>6.2f} "
                     f"{'yes' if v.met else 'no':>4}")
    lines += ["", *conflict_lines(verdicts(fit_result))]
    return "\n".join(lines)


def verdicts(fit_result: Fit) -> list[Verdict]:
    """The fitted expected values against the figures used (no model interval: ``s = 0``
    in :func:`engine.studies.verdicts.z_score`)."""
    return [Verdict(o, float(m)) for o, m in zip(fit_result.used, fit_result.fitted_values,
                                                  strict=True)]



# ---------------------------------------------------------------------- the command

def refuse_tilt(scenario_path: Path, why: str) -> None:
    """A study of figures needs plain paths: a ``[tail]`` tilt (importance sampling, for
    tail statistics) is refused with one line (exit 2)."""
    from engine.config.scenario import read_document

    raw = read_document(scenario_path)[0]
    if raw.get("tail"):
        raise InputError.one(str(scenario_path), "tail", f"{why}; importance sampling is "
                             "for tail statistics: remove [tail]", raw["tail"])


def run_calibration(observations_path, scenario_path, out, until: dt.date | None,
                    draws: int, paths: int) -> str:
    """``mutualsim calibrate``: fit, write FITTED.toml and FITTED.png, return the report.

    Nothing is written when the inputs are bad or the fit fails (both raise).
    """
    import tomli_w

    from engine.report.plots import calibration_figure, plt
    from engine.store import check_output_path
    from engine.studies.backtest import backtest, backtest_table

    scenario_path = Path(scenario_path)
    out = check_output_path(out)
    fit_result = fit(observations_path, scenario_path, until)
    seed = int(fit_result.raw["scenario"].get("seed", 1))
    document = fitted_document(fit_result, draws, seed, scenario_path.resolve().parent,
                               out.resolve().parent)
    # Check that what is written validates, before writing it.
    scenario_set_from_dict(copy.deepcopy(document), str(out), "", out.resolve().parent)
    report = [f"fitted {scenario_path} to {observations_path}"
              + (f" (observations to {until})" if until else ""), "", report_table(fit_result)]
    base = fit_result.raw["scenario"]
    observations = fitted_only(read_observations(observations_path, base["start"],
                                                 base["quarters"], plan_names(fit_result.raw)))
    later = [o for o in observations if until is not None and o.last_day > until]
    rows = backtest(fit_result, later, scenario_path, draws, paths, seed) if later else []
    if later:
        report += ["", backtest_table(rows, until)]
    header = ["# Fitted by `mutualsim calibrate` (engine.studies.calibrate) on "
              f"{dt.date.today().isoformat()}.",
              f"# Base scenario: {scenario_path}; observations: {observations_path}"
              + (f"; used up to {until}" if until else "") + ".",
              f"# Objective J = {fit_result.objective:.6g}; the [sweep] holds {draws} draws "
              "from the Laplace approximation of the parameters' uncertainty,",
              "# each run with scenario.paths paths (the base's paths shared among the draws).",
              "# Fitted parameters (estimate, standard error on the fitting scale):"]
    for p, t, se in zip(fit_result.parameters, fit_result.theta, fit_result.standard_errors,
                        strict=True):
        header.append(f"#   {p.key} ({p.scale}): {t:.6g} ± {se:.3g}")
    text = "\n".join(header) + "\n\n" + tomli_w.dumps(document)
    # The figure next to the scenario file; both written to temporary names first.
    figure_path = out.with_suffix(".png")
    expected = expected_paths(build_run_inputs(Model(
        fit_result.base_raw, str(scenario_path), scenario_path.resolve().parent,
        fit_result.parameters, fit_result.used).scenario(fit_result.theta)))
    from engine.config.labels import quarter_labels

    labels = quarter_labels(base["start"], base["quarters"])
    initial = float(fit_result.raw.get("population", {}).get("initial_members", 0))
    fig = calibration_figure(labels, expected, initial, fit_result.used, rows,
                             f"{base['name']}: fit to published figures")
    tmp_png = figure_path.with_name(figure_path.name + ".part")
    fig.savefig(tmp_png, dpi=110, format="png")
    plt.close(fig)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    os.replace(tmp_png, figure_path)
    report += ["", f"wrote {out} and {figure_path}"]
    return "\n".join(report)
