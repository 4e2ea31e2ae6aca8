"""A gateway's TicketBroker funds: the deposit that pays winning tickets and the reserve behind it.

- load_sender(client, sender, claimant=None) -> SenderInfo (deposit, reserve, unlock state, the
  claimant's reserve share), one multicall batch
- fund(client, sender, deposit=, reserve=), unlock, cancel_unlock, withdraw -> TxPlan (the Deposit screen
  and `lpc deposit` show the plan; chain.tx sends it)
- SenderDesk(client, signer, journal): the same reads, plans and sends bound to one signer, for a running
  gateway's management API (core/gateway/sender_api.py): `plan()` only builds (nothing is signed),
  `send()` builds the plan again on the chain as it is then and sends it through chain.tx. A refusal
  (PreflightError: nothing to fund, locked funds …) is a `DeskRefused` (a ValueError) in words
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass

from eth_utils import to_checksum_address

from chain.amounts import format_eth
from chain.client import ChainClient
from chain.intents import PreflightError, StateChange, TxPlan, build_intent, make_plan
from chain.multicall import Call, aggregate
from chain.reads import load_round_info, resolve
from chain.amounts import short_address

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


# ------------------------------------------------------------------------------- sender writes


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
    if deposit + reserve > info.eth_balance:
        # checked here, in words: the node's gas estimate would only say "insufficient funds for transfer"
        raise PreflightError(f"{short_address(s)} holds {format_eth(info.eth_balance)}; adding "
                             f"{format_eth(deposit + reserve)} needs that much plus gas",
                             "send ETH to this account first, or fund a smaller amount")
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
        summary=f"Add {what} of {short_address(s)} on the TicketBroker (the ETH pays orchestrators' winning tickets)",
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
        summary=f"Start unlocking the deposit and reserve of {short_address(s)}: withdrawable from round {end}",
        changes=[StateChange("state", info.state, "Unlocking", f"until round {end}")],
        warnings=[f"orchestrators stop accepting tickets from {short_address(s)} once it unlocks: "
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
        summary=f"Cancel the unlock of {short_address(s)}: the funds stay locked and keep paying tickets",
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
                f"{format_eth(info.reserve)}) to {short_address(s)}",
        changes=[StateChange("deposit", format_eth(info.deposit), format_eth(0)),
                 StateChange("reserve", format_eth(info.reserve), format_eth(0)),
                 StateChange("ETH balance", format_eth(info.eth_balance), f"≈{format_eth(info.eth_balance + total)}")],
    )
    return make_plan(client, "withdraw deposit and reserve", [intent], eth_balance=info.eth_balance)


# ------------------------------------------------------------------------------- one sender's desk


class DeskRefused(ValueError):
    """The plan cannot be made or was refused by the chain: the reason and what to do, in words."""


_ACTIONS = ("fund", "unlock", "cancel_unlock", "withdraw")


class SenderDesk:
    """One sender's TicketBroker funds: reads, plans and sends through chain.tx with `signer` (a keyring
    chain.wallet.Signer or a devnet dev key: it signs, its key never leaves it). `journal()` opens the
    transaction journal for one send (a context manager, so a read-only gateway never opens the store).
    Sends are one at a time (one nonce sequence); `on_sent()` runs after each (the gateway drops its cached
    funds, so its next ticket sees the new deposit or the unlock at once)."""

    def __init__(self, client: ChainClient, signer, journal: Callable[[], AbstractContextManager],
                 *, timeout_s: float = 120.0, on_sent: Callable[[], None] | None = None):
        self._on_sent = on_sent
        self._client = client
        self._signer = signer
        self._journal = journal
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self.address = to_checksum_address(signer.address)

    def info(self) -> SenderInfo:
        return load_sender(self._client, self.address)

    def plan(self, action: str, *, deposit: int = 0, reserve: int = 0) -> TxPlan:
        """The plan for `action` ("fund", "unlock", "cancel_unlock", "withdraw"); nothing is signed."""
        if action not in _ACTIONS:
            raise DeskRefused(f"unknown action {action!r}: one of {', '.join(_ACTIONS)}")
        try:
            if action == "fund":
                held = self._client.w3.eth.get_balance(self.address)
                if deposit + reserve > held:  # said before the gas estimate, whose node words are raw RPC errors
                    raise PreflightError(f"not enough ETH: {format_eth(held)} held, {format_eth(deposit + reserve)} "
                                         f"asked to fund", f"send ETH to {self.address} or fund less")
                return fund(self._client, self.address, deposit=deposit, reserve=reserve)
            step = {"unlock": unlock, "cancel_unlock": cancel_unlock, "withdraw": withdraw}[action]
            return step(self._client, self.address)
        except PreflightError as exc:
            raise DeskRefused(exc.reason + (f"; {exc.fix}" if exc.fix else "")) from None

    def send(self, action: str, *, deposit: int = 0, reserve: int = 0):
        """Plan `action` again on the chain as it is now and send it; the chain.tx.TxResult list (the
        last one failed when the chain refused it)."""
        from chain.tx import TxFailed, execute_plan

        with self._lock:
            plan = self.plan(action, deposit=deposit, reserve=reserve)
            with self._journal() as journal:
                try:
                    results = execute_plan(self._client, plan, self._signer, journal, timeout=self._timeout)
                except TxFailed as exc:
                    results = exc.results
                finally:
                    if self._on_sent is not None:
                        self._on_sent()
                return plan, results
