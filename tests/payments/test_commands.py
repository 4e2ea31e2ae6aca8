"""`lpc deposit …` moves a gateway's TicketBroker funds after showing the plan; `lpc pricing …` changes a
running node's prices at once through its management API (and the data dir's when no node answers)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner

from chain.devnet.accounts import dev_account
from console.cli import cli
from console.commands import chain_cmds
from tests.payments.conftest import ETH, GATEWAY
from tests.payments.gateway import gateway_for

NEW = dev_account(54).address  # no TicketBroker funds yet


@pytest.fixture
def lpc(devnet_dir, settings, client, monkeypatch):
    keys = {dev_account(i).address: dev_account(i) for i in range(60)}
    monkeypatch.setattr(chain_cmds, "open_signer", lambda _ctx, address: keys[address])
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--data-dir", str(devnet_dir[0]), *args], input=input)

    return invoke


def sender_info(client, address):
    (dep, withdraw_round), (reserve, _) = client.contract("TicketBroker").functions.getSenderInfo(address).call()
    return dep, reserve, withdraw_round


def test_fund_shows_the_plan_and_sends_only_when_confirmed(lpc, client):
    r = lpc("deposit", "fund", "--deposit", "1", "--reserve", "0.5", "--account", NEW, input="n\n")
    assert "Add 1.0 ETH to the deposit and 0.5 ETH to the reserve" in r.output and "deposit 0.0 ETH → 1.0 ETH" in r.output
    assert "nothing sent" in r.output and sender_info(client, NEW) == (0, 0, 0)
    r = lpc("deposit", "fund", "--deposit", "1", "--reserve", "0.5", "--account", NEW, "--yes", "--json")
    assert json.loads(r.output)["ok"], r.output
    assert sender_info(client, NEW) == (ETH, ETH // 2, 0)
    shown = json.loads(lpc("deposit", "show", "--account", NEW, "--json").output)
    assert shown["state"] == "Locked" and shown["deposit"] == str(ETH)


def test_funding_more_than_the_account_holds_is_refused_in_words(lpc, client):
    held = client.w3.eth.get_balance(NEW)
    too_much = str(held // ETH + 1)
    r = lpc("deposit", "fund", "--deposit", too_much, "--account", NEW, "--yes")
    assert r.exit_code == 2, r.output
    assert "needs that much plus gas" in r.output and "send ETH to this account first" in r.output
    assert "insufficient funds" not in r.output.lower() and "Traceback" not in r.output
    assert sender_info(client, NEW) == (0, 0, 0) and client.w3.eth.get_balance(NEW) == held


def test_unlock_cancel_and_withdraw_follow_the_unlock_period(lpc, client, dev):
    gw = dev_account(GATEWAY).address
    r = lpc("deposit", "withdraw", "--account", gw, "--yes")
    assert r.exit_code == 2 and "start an unlock first" in r.output
    assert json.loads(lpc("deposit", "unlock", "--account", gw, "--yes", "--json").output)["ok"]
    assert sender_info(client, gw)[2] == dev.round() + 2
    assert json.loads(lpc("deposit", "cancel-unlock", "--account", gw, "--yes", "--json").output)["ok"]
    assert sender_info(client, gw)[2] == 0
    lpc("deposit", "unlock", "--account", gw, "--yes")
    r = lpc("deposit", "withdraw", "--account", gw, "--yes")
    assert r.exit_code == 2 and "the funds unlock in round" in r.output
    dev.to_next_round()
    dev.to_next_round()
    dep, reserve, _ = sender_info(client, gw)
    before = client.w3.eth.get_balance(gw)
    out = json.loads(lpc("deposit", "withdraw", "--account", gw, "--yes", "--json").output)
    assert out["ok"]
    fee = int(out["results"][0]["fee_wei"])
    assert client.w3.eth.get_balance(gw) == before + dep + reserve - fee
    assert sender_info(client, gw) == (0, 0, 0)


def test_pricing_changes_apply_to_a_running_node_without_a_restart(lpc, onchain_node, dev):
    dev.to_next_round()
    node, parts = onchain_node(ticket_ev=ETH // 10, max_face_value=ETH // 10, price_per_unit=1)
    api = f"http://{node.status().management}"
    gw = gateway_for(node)
    overhead = 1 + Fraction(1_200_000 * parts.payments.state.view().gas_price, ETH // 10)

    def offered() -> Fraction:
        pi = gw.get_orchestrator().price_info
        return Fraction(pi.pricePerUnit, pi.pixelsPerUnit)

    assert offered() == overhead
    r = lpc("pricing", "set", "3000", "--pixels-per-unit", "2", "--node", api)
    assert "applied now" in r.output and "1500 wei per pixel" in r.output
    assert offered() == 1500 * overhead
    lpc("pricing", "set", "10", "--sender", dev_account(GATEWAY).address, "--node", api)
    assert offered() == 10 * overhead  # this gateway's own price
    lpc("pricing", "auto-adjust", "off", "--node", api)
    assert offered() == 10
    lpc("pricing", "clear", "--sender", dev_account(GATEWAY).address, "--node", api)
    assert offered() == 1500
    shown = json.loads(lpc("pricing", "show", "--node", api, "--json").output)
    assert shown["auto_adjust"] is False and shown["prices"][0]["price_per_unit"] == "3000"
    # persisted: a node started on the same database offers the same
    from core.payments.pricing import PriceBook

    assert PriceBook(parts.store).base() == 1500
    gw.close()


def test_pricing_without_a_node_is_saved_for_its_next_start(lpc, devnet_dir):
    r = lpc("pricing", "set", "7", "--node", "http://127.0.0.1:9", "--json")
    data = json.loads(r.output)
    assert "applies at its next start" in data["source"] and data["prices"][0]["price_per_unit"] == "7"
    r = lpc("pricing", "set", "0.5USD", "--pixels-per-unit", "1e6", "--node", "http://127.0.0.1:9")
    assert r.exit_code == 0 and "0.5 USD / 1000000 pixels (converted to wei with the node's ETH/USD price feed" \
        in r.output
    r = lpc("pricing", "set", "12,5USD", "--node", "http://127.0.0.1:9")
    assert r.exit_code == 2 and "is not a price" in r.output
    shown = json.loads(lpc("pricing", "show", "--node", "http://127.0.0.1:9", "--json").output)["prices"][0]
    assert (shown["price_per_unit"], shown["currency"], shown["pixels_per_unit"]) == ("0.5", "USD", "1000000")
