"""`ProcessTable`: the processes on the GPUs, a Line API table that redraws only the rows that changed.

It looks like the DataTable it replaces (header row, zebra stripes, one cell of padding each side,
right-aligned figures, ★ and bold for this node's processes) and scrolls the same way, but a sample
costs only the rows whose cells changed: DataTable redraws every visible row for any `update_cell`
(each cell through Rich's Padding and render_lines), which was ~a quarter of the GPU screen's idle
CPU with 8 GPUs at 2 Hz. Rows are plain strings; `show()` compares them with what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.screens.gpu.cards import pct
from gpu import NA, ProcessSnapshot

# (label, width, right-aligned); the key is the column's place in a row
PROCESS_COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("★", 1, False), ("GPU", 3, True), ("PID", 8, True), ("Process", 28, False), ("Type", 16, False),
    ("GPU memory", 10, True), ("SM", 5, True), ("Enc", 5, True), ("Dec", 5, True),
)
BOLD_COLUMNS = (0, 3)  # ★ and the process name are bold for this node's processes
PADDING = 1

Row = tuple[tuple[str, ...], bool]  # the cells, and whether it is this node's process


def process_row(p: ProcessSnapshot) -> Row:
    memory = "N/A" if p.gpu_memory_bytes is NA else f"{p.gpu_memory_bytes / 2**20:,.0f} MiB"
    return (
        (
            "★" if p.is_node else "",
            str(p.device_index),
            str(p.pid),
            str(p.name),
            "+".join(p.kinds),
            memory,
            pct(p.sm_util_pct),
            pct(p.encoder_util_pct),
            pct(p.decoder_util_pct),
        ),
        p.is_node,
    )


class ProcessTable(ScrollView):
    """Header + one line per process; zebra stripes; scrolls when the processes do not fit."""

    COMPONENT_CLASSES = {"process-table--header", "process-table--even-row", "process-table--odd-row"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[Row] = []
        self._lines: dict[tuple[int, int], Strip] = {}  # (row index or -1 for the header, width) -> line
        self._table_width = sum(width + 2 * PADDING for _, width, _ in PROCESS_COLUMNS)
        self._styles: dict[str, tuple[Style, Style, Style]] | None = None  # row kind -> (cell, bold, rest of line)
        self._base: Style | None = None

    @property
    def rows(self) -> Sequence[Row]:
        return self._rows

    def show(self, rows: Sequence[Row]) -> None:
        """Show `rows`; only rows that differ from the ones shown are redrawn."""
        rows = list(rows)
        if len(rows) != len(self._rows):
            self._rows = rows
            self._lines.clear()
            self.virtual_size = Size(self._table_width, len(rows) + 1)
            self.refresh()
            return
        changed = [i for i, (new, old) in enumerate(zip(rows, self._rows)) if new != old]
        if not changed:
            return
        self._rows = rows
        for key in [k for k in self._lines if k[0] in changed]:
            del self._lines[key]
        top = self.scroll_offset.y
        width = max(self.virtual_size.width, self.size.width)
        # the visible lines only (the header is line 0), in one refresh
        self.refresh(*(Region(0, i + 1 - top, width, 1) for i in changed if 0 < i + 1 - top < self.size.height))

    def notify_style_update(self) -> None:
        self._lines.clear()  # classes, focus, theme or stylesheet changed
        self._styles = self._base = None
        super().notify_style_update()

    def _row_styles(self, kind: str) -> tuple[Style, Style, Style]:
        """(cell, bold cell, the rest of the line) for "header", "even-row" or "odd-row", as DataTable draws them."""
        if self._styles is None:
            styles = {}
            for name in ("header", "even-row", "odd-row"):
                style = self.get_component_styles(f"process-table--{name}").rich_style
                if style.bgcolor is not None:  # DataTable fades the stripe beyond the last column
                    faded = Color.from_rich_color(style.bgcolor).blend(self.background_colors[1], factor=0.25)
                    rest = Style.from_color(style.color, faded.rich_color)
                else:
                    rest = Style.from_color(style.color, style.bgcolor)
                styles[name] = (style, style + Style(bold=True), rest)
            self._styles = styles
        return self._styles[kind]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        index = -1 if y == 0 else y - 1 + scroll_y  # the header stays at the top
        if self._base is None:
            self._base = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, self._base)
        line_width = max(width, self._table_width)
        key = (index, line_width)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._line(index, line_width)
        return line.crop(scroll_x, scroll_x + width) if scroll_x or line_width != width else line

    def _line(self, index: int, width: int) -> Strip:
        if index == -1:
            style, bold_style, rest_style = self._row_styles("header")
            cells, bold = tuple(label for label, _, _ in PROCESS_COLUMNS), False
        else:
            style, bold_style, rest_style = self._row_styles("odd-row" if index % 2 else "even-row")
            cells, bold = self._rows[index]
        # Cells in the same style are joined as they are laid out (most rows are one style end to
        # end): a few segments per row instead of three per cell and a simplify() pass.
        pad = " " * PADDING
        segments: list[Segment] = []
        run: list[str] = []
        run_style = style

        def add(text: str, text_style: Style) -> None:
            nonlocal run_style
            if not text:
                return
            if text_style is not run_style:
                if run:
                    segments.append(Segment("".join(run), run_style))
                    run.clear()
                run_style = text_style
            run.append(text)

        for column, ((_, column_width, right), text) in enumerate(zip(PROCESS_COLUMNS, cells)):
            length = cell_len(text)
            if length > column_width:
                text, length = set_cell_size(text, column_width), column_width
            fill = " " * (column_width - length)
            text_style = bold_style if bold and column in BOLD_COLUMNS else style
            if right and index != -1:  # the header's labels are left-aligned
                add(pad + fill, style)
                add(text, text_style)
                add(pad, style)
            else:
                add(pad, style)
                add(text, text_style)
                add(fill + pad, style)
        rest = width - self._table_width
        if rest > 0:
            add(" " * rest, rest_style)
        if run:
            segments.append(Segment("".join(run), run_style))
        return Strip(segments, width)
