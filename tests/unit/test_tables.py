"""Built-in reference tables: sources kept, values as published, derivations reproducible."""

from pathlib import Path

import numpy as np
import pytest

from engine.config import tables


def test_every_data_file_keeps_its_source_header():
    folder = tables.data_path("x").parent
    files = sorted(folder.glob("*.csv"))
    assert len(files) >= 8
    for f in files:
        first = f.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#"), f"{f.name} has no source header"
        assert tables.table_source(f.name)


def test_ci5plus_pooled_rates_are_the_published_ones():
    r = tables.builtin_incidence_per_100k("ci5plus_china_pooled_2008_2012")
    female, male = 0, 1
    assert r[female, 85] == 1282.21 and r[female, 110] == 1282.21
    assert r[male, 52] == 372.59          # band 50-54
    assert not np.isnan(r).any()


def test_industry_table_reads_probabilities_as_rates():
    r = tables.builtin_incidence_per_100k("industry_ci25_insured_2006_2010")
    assert r[1, 0] == pytest.approx(-np.log1p(-0.000595) * 1e5)


def test_national_rescaling_reproduces_the_ncc_crude_rate():
    rates = tables.builtin_incidence_per_100k("ci5plus_china_pooled_2008_2012")
    k = tables.national_level_factors(rates, 2015)
    population = np.nan_to_num(tables.wpp_population(2015))
    for s, crude in enumerate(tables.ncc_crude_incidence_per_100k(2015)):
        w = population[s] / population[s].sum()
        assert np.sum(rates[s] * k[s] * w) == pytest.approx(crude, rel=1e-12)
    # The registries' crude rates are above the national ones only because their people are
    # older: on the national age structure their age-specific rates fall below NCC's.
    assert np.all(k > 1)


def test_mortality_tables():
    kind, q = tables.builtin_mortality("cl2010_2013_nonpension_1")
    assert kind == "qx" and q[1, 0] == 0.000867 and q[0, 0] == 0.00062 and q[0, 105] == 1.0
    kind, m = tables.builtin_mortality("wpp2024_china_2015_2020")
    assert kind == "mx" and not np.isnan(m[:, :111]).any()


def test_internet_user_mix_matches_cnnic_groups():
    mix = tables.internet_user_mix()
    assert mix.sum() == pytest.approx(1.0)
    assert mix[:, 20:30].sum() == pytest.approx(0.178)
    assert mix[:, 30:40].sum() == pytest.approx(0.205)
    assert mix[:, 50:60].sum() == pytest.approx(0.151)   # 26.3 % aged 50+ less 11.2 % 60+
    assert mix[:, 0:20].sum() == pytest.approx(0.166)    # 54.9 % under 40 less 20-39


def test_population_mix_sums_to_one():
    assert tables.builtin_mix("wpp2020_population").sum() == pytest.approx(1.0)


def test_read_age_sex_table_expands_bands(tmp_path: Path):
    f = tmp_path / "t.csv"
    f.write_text("# src\nage,sex,qx\n0-1,female,0.1\n2,female,0.2\n0-2,male,0.3\n")
    t = tables.read_age_sex_table(f, "qx", lo=0, hi=1)
    assert t[0, :3].tolist() == [0.1, 0.1, 0.2] and t[1, :3].tolist() == [0.3] * 3
    assert np.isnan(t[0, 3])
