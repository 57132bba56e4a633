"""The study document's figures (issue 26): persons and yuan on linear axes whose ticks
read as amounts ("1.5 million"), never with a scale factor; each returns a PNG data URI."""

from __future__ import annotations

import numpy as np

from engine.analysis import weighted as W
from engine.report.html import _png

BAND_COLOUR = "#1f77b4"
PLAN_COLOURS = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf")


def _fan(ax, quarters, x, label, colour=BAND_COLOUR):
    lo, q25, mid, q75, hi = W.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    t = np.arange(len(quarters))
    ax.fill_between(t, lo, hi, color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(t, q25, q75, color=colour, alpha=0.3, linewidth=0)
    ax.plot(t, mid, color=colour, label=f"{label} (median, 50% and 90%)")


def _ticks(ax, quarters):
    from engine.report.plots import amount_axis

    step = max(1, len(quarters) // 8)
    ax.set_xticks(range(0, len(quarters), step))
    ax.set_xticklabels(quarters[::step], rotation=45, ha="right")
    amount_axis(ax)
    ax.grid(alpha=0.3)


def development_figure(series, disclosure) -> str:
    """Members and sharers of the platform with the published figures (left), valid
    members by plan (right); persons on linear axes."""
    from engine.report.plots import plt

    quarters = series["quarters"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    _fan(axes[0], quarters, series["members"], "valid members")
    _fan(axes[0], quarters, series["sharers"], "sharers", "#ff7f0e")
    for r in disclosure.actual_expected:
        o = r.observation
        if o.metric in ("members", "sharers") and not o.plan:
            axes[0].plot([o.end - 1], [o.value], "kx", markersize=9)
        elif o.metric in ("members", "sharers"):
            axes[0].plot([o.end - 1], [o.value], "k+", markersize=9)
    axes[0].plot([], [], "kx", label="published (platform)")
    axes[0].plot([], [], "k+", label="published (a plan)")
    axes[0].set_title("Valid members and sharers, persons at each quarter's end")
    axes[0].legend(fontsize=7, loc="upper left")
    for j, plan in enumerate(series.get("plans") or []):
        _fan(axes[1], quarters, series["members_by_plan"][j], plan,
             PLAN_COLOURS[j % len(PLAN_COLOURS)])
    axes[1].set_title("Valid members by plan, persons at each quarter's end")
    axes[1].legend(fontsize=7, loc="upper left")
    for ax in axes:
        _ticks(ax, quarters)
        ax.set_ylabel("persons")
    fig.tight_layout()
    return _png(fig)


def cost_figure(series) -> str:
    """What each member paid per quarter, by plan and for the platform, yuan on a linear
    axis (a log axis cannot show the quarters in which members paid nothing)."""
    from engine.report.plots import plt

    quarters = series["quarters"]
    fig, ax = plt.subplots(figsize=(12, 4.2))
    for j, plan in enumerate(series.get("plans") or []):
        _fan(ax, quarters, series["cost_per_member_by_plan"][j], plan,
             PLAN_COLOURS[j % len(PLAN_COLOURS)])
    _fan(ax, quarters, series["cost_per_member"], "platform (per sharer)")
    ax.set_title("What each member paid per quarter, yuan")
    ax.set_ylabel("yuan per member per quarter")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left")
    _ticks(ax, quarters)
    fig.tight_layout()
    return _png(fig)


def risk_figure(series) -> str:
    from engine.report.plots import plt

    quarters = series["quarters"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    _fan(axes[0], quarters, series["claims"], "claims")
    axes[0].set_title("Claims paid per quarter, persons aided")
    axes[0].set_ylabel("persons")
    _fan(axes[1], quarters, series["antiselection_factor"], "members' risk relative to "
         "the population")
    axes[1].axhline(1.0, color="grey", linewidth=0.8)
    axes[1].set_title("Members' incidence relative to the population's mix "
                      "(1 = the population's)")
    for ax in axes:
        ax.legend(fontsize=7, loc="upper left")
        _ticks(ax, quarters)
    fig.tight_layout()
    return _png(fig)
