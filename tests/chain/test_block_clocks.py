"""The devnet's two clocks kept apart: round numbers and round start blocks count "L1" blocks
(RoundsManager.blockNum(), Multicall3.getBlockNumber() = L2 block + 20,000,000 on the devnet, the L1
block number on Arbitrum One), logs are filtered by L2 block. The reads that scan logs keep working
after the chain moves on, where an L1 number used as a log range once asked for block 20,006,944 of a
chain at 6,944."""

from __future__ import annotations

from chain.reads import load_round_info
from chain.services import governance
from chain.services.network import ActivityCache, network_activity
from chain.services.reward_calls import reward_calls
from tests.chain.seeded import *  # noqa: F403
from tests.chain.seeded import Dev


def test_reads_keep_working_as_the_chain_moves_past_its_round_start_blocks(client, dev: Dev):
    w3 = client.w3
    cache = ActivityCache()
    before = network_activity(client, cache=cache)
    assert before.protocol.l2_block == w3.eth.block_number
    rnd = load_round_info(client)
    assert rnd.start_block > w3.eth.block_number  # an L1 number: above every L2 block of the devnet

    # the chain moves on: a new round, a reward call in it, more blocks (the cache scans only those)
    new_round = dev.to_next_round()
    orch = dev.orchestrator(5)
    dev.send(dev.c("BondingManager").functions.reward(), orch.address)
    dev.mine(3 * rnd.length)
    assert not before.of(orch.address).called(new_round)

    after = network_activity(client, cache=cache)
    assert after.protocol.l2_block == w3.eth.block_number
    assert after.protocol.round == dev.round() > new_round
    assert after.of(orch.address).called(new_round)
    assert after == network_activity(client)  # the incremental scan found what a cold scan finds

    calls = reward_calls(client, orch.address)
    assert next(r for r in calls.rounds if r.round == new_round).called

    head_l1 = dev.c("RoundsManager").functions.blockNum().call()
    assert head_l1 == w3.eth.block_number + 20_000_000
    for poll in governance.list_polls(client):
        assert poll.active == (head_l1 <= poll.end_block)
    assert governance.list_proposals(client)  # scans from the devnet's first block to the L2 head
