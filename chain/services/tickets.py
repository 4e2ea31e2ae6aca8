"""TicketBroker: a sender's deposit and reserve (reads and funding plans), and the orchestrator's side
(the recipient's view of the protocol, used-ticket checks, signed redemptions).

- load_sender(client, sender, claimant=None) -> SenderInfo (deposit, reserve, unlock state, the
  claimant's reserve share)
- fund(client, sender, deposit=, reserve=), unlock, cancel_unlock, withdraw -> TxPlan
- redeem(client, recipient, ticket, sig, rand) -> TxPlan (a one-off redemption from the CLI)
- BrokerClient: the node's TicketBroker access (core.payments.ports.TicketChain): it signs a redemption
  without sending it, so the ticket ledger can store the signed bytes before they leave the machine.
- RewardClient: the reward autopilot's access (core.payments.ports.RewardChain), built on the
  rounds.initialize and orchestrator.reward plans and chain.tx.execute_plan.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from chain.amounts import format_eth
from chain.client import ChainClient
from chain.intents import PreflightError, StateChange, TxIntent, TxPlan, build_intent, gas_price, make_plan
from chain.multicall import Call, aggregate
from chain.reads import RoundInfo, load_round_info, resolve
from chain.revert_words import explain_revert
from chain.services.common import short
from chain.tx import Journal, MemoryJournal, decode_events, execute_plan

# ------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class SenderInfo:
    sender: str
    deposit: int
    withdraw_round: int  # 0 = no unlock in progress
    reserve: int  # funds remaining
    reserve_claimed_this_round: int
    claimable_reserve: int  # the claimant's share this round (0 without a claimant or when it is inactive)
    current_round: int
    unlock_period: int
    eth_balance: int

    @property
    def state(self) -> str:
        """Empty / Locked / Unlocking / Unlocked, as go-livepeer's livepeer_cli shows it."""
        if self.deposit == 0 and self.reserve == 0:
            return "Empty"
        if self.withdraw_round == 0:
            return "Locked"
        return "Unlocked" if self.current_round >= self.withdraw_round else "Unlocking"

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("deposit", "reserve", "reserve_claimed_this_round", "claimable_reserve", "eth_balance"):
            d[k] = str(d[k])
        d["state"] = self.state
        return d


def _mc(client: ChainClient):
    from chain.abi import abi

    return client.w3.eth.contract(address=client.profile.multicall3, abi=abi("Multicall3")).functions


def load_sender(client: ChainClient, sender: str, claimant: str | None = None) -> SenderInfo:
    """A sender's TicketBroker funds, its unlock state and (for `claimant`) its reserve share: one batch."""
    s = to_checksum_address(sender)
    resolve(client, "TicketBroker", "RoundsManager")
    tb = client.contract("TicketBroker").functions
    rm = client.contract("RoundsManager").functions
    calls = [Call.of(tb.getSenderInfo(s)), Call.of(rm.currentRound()), Call.of(tb.unlockPeriod()),
             Call.of(_mc(client).getEthBalance(s))]
    if claimant:
        calls.append(Call.of(tb.claimableReserve(s, to_checksum_address(claimant))))
    values = aggregate(client.w3, client.profile.multicall3, calls)
    (info, reserve), rnd, unlock_period, eth = values[:4]
    return SenderInfo(sender=s, deposit=info[0], withdraw_round=info[1], reserve=reserve[0],
                      reserve_claimed_this_round=reserve[1], claimable_reserve=values[4] if claimant else 0,
                      current_round=rnd, unlock_period=unlock_period, eth_balance=eth)


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
                         registered=registered, pool_size=pool, gas_price=gas_price(client).gas_price)


def is_used(client: ChainClient, ticket_hash: bytes) -> bool:
    return bool(client.contract("TicketBroker").functions.usedTickets(ticket_hash).call())


# ------------------------------------------------------------------------------- sender writes


def _eth(client: ChainClient, address: str) -> int:
    return client.w3.eth.get_balance(address)


def fund(client: ChainClient, sender: str, *, deposit: int = 0, reserve: int = 0) -> TxPlan:
    """Add to the sender's deposit and/or reserve (one fundDepositAndReserve call). Funding by the sender
    itself also cancels an unlock in progress."""
    s = to_checksum_address(sender)
    if deposit < 0 or reserve < 0 or deposit + reserve == 0:
        raise PreflightError("nothing to fund: give a deposit and/or a reserve amount above zero")
    info = load_sender(client, s)
    rnd = load_round_info(client)
    if rnd.paused:
        raise PreflightError("the Livepeer protocol is paused by governance", "wait until it is unpaused")
    tb = client.contract("TicketBroker")
    changes = []
    if deposit:
        changes.append(StateChange("deposit", format_eth(info.deposit), format_eth(info.deposit + deposit)))
    if reserve:
        changes.append(StateChange("reserve", format_eth(info.reserve), format_eth(info.reserve + reserve)))
    if info.withdraw_round:
        changes.append(StateChange("unlock", f"in progress (withdraw round {info.withdraw_round})", "cancelled"))
    what = " and ".join(x for x in (f"{format_eth(deposit)} to the deposit" if deposit else "",
                                    f"{format_eth(reserve)} to the reserve" if reserve else "") if x)
    intent = build_intent(
        client, sender=s, contract="TicketBroker", fn=tb.functions.fundDepositAndReserve(deposit, reserve),
        action="fundDepositAndReserve", value=deposit + reserve,
        summary=f"Add {what} of {short(s)} on the TicketBroker (the ETH pays orchestrators' winning tickets)",
        changes=changes,
    )
    return make_plan(client, "fund deposit and reserve", [intent], eth_balance=info.eth_balance)


def unlock(client: ChainClient, sender: str) -> TxPlan:
    s = to_checksum_address(sender)
    info = load_sender(client, s)
    if info.deposit == 0 and info.reserve == 0:
        raise PreflightError("there is nothing to unlock: the deposit and the reserve are empty")
    if info.withdraw_round:
        raise PreflightError(f"an unlock is already in progress (withdraw round {info.withdraw_round})",
                             "wait for it, or cancel it with `lpc deposit cancel-unlock`")
    tb = client.contract("TicketBroker")
    end = info.current_round + info.unlock_period
    intent = build_intent(
        client, sender=s, contract="TicketBroker", fn=tb.functions.unlock(), action="unlock",
        summary=f"Start unlocking the deposit and reserve of {short(s)}: withdrawable from round {end}",
        changes=[StateChange("state", info.state, "Unlocking", f"until round {end}")],
        warnings=[f"orchestrators stop accepting tickets from {short(s)} once it unlocks: "
                  f"they refuse a sender whose withdraw round is at most the current round + 1"],
    )
    return make_plan(client, "unlock deposit and reserve", [intent], eth_balance=info.eth_balance)


def cancel_unlock(client: ChainClient, sender: str) -> TxPlan:
    s = to_checksum_address(sender)
    info = load_sender(client, s)
    if not info.withdraw_round:
        raise PreflightError("no unlock is in progress", "nothing to cancel")
    tb = client.contract("TicketBroker")
    intent = build_intent(
        client, sender=s, contract="TicketBroker", fn=tb.functions.cancelUnlock(), action="cancelUnlock",
        summary=f"Cancel the unlock of {short(s)}: the funds stay locked and keep paying tickets",
        changes=[StateChange("state", info.state, "Locked")],
    )
    return make_plan(client, "cancel unlock", [intent], eth_balance=info.eth_balance)


def withdraw(client: ChainClient, sender: str) -> TxPlan:
    s = to_checksum_address(sender)
    info = load_sender(client, s)
    if info.deposit == 0 and info.reserve == 0:
        raise PreflightError("nothing to withdraw: the deposit and the reserve are empty")
    if not info.withdraw_round:
        raise PreflightError("the funds are locked", "start an unlock first with `lpc deposit unlock`")
    if info.current_round < info.withdraw_round:
        raise PreflightError(f"the funds unlock in round {info.withdraw_round} (now {info.current_round})",
                             f"wait {info.withdraw_round - info.current_round} more round(s)")
    tb = client.contract("TicketBroker")
    total = info.deposit + info.reserve
    intent = build_intent(
        client, sender=s, contract="TicketBroker", fn=tb.functions.withdraw(), action="withdraw",
        summary=f"Withdraw {format_eth(total)} (deposit {format_eth(info.deposit)}, reserve "
                f"{format_eth(info.reserve)}) to {short(s)}",
        changes=[StateChange("deposit", format_eth(info.deposit), format_eth(0)),
                 StateChange("reserve", format_eth(info.reserve), format_eth(0)),
                 StateChange("ETH balance", format_eth(info.eth_balance), f"≈{format_eth(info.eth_balance + total)}")],
    )
    return make_plan(client, "withdraw deposit and reserve", [intent], eth_balance=info.eth_balance)


def redeem(client: ChainClient, recipient: str, ticket: tuple, sig: bytes, recipient_rand: int) -> TxPlan:
    r = to_checksum_address(recipient)
    tb = client.contract("TicketBroker")
    intent = build_intent(
        client, sender=r, contract="TicketBroker", fn=tb.functions.redeemWinningTicket(ticket, sig, recipient_rand),
        action="redeemWinningTicket",
        summary=f"Redeem a winning ticket of face value {format_eth(ticket[2])} from {short(ticket[1])}",
    )
    return make_plan(client, "redeem winning ticket", [intent], eth_balance=_eth(client, r))


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


class BrokerClient:
    """The orchestrator's TicketBroker access. `signer` signs transactions and messages (a keyring
    chain.wallet.Signer, or an eth_account LocalAccount on the devnet); `tx_lock` serialises this
    account's transactions with the reward autopilot's (both draw from one nonce sequence)."""

    def __init__(self, client: ChainClient, signer, journal: Journal | None = None,
                 tx_lock: threading.Lock | None = None):
        self.client = client
        self.signer = signer
        self.journal = journal or MemoryJournal()
        self.tx_lock = tx_lock or threading.Lock()
        self._address = to_checksum_address(signer.address)
        self._block_hashes: dict[int, bytes] = {}
        self._journal_ids: dict[str, int] = {}
        resolve(client, "TicketBroker")
        self._tb = client.contract("TicketBroker")

    @property
    def address(self) -> str:
        return self._address

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
        """Sign (not send) the redemption with the next nonce. Call under `tx_lock` together with broadcast."""
        w3 = self.client.w3
        fn = self._fn(ticket, sig, recipient_rand)
        data = fn._encode_transaction_data()
        base = w3.eth.get_block("latest").get("baseFeePerGas") or 0
        tx = {"chainId": self.client.profile.chain_id, "from": self._address, "to": self._tb.address, "data": data,
              "value": 0, "gas": gas, "nonce": w3.eth.get_transaction_count(self._address, "pending"),
              "maxFeePerGas": max(2 * base, gas_price), "maxPriorityFeePerGas": 0, "type": 2}
        signed = self.signer.sign_transaction(tx)
        raw = bytes(getattr(signed, "raw_transaction", None) or signed.rawTransaction)
        tx_hash = "0x" + keccak(raw).hex()
        intent = TxIntent(
            action="redeemWinningTicket", chain_id=tx["chainId"], sender=self._address, to=self._tb.address,
            contract="TicketBroker", function="redeemWinningTicket", args=(ticket, sig, recipient_rand), data=data,
            value=0, gas=gas, gas_estimated=True, gas_price=gas_price, max_fee_per_gas=tx["maxFeePerGas"],
            max_priority_fee_per_gas=0, summary=f"Redeem a winning ticket of {format_eth(ticket[2])} from "
                                                f"{short(ticket[1])} (nonce {ticket[4]})")
        try:
            self._journal_ids[tx_hash] = self.journal.add(intent, network=self.client.profile.name)
        except Exception:  # noqa: BLE001 - the tx journal is a record for people; the ledger is the truth
            pass
        return SignedRedeem(tx_hash, raw)

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
        entry = self._journal_ids.get(h)
        if entry is not None:
            try:
                self.journal.update(entry, tx_hash=h, **fields)
            except Exception:  # noqa: BLE001
                pass

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


class RewardClient:
    """Round initialization and reward calls for the autopilot, through the same plans the CLI shows."""

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

    def status(self, transcoder: str) -> RewardStatus:
        from chain.reads import load_orchestrator

        rnd: RoundInfo = load_round_info(self.client)
        detail = load_orchestrator(self.client, transcoder)
        return RewardStatus(round=rnd.number, initialized=rnd.initialized, locked=rnd.locked,
                            blocks_left=rnd.blocks_left, l1_block=rnd.l1_block, active=detail.active,
                            registered=detail.registered, last_reward_round=detail.last_reward_round,
                            gas_price=gas_price(self.client).gas_price, paused=rnd.paused)

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
