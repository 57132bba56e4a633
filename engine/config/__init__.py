"""The configuration: scenario files → frozen, validated scenarios (imports no model).

schema (every key), loading (TOML, ``extends``), platform (``[[plans]]``), checks (each
key), cross_checks (keys against each other), lookup (the tables a scenario names → arrays),
sweeps (``[sweep]`` → members), scenario (``Scenario``, ``ScenarioSet``, the entry points),
tables (reference tables and CSV tables), labels (age bands, quarters).
"""
