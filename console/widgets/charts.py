"""Bar charts on a textual-plotext PlotextPlot, as the Earnings and Rewards screens draw them."""

from __future__ import annotations

from textual.color import Color
from textual_plotext import PlotextPlot


def draw_bars(plot: PlotextPlot, labels: list[str], values: list[float], colour: str, title: str) -> None:
    """Redraw `plot` as bars (one "—" bar of 0 when there is nothing), in a theme colour, with fixed x ticks:
    plotext's own choice of ticks varies between draws."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(title)
    labels, values = (labels, values) if labels else (["—"], [0.0])
    plt.bar(labels, values, color=Color.parse(colour).rgb, width=0.6)
    step = max(1, len(labels) // 5)
    plt.xticks(list(range(1, len(labels) + 1))[::step], labels[::step])
    plot.refresh()
