"""Multicall3 at its well-known address on the devnet, batching real protocol reads."""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import keccak

from chain.devnet.anvil import CHAIN_ID
from chain.devnet.artifacts import load_artifact
from chain.devnet.deploy import MULTICALL3_ADDRESS

ETH = 10**18


@pytest.fixture
def mc(chain):
    return chain.c("Multicall3")


def test_installed_at_the_usual_address(chain, w3, mc):
    assert mc.address == MULTICALL3_ADDRESS
    assert w3.eth.get_code(MULTICALL3_ADDRESS).hex().removeprefix("0x") == (
        load_artifact("Multicall3").deployed_bytecode.removeprefix("0x")
    )


def test_aggregate3_batches_protocol_reads_and_reports_failures(chain, mc):
    rm, bm = chain.c("RoundsManager"), chain.c("BondingManager")
    calls = [
        (rm.address, False, rm.encode_abi("currentRound")),
        (rm.address, False, rm.encode_abi("roundLength")),
        (bm.address, True, bm.encode_abi("withdrawFees", args=[chain.accounts[1], 1])),  # reverts
    ]
    results = mc.functions.aggregate3(calls).call()
    assert [ok for ok, _ in results] == [True, True, False]
    assert decode(["uint256"], results[0][1])[0] == chain.current_round()
    assert decode(["uint256"], results[1][1])[0] == chain.protocol.params.round_length
    strict = [(c[0], False, c[2]) for c in calls]
    assert "Multicall3: call failed" in chain.revert_reason(mc.functions.aggregate3(strict), chain.accounts[1])


def test_aggregate_and_try_aggregate(chain, mc):
    rm = chain.c("RoundsManager")
    ok_call = (rm.address, rm.encode_abi("blockNum"))
    block_number, data = mc.functions.aggregate([ok_call]).call()
    assert decode(["uint256"], data[0])[0] == block_number
    assert block_number == mc.functions.getBlockNumber().call()
    results = mc.functions.tryAggregate(False, [ok_call, (mc.address, b"\xde\xad\xbe\xef")]).call()
    assert [ok for ok, _ in results] == [True, False]
    assert "Multicall3: call failed" in chain.revert_reason(
        mc.functions.tryAggregate(True, [(mc.address, b"\xde\xad\xbe\xef")]), chain.accounts[1]
    )
    number, block_hash, results = mc.functions.blockAndAggregate([ok_call]).call()
    assert number == block_number and results[0][0]


def test_block_number_is_the_l1_number_like_on_arbitrum(chain, w3, mc):
    assert mc.functions.getBlockNumber().call() == chain.block_num()
    assert mc.functions.getBlockNumber().call() != w3.eth.block_number
    previous = mc.functions.getBlockNumber().call() - 1
    expected = w3.eth.get_block(previous - 20_000_000).hash  # L1Block.OFFSET
    assert mc.functions.getLastBlockHash().call() == expected
    assert mc.functions.getBlockHash(previous).call() == expected
    assert mc.functions.getBlockHash(5).call() == b"\x00" * 32


def test_environment_getters(chain, w3, mc):
    addr = chain.accounts[3]
    assert mc.functions.getEthBalance(addr).call() == w3.eth.get_balance(addr)
    assert mc.functions.getChainId().call() == CHAIN_ID
    assert mc.functions.getCurrentBlockTimestamp().call() >= w3.eth.get_block("latest").timestamp
    # block.basefee inside eth_call is anvil's choice (its 7 wei floor, or the block's fee): it is not 0 —
    # a getter that returned nothing would fail here (the old `>= 0` could not)
    assert 7 <= mc.functions.getBasefee().call() <= max(7, w3.eth.get_block("pending").baseFeePerGas * 2)
    assert mc.functions.getCurrentBlockGasLimit().call() > 0


def test_aggregate3_value_forwards_eth_and_checks_the_total(chain, w3, mc):
    broker = chain.c("TicketBroker")
    sender = chain.accounts[4]
    call = (broker.address, False, ETH, broker.encode_abi("fundDeposit"))
    chain.send(mc.functions.aggregate3Value([call]), sender, value=ETH)
    # Multicall3 was the caller, so the deposit is Multicall3's.
    (deposit, _), _ = broker.functions.getSenderInfo(mc.address).call()
    assert deposit == ETH
    reason = chain.revert_reason(mc.functions.aggregate3Value([call]), sender, value=2 * ETH)
    assert "Multicall3: value mismatch" in reason


def test_multicall3_abi_is_the_standard_one():
    functions = {e["name"] for e in load_artifact("Multicall3").abi if e["type"] == "function"}
    assert functions == {
        "aggregate", "aggregate3", "aggregate3Value", "blockAndAggregate", "getBasefee", "getBlockHash",
        "getBlockNumber", "getChainId", "getCurrentBlockCoinbase", "getCurrentBlockDifficulty",
        "getCurrentBlockGasLimit", "getCurrentBlockTimestamp", "getEthBalance", "getLastBlockHash",
        "tryAggregate", "tryBlockAndAggregate",
    }
    assert "0x" + keccak(text="aggregate3((address,bool,bytes)[])")[:4].hex() == "0x82ad56cb"
    assert "0x" + keccak(text="aggregate((address,bytes)[])")[:4].hex() == "0x252dba42"
