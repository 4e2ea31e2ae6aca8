"""Bad tickets through /segment: each is refused (HTTP 400) with its own reason, counted by code in the
metrics, and credits nothing. A gateway without funds gets no ticket parameters at all."""

from __future__ import annotations

import grpc
import httpx
import pytest

from chain.devnet.accounts import dev_account
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from core.payments.sender import PaymentSession
from core.payments.tickets import HashSigner
from core.proto import net
from tests.payments.conftest import ETH, GATEWAY
from tests.payments.gateway import PayingGateway
from tests.payments.gateway import gateway_for

FACE = ETH // 10
PROFILES = COMMON_LADDER[:1]


@pytest.fixture(scope="module")
def clip() -> bytes:
    return make_segment(320, 180, 1.0)


@pytest.fixture
def node(onchain_node, dev):
    dev.to_next_round()
    return onchain_node(ticket_ev=FACE // 4, max_face_value=FACE)


def refused(response: httpx.Response, code: str, words: str, node) -> None:
    assert response.status_code == 400, response.text
    assert words in response.text
    metrics = httpx.get(f"http://{node[0].status().management}/metrics").text
    assert f'lpc_payment_refused_total{{code="{code}"' in metrics


def params_for(node, sender_account) -> PaymentSession:
    """Ticket parameters this node issued to `sender_account` (as a gateway that was funded when it asked)."""
    _, parts = node
    p = parts.payments
    view = p.state.view()
    sender = bytes.fromhex(sender_account.address[2:])
    price = p.prices.advertised(sender_account.address, p.params.unissued_overhead)  # before params exist
    issued = p.params.issue(sender, gas_price=view.gas_price, sender_max_float=FACE, l1_block=view.l1_block,
                            creation_round=view.last_initialized_round, creation_round_block_hash=view.round_block_hash,
                            price=price)
    info = net.OrchestratorInfo(transcoder=node[0].service_uri, address=p.address)
    info.auth_token.CopyFrom(gateway_for(node[0]).get_orchestrator().auth_token)  # tokens are not per sender
    info.ticket_params.CopyFrom(net.TicketParams(
        recipient=issued.recipient, face_value=issued.face_value.to_bytes(32, "big"),
        win_prob=issued.win_prob.to_bytes(32, "big"), recipient_rand_hash=issued.recipient_rand_hash,
        seed=issued.seed, expiration_block=issued.expiration_block.to_bytes(32, "big"),
        expiration_params=net.TicketExpirationParams(creation_round=issued.creation_round,
                                                     creation_round_block_hash=issued.creation_round_block_hash)))
    info.price_info.CopyFrom(net.PriceInfo(pricePerUnit=price.numerator, pixelsPerUnit=price.denominator))
    return PaymentSession(info)


def test_a_replayed_ticket_is_refused(node, clip):
    gw = gateway_for(node[0])
    session = gw.session()
    payment = gw.sender.payment(session, 4)
    assert gw.post(session, clip, PROFILES, payment=payment).status_code == 200
    refused(gw.post(session, clip, PROFILES, payment=payment, seq=1), "nonce_replayed",
            "invalid ticket senderNonce 1", node)


def test_a_forged_signature_is_refused(node, clip):
    gw = gateway_for(node[0])
    session = gw.session()
    real = gw.sender.signer
    gw.sender.signer = HashSigner(bytes(dev_account(GATEWAY + 1).key))  # signs, but not as the sender
    payment = gw.sender.payment(session, 1)
    payment.sender = real.address
    gw.sender.signer = real
    refused(gw.post(session, clip, PROFILES, payment=payment), "bad_signature", "invalid ticket signature", node)


def test_altered_ticket_params_are_refused(node, clip):
    gw = gateway_for(node[0])
    session = gw.session()
    session.info.ticket_params.face_value = (10 * FACE).to_bytes(32, "big")  # a bigger prize than offered
    refused(gw.post(session, clip, PROFILES, payment=gw.sender.payment(session, 1)), "bad_recipient_rand",
            "invalid recipientRand for recipientRandHash", node)


def test_expired_ticket_params_are_refused(node, clip, dev):
    gw = gateway_for(node[0])
    session = gw.session()
    dev.mine(node[1].payments.params.expiration + 1)
    node[1].payments.state.refresh()
    refused(gw.post(session, clip, PROFILES, payment=gw.sender.payment(session, 1)), "params_expired",
            "TicketParams expired", node)


def test_a_ticket_for_another_orchestrator_is_refused(node, clip):
    gw = gateway_for(node[0])
    session = gw.session()
    session.info.ticket_params.recipient = bytes.fromhex(dev_account(2).address[2:])
    refused(gw.post(session, clip, PROFILES, payment=gw.sender.payment(session, 1)), "wrong_recipient",
            "invalid ticket recipient", node)


def test_an_unfunded_sender_is_refused(node, clip):
    broke = dev_account(53)  # no deposit, no reserve
    gw = PayingGateway("127.0.0.1", int(node[0].status().listening.rsplit(":", 1)[1]), broke)
    with pytest.raises(grpc.RpcError) as exc:
        gw.get_orchestrator()
    assert "insufficient sender reserve" in exc.value.details() and "max float 0 wei" in exc.value.details()
    session = params_for(node, broke)  # parameters it may hold from before it emptied its deposit
    refused(gw.post(session, clip, PROFILES, payment=gw.sender.payment(session, 1)), "unfunded",
            "has no deposit and no reserve", node)


def test_an_unlocked_sender_is_refused(node, clip, dev):
    gw_account = dev_account(GATEWAY + 2)
    dev.send(dev.c("TicketBroker").functions.unlock(), gw_account.address)
    dev.to_next_round()  # withdraw round = unlock round + 2 ≤ current round + 1
    node[1].payments.state.refresh()
    gw = PayingGateway("127.0.0.1", int(node[0].status().listening.rsplit(":", 1)[1]), gw_account)
    session = params_for(node, gw_account)
    refused(gw.post(session, clip, PROFILES, payment=gw.sender.payment(session, 1)), "sender_unlocked",
            "is unlocked", node)


def test_an_unsigned_segment_and_a_missing_payment_are_refused(node, clip):
    gw = gateway_for(node[0])
    session = gw.session()
    r = gw.post(session, clip, PROFILES, sign=False)
    assert r.status_code == 403 and "Segment sig check failed" in r.text
    empty = net.Payment(sender=gw.sender.address)
    r = gw.post(session, clip, PROFILES, payment=empty)
    assert r.status_code == 400 and "Insufficient balance" in r.text
