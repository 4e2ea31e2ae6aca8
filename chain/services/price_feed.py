"""A Chainlink price feed (AggregatorV3), as go-livepeer reads one to turn a USD price per unit into wei.

On Arbitrum One this is Chainlink's ETH/USD feed (the default of go-livepeer's `-priceFeedAddr`); on
the devnet it is our own feed with the same ABI (chain/devnet/contracts/EthUsdPriceFeed.sol).
`PriceFeedReader(client).latest()` reads the feed's decimals, description and latest round in one
`eth_call` through Multicall3; later reads fetch only the latest round.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from eth_utils import is_address, to_checksum_address
from web3.exceptions import ContractLogicError

from chain.abi import abi
from chain.client import ChainClient, ChainError
from chain.multicall import Call, aggregate, failed
from chain.network import ARBITRUM_ONE

__all__ = ["FeedRound", "PriceFeedReader"]


@dataclass(frozen=True)
class FeedRound:
    """One round of a feed: `answer` is the price as an integer with `decimals` decimals."""

    address: str
    description: str  # e.g. "ETH / USD"
    base: str  # "ETH" (empty when the description is not of the form "BASE / QUOTE")
    quote: str  # "USD"
    decimals: int
    round_id: int
    answer: int
    started_at: int  # unix seconds
    updated_at: int  # unix seconds
    answered_in_round: int

    @property
    def price(self) -> Fraction:
        """Quote units per one base unit (USD per ETH), exactly."""
        return Fraction(self.answer, 10**self.decimals)

    def price_text(self) -> str:
        """The exact price as a decimal string without trailing zeros ("2500.5")."""
        whole, frac = divmod(self.answer, 10**self.decimals)
        digits = str(frac).rjust(self.decimals, "0").rstrip("0") if self.decimals else ""
        return f"{whole}.{digits}" if digits else str(whole)

    def to_json(self) -> dict:
        return {
            "address": self.address, "description": self.description, "base": self.base, "quote": self.quote,
            "decimals": self.decimals, "round_id": self.round_id, "answer": self.answer,
            "price": self.price_text(), "started_at": self.started_at, "updated_at": self.updated_at,
            "answered_in_round": self.answered_in_round,
        }


def _pair(description: str) -> tuple[str, str]:
    base, sep, quote = description.partition("/")
    if not sep or not base.strip() or not quote.strip():
        return "", ""
    return base.strip(), quote.strip()


class PriceFeedReader:
    """Reads one price feed; `address` defaults to the network profile's feed."""

    def __init__(self, client: ChainClient, address: str | None = None):
        self.client = client
        address = address or client.profile.price_feed
        if not address:
            hint = (
                "this devnet was started before it had a price feed: restart it (`lpc devnet down`, then "
                "`lpc devnet up`) and it is rebuilt with one"
                if client.profile.is_devnet
                else "give the feed's address (go-livepeer's -priceFeedAddr; on Arbitrum One, Chainlink's ETH/USD "
                f"feed is {ARBITRUM_ONE.price_feed})"
            )
            raise ChainError(f"no price feed is configured for the {client.profile.name} network; {hint}")
        if not is_address(address):
            raise ChainError(f"{address!r} is not a contract address; a price feed address is 0x and 40 hex digits")
        self.address = to_checksum_address(address)
        self._contract = client.w3.eth.contract(address=self.address, abi=abi("AggregatorV3"))
        self._meta: tuple[int, str] | None = None  # (decimals, description): fixed for a feed

    def latest(self) -> FeedRound:
        """The feed's latest round. Raises ChainError, in words, when the address holds no feed, the feed
        reverts, or its answer is not a positive price."""
        fns = self._contract.functions
        calls = [Call.of(fns.latestRoundData(), allow_failure=True)]
        if self._meta is None:
            calls += [Call.of(fns.decimals(), allow_failure=True), Call.of(fns.description(), allow_failure=True)]
        try:
            values = aggregate(self.client.w3, self.client.profile.multicall3, calls)
        except Exception as exc:  # noqa: BLE001 - connection problems are reported in words
            raise ChainError(
                f"cannot read the price feed at {self.address} through {self.client.rpc_url}: {exc}"
            ) from None
        for call, value in zip(calls, values):
            if failed(value):
                raise self._explain_failure(call.label)
        if self._meta is None:
            self._meta = (values[1], values[2])
        decimals, description = self._meta
        round_id, answer, started_at, updated_at, answered_in_round = values[0]
        if answer <= 0:
            raise ChainError(
                f"the price feed at {self.address} ({description}) reports {answer} in round {round_id}, which is not "
                "a price; the feed is broken or paused: do not price in its currency until it reports one again"
            )
        base, quote = _pair(description)
        return FeedRound(
            address=self.address, description=description, base=base, quote=quote, decimals=decimals,
            round_id=round_id, answer=answer, started_at=started_at, updated_at=updated_at,
            answered_in_round=answered_in_round,
        )

    def _explain_failure(self, label: str) -> ChainError:
        """Why a read failed: no contract at all, or a contract that reverted (with its reason if any)."""
        w3 = self.client.w3
        if not w3.eth.get_code(self.address):
            return ChainError(
                f"there is no contract at {self.address} on {self.client.rpc_url}, so it is not a price feed on "
                f"this network; check the feed address (and that --network / --rpc-url are the right ones)"
            )
        try:
            getattr(self._contract.functions, label)().call()
            what = "answers in a format that is not AggregatorV3's"
        except ContractLogicError as exc:
            said = (exc.message or "").removeprefix("execution reverted").lstrip(": ")
            what = f'reverts with "{said}"' if said else "reverts without a reason"
        except Exception as exc:  # noqa: BLE001 - whatever else the node says
            what = f"fails: {exc}"
        return ChainError(
            f"the contract at {self.address} is not a working Chainlink AggregatorV3 price feed: {label}() {what}; "
            "check the feed address"
        )
