"""The Earnings screen: for the orchestrator account, per round — the reward its autopilot called (LPT
minted, kept as commission, passed to delegators), the fees its redeemed ticket brought (in the round the
redemption was mined, whose pool they entered — not the round the ticket was won), the gas both cost and the
net — agree with the chain's events and the node's ledger."""

from __future__ import annotations

from textual.widgets import DataTable

from chain.amounts import format_lpt
from console.app import LivepeerConsole
from console.screens.earnings.earnings import EarningsScreen
from console.screens.tickets.ledger_view import eth
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from tests.chain.seeded import Dev
from tests.console.onchain_node import FACE, gateway_for, onchain_factory
from tests.console.pilot import SIZE, settle, wait_until


def _lpt(wei: int) -> str:
    return format_lpt(wei, 4).removesuffix(" LPT")


async def test_a_round_with_a_reward_call_and_a_redeemed_ticket(signing_services, tmp_path):
    svc = signing_services
    dev = Dev(svc.client)
    rnd = dev.to_next_round()
    svc.node_factory = onchain_factory(svc, tmp_path, reward=True)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k", "x")
        await settle(pilot)
        parts = svc.node_parts
        called = await wait_until(pilot, lambda: next((r for r in parts.autopilot.history()
                                                       if r.round == rnd and r.status == "called"), None),
                                  "the autopilot's reward call")
        gw = gateway_for(svc)
        try:
            gw.transcode(gw.session(), make_segment(320, 180, 1.0), COMMON_LADDER[:1])
        finally:
            gw.close()
        # the ticket of round rnd is redeemed in the next round: its fees belong to that round's pool
        nxt = dev.to_next_round()
        called2 = await wait_until(pilot, lambda: next((r for r in parts.autopilot.history()
                                                        if r.round == nxt and r.status == "called"), None),
                                   "the next round's reward call")
        dev.mine(parts.payments.params.expiration + 1)
        await wait_until(pilot, lambda: [e.status for e in parts.ledger.entries()] == ["redeemed"], "the redemption")
        ticket = parts.ledger.entries()[0]
        rm = svc.client.contract("RoundsManager").functions
        assert ticket.creation_round == rnd
        assert ticket.redeemed_round == nxt == rm.currentRound().call(block_identifier=ticket.block_number)
        await pilot.press("m")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EarningsScreen)
        table = screen.query_one("#rounds", DataTable)
        bm = svc.client.contract("BondingManager")
        cut = bm.functions.getTranscoder(svc.account).call()[1]
        rewards = [ev for ev in bm.events.Reward().get_logs(from_block=0) if ev.args.transcoder == svc.account]
        later, earlier = rewards[-1].args.amount, rewards[-2].args.amount
        rows = [[str(c) for c in table.get_row_at(i)] for i in (0, 1)]
        gas = called2.fee_wei + ticket.fee_wei
        kept = later * cut // 1_000_000
        assert rows[0] == [str(nxt), "✓ autopilot", _lpt(later), _lpt(kept), _lpt(later - kept),
                           eth(FACE), eth(gas, 8), eth(FACE - gas)]
        kept = earlier * cut // 1_000_000
        assert rows[1] == [str(rnd), "✓ autopilot", _lpt(earlier), _lpt(kept), _lpt(earlier - kept),
                           eth(0), eth(called.fee_wei, 8), eth(-called.fee_wei)]


def test_earnings_snapshot_node_stopped(console_services, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
