"""`lpc stake|account|round|reward|orchestrator|gov|poll` as a script or a person runs them, on the
seeded devnet: the intent is printed and confirmed, --yes/--json, exit codes, journal rows."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chain.devnet.accounts import dev_account
from chain.reads import load_account
from console.cli import cli
from console.commands import chain_cmds
from core.composition import chain_client
from core.store import open_store
from core.store.journal import SqlJournal
from tests.keyring_session import keyring_session, secret_service  # noqa: F401  (fixtures)

LPT = 10**18
DEV_KEYS = {dev_account(i).address: dev_account(i) for i in range(60)}


@pytest.fixture
def run(console_settings, monkeypatch):
    """Invoke lpc on the seeded devnet; signing uses the anvil dev keys instead of the OS keyring."""
    monkeypatch.setattr(chain_cmds, "open_signer", lambda _ctx, address: DEV_KEYS[address])
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--data-dir", str(console_settings.data_dir), *args], input=input)

    return invoke


@pytest.fixture
def keyring_run(console_settings, secret_service):  # noqa: F811
    """Invoke lpc on the seeded devnet signing as a user's lpc does: open_signer reads the key from a real
    gnome-keyring (nothing is replaced), so an account signs only once its key was imported."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--data-dir", str(console_settings.data_dir), *args], input=input)

    return invoke


@pytest.fixture
def client(console_settings):
    return chain_client(console_settings)


ORCH0 = dev_account(1).address  # seeded orchestrator 0, called reward this round
ORCH5 = dev_account(6).address
DELEGATOR1 = dev_account(21).address  # bonded to ORCH5, 2,500 LPT unbonded


def test_bond_with_yes_and_json_sends_and_journals(run, client, console_settings):
    before = load_account(client, DELEGATOR1)
    out = run("stake", "bond", "--to", ORCH5, "--amount", "100LPT", "--account", DELEGATOR1, "--yes", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["ok"] and doc["sent"] and [r["action"] for r in doc["results"]] == ["approve", "bond"]
    bond = next(e for e in doc["results"][1]["events"] if e["name"] == "Bond")
    assert bond["args"]["additionalAmount"] == str(100 * LPT)
    assert load_account(client, DELEGATOR1).lpt_balance == before.lpt_balance - 100 * LPT
    rows = SqlJournal(open_store(console_settings.data_dir)).recent(sender=DELEGATOR1)
    assert [r.action for r in rows] == ["bond", "approve"] and {r.status for r in rows} == {"mined"}


def test_bond_shows_the_intent_and_declining_sends_nothing(run, client):
    out = run("stake", "bond", "--to", ORCH5, "--amount", "1.5", "--account", DELEGATOR1, input="n\n")
    assert out.exit_code == 1
    assert "Allow the BondingManager to take 1.5 LPT" in out.output
    assert "cost" in out.output and "ETH" in out.output and "→" in out.output
    assert "Sign and send these transactions?" in out.output and "nothing sent" in out.output
    assert load_account(client, DELEGATOR1).allowance == 0


def test_json_without_yes_is_a_preview(run):
    out = run("stake", "unbond", "--amount", "10", "--account", DELEGATOR1, "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["sent"] is False and doc["plan"]["intents"][0]["action"] == "unbond"
    assert int(doc["plan"]["intents"][0]["cost_wei"]) > 0


@pytest.mark.parametrize("args, words", [
    (("stake", "bond", "--to", ORCH5, "--amount", "1.5ETH"), "is in ETH, but this amount is in LPT"),
    (("stake", "bond", "--to", "0x1234", "--amount", "1"), "--to '0x1234' is not an Ethereum address"),
    (("stake", "bond", "--to", ORCH5, "--amount", "-3"), "cannot be negative"),
    (("stake", "withdraw-stake", "--lock", "9"), "has no unbonding lock #9"),
    (("stake", "unbond"), "give either --amount or --all"),
    (("orchestrator", "config", "--reward-cut", "101", "--account", ORCH0), "between 0 and 100"),
])
def test_refusals_exit_2_with_the_reason(run, args, words):
    out = run(*args, *(() if "--account" in args else ("--account", DELEGATOR1)))
    assert out.exit_code == 2, out.output
    assert words in out.output


def test_refusal_as_json(run):
    out = run("stake", "withdraw-fees", "--account", dev_account(57).address, "--json", "--yes")
    assert out.exit_code == 2
    doc = json.loads(out.output)
    assert doc == {"ok": False, "error": "refused", "reason": f"{dev_account(57).address} has no fees to withdraw",
                   "fix": "fees accrue while your orchestrator earns them"}


def test_orchestrator_config_sends_only_the_change(run, client):
    out = run("orchestrator", "config", "--reward-cut", "9", "--fee-share", "50", "--account", ORCH0, "--yes")
    assert out.exit_code == 0, out.output
    changes = [line.strip() for line in out.output.splitlines() if line.strip().startswith("change ")]
    assert changes == ["change    reward cut 8% → 9%"]  # fee share 50% is already on chain: not rewritten
    assert "TranscoderUpdate" in out.output
    again = run("orchestrator", "config", "--reward-cut", "9", "--account", ORCH0, "--yes")
    assert again.exit_code == 2 and "nothing to change" in again.output


def test_orchestrator_config_sets_the_ai_service_uri_after_showing_it(run, client):
    ai = client.contract("AIServiceRegistry").functions
    before = ai.getServiceURI(ORCH0).call()
    preview = run("orchestrator", "config", "--ai-service-uri", "https://ai.example:8935", "--account", ORCH0,
                  input="n\n")
    assert f"AI service URI {before or '(none)'} → https://ai.example:8935" in " ".join(preview.output.split())
    assert ai.getServiceURI(ORCH0).call() == before  # declined: nothing sent
    out = run("orchestrator", "config", "--ai-service-uri", "https://ai.example:8935", "--account", ORCH0, "--yes")
    assert out.exit_code == 0, out.output
    assert ai.getServiceURI(ORCH0).call() == "https://ai.example:8935"
    assert client.contract("ServiceRegistry").functions.getServiceURI(ORCH0).call() != "https://ai.example:8935"
    bad = run("orchestrator", "config", "--ai-service-uri", "ai.example:8935", "--account", ORCH0, "--yes")
    assert bad.exit_code == 2 and "--ai-service-uri" in bad.output and "https://" in bad.output


def test_account_show_uses_the_configured_account(run, client, monkeypatch):
    out = run("account", "show", "--json")
    assert out.exit_code == 2 and "no account" in out.output
    monkeypatch.setenv("LPC_ACCOUNT", DELEGATOR1)
    out = run("account", "show", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    a = load_account(client, DELEGATOR1)
    assert doc["address"] == DELEGATOR1 and doc["pending_stake"] == str(a.pending_stake)
    assert doc["status"] == "Bonded" and doc["delegate"] == ORCH5


def test_governance_and_poll_votes(run):
    props = json.loads(run("gov", "proposals", "--json").output)["proposals"]
    active = next(p for p in props if p["state"] == "Active")
    voter = dev_account(4).address  # orchestrator 3 has not voted
    out = run("gov", "vote", active["id"][:10], "--support", "for", "--reason", "yes please", "--account", voter, "--yes")
    assert out.exit_code == 0, out.output
    assert "VoteCast" in out.output and "yes please" in out.output
    polls = json.loads(run("poll", "list", "--json").output)["polls"]
    out = run("poll", "vote", polls[0]["address"], "--choice", "no", "--account", voter, "--yes", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["results"][0]["events"][0]["name"] == "Vote"


def test_round_and_reward_commands(run):
    out = run("round", "show")
    assert out.exit_code == 0 and "initialized" in out.output
    out = run("reward", "call", "--account", ORCH0, "--yes")  # already called in the seeded round
    assert out.exit_code == 2 and "already called" in out.output
    out = run("reward", "call", "--account", dev_account(2).address, "--yes", "--json")
    assert out.exit_code == 0, out.output
    assert any(e["name"] == "Reward" for e in json.loads(out.output)["results"][0]["events"])


def test_arbitrum_one_profile_against_a_devnet_on_mainnet_addresses(tmp_path, monkeypatch):
    """`lpc devnet up --mainnet-addresses`, then the arbitrum-one profile (its hard-coded Controller,
    PollCreator and Multicall3) reads and sends through the same commands."""
    from chain.devnet.anvil import free_port
    from chain.devnet.manager import Devnet
    from chain.network import ARBITRUM_ONE

    monkeypatch.setattr(chain_cmds, "open_signer", lambda _ctx, address: DEV_KEYS[address])
    runner = CliRunner()
    data = tmp_path / "data"
    port = free_port()
    up = runner.invoke(cli, ["--data-dir", str(data), "devnet", "up", "--port", str(port), "--block-time", "0",
                             "--mainnet-addresses", "--json"])
    try:
        assert up.exit_code == 0, up.output
        info = json.loads(up.output.strip().splitlines()[-1])
        assert info["controller"] == ARBITRUM_ONE.controller and info["poll_creator"] == ARBITRUM_ONE.poll_creator
        base = ["--data-dir", str(data), "--network", "arbitrum-one", "--rpc-url", info["rpc_url"]]
        pool = runner.invoke(cli, [*base, "orchestrators", "--json"])
        assert pool.exit_code == 0, pool.output
        assert len(json.loads(pool.output)) >= 10
        out = runner.invoke(cli, [*base, "reward", "call", "--account", dev_account(2).address, "--yes", "--json"])
        assert out.exit_code == 0, out.output
        assert any(e["name"] == "Reward" for e in json.loads(out.output)["results"][0]["events"])
        # the devnet profile follows the move too (devnet.json records the new addresses)
        status = runner.invoke(cli, ["--data-dir", str(data), "round", "show", "--json"])
        assert status.exit_code == 0, status.output
        _usd_node_on_arbitrum_profile(data, info["rpc_url"], tmp_path)
    finally:
        Devnet(data).down()


def _usd_node_on_arbitrum_profile(data, rpc_url: str, tmp_path) -> None:
    """An on-chain node priced in USD with nothing configured but the network: the arbitrum-one profile's
    Chainlink ETH/USD address converts it."""
    from fractions import Fraction

    from chain.network import ARBITRUM_ONE
    from core.composition import onchain_node
    from core.gateway.discovery import probe
    from core.node import NodeConfig
    from core.payments.config import PaymentConfig
    from core.payments.tickets import HashSigner
    from core.settings import load_settings

    settings = load_settings(data, network="arbitrum-one", rpc_url=rpc_url)
    cfg = NodeConfig(data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0", cli_addr=None,
                     max_sessions=2, encoder="x264", x264_preset="ultrafast", price_per_unit="0.000003USD",
                     offchain=False)
    node, parts = onchain_node(settings, cfg, dev_account(1), PaymentConfig(reward=False, poll_s=0.2))
    node.start()
    try:
        assert parts.feed.feed.address == ARBITRUM_ONE.price_feed
        rate = parts.feed.rate("USD")
        assert parts.prices.base() == Fraction(3, 10**6) * 10**18 / rate
        gateway = HashSigner(bytes(dev_account(50).key))  # a seeded gateway with TicketBroker funds
        price, note = probe(f"https://127.0.0.1:{node.status().listening.rsplit(':', 1)[1]}", gateway.address,
                            gateway.sign_message)
        assert note == "from its OrchestratorInfo" and price > parts.prices.base()  # plus the overhead
    finally:
        node.stop()
        for s in node.services:
            s.stop()
        parts.store.close()


def test_transfer_bond_signs_with_the_key_imported_into_the_keyring(keyring_run, client):
    """`lpc wallet import` (the key piped on stdin), then `lpc stake transfer-bond` signs with that key from
    the keyring and the bond moves on chain; before the import the same command signs nothing."""
    to = dev_account(58).address
    mine = load_account(client, DELEGATOR1)
    args = ("stake", "transfer-bond", "--to", to, "--amount", "12LPT", "--account", DELEGATOR1, "--yes")
    out = keyring_run(*args)
    assert out.exit_code == 1 and f"{DELEGATOR1} is not in the keyring wallet" in out.output
    assert load_account(client, DELEGATOR1).bonded_amount == mine.bonded_amount
    key = bytes(DEV_KEYS[DELEGATOR1].key).hex()
    imported = keyring_run("wallet", "import", "--label", "delegator-1", input=key + "\n")
    assert imported.exit_code == 0 and imported.output.strip() == DELEGATOR1
    out = keyring_run(*args)
    assert out.exit_code == 0, out.output
    assert "TransferBond" in out.output and key not in out.output
    theirs = load_account(client, to)
    assert theirs.bonded_amount == 12 * LPT and theirs.delegate == ORCH5
    assert load_account(client, DELEGATOR1).bonded_amount == mine.pending_stake - 12 * LPT


def test_reward_call_signs_with_the_key_imported_into_the_keyring(keyring_run, client):
    orch = dev_account(2).address  # seeded orchestrator 1: reward not called this round
    key = bytes(DEV_KEYS[orch].key).hex()
    assert keyring_run("wallet", "import", input=key + "\n").exit_code == 0
    stake = client.contract("BondingManager").functions.transcoderTotalStake(orch).call()
    out = keyring_run("reward", "call", "--account", orch, "--yes", "--json")
    assert out.exit_code == 0, out.output
    assert any(e["name"] == "Reward" for e in json.loads(out.output)["results"][0]["events"])
    assert client.contract("BondingManager").functions.transcoderTotalStake(orch).call() > stake


def test_deposit_fund_signs_with_the_key_imported_into_the_keyring(keyring_run, client):
    gateway = dev_account(54).address  # no TicketBroker funds yet
    key = bytes(DEV_KEYS[gateway].key).hex()
    assert keyring_run("wallet", "import", input=key + "\n").exit_code == 0
    out = keyring_run("deposit", "fund", "--deposit", "1", "--reserve", "0.5", "--account", gateway, "--yes", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["ok"] and key not in out.output
    (deposit, _), (reserve, _) = client.contract("TicketBroker").functions.getSenderInfo(gateway).call()
    assert (deposit, reserve) == (10**18, 10**18 // 2)
