"""A seeded devnet for console tests (started once from the packaged state, reverted after each test)."""

from __future__ import annotations

import pytest

from chain.devnet.anvil import free_port
from chain.devnet.manager import Devnet
from core.settings import load_settings
from tests.keyring_session import keyring_session, secret_service  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def devnet_data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("console-data")
    dev = Devnet(d)
    info = dev.up(port=free_port(), block_time=0)
    yield d, info
    dev.down()


@pytest.fixture
def console_settings(devnet_data_dir, monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("LPC_"):
            monkeypatch.delenv(key)
    data_dir, info = devnet_data_dir
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(info.rpc_url))
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    yield load_settings(data_dir)
    w3.provider.make_request("evm_revert", [snap])


@pytest.fixture
def console_services(console_settings):
    from chain.devnet.seed import DEFAULT_ACCOUNT_INDEX
    from console.services import ConsoleServices
    from core.composition import chain_client, network_profile
    from web3 import Web3

    profile, _ = network_profile(console_settings)
    client = chain_client(console_settings)
    account = Web3.to_checksum_address(client.w3.eth.accounts[DEFAULT_ACCOUNT_INDEX])
    return ConsoleServices(settings=console_settings, profile=profile, client_factory=lambda: client,
                           account=account)


@pytest.fixture
def signing_services(console_services):
    """Console services whose wallet signs with the anvil dev keys (the keyring wallet is tested on
    its own in tests/wallet); the journal is the real SQL journal of the data dir."""
    from web3 import Web3

    from chain.devnet.accounts import dev_account
    from core.store import open_store
    from core.store.journal import SqlJournal

    accounts = [Web3.to_checksum_address(a) for a in console_services.client.w3.eth.accounts]
    keys = {a: dev_account(i) for i, a in enumerate(accounts[:60])}
    console_services.signer_factory = lambda address: keys[Web3.to_checksum_address(address)]
    store = open_store(console_services.settings.data_dir)
    console_services.journal_factory = lambda: SqlJournal(store)
    console_services.accounts = accounts
    yield console_services
    store.close()


@pytest.fixture
def unreachable_peers(console_services):
    """Every orchestrator in the pool advertises https://127.0.0.1:9, where nothing listens: probing the
    seeded pool fails on this machine ("no TLS answer") instead of asking a DNS server for the devnet's
    *.devnet.lpc names. Reverted with the rest of the chain after the test."""
    from tests.console.peers import point_pool_at_closed_port

    return point_pool_at_closed_port(console_services.client)


# The accounts whose keys keyring_services imports: the default account (orchestrator #1), orchestrators
# #2 and #3, delegator 30 and gateway 55 — the accounts of the write tests that sign through the keyring.
KEYRING_ACCOUNTS = (1, 2, 3, 30, 55)


@pytest.fixture
def keyring_services(signing_services, secret_service):
    """signing_services, but signing as the console does when a user runs it: the keys of KEYRING_ACCOUNTS
    are imported into a real gnome-keyring (tests/keyring_session.py) and every signature goes through
    console.launch.keyring_signer, which reads the key from it. No dev key is reachable: an account whose
    key is not in the keyring cannot sign."""
    from chain.devnet.accounts import dev_account
    from chain.wallet import Wallet
    from console.launch import keyring_signer

    wallet = Wallet()
    for i in KEYRING_ACCOUNTS:
        wallet.import_hex(bytes(dev_account(i).key).hex(), f"devnet-{i}")
    signing_services.signer_factory = keyring_signer
    signing_services.wallet_factory = lambda: wallet
    return signing_services
