"""How an on-chain node is paid: flag names of `lpc node` map onto these fields (go-livepeer's in brackets)."""

from __future__ import annotations

from dataclasses import dataclass

from core.payments.params import DEFAULT_TICKET_EV, PARAMS_EXPIRATION_BLOCKS, REDEEM_GAS_ARBITRUM


@dataclass(frozen=True)
class PaymentConfig:
    ticket_ev: int = DEFAULT_TICKET_EV  # wei (-ticketEV)
    max_face_value: int | None = None  # wei (-maxFaceValue)
    redeem_gas: int = REDEEM_GAS_ARBITRUM
    params_expiration_blocks: int = PARAMS_EXPIRATION_BLOCKS
    max_gas_price: int | None = None  # wei (-maxGasPrice): redemptions and reward calls wait above it
    auto_adjust_price: bool = True  # (-autoAdjustPrice)
    reward: bool = True  # run the reward autopilot (-reward)
    reward_for: str | None = None  # call reward for this orchestrator as its LIP-118 reward caller
    initialize_rounds: bool = True  # (-initializeRound)
    poll_s: float = 2.0  # chain polling (-blockPollingInterval)
    reward_poll_s: float = 15.0
    redeem_backoff_s: float = 2.0
    price_feed: str | None = None  # ETH/<currency> feed address (-priceFeedAddr); default: the network's
    price_feed_poll_s: float | None = None  # seconds between feed reads; default: settings node.price_feed_poll_s
