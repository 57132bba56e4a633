"""Issue 25, the configuration in rooms: ``Scenario`` is an explicit frozen dataclass whose
tables are exactly the schema's; the table keys are listed once; table lookup lives in
``config/``, which imports nothing of the model, the random streams, runs or the kernel."""

from __future__ import annotations

import ast
import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.config import tables
from engine.config.loading import rebase_table_refs
from engine.config.lookup import scenario_tables
from engine.config.scenario import SECTIONS, Scenario, load_scenario, load_scenario_set
from engine.config.schema import SCHEMA, TABLE_KEYS
from engine.errors import ScenarioError
from engine.model import units
from engine.model.inputs import tables_as_used
from tests.conftest import ROOT, SCENARIOS, constant_table, load, scenario_dict

CONFIG = ROOT / "engine" / "config"
PROVENANCE = ("file", "text", "base_dir", "swept", "plans", "age_out", "plan_index",
              "plan_own_cells", "enrolled_with")


def test_the_scenario_tables_are_exactly_the_schema_tables_in_order():
    names = [f.name for f in dataclasses.fields(Scenario)]
    assert [n for n in names if n not in PROVENANCE] == list(SCHEMA)
    assert set(SECTIONS) == set(SCHEMA)
    for table, keys in SCHEMA.items():
        assert [f.name for f in dataclasses.fields(SECTIONS[table])] == list(keys), table


def test_a_scenario_is_frozen_and_replace_and_asdict_keep_working():
    s = load_scenario(SCENARIOS / "xianghubao.toml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.file = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.lapse.base_quarterly = 0.5  # type: ignore[misc]
    moved = dataclasses.replace(s, plan_index=2)
    assert moved.plan_index == 2 and moved.lapse == s.lapse
    assert dataclasses.asdict(s)["lapse"] == dataclasses.asdict(s.lapse)
    assert s.get("lapse.base_quarterly") == s.lapse.base_quarterly


@pytest.mark.parametrize("name", ["xianghubao.toml", "xianghubao_plans.toml",
                                  "stress/sensitivity_latin.toml"])
def test_a_scenario_pickles_with_its_tables_and_plans(name):
    for s in load_scenario_set(SCENARIOS / name).scenarios:
        back = pickle.loads(pickle.dumps(s))
        assert back == s
        assert type(back.population) is SECTIONS["population"]
        assert all(type(p) is Scenario for p in back.plans)


def test_config_imports_nothing_above_it():
    """The later layers contract, kernel > model > random > config: config imports none."""
    above = ("engine.model", "engine.random", "engine.run", "engine.kernel", "engine.studies",
             "engine.analysis", "engine.report", "engine.store", "engine.cli")
    found = []
    for path in sorted(CONFIG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith(above)]
    assert not found, found


def test_loading_a_platform_with_its_tables_loads_no_model_module():
    # engine.variables (the results' names, below config) checks [precision] variables
    code = ("import sys; from engine.config.scenario import load_scenario_set; "
            f"load_scenario_set({str(SCENARIOS / 'xianghubao_plans.toml')!r}); "
            "print(sorted(m for m in sys.modules if m.startswith('engine.') "
            "and not m.startswith(('engine.config', 'engine.errors', 'engine.variables'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert proc.stdout.strip() == "[]", proc.stdout


def test_the_table_keys_are_the_schema_table_references_and_have_their_builtins():
    refs = {f"{t}.{k}" for t, keys in SCHEMA.items() for k, spec in keys.items()
            if spec.kind == "table_ref"}
    assert set(TABLE_KEYS) == refs == set(tables.BUILTIN_TABLES)


def test_rebasing_moves_relative_csv_paths_only(tmp_path):
    (tmp_path / "a" / "t").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    absolute = str(tmp_path / "elsewhere.csv")
    raw = {"incidence": {"table": "t/inc.csv"}, "mortality": {"table": absolute},
           "population": {"initial_age_mix": "wpp2020_population"}, "growth": {}}
    rebase_table_refs(raw, tmp_path / "a", tmp_path / "b")
    assert raw["incidence"]["table"] == str(Path("..") / "a" / "t" / "inc.csv")
    assert raw["mortality"]["table"] == absolute
    assert raw["population"]["initial_age_mix"] == "wpp2020_population"
    assert raw["growth"] == {}


def test_the_model_takes_the_tables_config_reads_and_converts_only_the_units(tmp_path):
    constant_table(tmp_path / "qx.csv", "qx", 0.02)
    for data in (scenario_dict(mortality__table="qx.csv"),
                 scenario_dict(mortality__table="wpp2024_china_2015_2020")):
        s = load(tmp_path, data).base
        read, used = scenario_tables(s), tables_as_used(s)
        assert list(used) == ["incidence_per_100k", "death_q", "initial_age_mix",
                              "joiner_age_mix"]
        convert = (units.quarterly_prob_from_annual_prob if read.death_measure == "qx"
                   else units.quarterly_prob_from_central_rate)
        np.testing.assert_array_equal(used["death_q"], convert(read.death_per_year))
        np.testing.assert_array_equal(used["joiner_age_mix"], read.joiner_age_mix)
        assert read.incidence_per_100k.shape == (2, 5)
    assert read.death_measure == "mx"


def test_a_table_problem_reads_the_same_from_validation_and_from_the_model(tmp_path):
    constant_table(tmp_path / "short.csv", "qx", 0.01, lo=0, hi=31)
    data = scenario_dict(mortality__table="short.csv")
    with pytest.raises(ScenarioError) as validated:
        load(tmp_path, data)
    s = load_scenario_set(tmp_path / "s.toml", check_tables=False).base
    with pytest.raises(ScenarioError) as modelled:
        tables_as_used(s)
    assert str(validated.value) == str(modelled.value)
    assert "mortality.table: table does not cover age 32 for female" in str(validated.value)
