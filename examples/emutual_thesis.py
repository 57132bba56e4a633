"""e互助 (E Mutual Assistance): the study's analysis, end to end, and its document.

e互助 as it ran (scenarios/emutual.toml): three plans by age, each sharing its own cases,
pre-paid with a 9-yuan deposit, a 180-day waiting period, the adult cap cut to 300,000 yuan
by 2020. How many valid members will the platform have, how many claims will it pay, what is
the platform worth, and what share of the market does mutual aid take: calibrated to every
e互助 figure published to the end of 2019 (later ones are the backtest) and the National
Cancer Center's incidence, with the risks in numbers and the study document
(results/emutual_example/study/study.html) that answers each question in the study's order.

    .venv/bin/python examples/emutual_thesis.py [--paths 1000] [--draws 20] [--out results/emutual]
"""

import datetime as dt

from platform_analysis import ROOT, analyse, arguments

if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], "results/emutual_example")
    # parameters from figures to the end of 2019 only; April 2020's members are a backtest
    analyse("emutual", ROOT / "data" / "observations" / "emutual.csv",
            ROOT / "scenarios" / "emutual.toml", dt.date(2019, 12, 31), args)
