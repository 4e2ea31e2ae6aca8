"""Keys as a user meets them: one meaning per key across the whole console, no screen key that a text
field swallows, and every key of every screen also reachable from the command palette (Ctrl+P)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from textual.actions import parse as parse_action
from textual.widgets import Input, TabbedContent

from console.app import SCREENS, LivepeerConsole
from console.screen_actions import screen_bindings
from console.screens.network.network import NetworkScreen
from tests.console.pilot import SIZE, settle

# Keys bound on several screens to different actions that still mean one thing to the user.
ONE_MEANING = {
    "escape": "leave the field (or clear what the screen filtered)",
    "r": "refresh what the screen shows",
    "ctrl+s": "send the screen's form",
}
FORM_KEYS = set("123456789")  # digits open the screen's Nth form, on every screen that has forms


def _keys(binding) -> list[str]:
    return [k.strip() for k in binding.key.split(",")]


def _all_bindings():
    """(where, binding) for the app and every screen of the registry."""
    for b in LivepeerConsole.BINDINGS:
        yield "app", b
    for entry in SCREENS:
        for b in screen_bindings(entry.factory):
            yield entry.name, b


def test_one_meaning_per_key():
    """A key does the same thing wherever it works (Overview's `a` was Call reward, Governance's `a` is
    Vote against; Call reward was `a` on Overview and `R` on Rewards), and a screen never takes over a key
    of the app (Governance's poll votes were y/x — Deposit and the node toggle elsewhere)."""
    meanings: dict[str, set[tuple[str, str]]] = defaultdict(set)
    where: dict[str, set[str]] = defaultdict(set)
    for place, b in _all_bindings():
        assert b.id, f"{place}: binding {b.key!r} has no id"
        for key in _keys(b):
            meanings[key].add((b.action, b.description))
            where[key].add(place)
    app_keys = {k for b in LivepeerConsole.BINDINGS for k in _keys(b)}
    for key, found in meanings.items():
        places = sorted(where[key])
        if key in ONE_MEANING:
            continue
        if key in FORM_KEYS:
            assert {parse_action(action)[1] for action, _ in found} == {"form"}, f"{key!r}: {found} on {places}"
            continue
        assert len(found) == 1, f"{key!r} means {sorted(found)} on {places}"
        if key in app_keys:
            assert places == ["app"], f"{key!r} is an app key and also bound on {places}"
    assert {d for a, d in meanings["r"]} == {"Refresh"}


def test_every_footer_shows_refresh():
    """r refreshes on every screen, so every footer says so (seven screens bound it hidden)."""
    app_refresh = next(b for b in LivepeerConsole.BINDINGS if b.key == "r")
    for entry in SCREENS:
        r = next((b for b in screen_bindings(entry.factory) if "r" in _keys(b)), app_refresh)
        assert r.show, f"{entry.name}: r ({r.description}) is not in the footer"


def test_no_screen_key_is_one_a_text_field_takes():
    """A ctrl key of a screen must still work while the user types in one of its fields: Pricing's
    auto-adjust was ctrl+a, which a field takes as "start of line"."""
    field_keys = {k for b in Input.BINDINGS for k in _keys(b)}
    for place, b in _all_bindings():
        for key in _keys(b):
            assert key not in field_keys, f"{place}: {key!r} ({b.description}) is taken by a text field"


@pytest.mark.usefixtures("unreachable_peers")  # it opens Pricing, which probes the seeded pool
async def test_every_screen_key_is_in_the_palette(console_services):
    """On every screen, the palette lists each of its keys' actions as "<screen>: <action>"."""
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for entry in SCREENS:
            app.action_show(entry.key)
            await pilot.pause()
            assert isinstance(app.screen, entry.factory)
            titles = {c.title for c in app.get_system_commands(app.screen)}
            if entry.key == "governance":  # poll votes are offered on the polls tab, proposal votes elsewhere
                app.screen.query_one("#tabs", TabbedContent).active = "tab-polls"
                await pilot.pause()
                titles |= {c.title for c in app.get_system_commands(app.screen)}
            for b in screen_bindings(entry.factory):
                assert f"{entry.name}: {b.description}" in titles, f"{entry.name}: {b.key!r} not in the palette"
        await settle(pilot)


async def test_a_screen_action_runs_from_the_palette(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NetworkScreen) and screen.sort_key == "rank"
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Network: Sort")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.sort_key == "stake"  # what S does: rank → stake



async def test_question_mark_shows_and_hides_every_key_of_the_screen(console_services):
    """? opens the key panel: the screen's own keys and the app's are listed beside the screen."""
    from rich.console import Console
    from textual.widgets import HelpPanel
    from textual.widgets._key_panel import BindingsTable

    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        console = Console(width=200, record=True, color_system=None)
        for table in app.screen.query_one(HelpPanel).query(BindingsTable):
            console.print(table.render_bindings_table())
        listed = console.export_text()
        assert "S Sort" in listed and "d Delegate to this" in listed  # Network's keys
        assert "v Gov" in listed and "? Keys" in listed  # the app's
        assert isinstance(app.screen, NetworkScreen)
        await pilot.press("question_mark")
        await settle(pilot)
        assert not app.screen.query(HelpPanel)


async def test_escape_and_a_key_typed_fast_still_leave_the_field_and_navigate(console_services):
    """Escape then `v` typed quickly reaches the console as Alt+v (tmux sends the pair as one chord):
    on Orchestrator settings with the reward cut field focused, it leaves the field and opens
    Governance — before, the letter was typed into the field and the cursor stayed there."""
    from console.screens.governance.governance import GovernanceScreen
    from console.screens.orchestrator.orchestrator import OrchestratorScreen

    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, OrchestratorScreen)
        field = app.screen.query_one("#reward-cut", Input)
        field.focus()
        await pilot.press("1", "2")
        await settle(pilot)
        assert field.value == "12"
        await pilot.press("alt+v")
        await settle(pilot)
        assert isinstance(app.screen, GovernanceScreen) and field.value == "12"

        await pilot.press("n")  # a screen key with Shift: Escape then S sorts Network
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NetworkScreen) and screen.sort_key == "rank"
        await pilot.press("slash", "a")  # in the filter field
        await pilot.press("alt+shift+s")
        await settle(pilot)
        assert screen.sort_key == "stake" and not isinstance(screen.focused, Input)
