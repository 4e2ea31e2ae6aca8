"""Tickets received per gateway and round are kept across a restart (the Prometheus counters, like
go-livepeer's, start from zero): what a gateway paid is still shown after the node comes back."""

from __future__ import annotations

from fractions import Fraction

import httpx

from chain.devnet.accounts import dev_account
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from core.payments.tickets import from_be
from tests.payments.conftest import GATEWAY
from tests.payments.conftest import FACE
from tests.payments.gateway import gateway_for


def test_received_tickets_survive_a_restart(onchain_node, dev, tmp_path):
    dev.to_next_round()
    node, parts = onchain_node(ticket_ev=FACE // 1000, max_face_value=FACE, price_per_unit=1000,
                               store_dir=tmp_path / "kept")
    gw = gateway_for(node)
    session = gw.session()
    clip = make_segment(320, 180, 1.0)
    for seq in range(2):
        gw.transcode(session, clip, COMMON_LADDER[:1], seq=seq)
    gw.close()
    live = parts.receipts.totals()[dev_account(GATEWAY).address]
    assert live.tickets >= 2 and live.ev_wei > 0
    rnd = parts.payments.state.view().round
    face, prob = from_be(session.info.ticket_params.face_value), from_be(session.info.ticket_params.win_prob)
    ev = Fraction(face * prob, 2**256) * live.tickets
    tickets = live.tickets
    assert live.ev_wei == int(ev)  # every ticket is worth face × winProb ÷ 2^256 (same params each segment)

    node.stop()
    for s in node.services:
        s.stop()  # flushes
    parts.store.close()
    again, parts2 = onchain_node(ticket_ev=FACE // 1000, max_face_value=FACE, price_per_unit=1000,
                                 store_dir=tmp_path / "kept")
    kept = parts2.receipts.totals()[dev_account(GATEWAY).address]
    assert (kept.tickets, kept.ev_wei) == (tickets, int(ev))
    shown = httpx.get(f"http://{again.status().management}/tickets").json()["received"]
    assert shown[dev_account(GATEWAY).address] == {"tickets": tickets, "ev_wei": str(int(ev)), "winners": kept.winners}
    assert parts2.receipts.totals(since_round=rnd + 1) == {}
