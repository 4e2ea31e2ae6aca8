"""`TraceSparkline`: Textual's Sparkline on a fixed scale, one column per sample, newest on the right.

The stock Sparkline scales every draw to the min..max of its data and stretches a short series over
its whole width. Both mislead on a monitor: a 1 °C wobble fills the height, a GPU idling at 90 % looks
like one idling at 0 %, and the time axis changes as history grows. This subclass keeps the widget
(its colours still come from the `sparkline--min-color` / `sparkline--max-color` component classes in
the stylesheet) and draws against a range the caller fixes: 0..100 %, 20..100 °C, 0..the power limit.
`None` in the data is a gap (no reading), drawn as a blank column.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.color import Color as RichColor
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.app import RenderResult as TextualRenderResult
from textual.renderables._blend_colors import blend_colors
from textual.widgets import Sparkline

BARS = "▁▂▃▄▅▆▇█"
_SHADES = 16  # colour steps between the min and max colours


Column = tuple[int, int | None]  # (eighths of a cell filled, colour step) for one sample
GAP: Column = (0, None)  # no reading: a blank column


def trace_column(value: float | None, low: float, high: float, levels: int) -> Column:
    """One sample as a column of a trace `levels` eighths tall drawn between `low` and `high`."""
    if value is None:
        return (0, None)
    ratio = (value - low) / ((high - low) if high > low else 1.0)
    ratio = 0.0 if ratio < 0.0 else 1.0 if ratio > 1.0 else ratio
    # At least the lowest bar, so a reading of zero is a baseline rather than a gap.
    return (max(1, round(ratio * levels)), round(ratio * (_SHADES - 1)))


def trace_columns(data: Sequence[float | None], width: int, low: float, high: float, levels: int) -> tuple[Column, ...]:
    """The last `width` samples of `data` as columns of a trace `levels` eighths tall, right-aligned.

    A column is (how many eighths are filled, which colour step); a missing sample or a column left of
    the oldest sample is (0, None), drawn blank.
    """
    if width <= 0:
        return ()
    data = data[-width:]
    return (GAP,) * (width - len(data)) + tuple(trace_column(value, low, high, levels) for value in data)


def trace_row(columns: Sequence[Column], row: int, styles: Sequence[Style], blank: Style | None) -> list[Segment]:
    """Row `row` (0 = the bottom) of a trace: one segment per run of cells with the same style."""
    floor = row * len(BARS)
    segments: list[Segment] = []
    run_text, run_style = "", None
    for filled, shade in columns:
        part = filled - floor
        if shade is None or part <= 0:
            char, style = " ", blank
        else:
            char, style = ("█" if part >= len(BARS) else BARS[part - 1]), styles[shade]
        if style is run_style:
            run_text += char
        else:
            if run_text:
                segments.append(Segment(run_text, run_style))
            run_text, run_style = char, style
    if run_text:
        segments.append(Segment(run_text, run_style))
    return segments


class _FixedScaleTrace:
    def __init__(
        self,
        data: Sequence[float | None],
        *,
        width: int,
        height: int,
        low: float,
        high: float,
        min_color: RichColor,
        max_color: RichColor,
    ) -> None:
        self.data = data
        self.width = max(0, width)
        self.height = max(1, height)
        self.low = low
        self.high = high if high > low else low + 1
        self.styles = _shades(min_color, max_color)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = trace_columns(list(self.data), self.width, self.low, self.high, len(BARS) * self.height)
        for row in reversed(range(self.height)):
            yield from trace_row(columns, row, self.styles, None)
            if row:
                yield Segment.line()


@lru_cache(maxsize=64)
def _shades(min_color: RichColor, max_color: RichColor) -> tuple[Style, ...]:
    """The colour steps of a trace (the same few pairs for every trace on screen: made once)."""
    return tuple(Style(color=blend_colors(min_color, max_color, i / (_SHADES - 1))) for i in range(_SHADES))


def shades(min_color: RichColor, max_color: RichColor, base: Style | None = None) -> tuple[Style, ...]:
    """The colour steps of a trace, each on `base` (the trace's background) when given."""
    steps = _shades(min_color, max_color)
    return steps if base is None else tuple(base + s for s in steps)


class TraceSparkline(Sparkline):
    """A Sparkline drawn between `low` and `high`, one sample per column, the newest at the right."""

    def __init__(self, *, low: float = 0.0, high: float = 100.0, id: str | None = None, classes: str | None = None) -> None:
        super().__init__([], id=id, classes=classes)
        self.low = low
        self.high = high
        self._colors: tuple[RichColor, RichColor] | None = None  # (min, max) over the background

    def set_trace(self, data: Sequence[float | None], *, high: float | None = None) -> None:
        """Draw `data`; nothing is redrawn when the columns that fit and the scale are what is shown."""
        high = self.high if high is None else high
        data = list(data)
        width = self.size.width
        if width and high == self.high and self.data is not None and self.data[-width:] == data[-width:]:
            # the same columns on screen (a flat trace, a steady reading): keep the data, skip the redraw
            self.set_reactive(TraceSparkline.data, data)
            return
        self.high = high
        self.data = data
        self.refresh()  # also when only the scale changed (data is a reactive: a new list redraws anyway)

    def notify_style_update(self) -> None:
        self._colors = None  # theme or stylesheet changed: look the colours up again
        super().notify_style_update()

    def render(self) -> TextualRenderResult:
        if self._colors is None:
            _, base = self.background_colors
            self._colors = (
                (base + self.get_component_styles("sparkline--min-color").color).rich_color,
                (base + self.get_component_styles("sparkline--max-color").color).rich_color,
            )
        min_color, max_color = self._colors
        return _FixedScaleTrace(
            self.data or (),
            width=self.size.width,
            height=self.size.height,
            low=self.low,
            high=self.high,
            min_color=min_color,
            max_color=max_color,
        )
