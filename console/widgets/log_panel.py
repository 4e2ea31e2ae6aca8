"""A scrollable panel of what the console did (transactions, errors), with severity."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import RichLog

SEVERITY_STYLE = {"info": "", "success": "bold", "warning": "bold", "error": "bold reverse"}


@dataclass(frozen=True)
class LogEntry:
    at: float
    severity: str  # info | success | warning | error
    text: str


class ConsoleLog:
    """The app's memory of events; panels render it. Bounded so a long session stays small."""

    def __init__(self, limit: int = 1000) -> None:
        self.entries: list[LogEntry] = []
        self.limit = limit

    def add(self, severity: str, text: str) -> LogEntry:
        entry = LogEntry(time.time(), severity, text)
        self.entries.append(entry)
        del self.entries[: -self.limit]
        return entry


class LogPanel(RichLog):
    DEFAULT_CSS = """
    LogPanel { height: 8; dock: bottom; border-top: solid $primary; background: $surface; display: none; }
    LogPanel.-visible { display: block; }
    """

    def __init__(self, log: ConsoleLog) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=1000, id="log-panel")
        self.console_log = log

    def on_mount(self) -> None:
        for entry in self.console_log.entries:
            self.show(entry)

    def show(self, entry: LogEntry) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.at))
        line = Text(f"{stamp} ")
        line.append(f"{entry.severity.upper():7} ", style=SEVERITY_STYLE.get(entry.severity, ""))
        line.append(entry.text)
        self.write(line)
