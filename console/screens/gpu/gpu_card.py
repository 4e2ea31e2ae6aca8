"""`GpuCard`: one GPU drawn as a single widget with the Line API, redrawing only the lines that changed.

A card shows utilisation, memory, temperature and power (label, newest reading, fixed-scale trace),
then NVENC/NVDEC and the clocks; a lost GPU shows why and its last reading instead of those two.
It used to be ~20 widgets (cells, labels, sparklines, lines); with 8 GPUs at 2 Hz the compositor then
rendered ~180 widgets a frame. Now each content line is described by a small hashable spec (the text
and the trace columns it shows); a sample recomputes the specs, and only lines whose spec changed
are rebuilt and refreshed (`refresh(Region)`), so a steady reading costs nothing and a moving one
costs its own line.

Layout follows the number of GPUs (`count`), as the separate widgets did:
  1 GPU    the four metrics stacked, full width, each 3 lines tall;
  2 GPUs   two metrics a row, each 2 lines tall;
  3 or more  two metrics a row, 1 line each, in half-width cards (shorter readings, no PCIe).
A metric's cell is `width: 1fr` with a right margin, split the way Textual's horizontal layout splits
fractions, so the picture is the one the widget version drew. Colours are component classes of the
card (gpu.tcss), so themes apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions
from textual.widget import Widget

from console.screens.gpu.cards import GIB, RUN_MARKUP, TEMPERATURE_SCALE, Runs, clocks_runs, codec_runs, gib, lost_text, num, pct
from console.screens.gpu.trace import BARS, GAP, Column, shades, trace_column, trace_row
from gpu import NA, DeviceSnapshot

METRICS = ("util", "memory", "temperature", "power")
_WRAP = {"text_wrap": "wrap", "text_overflow": "fold"}  # the lost GPU's text, as a wrapping Static

# A line spec: a tuple of parts, each ("runs", ((text, style name), ...), width, ellipsis),
# ("trace", metric, columns, row), ("gap", width) or ("wrapped", content, line index).
# Equal specs draw equal lines.
Spec = tuple[tuple[Any, ...], ...]
RUNS_KEPT = 256  # drawn text parts a card keeps (its labels, and readings that come back)


def runs_segments(runs: Runs, width: int, styles: dict[str, RichStyle], pad: RichStyle, *, ellipsis: bool) -> list[Segment]:
    """`runs` in exactly `width` cells: padded with `pad`, or cut (ending in "…" with `ellipsis`).

    Cut as Textual cuts a `text-wrap: nowrap` line: with `text-overflow: ellipsis` the last cell
    becomes "…" in the style of the run it falls in.
    """
    segments: list[Segment] = []
    room = width
    total = sum(cell_len(text) for text, _ in runs)
    cut = total > width
    for text, style in runs:
        length = cell_len(text)
        if cut and length >= room:
            if ellipsis and room:
                text = set_cell_size(text, room - 1) + "…"
            else:
                text = set_cell_size(text, room)
            if text:
                segments.append(Segment(text, styles[style]))
            return segments
        if text:
            segments.append(Segment(text, styles[style]))
        room -= length
    if room:
        segments.append(Segment(" " * room, pad))
    return segments


@lru_cache(maxsize=64)
def split_fr(width: int, cells: int, margin: int) -> tuple[int, ...]:
    """Widths of `cells` cells of 1fr, each followed by `margin`, in `width` (Textual's rounding).

    Cached: Fraction arithmetic is slow and every sample of every card asks it again.
    """
    unit = Fraction(max(0, width - cells * margin), cells)
    widths, x = [], Fraction(0)
    for _ in range(cells):
        widths.append(int(x + unit) - int(x))
        x += unit + margin
    return tuple(widths)


class GpuCard(Widget):
    """One GPU: utilisation, memory, temperature and power over time; codecs; clocks; alerts; loss."""

    COMPONENT_CLASSES = {
        "gpu-card--label",
        "gpu-card--value",
        "gpu-card--trace",
        *(f"gpu-card--{m}-{end}" for m in METRICS for end in ("low", "high")),
        "gpu-card--alert",  # the border and subtitle of a GPU over an alert threshold
        "gpu-card--lost",  # the border, title and subtitle of a lost GPU
    }

    def __init__(self, index: int, *, count: int = 1) -> None:
        super().__init__(id=f"gpu-{index}", classes="card device")
        self.index = index
        self.count = count
        self.compact = count > 2  # half-width card: shorter readings, no PCIe
        self.stacked = count == 1  # one GPU: the four metrics one under another
        self.metric_height = 3 if count == 1 else 2 if count == 2 else 1
        self.label_width = 6 if self.compact else 7
        self.value_width = 12 if self.compact else 22
        self.margin = 0 if self.stacked else 1 if self.compact else 2
        self.border_title = f"GPU {index}"
        self._shown: tuple[Any, ...] | None = None  # what show() was given last
        self._titles: tuple[str, str] | None = None  # the border title and subtitle set last
        self._specs: list[Spec] = []
        self._strips: list[Strip | None] = []
        self._styles: dict[str, Any] | None = None  # resolved from the component classes
        self._wrapped: dict[tuple[Content, int], list[Strip]] = {}
        self._runs: dict[tuple[Any, ...], list[Segment]] = {}  # a "runs" part -> its segments
        # id(sample) -> (the sample, the scales, its four columns): see _sample_columns
        self._columns_kept: dict[int, tuple[DeviceSnapshot, Any, tuple[Column, ...]]] = {}

    # -- what is shown -----------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        metric_rows = 4 if self.stacked else 2
        return metric_rows * self.metric_height + 2  # + codec and clocks, or the two lost lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.line_count

    def show(self, d: DeviceSnapshot, history: Sequence[DeviceSnapshot], alerts: dict[str, str]) -> None:
        lost = d.status == "lost"
        name = "" if d.name is NA else f" · {d.name}"
        title = f"GPU {d.index}{name}" + (" · LOST" if lost else "")
        alerting = bool(alerts) and not lost
        if (lost, alerting) != (self.has_class("-lost"), self.has_class("-alert")):
            # The classes say the state (for queries); the look is set inline (_show_state): a class
            # change would restyle the card and its 13 component classes, ~10 ms, and the alerts of
            # 8 GPUs come and go often enough for that to be a fifth of the screen's idle CPU.
            self.set_class(lost, "-lost", update=False)
            self.set_class(alerting, "-alert", update=False)
            self._show_state()
        if lost:
            subtitle = "✖ lost: no readings"
        elif alerts:
            subtitle = "⚠ " + " · ".join(alerts.values())
        else:
            subtitle = "" if d.bus_id is NA else str(d.bus_id)
        if (title, subtitle) != self._titles:  # setting a border title parses it and redraws the card
            self._titles = (title, subtitle)
            self.border_title, self.border_subtitle = title, subtitle
        self._shown = (d, history, "throttling" in alerts)
        self._update_lines()

    def text(self) -> str:
        """The card's content as plain text, line by line (what a person reads on it)."""
        return "\n".join(self.render_line(y).text for y in range(len(self._specs)))

    # -- lines ------------------------------------------------------------------------------------

    def _update_lines(self, *, everything: bool = False) -> None:
        width = self.content_size.width
        if self._shown is None or not width:
            return
        specs = self._line_specs(width, *self._shown)
        if everything or len(specs) != len(self._specs):
            self._specs, self._strips = specs, [None] * len(specs)
            self._wrapped.clear()
            self.refresh()
            return
        changed = [y for y, (new, old) in enumerate(zip(specs, self._specs)) if new != old]
        for y in changed:
            self._strips[y] = None
        self._specs = specs
        if changed:  # one refresh for the lines that changed
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def on_resize(self) -> None:
        self._update_lines(everything=True)

    def notify_style_update(self) -> None:
        self._styles = None  # classes, theme or stylesheet changed: resolve the colours again
        self._strips = [None] * len(self._specs)
        self._wrapped.clear()
        self._runs.clear()
        super().notify_style_update()
        if self.has_class("-lost") or self.has_class("-alert"):
            self._show_state()  # the theme's colours may have changed

    def _show_state(self) -> None:
        """The border of an alerting or lost card, as inline styles from its component classes."""
        styles = self.styles
        state = "lost" if self.has_class("-lost") else "alert" if self.has_class("-alert") else None
        if state is None:  # back to the .card look of the stylesheet
            styles.border = None
            styles.border_title_color = styles.auto_border_title_color = None
            styles.border_subtitle_color = None
            styles.border_subtitle_style = None
            return
        look = self.get_component_styles(f"gpu-card--{state}")
        styles.border = ("heavy" if state == "lost" else "round", look.color)
        lost = state == "lost"
        styles.border_title_color = look.color if lost else None
        styles.auto_border_title_color = False if lost else None  # .card's $text is "auto": a contrast colour
        styles.border_subtitle_color = look.color
        styles.border_subtitle_style = look.text_style

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y >= len(self._specs):
            return Strip.blank(width, self.rich_style)
        strip = self._strips[y]
        if strip is None or strip.cell_length != width:
            strip = self._strips[y] = self._build(self._specs[y], width)
        return strip

    def _line_specs(self, width: int, d: DeviceSnapshot, history: Sequence[DeviceSnapshot], throttling: bool) -> list[Spec]:
        lost = d.status == "lost"
        limit = next((h.power_limit_w for h in reversed(history) if h.power_limit_w is not NA), NA)
        if lost:
            memory = "—"
        elif d.memory_pct is NA:
            memory = "N/A"
        elif self.compact:
            memory = f"{d.memory_pct:.0f} % {d.memory_used_bytes / GIB:.0f}/{d.memory_total_bytes / GIB:.0f}G"
        else:
            memory = f"{d.memory_pct:.0f} % {gib(d.memory_used_bytes)}/{gib(d.memory_total_bytes)} GiB"
        power = "—" if lost else (
            "N/A" if d.power_draw_w is NA else f"{d.power_draw_w:.0f}" + ("" if limit is NA else f"/{limit:.0f}") + " W"
        )
        metrics = [
            ("util", "util", "—" if lost else pct(d.gpu_util_pct)),
            ("memory", "mem" if self.compact else "memory", memory),
            ("temperature", "temp", "—" if lost else ("N/A" if d.temperature_c is NA else f"{d.temperature_c} °C")),
            ("power", "power", power),
        ]
        per_row = 1 if self.stacked else 2
        cell_widths = split_fr(width, per_row, self.margin)
        trace_widths = [max(0, w - self.label_width - self.value_width) for w in cell_widths]
        scales = ((0.0, 100.0), (0.0, 100.0), TEMPERATURE_SCALE, (0.0, 100.0 if limit is NA else float(limit)))
        samples = self._sample_columns(history[-max(trace_widths):] if max(trace_widths) else (), scales)
        height = self.metric_height
        specs: list[Spec] = []
        for start in range(0, 4, per_row):
            cells = []
            for i, ((metric, label, value), cell_width, trace_width) in enumerate(
                zip(metrics[start:start + per_row], cell_widths, trace_widths)
            ):
                recent = samples[-trace_width:] if trace_width else []
                columns = (GAP,) * (trace_width - len(recent)) + tuple(s[start + i] for s in recent)
                cells.append((metric, label, value, cell_width, trace_width, columns))
            for line in range(height):
                parts: list[tuple[Any, ...]] = []
                for metric, label, value, cell_width, trace_width, columns in cells:
                    label_width = min(self.label_width, cell_width)
                    value_width = min(self.value_width, cell_width - label_width)
                    parts.append(("runs", ((label if line == 0 else "", "label"),), label_width, False))
                    parts.append(("runs", ((value if line == 0 else "", "value"),), value_width, False))
                    parts.append(("trace", metric, columns, height - 1 - line))
                    parts.append(("gap", self.margin))
                specs.append(tuple(parts))
        if lost:
            lost_text_ = lost_text(d, history)
            specs += [(("wrapped", lost_text_, 0),), (("wrapped", lost_text_, 1),)]
        else:
            specs.append((("runs", codec_runs(d, pcie=not self.compact), width, True),))
            specs.append((("runs", clocks_runs(d, throttling), width, True),))
        return specs

    def _sample_columns(self, recent: Sequence[DeviceSnapshot], scales: tuple[tuple[float, float], ...]) -> list[tuple[Column, ...]]:
        """Each sample's four trace columns (util, memory, temperature, power), oldest first.

        Kept per sample: the history's snapshots are the same objects from one sample to the next, so
        only the newest is worked out (all of them again when a scale, i.e. the power limit, changes).
        """
        levels = len(BARS) * self.metric_height
        kept, fresh, out = self._columns_kept, {}, []
        for h in recent:
            hit = kept.get(id(h))
            if hit is None or hit[0] is not h or hit[1] != scales:
                values = (h.gpu_util_pct, h.memory_pct, h.temperature_c, h.power_draw_w)
                hit = (h, scales, tuple(trace_column(num(v), low, high, levels) for v, (low, high) in zip(values, scales)))
            fresh[id(h)] = hit
            out.append(hit[2])
        self._columns_kept = fresh
        return out

    # -- drawing ----------------------------------------------------------------------------------

    def _resolved(self) -> dict[str, Any]:
        if self._styles is None:
            visual = self.visual_style
            _, background = self.background_colors
            trace_background = background + self.get_component_styles("gpu-card--trace").background
            trace_base = self.rich_style + RichStyle(bgcolor=trace_background.rich_color)
            runs = {
                "line": visual.rich_style,
                "label": self.get_visual_style("gpu-card--label").rich_style,
                "value": self.get_visual_style("gpu-card--value").rich_style,
                **{name: (visual + Style.parse(markup)).rich_style for name, markup in RUN_MARKUP.items() if markup},
            }
            styles: dict[str, Any] = {
                "line": visual,
                "runs": runs,
                "blank": trace_base,
                "pad": RichStyle(bgcolor=background.rich_color),  # what is left of a text's width, as a Static pads
            }
            for metric in METRICS:
                low = (trace_background + self.get_component_styles(f"gpu-card--{metric}-low").color).rich_color
                high = (trace_background + self.get_component_styles(f"gpu-card--{metric}-high").color).rich_color
                styles[metric] = shades(low, high, trace_base)
            self._styles = styles
        return self._styles

    def _build(self, spec: Spec, width: int) -> Strip:
        styles = self._resolved()
        segments: list[Segment] = []
        used: int | None = 0  # cells drawn, known exactly for every part but wrapped text
        for part in spec:
            kind = part[0]
            if kind == "runs":
                drawn = self._runs.get(part)  # labels never change and many readings repeat
                if drawn is None:
                    _, runs, text_width, ellipsis = part
                    drawn = runs_segments(runs, text_width, styles["runs"], styles["pad"], ellipsis=ellipsis) if text_width > 0 else []
                    if len(self._runs) > RUNS_KEPT:
                        self._runs.clear()
                    self._runs[part] = drawn
                segments += drawn
                used = None if used is None else used + max(0, part[2])
            elif kind == "trace":
                _, metric, columns, row = part
                segments += trace_row(columns, row, styles[metric], styles["blank"])
                used = None if used is None else used + len(columns)
            elif kind == "gap":
                if part[1]:
                    segments.append(Segment(" " * part[1], styles["pad"]))
                    used = None if used is None else used + part[1]
            else:  # "wrapped": one line of text wrapped over several
                _, content, index = part
                key = (content, width)
                if key not in self._wrapped:
                    self._wrapped[key] = content.render_strips(width, None, styles["line"], RenderOptions(Style.parse, _WRAP))
                lines = self._wrapped[key]
                segments += lines[index] if index < len(lines) else Strip.blank(width)
                used = None
        if used is not None and used <= width:
            if used < width:
                segments.append(Segment(" " * (width - used), styles["pad"]))
            return Strip(segments, width)  # the width is known: no measuring every segment again
        return Strip(segments).adjust_cell_length(width, styles["pad"])

    # -- words ------------------------------------------------------------------------------------
