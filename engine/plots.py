"""Figures of a results file; each function returns a matplotlib Figure (Agg backend)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from engine import metrics  # noqa: E402

FAN_VARIABLES = ("members", "claims", "cost_per_member", "reserve")
FAN_BANDS = ((0.05, 0.95), (0.25, 0.75))


def fan_chart(values: np.ndarray, quarters, title: str, units: str) -> Figure:
    """Median and 5–95 %, 25–75 % bands of ``values`` ``(P, T)`` per quarter."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(quarters))
    for (lo, hi), shade in zip(FAN_BANDS, (0.25, 0.45), strict=True):
        q = metrics.quantile(values, [lo, hi], axis=0)
        ax.fill_between(x, q[0], q[1], alpha=shade, color="tab:blue", linewidth=0,
                        label=f"{lo:.0%}–{hi:.0%}")
    ax.plot(x, metrics.quantile(values, 0.5, axis=0), color="tab:blue", label="median")
    step = max(1, len(quarters) // 10)
    ax.set_xticks(x[::step], [str(q) for q in quarters][::step], rotation=45, ha="right")
    ax.set_title(title)
    ax.set_ylabel(units)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def shortfall_histogram(one_year_shortfall: np.ndarray, title: str,
                        alpha: float = 0.995) -> Figure:
    """Histogram of the one-year shortfall with VaR and TVaR at ``alpha`` marked."""
    x = np.asarray(one_year_shortfall, dtype=float)
    v, tv = metrics.var(x, alpha), metrics.tvar(x, alpha)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.hist(x, bins=min(60, max(10, len(x) // 20)), color="tab:gray", alpha=0.8)
    ax.axvline(v, color="tab:orange", label=f"VaR {alpha:.1%} = {v:,.0f} yuan")
    ax.axvline(tv, color="tab:red", linestyle="--", label=f"TVaR {alpha:.1%} = {tv:,.0f} yuan")
    share_zero = float(np.mean(x == 0))
    ax.set_title(f"{title}\n{share_zero:.1%} of paths have no shortfall")
    ax.set_xlabel("yuan")
    ax.set_ylabel("paths")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "scenario"


def write_plots(ds, out_dir: str | Path) -> list[Path]:
    """Write fan charts and the shortfall histogram of each scenario as PNG files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    quarters = [str(q) for q in ds["quarter"].values]
    written = []
    for i, name in enumerate(str(s) for s in ds["scenario"].values):
        sel = ds.isel(scenario=i)
        slug = _slug(name)
        for var in FAN_VARIABLES:
            da = sel[var]
            fig = fan_chart(da.values, quarters, f"{name}: {da.attrs.get('long_name', var)}",
                            da.attrs.get("units", ""))
            if var == "cost_per_member":
                # What members would have paid without caps, to show where a cap binds.
                required = np.where(np.isfinite(sel["required_cost_per_member"].values),
                                    sel["required_cost_per_member"].values, np.nan)
                ax = fig.axes[0]
                ax.plot(np.arange(len(quarters)), np.nanmedian(required, axis=0), "--",
                        color="tab:red", label="median required before caps")
                ax.legend(loc="best", fontsize=8)
            path = out / f"{slug}_{var}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
        yearly = metrics.yearly_sums(sel["shortfall"].values)
        fig = shortfall_histogram(yearly[:, 0], f"{name}: shortfall over the first projection "
                                  f"year ({quarters[0]}–{quarters[min(3, len(quarters) - 1)]})")
        path = out / f"{slug}_shortfall_year1.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        if yearly.shape[1] > 1:
            worst = int(np.argmax([metrics.var(yearly[:, y], 0.995)
                                   for y in range(yearly.shape[1])]))
            if worst != 0:
                first_q = quarters[4 * worst]
                fig = shortfall_histogram(
                    yearly[:, worst], f"{name}: shortfall over projection year {worst + 1} "
                    f"(from {first_q}), the year with the largest VaR")
                path = out / f"{slug}_shortfall_year{worst + 1}.png"
                fig.savefig(path, dpi=110)
                plt.close(fig)
                written.append(path)
    return written
