"""A screen's own actions in the command palette: every key binding a console screen declares (on its
class or a console base such as the node toggle) is also a palette entry, titled "<screen>: <what it
does>" with the key in its help, and choosing it runs exactly what the key runs."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from textual.actions import parse as parse_action
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from console.screens.base import ConsoleScreen


def screen_bindings(screen_class: type[Screen]) -> list[Binding]:
    """The bindings a console screen class answers to, one per key: a subclass's binding of a key
    replaces its base's (as Textual merges them). Textual's own screen keys (tab, shift+tab) are left
    out: they move focus, they are not actions of the screen; so are system bindings (the Escape+key
    chords of ConsoleScreen)."""
    by_key: dict[str, Binding] = {}
    for base in reversed(screen_class.__mro__):
        if not (isinstance(base, type) and issubclass(base, ConsoleScreen)):
            continue
        for binding in base.__dict__.get("BINDINGS", ()):
            binding = binding if isinstance(binding, Binding) else Binding(*binding)
            if binding.system:
                continue
            for key in binding.key.split(","):
                by_key[key.strip()] = binding
    unique: dict[int, Binding] = {}
    for binding in by_key.values():
        unique.setdefault(id(binding), binding)
    return list(unique.values())


def screen_action_commands(screen: Screen, screen_name: str) -> Iterator[SystemCommand]:
    """Palette entries for the actions `screen` offers right now (an action the screen disables in its
    current state — e.g. a poll vote while the proposals tab is open — is left out, as in its footer)."""
    for binding in screen_bindings(type(screen)):
        _, name, params = parse_action(binding.action)
        if not screen.check_action(name, params):
            continue
        key = screen.app.get_key_display(binding)
        yield SystemCommand(f"{screen_name}: {binding.description}", f"key {key} on {screen_name}",
                            partial(screen.run_action, binding.action))
