"""Settings screen saves what the user picks (and refuses bad values); the log panel records events;
the command palette reaches every screen."""

from __future__ import annotations

import tomllib

from textual.widgets import Input, Select, Static

from console.app import LivepeerConsole
from console.screens.settings.settings import SettingsScreen
from console.widgets.log_panel import LogPanel
from tests.console.pilot import SIZE



async def test_settings_saves_theme_and_refresh_and_refuses_bad_numbers(console_services):
    app = LivepeerConsole(console_services, poll=False)
    data_dir = console_services.settings.data_dir
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("comma")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        screen.query_one("#refresh", Input).value = "-3"
        await pilot.press("ctrl+s")
        result = screen.query_one("#result", Static)
        assert "above 0" in str(result.render())
        saved = (data_dir / "settings.toml").read_text() if (data_dir / "settings.toml").exists() else ""
        assert "refresh_seconds" not in saved  # nothing half-written

        screen.query_one("#refresh", Input).value = "2.5"
        screen.query_one("#theme", Select).value = "livepeer-light"
        await pilot.press("ctrl+s")
        await pilot.pause()
        values = tomllib.loads((data_dir / "settings.toml").read_text())
        assert values["console"] == {"theme": "livepeer-light", "refresh_seconds": 2.5}
        assert app.theme == "livepeer-light"
        assert any("settings saved" in e.text for e in app.console_log.entries)
    (data_dir / "settings.toml").unlink()


async def test_log_panel_toggles_and_shows_events(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        panel = app.screen.query_one(LogPanel)
        assert not panel.has_class("-visible")
        await pilot.press("l")
        assert panel.has_class("-visible")
        assert any("connected to DEVNET" in e.text for e in app.console_log.entries)


async def test_command_palette_lists_every_screen(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to Network" in titles and "Go to Settings" in titles
        [cmd] = [c for c in app.get_system_commands(app.screen) if c.title == "Go to Settings"]
        cmd.callback()
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)


def test_settings_snapshot_with_an_invalid_refresh(console_services, snap_compare):
    async def run_before(pilot):
        await pilot.app.workers.wait_for_complete()
        await pilot.press("comma")
        await pilot.pause()
        pilot.app.screen.query_one("#refresh", Input).value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
    settings_file = console_services.settings.data_dir / "settings.toml"
    assert not settings_file.exists() or "refresh_seconds" not in settings_file.read_text()
