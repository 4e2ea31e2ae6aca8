"""Every console screen: the status header on top, its body, the log panel and the footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from console.widgets.log_panel import LogPanel
from console.widgets.status_header import StatusHeader


class ConsoleScreen(Screen):
    def compose(self) -> ComposeResult:
        svc = self.app.services
        yield StatusHeader(svc.profile.label, svc.profile.is_devnet, svc.account)
        yield from self.compose_body()
        panel = LogPanel(self.app.console_log)
        panel.set_class(self.app.log_visible, "-visible")
        yield panel
        yield Footer()

    def compose_body(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        last = getattr(self.app, "last_round", None)
        if last is not None:
            self.query_one(StatusHeader).round_info = last
