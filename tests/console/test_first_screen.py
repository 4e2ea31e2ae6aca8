"""The first screen end to end on the seeded devnet: header (DEVNET, round, progress, account) and Network."""

from __future__ import annotations

from textual.widgets import DataTable, Input, ProgressBar, Static

from console.app import LivepeerConsole
from console.screens.network.network import NetworkScreen
from console.widgets.status_header import StatusHeader

SIZE = (150, 40)


async def _loaded(pilot) -> None:
    """Wait for the chain poll to finish and its results to be laid out (DataTable sizes its columns
    on a later refresh than the one that adds the rows)."""
    await pilot.app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def test_header_and_network_list_come_from_the_chain(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        header = app.screen.query_one(StatusHeader)
        assert str(header.query_one("#network", Static).render()) == "DEVNET"
        rnd = console_services.client.contract("RoundsManager").functions.currentRound().call()
        assert f"round {rnd}" in str(header.query_one("#round", Static).render())
        assert header.query_one(ProgressBar).progress > 0
        acct = console_services.account
        assert acct[:6] in str(header.query_one("#account", Static).render())

        table = app.screen.query_one(DataTable)
        bm = console_services.client.contract("BondingManager").functions
        assert table.row_count == bm.getTranscoderPoolSize().call()
        first = table.get_row_at(0)
        assert first[1] == bm.getFirstTranscoderInPool().call()


async def test_filter_narrows_and_reports_no_match(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        await pilot.press("slash")
        await pilot.press(*"atlas")
        screen = app.screen
        assert isinstance(screen, NetworkScreen)
        assert screen.query_one(DataTable).row_count == 1
        screen.query_one("#filter", Input).value = "no-such-orchestrator"
        await pilot.pause()
        assert screen.has_class("-empty")


async def test_rpc_outage_shows_a_stale_banner_and_keeps_the_data(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(pilot)
        rows = app.screen.query_one(DataTable).row_count
        console_services.client.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # nothing listens there
        app.refresh_chain()
        await _loaded(pilot)
        header = app.screen.query_one(StatusHeader)
        assert header.has_class("-stale")
        assert app.screen.query_one(DataTable).row_count == rows


def test_network_screen_snapshot(console_services, snap_compare):
    async def run_before(pilot):
        await _loaded(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
