"""The orchestrator node's chain access: the implementations of core.payments.ports (chain cannot import
core, so the shapes are matched, not inherited), wired in core/composition.py.

- load_recipient_view(client, recipient) -> RecipientView (the protocol as a ticket recipient sees it)
- BrokerClient (core.payments.ports.TicketChain): reads for ticket checks, and redemptions signed through
  chain.tx.sign_intent without being sent, so the ticket ledger stores the signed bytes before they leave
  the machine; broadcast and receipts are journaled on the same row.
- RewardClient (core.payments.ports.RewardChain): round initialization and reward calls for the autopilot,
  the rounds.initialize and orchestrator.reward plans sent with chain.tx.execute_plan.
Both sign only through chain.tx: one fee rule (chain.intents.gas_price) and one journal.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from chain.amounts import format_eth
from chain.client import ChainClient
from chain.intents import TxIntent, TxPlan, gas_price as current_fees
from chain.multicall import Call, aggregate
from chain.reads import RoundInfo, load_round_info, resolve
from chain.revert_words import explain_revert
from chain.amounts import short_address
from chain.services.deposit import SenderInfo, load_sender
from chain.tx import Journal, MemoryJournal, decode_events, execute_plan, sign_intent

# ------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class RecipientView:
    """The protocol as an orchestrator taking tickets sees it (core.payments.ports.ChainView)."""

    round: int
    initialized: bool
    last_initialized_round: int
    round_block_hash: bytes
    l1_block: int
    round_length: int
    ticket_validity_period: int
    active: bool
    registered: bool
    pool_size: int
    gas_price: int


def load_recipient_view(client: ChainClient, recipient: str, *, block_hashes: dict[int, bytes] | None = None,
                        ) -> RecipientView:
    r = to_checksum_address(recipient)
    resolve(client, "TicketBroker", "RoundsManager", "BondingManager")
    rm = client.contract("RoundsManager").functions
    bm = client.contract("BondingManager").functions
    tb = client.contract("TicketBroker").functions
    rnd, init, last, l1, length, active, registered, pool, validity = aggregate(
        client.w3, client.profile.multicall3, [
            Call.of(rm.currentRound()), Call.of(rm.currentRoundInitialized()), Call.of(rm.lastInitializedRound()),
            Call.of(rm.blockNum()), Call.of(rm.roundLength()), Call.of(bm.isActiveTranscoder(r)),
            Call.of(bm.isRegisteredTranscoder(r)), Call.of(bm.getTranscoderPoolSize()),
            Call.of(tb.ticketValidityPeriod()),
        ])
    cache = block_hashes if block_hashes is not None else {}
    if last not in cache:
        cache[last] = bytes(rm.blockHashForRound(last).call())
    return RecipientView(round=rnd, initialized=init, last_initialized_round=last, round_block_hash=cache[last],
                         l1_block=l1, round_length=length, ticket_validity_period=validity, active=active,
                         registered=registered, pool_size=pool, gas_price=current_fees(client).gas_price)


def is_used(client: ChainClient, ticket_hash: bytes) -> bool:
    return bool(client.contract("TicketBroker").functions.usedTickets(ticket_hash).call())


# ------------------------------------------------------------------------------- the node's access


class RedeemRefused(Exception):
    """Same shape as core.payments.ports.RedeemRefused (chain cannot import core): `reason` in words,
    the contract's revert string when it gave one."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedRedeem:
    tx_hash: str
    raw: bytes


@dataclass(frozen=True)
class RedeemReceipt:
    ok: bool
    tx_hash: str
    block_number: int
    gas_used: int
    fee_wei: int
    paid_wei: int
    error: str | None


def _revert_text(exc: Exception) -> str:
    words = explain_revert(exc)
    return words.raw or words.reason


class _RecordOnly:
    """The node's view of the transaction journal: a record for people, so a failing journal never stops a
    redemption (the ticket ledger is the truth). Rows it could not add are None and never updated."""

    def __init__(self, journal: Journal):
        self._journal = journal

    def add(self, intent: TxIntent, *, network: str) -> int | None:
        try:
            return self._journal.add(intent, network=network)
        except Exception:  # noqa: BLE001
            return None

    def update(self, entry_id: int | None, **fields: Any) -> None:
        if entry_id is None:
            return
        try:
            self._journal.update(entry_id, **fields)
        except Exception:  # noqa: BLE001
            pass


class _AccountAccess:
    """What both adapters hold: the chain client, the orchestrator account's signer (a keyring
    chain.wallet.Signer, or an eth_account LocalAccount on the devnet), the transaction journal, and
    `tx_lock`, which serialises the account's transactions (redemptions and reward calls draw from one
    nonce sequence)."""

    def __init__(self, client: ChainClient, signer, journal: Journal | None = None,
                 tx_lock: threading.Lock | None = None):
        self.client = client
        self.signer = signer
        self.journal = journal or MemoryJournal()
        self.tx_lock = tx_lock or threading.Lock()
        self._address = to_checksum_address(signer.address)

    @property
    def address(self) -> str:
        return self._address


class BrokerClient(_AccountAccess):
    """The orchestrator's TicketBroker access; the signer also signs messages (OrchestratorInfo)."""

    def __init__(self, client: ChainClient, signer, journal: Journal | None = None,
                 tx_lock: threading.Lock | None = None):
        super().__init__(client, signer, journal, tx_lock)
        self._block_hashes: dict[int, bytes] = {}
        self._journal_ids: dict[str, int] = {}
        resolve(client, "TicketBroker")
        self._tb = client.contract("TicketBroker")

    def view(self) -> RecipientView:
        return load_recipient_view(self.client, self._address, block_hashes=self._block_hashes)

    def sender_funds(self, sender: str) -> SenderInfo:
        return load_sender(self.client, sender, claimant=self._address)

    def is_used(self, ticket_hash: bytes) -> bool:
        return is_used(self.client, ticket_hash)

    def round_at(self, block_number: int) -> int:
        """The round as of a past block (an archive read; recent blocks on any full node)."""
        return self.client.contract("RoundsManager").functions.currentRound().call(block_identifier=block_number)

    def _fn(self, ticket: tuple, sig: bytes, rand: int):
        return self._tb.functions.redeemWinningTicket(ticket, sig, rand)

    def redeem_gas(self, ticket: tuple, sig: bytes, recipient_rand: int) -> int:
        data = self._fn(ticket, sig, recipient_rand)._encode_transaction_data()
        try:
            return self.client.w3.eth.estimate_gas({"from": self._address, "to": self._tb.address, "data": data})
        except (ContractLogicError, ContractCustomError, Web3RPCError, ValueError) as exc:
            raise RedeemRefused(_revert_text(exc)) from None

    def sign_redeem(self, ticket: tuple, sig: bytes, recipient_rand: int, gas: int, gas_price: int) -> SignedRedeem:
        """Sign (not send) the redemption with the next nonce, through chain.tx with its fee rule; `gas_price`
        (the price the redemption was judged worth at) raises the max fee when it is above that rule's.
        Call under `tx_lock` together with broadcast."""
        fees = current_fees(self.client)
        data = self._fn(ticket, sig, recipient_rand)._encode_transaction_data()
        intent = TxIntent(
            action="redeemWinningTicket", chain_id=self.client.profile.chain_id, sender=self._address,
            to=self._tb.address, contract="TicketBroker", function="redeemWinningTicket",
            args=(ticket, sig, recipient_rand), data=data, value=0, gas=gas, gas_estimated=True,
            gas_price=gas_price, max_fee_per_gas=max(fees.max_fee_per_gas, gas_price),
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
            summary=f"Redeem a winning ticket of {format_eth(ticket[2])} from {short_address(ticket[1])} "
                    f"(nonce {ticket[4]})")
        signed = sign_intent(self.client, intent, self.signer, _RecordOnly(self.journal))
        self._journal_ids[signed.tx_hash] = signed.journal_id
        return SignedRedeem(signed.tx_hash, signed.raw)

    def broadcast(self, raw: bytes) -> None:
        try:
            self.client.w3.eth.send_raw_transaction(raw)
        except (Web3RPCError, ValueError) as exc:
            text = str(exc)
            if "already known" in text or "already imported" in text:
                return
            raise RedeemRefused(_revert_text(exc) if "revert" in text else text) from None
        self._journal(keccak(raw), status="sent")

    def _journal(self, tx_hash: bytes | str, **fields) -> None:
        h = tx_hash if isinstance(tx_hash, str) else "0x" + tx_hash.hex()
        _RecordOnly(self.journal).update(self._journal_ids.get(h), tx_hash=h, **fields)

    def tx_known(self, tx_hash: str) -> bool:
        try:
            return self.client.w3.eth.get_transaction(tx_hash) is not None
        except TransactionNotFound:
            return False

    def receipt(self, tx_hash: str) -> RedeemReceipt | None:
        w3 = self.client.w3
        try:
            rc = w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        if rc is None:
            return None
        fee = rc["gasUsed"] * rc.get("effectiveGasPrice", 0)
        paid = 0
        error = None
        if rc["status"] == 1:
            events = decode_events(self.client, rc, extra={self._tb.address: "TicketBroker"})
            paid = sum(e.args["amount"] for e in events if e.name == "WinningTicketTransfer")
            self._journal(tx_hash, status="mined", block_number=rc["blockNumber"], gas_used=rc["gasUsed"], fee_wei=fee)
        else:
            tx = w3.eth.get_transaction(tx_hash)
            try:
                w3.eth.call({"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]},
                            rc["blockNumber"] - 1)
                error = "the redemption ran out of gas or was refused for an unreported reason"
            except (ContractLogicError, ContractCustomError, Web3RPCError, ValueError) as exc:
                error = _revert_text(exc)
            self._journal(tx_hash, status="failed", error=error, block_number=rc["blockNumber"],
                          gas_used=rc["gasUsed"], fee_wei=fee)
        return RedeemReceipt(ok=rc["status"] == 1, tx_hash=tx_hash, block_number=rc["blockNumber"],
                             gas_used=rc["gasUsed"], fee_wei=fee, paid_wei=paid, error=error)

    def sign_message(self, message: bytes) -> bytes:
        from eth_account.messages import encode_defunct

        return bytes(self.signer.sign_message(encode_defunct(primitive=keccak(message))).signature)


# ------------------------------------------------------------------------------- reward autopilot access


@dataclass(frozen=True)
class RewardStatus:
    round: int
    initialized: bool
    locked: bool
    blocks_left: int
    l1_block: int
    active: bool
    registered: bool
    last_reward_round: int
    gas_price: int
    paused: bool


@dataclass(frozen=True)
class SentTx:
    tx_hash: str | None
    gas_used: int
    fee_wei: int
    minted: int = 0  # Reward event amount (LPT wei)


class RewardClient(_AccountAccess):
    """Round initialization and reward calls for the autopilot, through the same plans the CLI shows."""

    def status(self, transcoder: str) -> RewardStatus:
        from chain.reads import load_orchestrator

        rnd: RoundInfo = load_round_info(self.client)
        detail = load_orchestrator(self.client, transcoder)
        return RewardStatus(round=rnd.number, initialized=rnd.initialized, locked=rnd.locked,
                            blocks_left=rnd.blocks_left, l1_block=rnd.l1_block, active=detail.active,
                            registered=detail.registered, last_reward_round=detail.last_reward_round,
                            gas_price=current_fees(self.client).gas_price, paused=rnd.paused)

    def _run(self, plan: TxPlan) -> list[Any]:
        with self.tx_lock:
            return execute_plan(self.client, plan, self.signer, self.journal)

    def initialize(self) -> SentTx:
        from chain.services import rounds

        (result,) = self._run(rounds.initialize(self.client, self._address))
        return SentTx(result.tx_hash, result.gas_used or 0, result.fee_wei or 0)

    def reward(self, transcoder: str) -> SentTx:
        from chain.services import orchestrator

        t = to_checksum_address(transcoder)
        plan = orchestrator.reward(self.client, self._address, None if t == self._address else t)
        (result,) = self._run(plan)
        ev = result.event("Reward")
        return SentTx(result.tx_hash, result.gas_used or 0, result.fee_wei or 0, ev.args["amount"] if ev else 0)
