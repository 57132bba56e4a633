"""mutualsim: an actuarial Monte Carlo engine for online mutual-aid platforms.

Public names are imported on first use, so ``import engine`` does no work.
"""

from __future__ import annotations

import importlib

__version__ = "0.13.0"

_PUBLIC = {
    # the notebook face (engine/api.py; docs/notebook.md)
    "simulate": "engine.api",
    "summary": "engine.api",
    "compare": "engine.api",
    "write_report": "engine.api",
    "write_plots": "engine.api",
    "load_scenario_set": "engine.config.scenario",
    "load_scenario": "engine.config.scenario",
    "Scenario": "engine.config.scenario",
    "ScenarioSet": "engine.config.scenario",
    "build_inputs": "engine.model.inputs",
    "ModelInputs": "engine.model.inputs",
    "simulate_paths": "engine.run.simulate",
    "run_chunks": "engine.run.plans",
    "simulate_plans": "engine.run.plans",
    "ResultsWriter": "engine.store",
    "open_results": "engine.api",
    "summarize": "engine.analysis.summary",
    "InputError": "engine.errors",
    "ScenarioError": "engine.errors",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
