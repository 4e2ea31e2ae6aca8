"""The console's early settings (console/quick_settings.py): taken without the settings model only for
inputs the model accepted before, so a bad value is still refused before anything starts. Real files in
a real data dir and the real model; `lpc` itself is run in tests/console/test_first_paint_imports.py and
tests/core/test_startup_refusals.py."""

from __future__ import annotations

import click
import pytest

from console.context import CliContext
from console.quick_settings import CHECKED_FILE, early_settings, remember


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    for key in list(__import__("os").environ):
        if key.upper().startswith("LPC_"):
            monkeypatch.delenv(key)
    (tmp_path / "settings.toml").write_text('account = "0xabc"\n\n[devnet]\nport = 8600\nblock_time = 0\n\n'
                                            '[console]\ntheme = "livepeer-light"\n')
    return tmp_path


def _start(data_dir, **flags):
    """What `lpc` does first: the early settings for one start, and whether the model was loaded for them."""
    ctx = CliContext(data_dir=str(data_dir), **flags)
    early = early_settings(ctx)
    return early, ctx.loaded_settings is not None


def test_a_start_after_an_accepted_one_takes_the_models_values_without_it(data_dir):
    first, loaded = _start(data_dir)
    assert loaded and not first.checked_before
    assert not (data_dir / CHECKED_FILE).exists()  # nothing kept before the start went through
    remember(first)

    again, loaded = _start(data_dir)
    assert not loaded and again.checked_before
    assert (again.network, again.account, again.devnet_port, again.devnet_block_time, again.theme) == \
        ("devnet", "0xabc", 8600, 0.0, "livepeer-light")
    assert again.devnet_orchestrators == first.devnet_orchestrators == 12  # the model's default
    assert again.rpc_url is None


def test_an_edited_settings_file_is_checked_again_and_a_bad_value_refused(data_dir):
    remember(_start(data_dir)[0])
    path = data_dir / "settings.toml"
    path.write_text(path.read_text() + '\n[node]\nmax_sessions = "lots"\n')  # not read before the first frame
    with pytest.raises(click.ClickException, match="max_sessions must be a number or 'auto'"):
        _start(data_dir)


def test_a_changed_variable_or_flag_is_checked_again(data_dir, monkeypatch):
    remember(_start(data_dir)[0])
    monkeypatch.setenv("LPC_DEVNET__PORT", "8700")
    early, loaded = _start(data_dir)
    assert loaded and early.devnet_port == 8700
    monkeypatch.setenv("LPC_DEVNET__PORT", "0")
    with pytest.raises(click.ClickException, match="devnet.port"):
        _start(data_dir)
    monkeypatch.delenv("LPC_DEVNET__PORT")
    _early, loaded = _start(data_dir, network="arbitrum-one")
    assert loaded


def test_the_rpc_url_is_not_kept_on_disk(data_dir, monkeypatch):
    secret = "https://arb.example/v2/key-0123456789"
    monkeypatch.setenv("LPC_RPC_URL", secret)
    remember(_start(data_dir)[0])
    assert "key-0123456789" not in (data_dir / CHECKED_FILE).read_text()
    early, loaded = _start(data_dir)
    assert not loaded and early.rpc_url == secret


async def test_settings_the_model_refuses_after_the_first_frame_end_the_console_with_the_reason(console_services):
    """settings.toml edited between lpc's check and the model's load right after the first frame: the
    console ends with the model's reason (console/launch.py raises it: lpc prints one 'Error: …' line)."""
    from console.app import LivepeerConsole
    from tests.console.pilot import SIZE

    reason = "invalid settings (node.max_sessions: max_sessions must be a number or 'auto')"

    def refused():
        raise click.ClickException(reason)

    good = console_services.settings
    console_services.settings = None  # not loaded yet: the launcher's case
    console_services.settings_loader = refused
    console_services.theme = good.console.theme
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code == 1 and app.refusal == reason
