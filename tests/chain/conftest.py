"""Fixtures for tests on a real anvil: deploy the protocol once per session, revert after each test."""

from __future__ import annotations

import pytest
from web3 import Web3

from chain.devnet.anvil import check_anvil, find_anvil, free_port, start_anvil
from chain.devnet.deploy import DevnetParams, deploy_protocol
from tests.chain.helpers import ChainHelper


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory):
    binary = find_anvil()
    check_anvil(binary)
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    proc = start_anvil(binary, port=free_port(), log_path=log)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def w3(anvil_node) -> Web3:
    return Web3(Web3.HTTPProvider(anvil_node.rpc_url, request_kwargs={"timeout": 60}))


@pytest.fixture(scope="session")
def dev_addresses(w3) -> list[str]:
    """The anvil node's unlocked development accounts (index 0 deploys the protocol)."""
    return [Web3.to_checksum_address(a) for a in w3.eth.accounts]


@pytest.fixture(scope="session")
def protocol(w3, dev_addresses):
    return deploy_protocol(w3, dev_addresses[0], DevnetParams())


@pytest.fixture(scope="session")
def chain(w3, protocol, dev_addresses) -> ChainHelper:
    return ChainHelper(w3, protocol, dev_addresses)


@pytest.fixture(autouse=True)
def _revert_chain(request):
    """Every test that touches the chain starts from the freshly deployed state."""
    if "w3" not in request.fixturenames:
        yield
        return
    w3 = request.getfixturevalue("w3")
    request.getfixturevalue("protocol")
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    w3.provider.make_request("evm_revert", [snap])
