"""What payments need from the chain, as small Protocols. The web3 implementations live in chain/
(chain/services/payment_ports.py, BrokerClient and RewardClient) and are wired in core/composition.py; tests
of core logic may pass anything of the same shape, the integration tests pass the real ones on anvil.
All amounts are integer wei; addresses are 0x-hex checksummed strings at this boundary.
"""

from __future__ import annotations

from typing import Any, Protocol


class ChainView(Protocol):
    """The recipient's view of the protocol at one block (read in one batch)."""

    round: int  # current round
    initialized: bool  # current round initialized
    last_initialized_round: int
    round_block_hash: bytes  # blockHashForRound(last_initialized_round)
    l1_block: int  # RoundsManager.blockNum(): the "L1" block numbering tickets use
    round_length: int
    ticket_validity_period: int  # rounds
    active: bool  # the recipient is in the active set this round
    registered: bool
    pool_size: int
    gas_price: int  # wei


class SenderFunds(Protocol):
    sender: str
    deposit: int
    withdraw_round: int  # 0 = not unlocking
    reserve: int  # funds remaining
    claimable_reserve: int  # this recipient's share of the reserve this round


class SignedTx(Protocol):
    tx_hash: str
    raw: bytes


class Receipt(Protocol):
    ok: bool
    tx_hash: str
    block_number: int
    gas_used: int
    fee_wei: int
    paid_wei: int  # WinningTicketTransfer amount (0 when nothing moved)
    error: str | None


class TicketChain(Protocol):
    """TicketBroker access for the orchestrator (recipient)."""

    @property
    def address(self) -> str: ...

    def view(self) -> ChainView: ...

    def sender_funds(self, sender: str) -> SenderFunds: ...

    def is_used(self, ticket_hash: bytes) -> bool: ...

    def round_at(self, block_number: int) -> int:
        """RoundsManager.currentRound() as of `block_number` (the round a redemption's fees were booked in)."""

    def redeem_gas(self, ticket: tuple, sig: bytes, recipient_rand: int) -> int:
        """eth_estimateGas of redeemWinningTicket; raises RedeemRefused(reason) when it would revert."""

    def sign_redeem(self, ticket: tuple, sig: bytes, recipient_rand: int, gas: int, gas_price: int) -> SignedTx: ...

    def broadcast(self, raw: bytes) -> None:
        """Send a signed transaction; raises RedeemRefused when the node refuses it (e.g. nonce too low)."""

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The mined outcome, or None while unknown (pending or never seen)."""

    def tx_known(self, tx_hash: str) -> bool:
        """The node knows this transaction (pending or mined)."""

    def sign_message(self, message: bytes) -> bytes:
        """EIP-191 signature over keccak256(message) with the orchestrator's key (65 bytes, v 27/28)."""


class RewardChain(Protocol):
    """What the reward autopilot needs: state, and plans it can send (chain.services plans)."""

    @property
    def address(self) -> str: ...

    def status(self, transcoder: str) -> Any:
        """An object with round, initialized, active, last_reward_round, gas_price, blocks_left."""

    def initialize(self) -> Any:
        """Initialize the round; returns a result with tx_hash, gas_used, fee_wei (raises on failure)."""

    def reward(self, transcoder: str) -> Any:
        """Call reward (with hints); returns a result with tx_hash, gas_used, fee_wei, minted."""


class RedeemRefused(Exception):
    """The chain would refuse or refused a redemption; `reason` in words (a revert string when known)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class FeedRound(Protocol):
    """One answer of a Chainlink AggregatorV3 feed (chain.services.price_feed.FeedRound)."""

    address: str
    description: str  # "ETH / USD"
    base: str  # "ETH"
    quote: str  # "USD"
    round_id: int
    updated_at: int  # unix seconds of the answer

    @property
    def price(self): ...  # Fraction: quote units per 1 base unit


class PriceFeed(Protocol):
    """An ETH price feed (go-livepeer's -priceFeedAddr): its latest answer in one read."""

    @property
    def address(self) -> str: ...

    def latest(self) -> FeedRound: ...
