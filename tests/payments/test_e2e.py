"""End to end on the seeded devnet: a funded gateway pays orchestrator #1 for transcoded segments through
/segment; its winning tickets are stored before the gateway hears back, redeemed on chain once their
parameters expire, and the orchestrator's and its delegator's pending fees rise exactly as
protocol.md §3.4 says."""

from __future__ import annotations

from fractions import Fraction

import httpx

from chain import protocol_math as pm
from chain.devnet.accounts import dev_account
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from core.payments.tickets import MAX_UINT256, from_be
from tests.payments.conftest import FACE, GATEWAY, ORCH
from tests.payments.gateway import gateway_for
from tests.waiting import wait_for

def expected_pending_fees(dev, addr: str, orch: str, fees: list[int]) -> tuple[int, int]:
    """(pendingFees now, pendingFees after booking `fees` one by one in the current round), from the
    chain's stored factors and protocol_math (§3.4, §3.5) — the contract's own pendingFees is not used."""
    bm = dev.c("BondingManager").functions
    rnd = dev.round()
    d = bm.getDelegator(addr).call()
    bonded, claimed, last_claim = d[0], d[1], d[5]
    t = bm.getTranscoder(orch).call()
    pool = bm.getTranscoderEarningsPoolForRound(orch, rnd).call()
    prev = bm.getTranscoderEarningsPoolForRound(orch, rnd - 1).call()
    prev_crf, prev_cff = prev[3], prev[4]  # the latest factors before this round (§3.4 "CRF_prev")
    if prev_cff == 0 and t[9] < rnd - 1:
        prev_cff = bm.getTranscoderEarningsPoolForRound(orch, t[9]).call()[4]
    start = bm.getTranscoderEarningsPoolForRound(orch, last_claim).call()
    total_stake, fee_share, crf, cff = pool[0], pool[2], pool[3], pool[4]
    cum_fees, active_cum_rewards, last_fee_round = t[8], t[6], t[9]
    own = addr == orch
    end_cff = cff if cff else bm.getTranscoderEarningsPoolForRound(orch, last_fee_round).call()[4]
    before = pm.pending_fees(claimed, bonded, start[4], end_cff, start[3], cum_fees if own else 0)
    for f in fees:
        split = pm.fee_split(fees=f, fee_share=fee_share, total_stake=total_stake, current_cff=cff,
                             prev_cff=prev_cff, prev_crf=prev_crf, active_cumulative_rewards=active_cum_rewards)
        cff = split.fee_factor
        cum_fees += split.cumulative_fees_delta
    assert crf, "the orchestrator called reward this round"
    after = pm.pending_fees(claimed, bonded, start[4], cff, start[3], cum_fees if own else 0)
    return before, after


def test_gateway_pays_for_segments_and_winning_tickets_are_redeemed(onchain_node, dev, client):
    orch = dev_account(ORCH).address
    delegator = dev_account(20).address  # seeded delegator 0, bonded to orchestrator #1
    dev.to_next_round()
    dev.send(dev.c("BondingManager").functions.reward(), orch)
    node, parts = onchain_node(ticket_ev=FACE, max_face_value=FACE, price_per_unit=2, pixels_per_unit=1)
    gw = gateway_for(node)
    session = gw.session()
    tp = session.info.ticket_params
    assert session.info.address == bytes.fromhex(orch[2:])
    assert from_be(tp.face_value) == FACE and from_be(tp.win_prob) == MAX_UINT256
    # auto-adjusted price: base × (1 + redemption cost ÷ face value); the capped face value makes it > 1 %
    gas_price = parts.payments.state.view().gas_price
    offered = Fraction(session.info.price_info.pricePerUnit, session.info.price_info.pixelsPerUnit)
    assert offered == 2 * (1 + Fraction(1_200_000 * gas_price, FACE))
    bm = dev.c("BondingManager").functions
    fees_before = {a: bm.pendingFees(a, 0).call() for a in (orch, delegator)}
    expected = {a: expected_pending_fees(dev, a, orch, [FACE, FACE]) for a in (orch, delegator)}
    assert all(fees_before[a] == expected[a][0] for a in fees_before)

    clip = make_segment(320, 180, 1.0)
    for seq in range(2):
        result = gw.transcode(session, clip, COMMON_LADDER[:1], seq=seq)
        assert len(result.data.sig) == 65  # signed with the orchestrator's key
    stored = parts.ledger.entries()
    assert len(stored) == 2 and {e.status for e in stored} == {"pending"}  # written before the 200
    assert len({e.ticket_hash for e in stored}) == 2  # each result refreshed the params: nonces restart at 1

    dev.mine(parts.payments.params.expiration + 1)
    wait_for(lambda: all(e.status == "redeemed" for e in parts.ledger.entries()),
             what=lambda: f"both redemptions: {[(e.status, e.last_error) for e in parts.ledger.entries()]}")
    for e in parts.ledger.entries():
        assert e.paid_wei == FACE and e.tx_hash and e.gas_used
    tb = dev.c("TicketBroker")
    events = tb.events.WinningTicketRedeemed().get_logs(from_block=0, argument_filters={"recipient": orch})
    ours = [ev for ev in events if ev.args.sender == dev_account(GATEWAY).address and ev.args.faceValue == FACE]
    assert len(ours) == 2
    for a in (orch, delegator):
        assert bm.pendingFees(a, 0).call() == expected[a][1]
    assert bm.pendingFees(orch, 0).call() > fees_before[orch] and bm.pendingFees(delegator, 0).call() > fees_before[delegator]

    # the management API shows the ledger
    mgmt = node.status().management
    body = httpx.get(f"http://{mgmt}/tickets").json()
    assert body["summary"]["counts"] == {"redeemed": 2} and body["summary"]["paid_wei"] == str(2 * FACE)
    metrics = httpx.get(f"http://{mgmt}/metrics").text
    assert "livepeer_winning_tickets_recv_total" in metrics and "livepeer_value_redeemed_total" in metrics
    gw.close()
