"""The online mutual-aid sector: mutual aid's members, claims, contributions and market share
by year, with intervals (process and parameter uncertainty), from five platforms' scenarios.

    .venv/bin/python examples/sector.py [--paths 400] [--out results/sector]

Writes ``sector_by_year.csv`` (median and 90 % interval of each total, and each platform's
median members) and ``sector.png``, and prints the market share of mutual aid by year with
the published industry figures it should be read against.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from engine.analysis.summary import format_amount
from engine.studies.sector import load_sector, run_sector, year_table

ROOT = Path(__file__).resolve().parents[1]
# Published industry figures (engine/data/mutual_aid_platform_facts.csv), read beside the sum.
INDUSTRY = [(2019, "participants", 150e6, "Ant Group white paper (Business Wire 2020-05-07)"),
            (2019, "industry size, yuan (peak)", 5.4e9, "Caixin via Straits Times")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=400)
    parser.add_argument("--out", default="results/sector")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sector = load_sector(ROOT / "scenarios" / "sector" / "sector.toml")
    result = run_sector(sector, args.paths)
    rows = year_table(result)
    with open(out / "sector_by_year.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{sector.description}: {args.paths} paths, platforms "
          + ", ".join(p.name for p in sector.platforms))
    print("\nmarket share of mutual aid: members' contributions / commercial health-insurance "
          "premiums (median, 90% interval)")
    for row in result["years"]:
        q = row["market_share"]
        share = (f"{q['0.5']:.3%} ({q['0.05']:.3%} - {q['0.95']:.3%})" if q
                 else "no premium figure for the year")
        m, c = row["members_end"], row["contributions_yuan"]
        print(f"  {row['year']}: members {format_amount(m['0.5'])} "
              f"({format_amount(m['0.05'])}-{format_amount(m['0.95'])}), contributions "
              f"{format_amount(c['0.5'])} yuan; share {share}")
    print("\npublished industry figures to read the sum against (they conflict with the "
          "platforms' own member counts, which overlap and mix registered and paying users):")
    years = {row["year"]: row for row in result["years"]}
    for year, what, value, source in INDUSTRY:
        row = years.get(year)
        key = "members_end" if what == "participants" else "contributions_yuan"
        model = row[key]["0.5"] if row else float("nan")
        print(f"  {year} {what}: published {format_amount(value)}, sector model "
              f"{format_amount(model)} ({source})")
    _figure(result, out / "sector.png")
    print(f"\nwrote {out / 'sector_by_year.csv'} and {out / 'sector.png'}")


def _figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = result["labels"]
    t = np.arange(len(labels))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    bottom = np.zeros(len(labels))
    for name, series in result["platforms"].items():
        median = np.median(series["members"], axis=0)
        axes[0].fill_between(t, bottom, bottom + median, label=name, alpha=0.7)
        bottom = bottom + median
    axes[0].set_title("Members by platform (medians, stacked)")
    axes[0].legend(fontsize=8, loc="upper left")
    years = [row["year"] for row in result["years"] if row["market_share"]]
    share = [row["market_share"] for row in result["years"] if row["market_share"]]
    axes[1].errorbar(years, [100 * s["0.5"] for s in share],
                     yerr=[[100 * (s["0.5"] - s["0.05"]) for s in share],
                           [100 * (s["0.95"] - s["0.5"]) for s in share]], fmt="o-", capsize=4)
    axes[1].set_title("Mutual aid's share of health-insurance premiums, % (90% interval)")
    axes[1].set_xticks(years)
    step = max(1, len(labels) // 8)
    axes[0].set_xticks(t[::step])
    axes[0].set_xticklabels(labels[::step], rotation=45, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
