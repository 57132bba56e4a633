"""Xiang Hu Bao (相互宝): fit to the figures published to the end of 2019, forecast 2020 on.

The backtest compares the forecast with what was published later (179,127 people aided by
the closure announcement of 2021-12-28). Then the four answers and the risks in numbers.

    .venv/bin/python examples/xianghubao.py [--paths 1000] [--draws 20] [--out results/xianghubao]
"""

import datetime as dt

from platform_analysis import ROOT, analyse, arguments

if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], "results/xianghubao_example")
    analyse("xianghubao", ROOT / "data" / "observations" / "xianghubao.csv",
            ROOT / "scenarios" / "xianghubao.toml", dt.date(2019, 12, 31), args,
            # the document covers the platform with its senior cancer plan (from 2019)
            study_scenario=ROOT / "scenarios" / "xianghubao_plans.toml")
