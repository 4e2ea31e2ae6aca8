"""The on-chain gateway's TicketBroker endpoints on its management port, on the seeded devnet: the gateway
is built by the composition root (assemble_gateway, signing with the seeded gateway's dev key) and asked
over real HTTP. /senderInfo is the TicketBroker's getSenderInfo; a write without confirm=1 shows its plan
and cost and sends nothing; with it the deposit grows by exactly the amount; unlock shows a withdraw
round, and withdraw after the unlock period returns deposit + reserve to the wei of gas paid; bad amounts are
400 in words; the -monitor metrics carry the deposit to the wei; offchain the
endpoints say there is no deposit."""

from __future__ import annotations

import httpx
import pytest

from chain.devnet.accounts import dev_account
from core.composition import assemble_gateway
from tests.payments.conftest import (ETH, FACE, GATEWAY, ORCH, client, dev, devnet_dir, onchain_node,  # noqa: F401
                                     settings)
from tests.waiting import wait_for


def broker_info(client, address: str) -> dict:  # noqa: F811
    (deposit, withdraw_round), (funds, claimed) = \
        client.contract("TicketBroker").functions.getSenderInfo(address).call()
    return {"Deposit": deposit, "WithdrawRound": withdraw_round,
            "Reserve": {"FundsRemaining": funds, "ClaimedInCurrentRound": claimed}}


@pytest.fixture
def gateway(settings, client):  # noqa: F811
    """(base URL of the management port, the gateway's address) of a started on-chain gateway."""
    account = dev_account(GATEWAY)
    node = assemble_gateway(settings, {"offchain": False, "rtmp_addr": None, "http_addr": "127.0.0.1:0",
                                       "cli_addr": "127.0.0.1:0", "monitor": True},
                            signer=lambda: account)
    node.sender_api.poll_s = 0.2
    status = node.start()
    try:
        yield f"http://{status.cli}", account.address
    finally:
        node.stop()


def metric(text: str, name: str, sender: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") and f'sender="{sender}"' in line and 'node_type="bctr"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_sender_info_fund_unlock_and_metrics(gateway, client):  # noqa: F811
    base, address = gateway
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/ethAddr").text == address
        before = broker_info(client, address)
        assert before["Deposit"] > 0 and before["Reserve"]["FundsRemaining"] > 0  # the seeded gateway
        assert http.get("/senderInfo").json() == before

        # without confirm: the plan and its cost, nothing sent
        amount = ETH // 4
        plan = http.post("/fundDepositAndReserve", data={"depositAmount": str(amount), "reserveAmount": "0"})
        assert plan.status_code == 200, plan.text
        shown = plan.json()
        assert shown["sent"] is False and shown["value_wei"] == str(amount) and shown["value_eth"] == "0.25 ETH"
        assert shown["gas"] > 21_000 and int(shown["cost_wei"]) > 0 and shown["cost_eth"].endswith(" ETH")
        assert "confirm=1" in shown["confirm"] and "fundDepositAndReserve" in shown["summary"]
        assert broker_info(client, address) == before

        # with confirm: signed and sent, the deposit grows by exactly the amount
        done = http.post("/fundDepositAndReserve", data={"depositAmount": str(amount), "confirm": "1"})
        assert done.status_code == 200, done.text
        sent = done.json()
        assert sent["sent"] is True and sent["ok"] is True and sent["tx_hash"].startswith("0x")
        assert sent["message"] == "fundDepositAndReserve success"
        assert client.w3.eth.get_transaction_receipt(sent["tx_hash"]).status == 1
        after = broker_info(client, address)
        assert after["Deposit"] == before["Deposit"] + amount and after["Reserve"] == before["Reserve"]
        assert http.get("/senderInfo").json() == after

        # the -monitor metrics follow the chain, to the wei
        def deposit_metric():
            text = http.get("/metrics").text
            return metric(text, "livepeer_gateway_deposit", address), text

        wait_for(lambda: deposit_metric()[0] == after["Deposit"],
                 what=lambda: f"livepeer_gateway_deposit = {after['Deposit']}: {deposit_metric()[0]}")
        text = deposit_metric()[1]
        assert int(metric(text, "livepeer_broadcaster_deposit", address)) == after["Deposit"]
        assert int(metric(text, "livepeer_gateway_reserve", address)) == after["Reserve"]["FundsRemaining"]
        assert int(metric(text, "livepeer_broadcaster_reserve", address)) == after["Reserve"]["FundsRemaining"]

        # unlock: the plan first, then a withdraw round once confirmed
        period = http.get("/ticketBrokerParams").json()["UnlockPeriod"]
        rnd = client.contract("RoundsManager").functions.currentRound().call()
        assert http.post("/unlock").json()["sent"] is False
        assert broker_info(client, address)["WithdrawRound"] == 0
        unlocked = http.post("/unlock", data={"confirm": "1"})
        assert unlocked.status_code == 200 and unlocked.json()["ok"] is True, unlocked.text
        assert http.get("/senderInfo").json()["WithdrawRound"] == rnd + period > 0

        # withdrawing before the unlock period is over is refused in words, nothing sent
        early = http.post("/withdraw", data={"confirm": "1"})
        assert early.status_code == 400 and f"unlock in round {rnd + period}" in early.text
        assert broker_info(client, address)["Deposit"] == after["Deposit"]
        cancelled = http.post("/cancelUnlock", data={"confirm": "1"})
        assert cancelled.status_code == 200 and cancelled.json()["ok"] is True, cancelled.text
        assert broker_info(client, address)["WithdrawRound"] == 0


def test_withdraw_after_the_unlock_period_returns_the_funds(gateway, client, dev):  # noqa: F811
    base, address = gateway
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.post("/unlock", data={"confirm": "1"}).json()["ok"] is True
        withdraw_round = http.get("/senderInfo").json()["WithdrawRound"]
        while dev.round() < withdraw_round:
            dev.to_next_round()
        funds = broker_info(client, address)
        total = funds["Deposit"] + funds["Reserve"]["FundsRemaining"]
        preview = http.post("/withdraw").json()
        assert preview["sent"] is False and broker_info(client, address) == funds
        balance = client.w3.eth.get_balance(address)
        done = http.post("/withdraw", data={"confirm": "1"})
        assert done.status_code == 200 and done.json()["ok"] is True, done.text
        fee = int(done.json()["results"][0]["fee_wei"])
        assert http.get("/senderInfo").json() == {"Deposit": 0, "WithdrawRound": 0,
                                                  "Reserve": {"FundsRemaining": 0, "ClaimedInCurrentRound": 0}}
        assert client.w3.eth.get_balance(address) == balance + total - fee
        again = http.post("/withdraw", data={"confirm": "1"})
        assert again.status_code == 400 and "nothing to withdraw" in again.text


@pytest.mark.parametrize("form, words", [
    ({"depositAmount": "1.5"}, "depositAmount must be a whole number of wei"),
    ({"depositAmount": "-3"}, "depositAmount must be a whole number of wei"),
    ({"reserveAmount": "lots"}, "reserveAmount must be a whole number of wei"),
    ({"depositAmount": str(2**256)}, "larger than a uint256"),
    ({"depositAmount": "0", "reserveAmount": "0"}, "above zero"),
    ({"depositAmount": str(10**30), "confirm": "1"}, "not enough ETH"),
    ({"depositAmount": "5", "confirm": "yes please"}, "confirm must be 1"),
])
def test_bad_amounts_are_400_in_words_and_send_nothing(gateway, client, form, words):  # noqa: F811
    base, address = gateway
    before = broker_info(client, address)
    nonce = client.w3.eth.get_transaction_count(address)
    r = httpx.post(base + "/fundDepositAndReserve", data=form, timeout=30)
    assert r.status_code == 400 and words in r.text, r.text
    assert broker_info(client, address) == before and client.w3.eth.get_transaction_count(address) == nonce


def test_a_write_by_get_or_from_a_web_page_is_refused(gateway, client):  # noqa: F811
    base, address = gateway
    before = broker_info(client, address)
    r = httpx.get(base + "/fundDepositAndReserve", params={"depositAmount": "1", "confirm": "1"})
    assert r.status_code == 405 and "POST" in r.text
    # what a page on any site the operator visits can send: a cross-site form POST (no preflight)
    for path in ("/withdraw", "/unlock", "/fundDepositAndReserve"):
        r = httpx.post(base + path, data={"depositAmount": "1", "confirm": "1"},
                       headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403 and "came from a web page (Origin: https://evil.example)" in r.text, r.text
    assert broker_info(client, address) == before
    assert httpx.get(base + "/senderInfo").json() == before  # reads are unaffected


def test_offchain_the_endpoints_say_there_is_no_deposit(settings):  # noqa: F811
    node = assemble_gateway(settings, {"offchain": True, "rtmp_addr": None, "http_addr": "127.0.0.1:0",
                                       "cli_addr": "127.0.0.1:0", "monitor": True})
    status = node.start()
    try:
        base = f"http://{status.cli}"
        for method, path in (("GET", "/senderInfo"), ("GET", "/ethAddr"), ("POST", "/fundDepositAndReserve"),
                             ("POST", "/unlock"), ("POST", "/withdraw")):
            r = httpx.request(method, base + path, data={"depositAmount": "1", "confirm": "1"} if method == "POST"
                              else None)
            assert r.status_code == 404 and r.text.startswith("offchain: no TicketBroker deposit"), (path, r.text)
        assert "livepeer_gateway_deposit{" not in httpx.get(base + "/metrics").text
    finally:
        node.stop()


def test_lpc_node_gateway_on_the_devnet_pays_an_onchain_orchestrator(onchain_node, dev, client, devnet_dir,  # noqa: F811
                                                                       clip, tmp_path):
    """`lpc node -gateway -network devnet --dev-account 50 -orchAddr …` as its own process (go-livepeer's
    flags): one pushed segment comes back transcoded, the on-chain orchestrator's ledger holds the
    gateway's winning ticket, and the process's own /senderInfo is the chain's."""
    from chain.devnet.anvil import free_port
    from tests.gateway.test_end_to_end import Lpc

    orch, gateway = dev_account(ORCH).address, dev_account(GATEWAY).address
    dev.to_next_round()
    node, parts = onchain_node(ticket_ev=FACE, max_face_value=FACE, price_per_unit=2, pixels_per_unit=1)
    service = node.status().listening.rsplit(":", 1)[1]
    http_port, cli_port, rtmp_port = free_port(), free_port(), free_port()
    lpc = Lpc(devnet_dir[0], "-gateway", "-network", "devnet", "--dev-account", str(GATEWAY),
              "-orchAddr", f"127.0.0.1:{service}", "-httpAddr", f"127.0.0.1:{http_port}",
              "-cliAddr", f"127.0.0.1:{cli_port}", "-rtmpAddr", f"127.0.0.1:{rtmp_port}",
              "-transcodingOptions", "P144p30fps16x9", "-maxTicketEV", str(FACE), "-maxTotalEV", str(4 * FACE),
              "-monitor")
    try:
        wait_for(lambda: lpc.up(f"http://127.0.0.1:{http_port}/healthz"), timeout=60,
                 what=lambda: f"the gateway process up: {lpc.log_path.read_text()[-2000:]}")
        cli = f"http://127.0.0.1:{cli_port}"
        assert httpx.get(cli + "/ethAddr").text == gateway
        assert httpx.get(cli + "/senderInfo").json() == broker_info(client, gateway)
        r = httpx.post(f"http://127.0.0.1:{http_port}/live/paid/0.ts", content=clip,
                       headers={"Content-Duration": "1000"}, timeout=60)
        assert r.status_code == 200, (r.text, lpc.log_path.read_text()[-3000:])
        (ticket,) = parts.ledger.entries()
        assert ticket.sender.lower() == gateway.lower() and ticket.face_value == FACE
        assert ticket.manifest_id == "paid" and ticket.recipient.lower() == orch.lower()
        deposit = broker_info(client, gateway)["Deposit"]
        wait_for(lambda: metric(httpx.get(cli + "/metrics").text, "livepeer_gateway_deposit", gateway) == deposit,
                 what="the process's livepeer_gateway_deposit = the chain's")
    finally:
        lpc.stop()
    log = lpc.log_path.read_text()
    assert "Traceback" not in log and dev_account(GATEWAY).key.hex() not in log


def test_an_unreachable_chain_is_502_in_words_without_the_rpc_url(tmp_path, caplog):
    """A provider's RPC URL often carries its API key: it is in no answer and no log line."""
    from contextlib import nullcontext

    from chain.client import ChainClient
    from chain.devnet.anvil import free_port
    from chain.network import ARBITRUM_ONE
    from chain.services.deposit import SenderDesk
    from chain.services.gateway_chain import Web3GatewayChain
    from core.gateway.broadcast import NetworkBroadcaster
    from core.gateway.config import GatewayConfig
    from core.gateway.node import GatewayNode

    dead = ChainClient(f"http://127.0.0.1:{free_port()}/v2/SECRET-API-KEY-123", ARBITRUM_ONE)
    key = dev_account(GATEWAY)
    cfg = GatewayConfig(data_dir=tmp_path, offchain=False, rtmp_addr=None, http_addr="127.0.0.1:0",
                        cli_addr="127.0.0.1:0", monitor=True)
    node = GatewayNode(cfg, NetworkBroadcaster(cfg, onchain=Web3GatewayChain(dead, key)),
                       sender=SenderDesk(dead, key, lambda: nullcontext(None)))
    status = node.start()
    try:
        base = f"http://{status.cli}"
        for r in (httpx.get(base + "/senderInfo", timeout=30),
                  httpx.post(base + "/unlock", data={"confirm": "1"}, timeout=30)):
            assert r.status_code == 502 and "RPC endpoint did not answer" in r.text, r.text
            assert "SECRET-API-KEY" not in r.text
        assert httpx.get(base + "/ethAddr").text == key.address  # known without the chain
        wait_for(lambda: "deposit failed: the chain's RPC endpoint did not answer" in caplog.text,
                 what="the deposit poll's warning")
    finally:
        node.stop()
    assert "SECRET-API-KEY" not in caplog.text
