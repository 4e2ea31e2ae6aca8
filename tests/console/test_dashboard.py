"""The Dashboard: an orchestrator's console opens on it; started from it, the on-chain node shows as
running and its reward autopilot's call for the round shows as called by the autopilot, with the LPT
minted; stopped, it says so."""

from __future__ import annotations

from textual.widgets import Static

from console.app import LivepeerConsole
from console.screens.dashboard.dashboard import DashboardScreen
from console.screens.overview.overview import OverviewScreen
from tests.chain.seeded import Dev
from tests.console.onchain_node import onchain_factory
from tests.console.pilot import SIZE, plain_text, settle, wait_until


async def test_an_orchestrator_console_opens_on_the_dashboard_and_shows_node_and_reward(signing_services, tmp_path):
    svc = signing_services
    svc.opens_on_dashboard = True
    dev = Dev(svc.client)
    rnd = dev.to_next_round()
    svc.node_factory = onchain_factory(svc, tmp_path, reward=True)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert "Node stopped" in plain_text(screen.query_one("#verdict", Static), width=150)
        assert "not called yet" in plain_text(screen.query_one("#reward-panel", Static), width=150)
        await pilot.press("x")
        await settle(pilot)
        assert svc.node.status().running
        parts = svc.node_parts
        await wait_until(pilot, lambda: any(r.round == rnd and r.status == "called" for r in parts.autopilot.history()),
                         "the autopilot's reward call")
        screen.reload()
        await settle(pilot)
        screen._poll_node()
        node = plain_text(screen.query_one("#node-panel", Static), width=150)
        assert "running · on-chain" in node and "0 of 4 in use" in node
        reward = plain_text(screen.query_one("#reward-panel", Static), width=150)
        assert f"round     {rnd}" in reward and "✓ called by the autopilot" in reward
        minted = svc.client.contract("BondingManager").events.Reward().get_logs(from_block=0)[-1].args.amount
        from chain.amounts import format_lpt

        assert format_lpt(minted, 4) in reward
        assert "Healthy and earning" in plain_text(screen.query_one("#verdict", Static), width=150)
        earnings = plain_text(screen.query_one("#earnings-panel", Static), width=150)
        assert "won 0 tickets" in earnings
        await pilot.press("x")
        await settle(pilot)
        assert svc.node is None


async def test_other_accounts_open_on_the_overview(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


def test_dashboard_snapshot_node_stopped(console_services, snap_compare):
    console_services.opens_on_dashboard = True

    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
