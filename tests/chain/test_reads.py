"""Batched reads against the contracts' own values, their round-trip budget, the per-round pool
cache, the chain-id check, and the arbitrum-one profile on a devnet placed at mainnet addresses."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from chain.abi import abi
from chain.client import ZERO_ADDRESS, ChainClient, ChainError, ChainIdMismatch
from chain.devnet.deploy import Deployment
from chain.devnet.mainnet_layout import place_at_mainnet_addresses
from chain.multicall import POOL_WALKER_INITCODE, count_round_trips
from chain.network import ARBITRUM_ONE, NetworkProfile
from chain.reads import (
    DelegatorStatus,
    PoolCache,
    load_account,
    load_orchestrator_pool,
    load_orchestrator_pool_naive,
    load_round_info,
)
from tests.chain.seeded import *  # noqa: F403
from tests.chain.seeded import LPT, Dev


def test_pool_loads_in_two_round_trips_and_matches_the_contracts(client):
    with count_round_trips(client.w3) as trips:
        pool = load_orchestrator_pool(client)
    assert trips.requests <= 2, trips.methods
    bm = client.contract("BondingManager").functions
    sr = client.contract("ServiceRegistry").functions
    walked, cur = [], bm.getFirstTranscoderInPool().call()
    while cur != ZERO_ADDRESS:
        walked.append(cur)
        cur = bm.getNextTranscoderInPool(cur).call()
    assert [o.address for o in pool.orchestrators] == walked
    assert len(walked) == bm.getTranscoderPoolSize().call() > 1
    assert pool.round == client.contract("RoundsManager").functions.currentRound().call()
    for o in pool.orchestrators:
        t = bm.getTranscoder(o.address).call()
        assert (o.last_reward_round, o.reward_cut, o.fee_share, o.activation_round, o.deactivation_round) == (
            t[0], t[1], t[2], t[4], t[5])
        assert o.total_stake == bm.transcoderTotalStake(o.address).call()
        assert o.active == bm.isActiveTranscoder(o.address).call()
        assert o.service_uri == sr.getServiceURI(o.address).call()
    stakes = [o.total_stake for o in pool.orchestrators]
    assert stakes == sorted(stakes, reverse=True)
    with count_round_trips(client.w3) as naive_trips:
        assert load_orchestrator_pool_naive(client) == pool
    assert naive_trips.requests > 4 * len(walked)


def test_pool_cache_serves_the_same_round_and_reloads_in_the_next(client, dev: Dev):
    cache = PoolCache()
    first = load_orchestrator_pool(client, cache=cache)
    with count_round_trips(client.w3) as trips:
        again = load_orchestrator_pool(client, cache=cache)
    assert again is first and trips.requests == 1
    dev.to_next_round()
    with count_round_trips(client.w3) as trips:
        later = load_orchestrator_pool(client, cache=cache)
    assert later.round == first.round + 1 and trips.requests == 2


def test_account_overview_matches_the_contracts(client, dev: Dev):
    who = dev.delegator(6).address  # unbonded a third in the seeded history: has a lock
    load_account(client, dev.delegator(0).address)  # a client's first read also resolves the addresses
    with count_round_trips(client.w3) as trips:
        a = load_account(client, who)
    assert trips.requests <= 2
    bm = client.contract("BondingManager").functions
    token = client.contract("LivepeerToken").functions
    d = bm.getDelegator(who).call()
    assert (a.bonded_amount, a.fees, a.delegate, a.delegated_amount, a.start_round, a.last_claim_round,
            a.next_unbonding_lock_id) == tuple(d)
    assert a.status is DelegatorStatus(bm.delegatorStatus(who).call())
    assert a.pending_stake == bm.pendingStake(who, 0).call()
    assert a.pending_fees == bm.pendingFees(who, 0).call()
    assert a.lpt_balance == token.balanceOf(who).call()
    assert a.allowance == token.allowance(who, client.address("BondingManager")).call()
    assert a.eth_balance == client.w3.eth.get_balance(who)
    assert a.voting_power == client.contract("BondingVotes").functions.getVotes(who).call()
    locks = [(i, *bm.getDelegatorUnbondingLock(who, i).call()) for i in range(d[6])]
    assert [(lk.id, lk.amount, lk.withdraw_round) for lk in a.unbonding_locks] == [x for x in locks if x[2] > 0]
    assert a.unbonding_locks, "the seeded delegator 6 has an unbonding lock"


def test_round_info_matches_the_rounds_manager(client):
    r = load_round_info(client)
    rm = client.contract("RoundsManager").functions
    assert (r.number, r.initialized, r.locked, r.start_block, r.length, r.lock_amount, r.l1_block) == (
        rm.currentRound().call(), rm.currentRoundInitialized().call(), rm.currentRoundLocked().call(),
        rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.roundLockAmount().call(), rm.blockNum().call())
    assert r.l1_block != client.w3.eth.block_number  # the protocol's clock, not the L2 head


def test_chain_id_mismatch_is_a_clear_error(client):
    wrong = NetworkProfile(name="ethereum", chain_id=1, controller=client.profile.controller,
                           poll_creator=client.profile.poll_creator,
                           ai_service_registry=client.profile.ai_service_registry)
    with pytest.raises(ChainIdMismatch, match="serves chain id 42161, but the ethereum profile expects 1"):
        ChainClient(client.rpc_url, wrong).check_chain()
    # the arbitrum-one profile on a devnet whose Controller is elsewhere: said in words
    with pytest.raises(ChainError, match="no Livepeer Controller at 0xD8E8328501E9645d16Cf49539efC04f734606ee4"):
        ChainClient(client.rpc_url, ARBITRUM_ONE).check_chain()


def test_pool_walker_bytecode_is_what_its_source_compiles_to():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    script = repo / "packaging" / "devtools" / "compile.js"
    if not shutil.which("node") or not (repo / "packaging" / "devtools" / "node_modules" / "solc").exists():
        pytest.skip("node/solc are not installed")
    src = (repo / "chain" / "contracts_src" / "PoolWalker.sol").read_text()
    req = {"language": "Solidity", "sources": {"PoolWalker.sol": {"content": src}},
           "settings": {"optimizer": {"enabled": True, "runs": 200}, "evmVersion": "cancun",
                        "outputSelection": {"*": {"*": ["evm.bytecode.object"]}}}}
    out = subprocess.run(["node", str(script)], input=json.dumps(req), capture_output=True, text=True, check=True)
    compiled = json.loads(out.stdout)["contracts"]["PoolWalker.sol"]["PoolWalker"]["evm"]["bytecode"]["object"]
    assert POOL_WALKER_INITCODE == "0x" + compiled


def test_arbitrum_one_profile_end_to_end_on_mainnet_addresses(client):
    """The devnet with its Controller at 0xD8E8…6ee4: the arbitrum-one profile (mainnet Controller,
    PollCreator, Multicall3 addresses) reads, previews, signs and sends unchanged."""
    from chain.services import staking
    from chain.tx import MemoryJournal, execute_plan

    old = Deployment(controller=client.profile.controller, contracts={}, poll_creator=client.profile.poll_creator,
                     ai_service_registry=client.profile.ai_service_registry)
    moved = place_at_mainnet_addresses(client.w3, old)
    assert moved.controller == ARBITRUM_ONE.controller and moved.poll_creator == ARBITRUM_ONE.poll_creator
    assert client.w3.eth.get_code(old.controller) == b""  # nothing can still use the devnet address

    mainnet = ChainClient(client.rpc_url, ARBITRUM_ONE)
    assert mainnet.check_chain() == 42161
    dev = Dev(mainnet)
    bm = mainnet.contract("BondingManager")
    assert bm.functions.getController().call() == ARBITRUM_ONE.controller
    with count_round_trips(mainnet.w3) as trips:
        pool = load_orchestrator_pool(mainnet)
    assert trips.requests <= 2 and len(pool.orchestrators) > 1

    me, orch = dev.delegator(10), pool.orchestrators[1].address
    dev.to_next_round()
    before = load_account(mainnet, me.address)
    plan = staking.bond(mainnet, me.address, 25 * LPT, orch)
    results = execute_plan(mainnet, plan, me, MemoryJournal())
    assert all(r.ok for r in results)
    bond_ev = results[-1].event("Bond")
    assert bond_ev.args["newDelegate"] == orch and bond_ev.args["additionalAmount"] == 25 * LPT
    after = load_account(mainnet, me.address)
    assert after.lpt_balance == before.lpt_balance - 25 * LPT
    assert after.bonded_amount == before.pending_stake + 25 * LPT

    # the PollCreator at its mainnet address creates and lists polls
    from chain.services import governance

    creator = mainnet.w3.eth.contract(address=ARBITRUM_ONE.poll_creator, abi=abi("PollCreator"))
    dev.send(creator.functions.createPoll(b"\x12\x20" + b"\x01" * 32), dev.orchestrator(0).address)
    polls = governance.list_polls(mainnet)
    assert len(polls) == 1 and polls[0].active
