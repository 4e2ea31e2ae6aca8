"""Ticket parameters an orchestrator hands each gateway (go-livepeer.md §5, protocol.md §3.7).

- tx cost = redemption gas (1,200,000 on Arbitrum) × current gas price;
- face value = tx cost × 100 (at least ticket EV × 100), capped by the sender's max float and by
  `--max-face-value`; refused ("insufficient sender reserve", with the numbers) when the result is
  below the ticket EV or below the tx cost;
- win probability so that EV ≈ `--ticket-ev`: winProb = EV × ceil((2²⁵⁶−1) / faceValue);
- recipientRand = HMAC-SHA256(secret, seed ‖ sender ‖ faceValue ‖ winProb ‖ expirationBlock ‖ price ‖
  auxData): a commitment the node can recompute from what the gateway sends back, so it keeps one
  secret per process and nothing per ticket; recipientRandHash = keccak256(recipientRand);
- parameters expire 40 L1 blocks after the last seen block (shortened when the network's rounds are
  so short that a ticket would expire on chain before its parameters do, as on the devnet);
- creation round = the last initialized round, with its block hash;
- the redemption overhead auto-adjust adds to the price = tx cost ÷ face value (1 ÷ 100 when no
  parameters can be issued): `ParamsMaker.overhead`, the one place that rule lives.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from fractions import Fraction

from core.payments.tickets import MAX_UINT256, rand_hash, u256

REDEEM_GAS_ARBITRUM = 1_200_000
TX_COST_MULTIPLIER = 100
PARAMS_EXPIRATION_BLOCKS = 40
DEFAULT_TICKET_EV = 8 * 10**9  # 8 gwei
GWEI = 10**9


def format_gwei(wei: int) -> str:
    """A gas price in gwei as core's messages say it: 1_500_000_000 → "1.5 gwei" (core may not import
    chain, whose chain.amounts.format_gwei the console uses; both say it the same way)."""
    return f"{wei / GWEI:g} gwei"


def over_gas_cap(gas_price: int, cap: int) -> str:
    """Why a transaction waits: the gas price is above the configured cap."""
    return f"gas price {format_gwei(gas_price)} is above the cap {format_gwei(cap)}"


class ParamsRefused(Exception):
    """No ticket parameters can be offered to this sender; the message carries the numbers."""

    code = "insufficient_reserve"


@dataclass(frozen=True)
class IssuedParams:
    recipient: bytes
    sender: bytes
    face_value: int
    win_prob: int
    recipient_rand_hash: bytes
    seed: bytes
    expiration_block: int
    creation_round: int
    creation_round_block_hash: bytes
    price: Fraction  # wei per pixel the params commit to
    tx_cost: int

    @property
    def ev(self) -> Fraction:
        return Fraction(self.face_value * self.win_prob, MAX_UINT256)


AMPLE_FUNDS = 2**255  # the max float of a gateway whose funds do not limit the face value


@dataclass(frozen=True)
class Overhead:
    """What redeeming a winning ticket costs against its face value, for one gateway now: the share the
    price is raised by when auto-adjusting (overhead = tx_cost / face_value; 1 / tx_cost_multiplier when no
    parameters can be issued, the refusal then in `why`)."""

    gas_price: int
    tx_cost: int  # wei: redeem gas × gas price
    face_value: int | None  # wei; None when the params are refused
    overhead: Fraction
    why: str  # what sets the face value (and so the overhead), or why none can be issued


def max_float(deposit: int, claimable_reserve: int, pending: int) -> int:
    """What a sender can be trusted for: deposit + its reserve share for us − our pending redemptions
    (pending is not subtracted while the deposit covers it three times, as go-livepeer)."""
    total = deposit + claimable_reserve
    if pending and deposit < 3 * pending:
        total -= pending
    return max(0, total)


def expiration_blocks(round_length: int, validity_rounds: int, wanted: int = PARAMS_EXPIRATION_BLOCKS) -> int:
    """40 blocks, unless a round is too short for that: a ticket must still be redeemable on chain
    (creationRound + validity > currentRound) for a while after its parameters expire."""
    room = max(1, (validity_rounds - 1) * round_length // 2) if validity_rounds > 1 else max(1, round_length // 4)
    return max(1, min(wanted, room))


class ParamsMaker:
    def __init__(self, recipient: bytes, *, ticket_ev: int = DEFAULT_TICKET_EV, max_face_value: int | None = None,
                 redeem_gas: int = REDEEM_GAS_ARBITRUM, tx_cost_multiplier: int = TX_COST_MULTIPLIER,
                 expiration: int = PARAMS_EXPIRATION_BLOCKS, secret: bytes | None = None):
        self.recipient = recipient
        self.ticket_ev = ticket_ev
        self.max_face_value = max_face_value
        self.redeem_gas = redeem_gas
        self.tx_cost_multiplier = tx_cost_multiplier
        self.expiration = expiration
        self._secret = secret or secrets.token_bytes(32)

    def face_value(self, gas_price: int, sender_max_float: int) -> tuple[int, int]:
        """(face value, tx cost) for a sender, or ParamsRefused explaining which limit bit."""
        tx_cost = self.redeem_gas * gas_price
        fv = tx_cost * self.tx_cost_multiplier
        if fv < self.ticket_ev:
            fv = self.ticket_ev * self.tx_cost_multiplier
        wanted = fv
        fv = min(fv, sender_max_float)
        if self.max_face_value is not None:
            fv = min(fv, self.max_face_value)
        if fv < self.ticket_ev or fv < tx_cost or fv <= 0:
            limit = ("the sender's max float" if sender_max_float <= (self.max_face_value or sender_max_float)
                     else "--max-face-value")
            raise ParamsRefused(
                f"insufficient sender reserve: face value {fv} wei (wanted {wanted}, limited by {limit}: "
                f"max float {sender_max_float} wei"
                + (f", --max-face-value {self.max_face_value} wei" if self.max_face_value is not None else "")
                + f") is below the ticket EV {self.ticket_ev} wei or the redemption cost {tx_cost} wei "
                f"({self.redeem_gas:,} gas at {format_gwei(gas_price)})"
            )
        return fv, tx_cost

    @property
    def unissued_overhead(self) -> Fraction:
        """The overhead priced in before any parameters are issued (face value = multiplier × tx cost)."""
        return Fraction(1, self.tx_cost_multiplier)

    def overhead(self, gas_price: int, sender_max_float: int = AMPLE_FUNDS) -> Overhead:
        """The redemption overhead for a sender with this max float, and what sets it."""
        m = self.tx_cost_multiplier
        tx_cost = self.redeem_gas * gas_price
        try:
            fv, tx_cost = self.face_value(gas_price, sender_max_float)
        except ParamsRefused as exc:
            return Overhead(gas_price, tx_cost, None, self.unissued_overhead, str(exc))
        if fv < max(tx_cost, self.ticket_ev) * m:
            by = "--max-face-value" if self.max_face_value is not None and fv == self.max_face_value \
                else "the gateway's max float (deposit + reserve share)"
            why = f"face value capped by {by} below {m}× the redemption cost"
        elif tx_cost >= self.ticket_ev:
            why = f"face value = {m}× the redemption cost"
        else:
            why = f"face value = {m}× the ticket EV (gas is cheap)"
        return Overhead(gas_price, tx_cost, fv, Fraction(tx_cost, fv), why)

    def win_prob(self, face_value: int) -> int:
        return min(MAX_UINT256, self.ticket_ev * -(-MAX_UINT256 // face_value))

    def recipient_rand(self, seed: bytes, sender: bytes, face_value: int, win_prob: int, expiration_block: int,
                       price: Fraction, aux_data: bytes) -> int:
        msg = (seed + sender + u256(face_value) + u256(win_prob) + u256(expiration_block)
               + u256(price.numerator) + u256(price.denominator) + aux_data)
        return int.from_bytes(hmac.new(self._secret, msg, hashlib.sha256).digest(), "big")

    def issue(self, sender: bytes, *, gas_price: int, sender_max_float: int, l1_block: int, creation_round: int,
              creation_round_block_hash: bytes, price: Fraction) -> IssuedParams:
        fv, tx_cost = self.face_value(gas_price, sender_max_float)
        wp = self.win_prob(fv)
        seed = secrets.token_bytes(32)
        exp = l1_block + self.expiration
        aux = u256(creation_round) + creation_round_block_hash
        rand = self.recipient_rand(seed, sender, fv, wp, exp, price, aux)
        return IssuedParams(self.recipient, sender, fv, wp, rand_hash(rand), seed, exp, creation_round,
                            creation_round_block_hash, price, tx_cost)
