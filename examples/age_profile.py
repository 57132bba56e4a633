"""Which assumption sets the age of Xiang Hu Bao's claimants: the members' age mix.

On the expected path (every draw at its mean, `mutualsim fairness`), the claims' sex split
and mean age at claim are the members' mix weighted by the incidence table. This prints
them for Xiang Hu Bao (scenarios/xianghubao.toml, 2019, its first full year) under the
shipped mix and a small sweep of it: China's population instead of internet users, and the
shipped mix tilted younger and older by a factor exp(k (age - 30) / 10) per year of age
(k = -0.3 and +0.3: about 26 % fewer or more members per decade of age). The incidence
table stays the shipped one (CI5plus China pooled 2008-2012) throughout.

    .venv/bin/python examples/age_profile.py [--out docs_table.md]
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from engine.config.scenario import load_scenario_set
from engine.config.tables import builtin_mix
from engine.studies.fairness import expected_profiles

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "xianghubao.toml"
YEAR = "2019"
TILTS = (-0.3, 0.3)


def _mix_file(folder: Path, name: str, mix: np.ndarray, ages: range) -> Path:
    """An ``age,sex,share`` CSV of ``mix`` (sex, age) over ``ages``."""
    path = folder / f"{name}.csv"
    rows = [f"{a},{sex},{mix[s, a]:.10g}" for s, sex in enumerate(("female", "male"))
            for a in ages]
    path.write_text(f"# {name}: written by examples/age_profile.py\nage,sex,share\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _variant(folder: Path, label: str, mix_ref: str) -> dict:
    """The expected path's profile of Xiang Hu Bao with both mixes set to ``mix_ref``."""
    text = (f'extends = "{SCENARIO.as_posix()}"\n[population]\ninitial_age_mix = "{mix_ref}"\n'
            f'[growth]\njoiner_age_mix = "{mix_ref}"\n')
    file = folder / f"{label}.toml"
    file.write_text(text, encoding="utf-8")
    figures = expected_profiles(load_scenario_set(file).base)
    ages = figures["age_at_claim"]
    pyramid = figures["members_age_pyramid"][f"{YEAR}Q4"]
    lower = [int(b.split("-")[0]) for b in pyramid["female"]]
    members_mean = sum((lo + 2.5) * pyramid[sex][b]["mean"] for sex in pyramid
                       for lo, b in zip(lower, pyramid[sex], strict=True))
    return {"mix": label,
            "members' mean age, end of 2019": members_mean,
            "men's share of claims": 100 * figures["claims_male_share"][YEAR]["mean"],
            "mean age at claim, all": ages["all"][YEAR]["mean"]["mean"],
            "mean age at claim, women": ages["female"][YEAR]["mean"]["mean"],
            "mean age at claim, men": ages["male"][YEAR]["mean"]["mean"],
            "median age at claim": ages["all"][YEAR]["q50"]["mean"]}


def rows() -> list[dict]:
    base = load_scenario_set(SCENARIO).base
    ages = range(base.population.age_min, base.population.age_max + 1)
    shipped = builtin_mix("cnnic2020_internet_users")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out.append(_variant(folder, "shipped: internet users (CNNIC, Dec 2020)",
                            "cnnic2020_internet_users"))
        out.append(_variant(folder, "China's population (UN WPP 2019, 2020)",
                            "wpp2020_population"))
        for k in TILTS:
            weight = np.exp(k * (np.arange(shipped.shape[1]) - 30) / 10.0)
            tilted = shipped * weight[None, :]
            file = _mix_file(folder, f"tilt{k:+.1f}", tilted / tilted.sum(), ages)
            out.append(_variant(folder, f"internet users tilted {'older' if k > 0 else 'younger'}"
                                f" (k = {k:+.1f})", str(file)))
    return out


def table(results: list[dict]) -> str:
    head = list(results[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        lines.append("| " + " | ".join(v if isinstance(v, str) else f"{v:.1f}"
                                       for v in r.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    text = table(rows())
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
