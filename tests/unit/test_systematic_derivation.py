"""The shipped platform scenarios' systematic incidence risk follows from NCC's series."""

import numpy as np
import pytest

from engine.config.scenario import load_scenario
from engine.studies.systematic_fit import fit_log_linear, ncc_systematic_risk
from tests.conftest import SCENARIOS


def test_fit_recovers_a_known_series():
    years = np.arange(2000, 2010)
    residuals = np.array([0.01, -0.01] * 5)
    fit = fit_log_linear(years, 100 * np.exp(0.02 * (years - years.mean()) + residuals))
    assert fit["trend_per_year"] == pytest.approx(np.expm1(0.02), abs=2e-3)
    assert fit["level_sd_per_year"] == pytest.approx(0.0106, abs=1e-3)


@pytest.mark.parametrize("name", ["xianghubao.toml", "emutual.toml"])
def test_shipped_values_are_the_ncc_fit_rounded(name):
    fit = ncc_systematic_risk()
    inc = load_scenario(SCENARIOS / name).incidence
    assert inc.level_sd_per_year == round(fit["level_sd_per_year"], 4)
    assert inc.trend_sd == round(fit["trend_sd"], 4)
