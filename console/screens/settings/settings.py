"""Settings: network (devnet / Arbitrum One with an RPC URL), theme, refresh cadence.

Saved to settings.toml in the data dir. The theme and refresh cadence apply at once; a network change
applies at the next start (the console says so)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from console.screens.base import ConsoleScreen
from core.settings import Network, SettingsError, load_settings, write_setting
from themes import THEMES


class SettingsScreen(ConsoleScreen):
    CSS_PATH = "settings.tcss"
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="settings.save")]

    def compose_body(self) -> ComposeResult:
        s = self.app.services.settings
        with Vertical(id="form"):
            yield Label("Network", classes="field-label")
            yield Select([("Embedded devnet", "devnet"), ("Arbitrum One", "arbitrum-one")],
                         value=s.network.value, allow_blank=False, id="network-select")
            yield Label("RPC URL (Arbitrum One)", classes="field-label")
            yield Input(value=s.rpc_url or "", placeholder="https://arb1.arbitrum.io/rpc", id="rpc-url")
            yield Label("Theme", classes="field-label")
            yield Select([(t.name, t.name) for t in THEMES], value=self.app.theme, allow_blank=False, id="theme")
            yield Label("Refresh every (seconds)", classes="field-label")
            yield Input(value=str(s.console.refresh_seconds), id="refresh", type="number")
            with Horizontal(id="save-row"):
                yield Button("Save", variant="primary", id="save")
            yield Static("", id="result")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()

    def action_save(self) -> None:
        result = self.query_one("#result", Static)
        settings = self.app.services.settings
        network = str(self.query_one("#network-select", Select).value)
        rpc_url = self.query_one("#rpc-url", Input).value.strip() or None
        theme = str(self.query_one("#theme", Select).value)
        refresh_text = self.query_one("#refresh", Input).value.strip()
        try:
            refresh = float(refresh_text)
            if refresh <= 0:
                raise ValueError
        except ValueError:
            result.set_class(True, "-error")
            result.update(f"Refresh must be a number of seconds above 0, not {refresh_text!r}.")
            return
        try:
            # Validate the whole combination before writing anything.
            load_settings(settings.data_dir, network=network, rpc_url=rpc_url)
            write_setting(settings.data_dir, "network", network)
            if rpc_url:
                write_setting(settings.data_dir, "rpc_url", rpc_url)
            write_setting(settings.data_dir, "console.theme", theme)
            write_setting(settings.data_dir, "console.refresh_seconds", refresh)
        except (SettingsError, ValueError) as exc:
            result.set_class(True, "-error")
            result.update(str(exc))
            return
        self.app.theme = theme
        settings.console.theme = theme
        settings.console.refresh_seconds = refresh
        result.set_class(False, "-error")
        note = ""
        if network != settings.network.value or rpc_url != settings.rpc_url:
            note = f" The network change to {Network(network).value} takes effect at the next start."
        result.update("Saved to settings.toml." + note)
        self.app.log_event("info", f"settings saved (theme {theme}, refresh {refresh:g} s{', network ' + network if note else ''})")
