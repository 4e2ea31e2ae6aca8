"""The redemption worker: turns stored winning tickets into fees, exactly once.

On each pass (every new block, or `tick()` from a test) for each unsettled ticket of this recipient:
- a `sent` ticket is settled from its receipt; a transaction the node no longer knows is re-broadcast
  byte for byte (same nonce, so it cannot be mined twice); if that is refused the ticket is checked on
  chain (`usedTickets`) and either marked redeemed or put back to pending;
- a `submitting` ticket was never broadcast (the process died between the two writes): back to pending;
- a `pending` ticket waits until its parameters expired (anti-replay, as go-livepeer) and the round is
  initialized, then: gives up with the reason if it can never pay (its creation round left the
  validity window, it is already used, the sender unlocked); checks the gas price cap, estimates the
  gas (a revert is classified the same way), checks the sender's funds against the tx cost; stores
  the signed transaction, broadcasts it. Any other problem retries with exponential backoff.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

from core.payments.alerts import Alerts
from core.payments.background import Background
from core.payments.ledger import LedgerEntry, TicketLedger
from core.payments.params import over_gas_cap
from core.payments.ports import TicketChain

log = logging.getLogger(__name__)

# revert strings (and our own words) meaning the ticket can never be paid
NEVER_PAYS = (
    "ticket is expired", "ticket is used", "sender is unlocked", "does not have a block hash",
    "creationRoundBlockHash invalid", "invalid signature over ticket hash", "recipientRand does not match",
    "ticket did not win", "null address", "invalid length for ticket auxData",
)


def never_pays(reason: str) -> bool:
    return any(s in reason for s in NEVER_PAYS)


def _reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or str(exc) or type(exc).__name__


@dataclass(frozen=True)
class RedeemerConfig:
    max_gas_price: int | None = None  # wei; above it redemptions wait
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    poll_s: float = 2.0


class RedemptionWorker(Background):
    thread_name = "lpc-redeemer"
    join_s = 30

    def __init__(self, ledger: TicketLedger, chain: TicketChain, config: RedeemerConfig = RedeemerConfig(), *,
                 alerts: Alerts | None = None, clock=time.time, on_redeemed=None):
        super().__init__()
        self.ledger = ledger
        self.chain = chain
        self.config = config
        self.alerts = alerts
        self._clock = clock
        self._on_redeemed = on_redeemed or (lambda entry, paid: None)
        self.last_error: str | None = None

    # ---------------------------------------------------------------- lifecycle
    def _run(self) -> None:
        last_block = None
        while not self._stop.is_set():
            try:
                view = self.chain.view()
                if view.l1_block != last_block or self.ledger.open_entries(self.chain.address):
                    last_block = view.l1_block
                    self.tick(view)
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 - an RPC outage: try again next poll
                self.last_error = _reason(exc)
                log.warning("redemption pass failed: %s", self.last_error)
            self._stop.wait(self.config.poll_s)

    # ---------------------------------------------------------------- one pass
    def tick(self, view=None) -> None:
        view = view or self.chain.view()
        for entry in self.ledger.open_entries(self.chain.address):
            try:
                if entry.status == "sent":
                    self._settle(entry)
                elif entry.status == "submitting":
                    self.ledger.retry_later(entry.id, "interrupted before its transaction was signed", 0)
                elif entry.status == "pending" and entry.next_attempt_at <= self._clock():
                    self._try_redeem(entry, view)
            except Exception as exc:  # noqa: BLE001 - one ticket's RPC failure must not stop the others
                self._retry(entry, _reason(exc))

    def _backoff(self, entry: LedgerEntry) -> float:
        return min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** min(entry.attempts, 16))

    def _retry(self, entry: LedgerEntry, reason: str, *, keep_tx: bool = False) -> None:
        log.info("ticket %s: %s (retrying)", entry.ticket_hash[:10], reason)
        self.ledger.retry_later(entry.id, reason, self._backoff(entry), keep_tx=keep_tx)

    def _give_up(self, entry: LedgerEntry, reason: str, **fields) -> None:
        self.ledger.mark_failed(entry.id, reason, **fields)
        if self.alerts:
            self.alerts.raise_("redemption", f"winning ticket {entry.ticket_hash} from {entry.sender} "
                                             f"(face value {entry.face_value} wei) can never be redeemed: {reason}")

    def _try_redeem(self, entry: LedgerEntry, view) -> None:
        if view.l1_block <= entry.params_expiration_block:
            return  # anti-replay: the gateway may still use these params; wait until they expire
        if not view.initialized:
            self.ledger.note(entry.id, f"waiting: round {view.round} is not initialized")
            return
        if entry.creation_round + view.ticket_validity_period <= view.round:
            self._give_up(entry, f"ticket is expired: created in round {entry.creation_round}, valid for "
                                 f"{view.ticket_validity_period} rounds, now round {view.round}")
            return
        ticket = entry.ticket
        if self.chain.is_used(ticket.hash()):
            self._give_up(entry, "ticket is used: it was already redeemed on chain")
            return
        funds = self.chain.sender_funds(entry.sender)
        if funds.withdraw_round and view.round >= funds.withdraw_round:
            self._give_up(entry, f"sender is unlocked (withdraw round {funds.withdraw_round}, now round {view.round})")
            return
        cap = self.config.max_gas_price
        if cap is not None and view.gas_price > cap:
            self._retry(entry, over_gas_cap(view.gas_price, cap))
            return
        args = (ticket.abi_tuple(), entry.sig, entry.recipient_rand)
        try:
            gas = self.chain.redeem_gas(*args)
        except Exception as exc:  # noqa: BLE001 - the estimate reverted: the contract says why
            reason = _reason(exc)
            if never_pays(reason):
                self._give_up(entry, reason)
            else:
                self._retry(entry, reason)
            return
        gas = gas * 12 // 10
        tx_cost = gas * view.gas_price
        available = funds.deposit + funds.claimable_reserve
        if available < tx_cost or entry.face_value < tx_cost:
            self._retry(entry, f"not worth redeeming yet: tx cost {tx_cost} wei, sender funds available to us "
                               f"{available} wei, face value {entry.face_value} wei")
            return
        lock = getattr(self.chain, "tx_lock", None) or contextlib.nullcontext()
        with lock:
            self.ledger.mark_submitting(entry.id)
            signed = self.chain.sign_redeem(*args, gas=gas, gas_price=view.gas_price)
            self.ledger.record_signed(entry.id, signed.tx_hash, signed.raw)
            try:
                self.chain.broadcast(signed.raw)
            except Exception as exc:  # noqa: BLE001 - settled on the next pass (re-sent or reset)
                self.ledger.note(entry.id, f"broadcast failed: {_reason(exc)}")
                return
        log.info("ticket %s: redemption sent in %s", entry.ticket_hash[:10], signed.tx_hash)
        self._settle(self.ledger.get(entry.id))

    def _round_at(self, block_number: int | None) -> int | None:
        """The round the fees were booked in (Earnings groups fees by it); None if it cannot be read now."""
        if block_number is None or not hasattr(self.chain, "round_at"):
            return None
        try:
            return self.chain.round_at(block_number)
        except Exception as exc:  # noqa: BLE001 - an RPC without that block's state: the round stays unknown
            log.info("round of block %s unknown: %s", block_number, exc)
            return None

    def _settle(self, entry: LedgerEntry) -> None:
        assert entry.tx_hash is not None
        rc = self.chain.receipt(entry.tx_hash)
        if rc is not None:
            if rc.ok:
                self.ledger.mark_redeemed(entry.id, tx_hash=rc.tx_hash, block_number=rc.block_number,
                                          gas_used=rc.gas_used, fee_wei=rc.fee_wei, paid_wei=rc.paid_wei,
                                          redeemed_round=self._round_at(rc.block_number))
                self._on_redeemed(entry, rc.paid_wei)
                log.info("ticket %s redeemed: %d wei in block %d", entry.ticket_hash[:10], rc.paid_wei, rc.block_number)
            elif never_pays(rc.error or ""):
                self._give_up(entry, rc.error or "reverted", tx_hash=rc.tx_hash, gas_used=rc.gas_used, fee_wei=rc.fee_wei)
            else:
                self._retry(entry, f"redemption {rc.tx_hash} reverted: {rc.error}")
            return
        if self.chain.tx_known(entry.tx_hash):
            return  # still pending in the mempool
        try:
            lock = getattr(self.chain, "tx_lock", None) or contextlib.nullcontext()
            with lock:
                self.chain.broadcast(bytes.fromhex(entry.raw_tx[2:]))
            return  # the same signed transaction again; settled next pass
        except Exception as exc:  # noqa: BLE001 - e.g. nonce too low: that nonce went to another transaction
            reason = _reason(exc)
        if self.chain.is_used(entry.ticket.hash()):
            self.ledger.mark_redeemed(entry.id, tx_hash=entry.tx_hash, block_number=None, gas_used=None, fee_wei=None,
                                      paid_wei=None, note="redeemed on chain (receipt not found)")
        else:
            self._retry(entry, f"re-sending the signed redemption failed ({reason}); a new one will be made")
