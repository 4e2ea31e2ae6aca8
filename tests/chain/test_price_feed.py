"""The ETH/USD price feed on the seeded devnet, read as go-livepeer's `-priceFeedAddr` reads Chainlink's."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from eth_utils import keccak
from web3.exceptions import ContractLogicError

from chain.abi import abi
from chain.client import ChainClient, ChainError
from chain.devnet.accounts import dev_account
from chain.devnet.anvil import DevnetError
from chain.devnet.deploy import Deployment
from chain.devnet.mainnet_layout import place_at_mainnet_addresses
from chain.devnet.manager import FEED_FRESH_S, _freshen_price_feed
from chain.devnet.price_feed import parse_price, set_eth_price
from chain.multicall import count_round_trips
from chain.network import ARBITRUM_ONE, devnet_profile
from chain.services.price_feed import PriceFeedReader
from tests.chain.seeded import *  # noqa: F403

DEPLOYER = dev_account(0).address  # owns the devnet feed and signs new prices
SEEDED_ANSWERS = [3_000_00, 2_912_40, 3_104_75, 2_987_10, 3_051_25, 3_000_00]  # USD cents, rounds 1..6


def test_seeded_feed_reads_the_initial_price_in_one_round_trip(client):
    reader = PriceFeedReader(client)
    assert reader.address == client.profile.price_feed
    with count_round_trips(client.w3) as trips:
        r = reader.latest()
    assert trips.requests == 1
    assert (r.description, r.base, r.quote, r.decimals) == ("ETH / USD", "ETH", "USD", 8)
    assert r.answer == 300_000_000_000 and r.price == 3000 and r.price_text() == "3000"
    # the seeded rounds, plus the last answer re-posted when the devnet started from the saved state
    assert r.round_id == len(SEEDED_ANSWERS) + 1 and r.answered_in_round == r.round_id
    latest_block = client.w3.eth.get_block("latest")
    assert r.started_at == r.updated_at and 0 <= latest_block.timestamp - r.updated_at <= FEED_FRESH_S
    with count_round_trips(client.w3) as trips:  # decimals and description are not read again
        assert reader.latest() == r
    assert trips.calls == 1


def test_seeded_history_and_chainlink_round_semantics(client):
    feed = client.w3.eth.contract(address=client.profile.price_feed, abi=abi("AggregatorV3")).functions
    answers = [feed.getRoundData(n).call()[1] for n in range(1, len(SEEDED_ANSWERS) + 1)]
    assert answers == [cents * 10**6 for cents in SEEDED_ANSWERS]
    with pytest.raises(ContractLogicError, match="No data present"):
        feed.getRoundData(PriceFeedReader(client).latest().round_id + 1).call()
    with pytest.raises(ContractLogicError, match="No data present"):
        feed.getRoundData(0).call()


def test_a_price_set_on_the_devnet_reads_back_exactly(client, seeded_devnet):
    before = PriceFeedReader(client).latest().round_id
    new = set_eth_price(seeded_devnet, parse_price("2500.5"))
    r = PriceFeedReader(client).latest()
    assert r == new
    assert r.price == Fraction(25005, 10) and r.round_id == before + 1
    assert r.updated_at == client.w3.eth.get_block("latest").timestamp
    feed = client.w3.eth.contract(address=r.address, abi=abi("AggregatorV3"))
    block = client.w3.eth.block_number
    (updated,) = feed.events.AnswerUpdated().get_logs(from_block=block)
    (started,) = feed.events.NewRound().get_logs(from_block=block)
    assert updated.args.current == 250_050_000_000 and updated.args.roundId == r.round_id
    assert started.args.roundId == r.round_id and started.args.startedBy == DEPLOYER


def test_setting_a_price_refuses_anything_but_the_devnet_feed(client, seeded_devnet):
    not_ours = replace(seeded_devnet, price_feed=client.profile.controller)
    with pytest.raises(DevnetError, match="does not hold the devnet's price feed"):
        set_eth_price(not_ours, parse_price("1"))
    assert PriceFeedReader(client).latest().price == 3000


def test_mainnet_layout_puts_the_feed_at_the_arbitrum_address(client):
    p = client.profile
    old = Deployment(controller=p.controller, contracts={}, poll_creator=p.poll_creator,
                     ai_service_registry=p.ai_service_registry, price_feed=p.price_feed)
    moved = place_at_mainnet_addresses(client.w3, old)
    assert moved.price_feed == ARBITRUM_ONE.price_feed == "0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612"
    assert client.w3.eth.get_code(p.price_feed) == b""
    mainnet = ChainClient(client.rpc_url, ARBITRUM_ONE)
    r = PriceFeedReader(mainnet).latest()
    assert r.address == ARBITRUM_ONE.price_feed and r.price == 3000 and r.quote == "USD"
    assert r.round_id == len(SEEDED_ANSWERS) + 1  # the history moved with it


def test_an_address_without_code_is_refused_in_words(client):
    empty = "0x000000000000000000000000000000000000dEaD"
    with pytest.raises(ChainError, match=f"no contract at {empty}.*check the feed address"):
        PriceFeedReader(client, empty).latest()


def test_a_contract_that_is_not_a_feed_is_refused_in_words(client):
    with pytest.raises(ChainError, match="not a working Chainlink AggregatorV3 price feed: latestRoundData"):
        PriceFeedReader(client, client.profile.controller).latest()


def test_a_non_positive_answer_is_refused(client, dev):
    """A broken feed answering -1 (written into the round's storage: no owner call allows it)."""
    feed = client.profile.price_feed
    rounds_slot = 1  # mapping(uint80 => Round) after the packed (owner, latestRound) slot 0
    latest = len(SEEDED_ANSWERS) + 1  # the seeded rounds and the re-post at start
    slot = keccak(latest.to_bytes(32, "big") + rounds_slot.to_bytes(32, "big"))
    client.w3.provider.make_request("anvil_setStorageAt", [feed, "0x" + slot.hex(), "0x" + "ff" * 32])
    with pytest.raises(ChainError, match=rf"reports -1 in round {latest}, which is not a price"):
        PriceFeedReader(client).latest()


def test_a_network_without_a_feed_says_how_to_set_one(client):
    p = client.profile
    bare = ChainClient(client.rpc_url, devnet_profile(p.controller, p.poll_creator, p.ai_service_registry))
    with pytest.raises(ChainError, match="no price feed is configured for the devnet network.*lpc devnet up"):
        PriceFeedReader(bare)


@pytest.mark.parametrize(("text", "answer"), [("2500.50", 250_050_000_000), ("1", 10**8), ("0.00000001", 1)])
def test_parse_price(text, answer):
    assert parse_price(text) == answer


@pytest.mark.parametrize(("text", "words"), [("abc", "not a number"), ("0", "above 0"), ("-3", "above 0"),
                                             ("1.000000001", "more than 8 decimals"), ("inf", "not a number")])
def test_parse_price_refuses(text, words):
    with pytest.raises(ValueError, match=words):
        parse_price(text)


def test_deployment_json_without_a_feed_still_loads():
    old = {"controller": "0x1", "contracts": {}, "poll_creator": "0x2", "ai_service_registry": "0x3"}
    assert Deployment.from_json(old).price_feed is None
    assert Deployment.from_json({**old, "price_feed": "0x4"}).to_json()["price_feed"] == "0x4"


def test_an_old_answer_is_reposted_when_the_devnet_starts(client):
    """A saved state's feed answer is as old as the state; at start the deployer re-posts it (as a real
    feed does every heartbeat) so that nodes pricing in USD on the devnet see a fresh answer."""
    from types import SimpleNamespace

    reader = PriceFeedReader(client)
    before = reader.latest()
    deployment = SimpleNamespace(price_feed=reader.address, deployer=DEPLOYER)
    client.w3.provider.make_request("evm_increaseTime", [2 * 3600])
    client.w3.provider.make_request("evm_mine", [])
    _freshen_price_feed(client.rpc_url, deployment)
    after = reader.latest()
    assert after.round_id == before.round_id + 1 and after.answer == before.answer
    assert after.updated_at == client.w3.eth.get_block("latest").timestamp
