"""The devnet's ETH/USD price feed: read it, and set a new price (`lpc devnet eth-price [PRICE]`).

The feed (contracts/EthUsdPriceFeed.sol) is owned by the devnet deployer, anvil's public development
account 0; a new price is signed with that key. Nothing here sends anything unless the node answers as
anvil and the feed address holds exactly our devnet feed's code, owned by that account, so the public
key never signs for a real network.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from chain.client import ChainClient
from chain.devnet.accounts import dev_account
from chain.devnet.anvil import DevnetError
from chain.devnet.artifacts import load_artifact
from chain.devnet.manager import DevnetInfo
from chain.network import devnet_profile
from chain.services.price_feed import FeedRound, PriceFeedReader

FEED_DECIMALS = 8
DEPLOYER_INDEX = 0  # deploy.py and seed.py deploy from anvil's first account


def parse_price(text: str, decimals: int = FEED_DECIMALS) -> int:
    """'2500.50' -> 250050000000 (the feed's integer answer). ValueError, in words, for anything that is
    not a positive number with at most `decimals` decimals."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number; give the ETH price in USD, e.g. 2500.50") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number; give the ETH price in USD, e.g. 2500.50")
    if value <= 0:
        raise ValueError(f"the price must be above 0 USD (got {text})")
    answer = value.scaleb(decimals)
    if answer != answer.to_integral_value():
        raise ValueError(f"{text} has more than {decimals} decimals, the feed's precision")
    if answer >= 2**255:
        raise ValueError(f"{text} is too large for the feed's int256 answer")
    return int(answer)


def devnet_client(info: DevnetInfo) -> ChainClient:
    """A client for the running devnet, with its price feed in the profile."""
    if not info.price_feed:
        raise DevnetError(
            "this devnet was started before it had a price feed; restart it (`lpc devnet down`, then "
            "`lpc devnet up`) and it is rebuilt with one"
        )
    profile = devnet_profile(info.controller, info.poll_creator, info.ai_service_registry, chain_id=info.chain_id,
                             multicall3=info.multicall3, price_feed=info.price_feed)
    return ChainClient(info.rpc_url, profile)


def read_eth_price(info: DevnetInfo) -> FeedRound:
    return PriceFeedReader(devnet_client(info)).latest()


def set_eth_price(info: DevnetInfo, answer: int) -> FeedRound:
    """Start a new round of the devnet feed with `answer` (USD per ETH with 8 decimals); the new round."""
    if answer <= 0:
        raise ValueError("the price must be above 0")
    client = devnet_client(info)
    feed = PriceFeedReader(client).address
    _require_our_devnet_feed(client, feed)
    post_answer(client.w3, feed, answer)
    return PriceFeedReader(client, feed).latest()


def post_answer(w3, feed: str, answer: int) -> None:
    """A new round of the devnet feed at `feed`, signed by its owner (the deployer's public anvil key)."""
    owner = dev_account(DEPLOYER_INDEX)
    contract = w3.eth.contract(address=feed, abi=load_artifact("EthUsdPriceFeed").abi)
    tx = contract.functions.updateAnswer(answer).build_transaction({
        "from": owner.address, "nonce": w3.eth.get_transaction_count(owner.address, "pending"),
        "chainId": w3.eth.chain_id,
    })
    signed = owner.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30,
                                                  poll_latency=0.05)
    if receipt.status != 1:
        raise DevnetError(f"updateAnswer({answer}) on the devnet feed {feed} reverted")


def _require_our_devnet_feed(client: ChainClient, feed: str) -> None:
    w3 = client.w3
    try:
        node = w3.client_version
    except Exception as exc:  # noqa: BLE001 - connection problems are reported in words
        raise DevnetError(f"cannot reach the devnet at {client.rpc_url}: {exc}") from None
    if not node.lower().startswith("anvil"):
        raise DevnetError(f"{client.rpc_url} is {node}, not the anvil devnet; the price is only set on the devnet")
    ours = bytes.fromhex(load_artifact("EthUsdPriceFeed").deployed_bytecode.removeprefix("0x"))
    if bytes(w3.eth.get_code(feed)) != ours:
        raise DevnetError(f"{feed} does not hold the devnet's price feed; restart the devnet (`lpc devnet down`, "
                          "then `lpc devnet up`)")
    owner = w3.eth.contract(address=feed, abi=load_artifact("EthUsdPriceFeed").abi).functions.owner().call()
    if owner != dev_account(DEPLOYER_INDEX).address:
        raise DevnetError(f"the devnet feed {feed} is owned by {owner}, not the devnet deployer; it cannot be set here")

