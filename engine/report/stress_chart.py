"""The chart of a stress (``mutualsim stress-weights``): the stressed output's and the most
moved drivers' distributions under the file's weights and under the stressed ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.used_paths import scenario_paths

DRIVERS_SHOWN = 3


def _cdf(ax, x: np.ndarray, w: np.ndarray, label: str, style: str) -> None:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    ax.step(x[order], cum, where="post", linestyle=style, label=label)


def stress_chart(ds, result: dict, scenario: int, out: Path) -> Path:
    """Distribution functions, base (the file's weights) against stressed, of the stressed
    output and of the :data:`DRIVERS_SHOWN` continuous drivers it moves most (a shock's
    0/1 start reads better in the table); a PNG at ``out``."""
    from engine.analysis.reverse_stress import weights_of
    from engine.model import drivers as D
    from engine.report.plots import plt

    stress = result["_stress"]
    base = weights_of(ds, scenario)
    # the stressed weights span the file's paths: a scenario's masked ones carry 0
    stressed = result["_weights"][scenario][:len(base)]
    panels = [(stress.output.values(ds, scenario), f"{stress.output.label}, "
               f"{stress.output.units}")]
    continuous = [r for r in result["drivers"] if D.BY_NAME[r["driver"]].law != "bernoulli"]
    for row in continuous[:DRIVERS_SHOWN]:
        driver = D.BY_NAME[row["driver"]]
        data = np.asarray(scenario_paths(ds, row["driver"], scenario), dtype=float)
        if driver.dim is not None:
            index = [str(v) for v in ds[driver.dim].values].index(row["component"])
            data = data[:, index]
        label = f"{row['driver'].removeprefix('driver_').replace('_', ' ')} {row['component']}"
        panels.append((data, label.strip()))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), squeeze=False)
    for ax, (x, label) in zip(axes[0], panels, strict=True):
        _cdf(ax, x, base, "base", "-")
        _cdf(ax, x, stressed, "stressed", "--")
        ax.set_xlabel(label)
        ax.set_ylabel("probability ≤ x")
    axes[0][0].legend()
    fig.suptitle(result["described"])
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
