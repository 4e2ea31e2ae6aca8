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

    def on_mount(self) -> None:
        line = Text()
        for binding in self.app.BINDINGS:
            match = _SHOW.fullmatch(binding.action)
            if not match:
                continue
            key = match.group(1)
            style = "reverse bold" if key == self.current else ""
            line.append(f" {binding.key if len(binding.key) == 1 else ','}", style="bold " + style)
            line.append(f" {binding.description} ", style=style)
        self.update(line)
