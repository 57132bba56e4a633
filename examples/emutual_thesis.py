"""e互助 (E Mutual Assistance): the study's analysis, end to end.

How many valid members will the platform have, how many claims will it pay, what is the
platform worth, and what share of the market does mutual aid take: calibrated to e互助's
published figures to the end of 2019 (April 2020's members are the backtest) and the
National Cancer Center's incidence (via the CI5plus age curve rescaled to NCC's 2015 crude
rates), with the risks in numbers: the solvency gap and the probability of ruin.

    .venv/bin/python examples/emutual_thesis.py [--paths 1000] [--draws 20] [--out results/emutual]
"""

import datetime as dt

from platform_analysis import ROOT, analyse, arguments

if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], "results/emutual_example")
    # parameters from figures to the end of 2019 only; April 2020's members are a backtest
    analyse("emutual", ROOT / "data" / "observations" / "emutual.csv",
            ROOT / "scenarios" / "emutual.toml", dt.date(2019, 12, 31), args)
