"""One line under the header with every screen and its key; the current screen is highlighted.
(The footer keeps the current screen's own actions.)"""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

_SHOW = re.compile(r"show\('([a-z_]+)'\)")


class NavBar(Static):
    DEFAULT_CSS = """
    NavBar { height: 1; background: $surface; color: $muted-text; padding: 0 0; }
    """

    def __init__(self, current: str | None) -> None:
        super().__init__(id="nav-bar")
        self.current = current
        self._entries: list[tuple[str, str, bool]] = []  # (key, label, is the current screen)

    def on_mount(self) -> None:
        for binding in self.app.BINDINGS:
            match = _SHOW.fullmatch(binding.action)
            if match:
                self._entries.append((binding.key if len(binding.key) == 1 else ",", binding.description,
                                      match.group(1) == self.current))
        self._draw(self.size.width or self.app.size.width)

    def on_resize(self, event) -> None:
        self._draw(event.size.width)

    def _draw(self, width: int) -> None:
        """The roomiest form that fits the width: ` k Label ` per screen, then `k Label` one space apart,
        then labels cut to three letters, then keys alone (a narrow terminal still shows every key)."""
        forms = (
            lambda k, label: (f" {k}", f" {label} ", ""),
            lambda k, label: (f"{k}", f" {label}", " "),
            lambda k, label: (f"{k}", f" {label[:3]}", " "),
            lambda k, label: (f"{k}", "", " "),
        )
        for form in forms:
            line = Text(" " if form is not forms[0] else "")
            for i, (key, label, current) in enumerate(self._entries):
                head, tail, gap = form(key, label)
                if i and gap:
                    line.append(gap)
                style = "reverse bold" if current else ""
                line.append(head, style="bold " + style)
                line.append(tail, style=style)
            if line.cell_len <= width:
                break
        self.update(line)
