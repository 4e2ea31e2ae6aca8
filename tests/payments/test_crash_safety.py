"""A winning ticket survives a kill -9 at any moment and is redeemed exactly once.

- `lpc node` (a real process, on chain on the devnet) is SIGKILLed after a winning ticket was stored and
  before it could be redeemed; restarted, it redeems it once.
- the windows inside a redemption (signed transaction stored but not broadcast; broadcast but receipt
  not seen) are recreated in the ledger and a fresh worker (a restarted node) settles them without a
  second transaction.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest

from chain.devnet.accounts import dev_account
from chain.devnet.anvil import free_port
from chain.services.payment_ports import BrokerClient
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from core.payments.ledger import TicketLedger
from core.payments.redeemer import RedeemerConfig, RedemptionWorker
from core.store import open_store
from tests.payments.conftest import FACE, GATEWAY, ORCH
from tests.payments.gateway import PayingGateway, stored_winning_ticket
from tests.waiting import wait_for



def _start_node(data_dir, service_port: int, mgmt_port: int, log) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), "node", "--orchestrator", "--transcoder",
           "--onchain", "--dev-account", str(ORCH), "--service-addr", f"127.0.0.1:{service_port}",
           "--http-addr", f"127.0.0.1:{service_port}", "--cli-addr", f"127.0.0.1:{mgmt_port}", "--encoder", "x264",
           "--x264-preset", "ultrafast", "--max-sessions", "2", "--ticket-ev", str(FACE),
           "--max-face-value", str(FACE), "--no-reward", "--block-polling-interval", "0.1", "--price-per-unit", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"lpc node exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{mgmt_port}/status", timeout=1).json()["running"]:
                return proc
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("lpc node did not come up")


@pytest.fixture
def node_data_dir(devnet_dir, tmp_path):
    """A fresh data dir that points at the running devnet (its own database)."""
    d = tmp_path / "data"
    (d / "devnet").mkdir(parents=True)
    shutil.copy(devnet_dir[0] / "devnet" / "devnet.json", d / "devnet" / "devnet.json")
    return d


def test_sigkill_between_storing_and_redeeming_loses_nothing_and_redeems_once(node_data_dir, dev, tmp_path):
    orch = dev_account(ORCH).address
    dev.to_next_round()
    service, mgmt = free_port(), free_port()
    with open(tmp_path / "node.log", "ab") as log:
        proc = _start_node(node_data_dir, service, mgmt, log)
        try:
            gw = PayingGateway("127.0.0.1", service, dev_account(GATEWAY))
            session = gw.session()
            gw.transcode(session, make_segment(320, 180, 1.0), COMMON_LADDER[:1])
            gw.close()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        store = open_store(node_data_dir)
        ledger = TicketLedger(store)
        (entry,) = ledger.entries()
        assert entry.status == "pending"  # stored before the gateway got its 200; not redeemable yet
        assert not dev.c("TicketBroker").functions.usedTickets(entry.ticket.hash()).call()

        proc = _start_node(node_data_dir, service, mgmt, log)
        try:
            dev.mine(11)  # past the parameters' expiration (10 blocks on the devnet's 20-block rounds)
            wait_for(lambda: ledger.get(entry.id).status == "redeemed",
                     what=lambda: f"redemption: {ledger.get(entry.id)}")
            tickets = httpx.get(f"http://127.0.0.1:{mgmt}/tickets").json()
            assert tickets["summary"]["counts"] == {"redeemed": 1}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    assert dev.c("TicketBroker").functions.usedTickets(entry.ticket.hash()).call()
    events = dev.c("TicketBroker").events.WinningTicketRedeemed().get_logs(
        from_block=0, argument_filters={"recipient": orch, "sender": dev_account(GATEWAY).address})
    assert [e.args.recipientRand for e in events if e.args.faceValue == FACE] == [entry.recipient_rand]
    assert ledger.get(entry.id).paid_wei == FACE
    store.close()


# ------------------------------------------------------------------ the windows inside a redemption


def settle(worker: RedemptionWorker, ledger: TicketLedger, entry_id: int) -> str:
    """Run passes (as the node does on each block) until the ticket is settled."""
    for _ in range(100):
        worker.tick()
        status = ledger.get(entry_id).status
        if status in ("redeemed", "failed"):
            return status
        time.sleep(0.02)
    return ledger.get(entry_id).status


def _redemptions(dev, rand: int) -> int:
    events = dev.c("TicketBroker").events.WinningTicketRedeemed().get_logs(
        from_block=0, argument_filters={"recipient": dev_account(ORCH).address})
    return sum(1 for e in events if e.args.recipientRand == rand)


@pytest.fixture
def broker_and_ledger(client, dev, tmp_path):
    dev.to_next_round()
    store = open_store(tmp_path)
    yield BrokerClient(client, dev_account(ORCH)), TicketLedger(store)
    store.close()


def test_restart_after_the_signed_redemption_was_stored_but_not_broadcast(broker_and_ledger, dev):
    broker, ledger = broker_and_ledger
    entry = stored_winning_ticket(dev, ledger)
    dev.mine(2)
    view = broker.view()
    args = (entry.ticket.abi_tuple(), entry.sig, entry.recipient_rand)
    ledger.mark_submitting(entry.id)
    signed = broker.sign_redeem(*args, gas=broker.redeem_gas(*args) * 2, gas_price=view.gas_price)
    ledger.record_signed(entry.id, signed.tx_hash, signed.raw)
    # ... the process dies here: nothing was broadcast. A restarted node:
    worker = RedemptionWorker(ledger, broker, RedeemerConfig(backoff_base_s=0))
    assert settle(worker, ledger, entry.id) == "redeemed"  # re-broadcast the same transaction, then its receipt
    done = ledger.get(entry.id)
    assert done.status == "redeemed" and done.tx_hash == signed.tx_hash and done.paid_wei == FACE
    assert _redemptions(dev, entry.recipient_rand) == 1
    worker.tick()
    assert _redemptions(dev, entry.recipient_rand) == 1


def test_restart_after_broadcast_settles_from_the_receipt_without_a_second_transaction(broker_and_ledger, dev):
    broker, ledger = broker_and_ledger
    entry = stored_winning_ticket(dev, ledger, nonce=2)
    dev.mine(2)
    args = (entry.ticket.abi_tuple(), entry.sig, entry.recipient_rand)
    ledger.mark_submitting(entry.id)
    signed = broker.sign_redeem(*args, gas=broker.redeem_gas(*args) * 2, gas_price=broker.view().gas_price)
    ledger.record_signed(entry.id, signed.tx_hash, signed.raw)
    broker.broadcast(signed.raw)  # mined (automine); the process dies before it saw the receipt
    dev.w3.eth.wait_for_transaction_receipt(signed.tx_hash)
    nonce_after = dev.w3.eth.get_transaction_count(broker.address)
    assert settle(RedemptionWorker(ledger, broker, RedeemerConfig(backoff_base_s=0)), ledger, entry.id) == "redeemed"
    assert dev.w3.eth.get_transaction_count(broker.address) == nonce_after  # nothing else was sent
    assert _redemptions(dev, entry.recipient_rand) == 1


def test_restart_while_submitting_goes_back_to_pending_and_redeems_once(broker_and_ledger, dev):
    broker, ledger = broker_and_ledger
    entry = stored_winning_ticket(dev, ledger, nonce=3)
    ledger.mark_submitting(entry.id)  # died before signing
    dev.mine(2)
    worker = RedemptionWorker(ledger, broker, RedeemerConfig(backoff_base_s=0))
    worker.tick()
    assert ledger.get(entry.id).status == "pending"
    assert settle(worker, ledger, entry.id) == "redeemed"
    assert _redemptions(dev, entry.recipient_rand) == 1
    assert json.dumps(ledger.get(entry.id).to_json())
