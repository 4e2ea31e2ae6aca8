"""Every console screen: the status header on top, its body, the log panel and the footer."""

from __future__ import annotations

import string

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input

from console.widgets.log_panel import LogPanel
from console.widgets.nav_bar import NavBar
from console.widgets.status_header import StatusHeader


def _escape_chords() -> list[Binding]:
    """Escape and a key typed in quick succession can arrive as one Alt+key chord (tmux, by default,
    waits 500 ms after an Escape and sends the pair as Alt+key; Textual reads ESC + key as Alt+key
    too). In a text field that typed the letter and kept the cursor: the Escape was lost. These
    bindings give the chord back its two keys. System bindings: not actions, so not in the palette."""
    chords = [(f"alt+{c}", c) for c in string.ascii_lowercase + string.digits]
    chords += [(f"alt+shift+{c}", c.upper()) for c in string.ascii_lowercase]
    return [Binding(chord, f"escape_then({key!r})", show=False, priority=True, system=True,
                    id=f"screen.escape_then_{chord}") for chord, key in chords]


class ConsoleScreen(Screen):
    # No field takes the cursor on arrival: every screen key keeps working until the user picks a field.
    AUTO_FOCUS = ""  # "" turns auto-focus off (None would fall back to the app's "*")
    BINDINGS = [Binding("escape", "leave_field", "Leave field", show=False, id="screen.leave_field"),
                *_escape_chords()]

    def leave_field(self) -> bool:
        """Take the cursor out of a text field (so letters navigate again); False if none had it."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return True
        return False

    def action_leave_field(self) -> None:
        self.leave_field()

    async def action_escape_then(self, key: str) -> None:
        """Alt+key: what the user typed, Escape and then the key, each handled as if pressed alone (this
        screen's Escape runs first, so the key no longer goes to the field)."""
        escape = self.active_bindings.get("escape")
        if escape is not None:
            await escape.node.run_action(escape.binding.action)
        self.app.simulate_key(key)

    def compose(self) -> ComposeResult:
        svc = self.app.services
        yield StatusHeader(svc.profile.label, svc.profile.is_devnet, svc.account)
        yield NavBar(self.nav_key())
        yield from self.compose_body()
        panel = LogPanel(self.app.console_log)
        panel.set_class(self.app.log_visible, "-visible")
        yield panel
        yield Footer()

    def nav_key(self) -> str | None:
        """The key of this screen in the app's screen registry (for the nav bar highlight)."""
        for entry in getattr(self.app, "SCREENS_REGISTRY", ()):
            if entry.shows(self):
                return entry.key
        return None

    def compose_body(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        last = getattr(self.app, "last_round", None)
        if last is not None:
            self.query_one(StatusHeader).round_info = last
