"""Sign, send, wait, decode: turning an intent into a mined transaction, with every step journaled.

The caller supplies a `Signer` (the keyring wallet's, or an eth_account LocalAccount in tests) and a
`Journal` (core/store/journal.py writes it to SQL; `MemoryJournal` keeps it in memory). A plan runs
step by step: an intent whose gas could not be estimated when it was built (bond after its approve)
is estimated again just before signing, and a step that would now revert stops the plan with the
reason in words. Keys never reach this module: only signed bytes do.

This is the only place a transaction is signed: `send_intent` (sign, send, wait) for plans, and
`sign_intent` for a caller that must store the signed bytes before they leave the machine (the node's
ticket redemptions). Both take the fees from the intent (chain.intents.gas_price: no tip, max fee =
MAX_FEE_MULTIPLIER × base fee) and journal the transaction before it is signed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError

from chain.abi import CLIENT_ABIS, abi
from chain.client import ChainClient, ChainError
from chain.intents import GAS_MARGIN_PERCENT, PreflightError, TxIntent, TxPlan, estimate_gas
from chain.revert_words import explain_revert


@runtime_checkable
class Signer(Protocol):
    """Signs transactions for one address without exposing its key (chain.wallet.Signer fits)."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, tx: dict[str, Any]) -> Any: ...  # returns an object with .raw_transaction


class Journal(Protocol):
    """Where every transaction is recorded: once before signing, then as it is sent and mined."""

    def add(self, intent: TxIntent, *, network: str) -> int: ...

    def update(self, entry_id: int, **fields: Any) -> None: ...


@dataclass
class MemoryJournal:
    """A Journal in memory (for scripts and tests that do not open the store)."""

    entries: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, intent: TxIntent, *, network: str) -> int:
        entry_id = len(self.entries) + 1
        self.entries[entry_id] = {"network": network, "action": intent.action, "sender": intent.sender,
                                  "to": intent.to, "summary": intent.summary, "status": "pending"}
        return entry_id

    def update(self, entry_id: int, **fields: Any) -> None:
        self.entries[entry_id].update(fields)


@dataclass(frozen=True)
class DecodedEvent:
    contract: str
    name: str
    args: dict[str, Any]

    def to_json(self) -> dict:
        return {"contract": self.contract, "name": self.name,
                "args": {k: _plain(v) for k, v in self.args.items()}}

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={_plain(v)}" for k, v in self.args.items())
        return f"{self.contract}.{self.name}({inner})"


def _plain(v: Any) -> Any:
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


@dataclass(frozen=True)
class TxResult:
    intent: TxIntent
    journal_id: int
    ok: bool
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    fee_wei: int | None = None
    events: tuple[DecodedEvent, ...] = ()
    error: str | None = None  # the reason in words, when it failed
    fix: str | None = None

    def event(self, name: str) -> DecodedEvent | None:
        return next((e for e in self.events if e.name == name), None)

    def to_json(self) -> dict:
        return {
            "action": self.intent.action, "ok": self.ok, "tx_hash": self.tx_hash, "block_number": self.block_number,
            "gas_used": self.gas_used, "fee_wei": None if self.fee_wei is None else str(self.fee_wei),
            "events": [e.to_json() for e in self.events], "error": self.error, "fix": self.fix,
            "journal_id": self.journal_id,
        }


class TxFailed(ChainError):
    """A transaction of a plan failed (reverted, timed out or was refused); `results` has what ran."""

    def __init__(self, message: str, results: list[TxResult]):
        super().__init__(message)
        self.results = results


def execute_plan(client: ChainClient, plan: TxPlan, signer: Signer, journal: Journal, *,
                 timeout: float = 120.0, on_step: Callable[[TxIntent], None] | None = None) -> list[TxResult]:
    """Send the plan's transactions in order; stop at the first that fails (raising TxFailed)."""
    results: list[TxResult] = []
    for intent in plan.intents:
        if on_step:
            on_step(intent)
        result = send_intent(client, intent, signer, journal, timeout=timeout)
        results.append(result)
        if not result.ok:
            raise TxFailed(f"{intent.action} failed: {result.error}" + (f" — {result.fix}" if result.fix else ""),
                           results)
    return results


@dataclass(frozen=True)
class SignedTx:
    journal_id: int
    tx_hash: str
    raw: bytes


def _check_signer(signer: Signer, intent: TxIntent) -> None:
    if to_checksum_address(signer.address) != to_checksum_address(intent.sender):
        raise ChainError(f"the signer is {signer.address}, but this transaction is from {intent.sender}")


def _sign(client: ChainClient, intent: TxIntent, gas: int, signer: Signer) -> bytes:
    """The intent as an EIP-1559 transaction with the sender's next nonce, signed: the raw bytes."""
    tx = {
        "chainId": intent.chain_id,
        "from": intent.sender,
        "to": intent.to,
        "data": intent.data,
        "value": intent.value,
        "gas": gas,
        "nonce": client.w3.eth.get_transaction_count(intent.sender, "pending"),
        "maxFeePerGas": intent.max_fee_per_gas,
        "maxPriorityFeePerGas": intent.max_priority_fee_per_gas,
        "type": 2,
    }
    signed = signer.sign_transaction(tx)
    return bytes(getattr(signed, "raw_transaction", None) or getattr(signed, "rawTransaction"))


def sign_intent(client: ChainClient, intent: TxIntent, signer: Signer, journal: Journal) -> SignedTx:
    """Journal the intent and sign it (not send it): its gas must be known. The journal row gets the hash;
    the caller sends the bytes (and may send them again after a restart: same hash, same nonce)."""
    _check_signer(signer, intent)
    entry = journal.add(intent, network=client.profile.name)
    try:
        raw = _sign(client, intent, intent.gas, signer)
    except Exception as exc:  # noqa: BLE001 - the wallet's errors never contain the key
        journal.update(entry, status="refused", error=f"not signed: {exc}")
        raise
    tx_hash = "0x" + keccak(raw).hex()
    journal.update(entry, tx_hash=tx_hash)
    return SignedTx(entry, tx_hash, raw)


def send_intent(client: ChainClient, intent: TxIntent, signer: Signer, journal: Journal, *,
                timeout: float = 120.0) -> TxResult:
    """Sign with `signer`, send, wait for the receipt and decode it. Never raises for a revert."""
    w3 = client.w3
    _check_signer(signer, intent)
    entry = journal.add(intent, network=client.profile.name)
    gas = intent.gas
    if not intent.gas_estimated:
        try:
            gas = estimate_gas(client, sender=intent.sender, to=intent.to, data=intent.data, value=intent.value)
            gas = gas * (100 + GAS_MARGIN_PERCENT) // 100
            journal.update(entry, gas_estimate=gas)
        except PreflightError as exc:
            journal.update(entry, status="refused", error=str(exc))
            return TxResult(intent, entry, ok=False, error=exc.reason, fix=exc.fix)
    try:
        raw = _sign(client, intent, gas, signer)
    except Exception as exc:  # noqa: BLE001 - the wallet's errors never contain the key
        journal.update(entry, status="refused", error=f"not signed: {exc}")
        return TxResult(intent, entry, ok=False, error=f"the wallet did not sign: {exc}")
    try:
        tx_hash = w3.eth.send_raw_transaction(raw)
    except (Web3RPCError, ValueError) as exc:
        words = explain_revert(exc)
        journal.update(entry, status="failed", error=str(words))
        return TxResult(intent, entry, ok=False, error=words.reason, fix=words.fix)
    hex_hash = "0x" + bytes(tx_hash).hex()
    journal.update(entry, status="sent", tx_hash=hex_hash)
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    except TimeExhausted:
        journal.update(entry, status="sent", error=f"no receipt after {timeout:.0f} s")
        return TxResult(intent, entry, ok=False, tx_hash=hex_hash,
                        error=f"the transaction was sent but not mined within {timeout:.0f} s",
                        fix=f"check it later by its hash {hex_hash}")
    fee = receipt["gasUsed"] * receipt.get("effectiveGasPrice", intent.gas_price)
    common = dict(tx_hash=hex_hash, block_number=receipt["blockNumber"], gas_used=receipt["gasUsed"], fee_wei=fee)
    if receipt["status"] != 1:
        words = _replay_revert(client, intent, gas, receipt["blockNumber"])
        journal.update(entry, status="failed", error=str(words), block_number=common["block_number"],
                       gas_used=common["gas_used"], fee_wei=str(fee))
        return TxResult(intent, entry, ok=False, error=words.reason, fix=words.fix, **common)
    events = decode_events(client, receipt, extra={intent.to: intent.contract})
    journal.update(entry, status="mined", block_number=common["block_number"], gas_used=common["gas_used"],
                   fee_wei=str(fee), events_json=json.dumps([e.to_json() for e in events]))
    return TxResult(intent, entry, ok=True, events=tuple(events), **common)


def _replay_revert(client: ChainClient, intent: TxIntent, gas: int, block: int):
    """Why a mined transaction reverted: replay it as a call on the state before its block."""
    try:
        client.w3.eth.call({"from": intent.sender, "to": intent.to, "data": intent.data, "value": intent.value,
                            "gas": gas}, block - 1)
    except (ContractLogicError, ContractCustomError, Web3RPCError, ValueError) as exc:
        return explain_revert(exc)
    from chain.revert_words import Words

    return Words("the transaction ran out of gas or was refused for a reason the node did not report",
                 "try again; the gas limit is re-estimated each time")


def decode_events(client: ChainClient, receipt, *, extra: dict[str, str] | None = None) -> list[DecodedEvent]:
    """The receipt's logs decoded with the ABI of the contract that emitted them (known contracts only)."""
    names = {addr: name for name, addr in client._addresses.items()}
    for name in ("PollCreator", "AIServiceRegistry"):
        names.setdefault(client.address(name), name)
    names.update({to_checksum_address(k): v for k, v in (extra or {}).items()})
    out: list[DecodedEvent] = []
    for log in receipt["logs"]:
        name = names.get(to_checksum_address(log["address"]))
        abi_name = {"AIServiceRegistry": "ServiceRegistry", "JobsManager": "TicketBroker"}.get(name, name)
        if abi_name not in CLIENT_ABIS:
            continue
        contract = client.w3.eth.contract(address=log["address"], abi=abi(abi_name))
        for ev_abi in (e for e in abi(abi_name) if e["type"] == "event"):
            try:
                decoded = getattr(contract.events, ev_abi["name"])().process_log(log)
            except Exception:  # noqa: BLE001 - not this event
                continue
            out.append(DecodedEvent(name, decoded["event"], dict(decoded["args"])))
            break
    return out

