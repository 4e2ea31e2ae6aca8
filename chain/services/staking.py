"""Staking: bond (approving first when needed), unbond, rebond, rebond from unbonded, withdraw stake,
withdraw fees, transfer bond. Each function checks what would make the transaction fail and returns
a `TxPlan` to show; nothing is signed here (send it with `chain.tx.execute_plan`)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from chain.amounts import format_eth, format_lpt
from chain.client import ChainClient
from chain.intents import PreflightError, StateChange, TxPlan, build_intent, gas_price, make_plan
from chain.reads import AccountOverview, DelegatorStatus, load_account, load_orchestrator
from chain.amounts import short_address
from chain.services.common import require_open_round


def _unbonding_period(client: ChainClient) -> int:
    return client.contract("BondingManager").functions.unbondingPeriod().call()


def _require_bonded(acct: AccountOverview, what: str) -> None:
    if acct.status is DelegatorStatus.UNBONDED:
        raise PreflightError(f"{acct.address} is not bonded, so there is nothing to {what}",
                             "bond first with `lpc stake bond`")
    if acct.status is DelegatorStatus.PENDING:
        raise PreflightError(
            f"the bond of {acct.address} is pending: it becomes active in round {acct.start_round} "
            f"(now round {acct.round.number}), and the protocol refuses to {what} until then",
            f"try again in round {acct.start_round}",
        )


def bond(client: ChainClient, sender: str, amount: int, to: str) -> TxPlan:
    """Bond `amount` LPT (wei) to `to`. Approves exactly the missing allowance first when needed.
    `amount` may be 0 to move the whole existing bond to another orchestrator."""
    sender, to = to_checksum_address(sender), to_checksum_address(to)
    acct = load_account(client, sender)
    require_open_round(acct.round)
    if amount < 0:
        raise PreflightError("the amount cannot be negative")
    if amount > acct.lpt_balance:
        raise PreflightError(
            f"not enough LPT: {format_lpt(amount)} asked, {format_lpt(acct.lpt_balance)} held by {sender}",
            f"bond at most {format_lpt(acct.lpt_balance)}, or get more LPT into the account first",
        )
    moving = acct.delegate is not None and acct.bonded_amount > 0 and acct.delegate != to
    if moving and acct.is_registered_transcoder:
        raise PreflightError("an orchestrator cannot delegate its stake to another address",
                             "unbond fully (leaving the pool) before delegating elsewhere")
    if amount == 0 and not moving:
        raise PreflightError("nothing to bond: the amount is zero and the delegate does not change",
                             "give an amount, e.g. --amount 100LPT")
    target = load_orchestrator(client, to)
    warnings = []
    if to != sender and not target.registered:
        warnings.append(f"{to} is not a registered orchestrator: stake bonded to it earns no rewards or fees")
    if to == sender and not target.registered:
        warnings.append("this self-bond registers you as an orchestrator; set your rates with "
                        "`lpc orchestrator config` in this round")
    bonded_before = acct.pending_stake if acct.status is not DelegatorStatus.UNBONDED else 0
    bonded_after = bonded_before + amount
    changes = [
        StateChange("bonded", format_lpt(bonded_before), format_lpt(bonded_after), f"to {short_address(to)}"),
        StateChange("LPT balance", format_lpt(acct.lpt_balance), format_lpt(acct.lpt_balance - amount)),
    ]
    if moving:
        changes.insert(0, StateChange("delegate", short_address(acct.delegate, "nobody"), short_address(to),
                                      f"(whole bond moves; earning again from round {acct.round.number + 1})"))
    elif acct.status is DelegatorStatus.UNBONDED:
        changes.append(StateChange("status", "Unbonded", "Pending", f"(Bonded from round {acct.round.number + 1})"))
    fees = gas_price(client)
    intents = []
    bm = client.contract("BondingManager")
    if amount > acct.allowance:
        token = client.contract("LivepeerToken")
        intents.append(build_intent(
            client, sender=sender, contract="LivepeerToken",
            fn=token.functions.approve(bm.address, amount), action="approve",
            summary=f"Allow the BondingManager to take {format_lpt(amount)} from {short_address(sender)}",
            changes=[StateChange("allowance", format_lpt(acct.allowance), format_lpt(amount))], fees=fees,
        ))
    verb = "Move your bond" + (f" and {format_lpt(amount)}" if amount else "") if moving else f"Bond {format_lpt(amount)}"
    intents.append(build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.bond(amount, to), action="bond",
        summary=f"{verb} to {to}", changes=changes, warnings=warnings, fees=fees,
        estimate=not intents,  # after an approve, the bond can only be estimated once the approve is mined
    ))
    return make_plan(client, f"bond {format_lpt(amount)} to {short_address(to)}", intents, eth_balance=acct.eth_balance)


def unbond(client: ChainClient, sender: str, amount: int | None = None) -> TxPlan:
    """Unbond `amount` (wei; None = everything). Creates an unbonding lock."""
    sender = to_checksum_address(sender)
    acct = load_account(client, sender)
    require_open_round(acct.round)
    _require_bonded(acct, "unbond")
    stake = acct.pending_stake
    amount = stake if amount is None else amount
    if amount <= 0:
        raise PreflightError("the amount must be greater than zero")
    if amount > stake:
        raise PreflightError(f"that is more than the bonded stake: {format_lpt(amount)} asked, "
                             f"{format_lpt(stake)} bonded", f"unbond at most {format_lpt(stake)}")
    period = _unbonding_period(client)
    withdraw_round = acct.round.number + period
    changes = [
        StateChange("bonded", format_lpt(stake), format_lpt(stake - amount),
                    f"to {short_address(acct.delegate, 'nobody')}"),
        StateChange("unbonding", format_lpt(acct.unbonding_total), format_lpt(acct.unbonding_total + amount),
                    f"(lock #{acct.next_unbonding_lock_id}, withdrawable in round {withdraw_round})"),
    ]
    warnings = []
    if amount == stake:
        changes.append(StateChange("status", "Bonded", "Unbonded"))
        if acct.is_registered_transcoder:
            warnings.append("this is your whole self-stake: your orchestrator leaves the pool and stops earning")
    bm = client.contract("BondingManager")
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.unbond(amount), action="unbond",
        summary=f"Unbond {format_lpt(amount)} from {acct.delegate}; it can be withdrawn in round {withdraw_round} "
                f"({period} rounds)", changes=changes, warnings=warnings,
    )
    return make_plan(client, f"unbond {format_lpt(amount)}", [intent], eth_balance=acct.eth_balance)


def _lock_or_refuse(acct: AccountOverview, lock_id: int):
    lock = acct.lock(lock_id)
    if lock is None:
        ids = ", ".join(f"#{lk.id} ({format_lpt(lk.amount)})" for lk in acct.unbonding_locks) or "none"
        raise PreflightError(f"{acct.address} has no unbonding lock #{lock_id} (its locks: {ids})",
                             "pick one of its locks (`lpc account show` lists them)")
    return lock


def rebond(client: ChainClient, sender: str, lock_id: int) -> TxPlan:
    """Put an unbonding lock back into the bond with the current delegate."""
    sender = to_checksum_address(sender)
    acct = load_account(client, sender)
    require_open_round(acct.round)
    if acct.status is DelegatorStatus.UNBONDED:
        raise PreflightError(f"{sender} is fully unbonded, so there is no delegate to rebond to",
                             f"use `lpc stake rebond-unbonded --lock {lock_id} --to ORCHESTRATOR`")
    lock = _lock_or_refuse(acct, lock_id)
    bm = client.contract("BondingManager")
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.rebond(lock_id), action="rebond",
        summary=f"Rebond lock #{lock_id} ({format_lpt(lock.amount)}) to {acct.delegate}",
        changes=[StateChange("bonded", format_lpt(acct.pending_stake), format_lpt(acct.pending_stake + lock.amount),
                             f"to {short_address(acct.delegate, 'nobody')}"),
                 StateChange("unbonding", format_lpt(acct.unbonding_total),
                             format_lpt(acct.unbonding_total - lock.amount))],
    )
    return make_plan(client, f"rebond lock #{lock_id}", [intent], eth_balance=acct.eth_balance)


def rebond_from_unbonded(client: ChainClient, sender: str, lock_id: int, to: str) -> TxPlan:
    """Bond an unbonding lock to `to` while the account is fully unbonded."""
    sender, to = to_checksum_address(sender), to_checksum_address(to)
    acct = load_account(client, sender)
    require_open_round(acct.round)
    if acct.status is not DelegatorStatus.UNBONDED:
        raise PreflightError(f"{sender} is still bonded to {acct.delegate}",
                             f"use `lpc stake rebond --lock {lock_id}` to rebond to your current delegate")
    lock = _lock_or_refuse(acct, lock_id)
    target = load_orchestrator(client, to)
    warnings = [] if target.registered else [f"{to} is not a registered orchestrator: this stake would earn nothing"]
    bm = client.contract("BondingManager")
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.rebondFromUnbonded(to, lock_id),
        action="rebondFromUnbonded", summary=f"Bond lock #{lock_id} ({format_lpt(lock.amount)}) to {to}",
        changes=[StateChange("bonded", format_lpt(0), format_lpt(lock.amount), f"to {short_address(to)}"),
                 StateChange("status", "Unbonded", "Pending", f"(Bonded from round {acct.round.number + 1})")],
        warnings=warnings,
    )
    return make_plan(client, f"rebond lock #{lock_id} to {short_address(to)}", [intent], eth_balance=acct.eth_balance)


def withdraw_stake(client: ChainClient, sender: str, lock_id: int) -> TxPlan:
    """Withdraw an unbonding lock's LPT once its unbonding period has passed."""
    sender = to_checksum_address(sender)
    acct = load_account(client, sender)
    require_open_round(acct.round)
    lock = _lock_or_refuse(acct, lock_id)
    if not lock.withdrawable:
        left = lock.withdraw_round - acct.round.number
        raise PreflightError(
            f"lock #{lock_id} ({format_lpt(lock.amount)}) is still unbonding: it can be withdrawn in round "
            f"{lock.withdraw_round}, {left} round{'s' if left != 1 else ''} from now",
            f"wait until round {lock.withdraw_round}, or rebond it with `lpc stake rebond --lock {lock_id}`",
        )
    bm = client.contract("BondingManager")
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.withdrawStake(lock_id),
        action="withdrawStake", summary=f"Withdraw {format_lpt(lock.amount)} (lock #{lock_id}) to {sender}",
        changes=[StateChange("LPT balance", format_lpt(acct.lpt_balance), format_lpt(acct.lpt_balance + lock.amount)),
                 StateChange("unbonding", format_lpt(acct.unbonding_total),
                             format_lpt(acct.unbonding_total - lock.amount))],
    )
    return make_plan(client, f"withdraw lock #{lock_id}", [intent], eth_balance=acct.eth_balance)


def withdraw_fees(client: ChainClient, sender: str, amount: int | None = None, recipient: str | None = None) -> TxPlan:
    """Withdraw earned ETH fees (`amount` wei; None = all) to `recipient` (default: the sender)."""
    sender = to_checksum_address(sender)
    recipient = to_checksum_address(recipient) if recipient else sender
    acct = load_account(client, sender)
    require_open_round(acct.round)
    fees = acct.pending_fees
    if fees == 0:
        raise PreflightError(f"{sender} has no fees to withdraw", "fees accrue while your orchestrator earns them")
    amount = fees if amount is None else amount
    if amount <= 0:
        raise PreflightError("the amount must be greater than zero")
    if amount > fees:
        raise PreflightError(f"that is more than the fees earned: {format_eth(amount)} asked, {format_eth(fees)} "
                             "available", f"withdraw at most {format_eth(fees)}")
    bm = client.contract("BondingManager")
    changes = [StateChange("unwithdrawn fees", format_eth(fees), format_eth(fees - amount))]
    if recipient == sender:
        changes.append(StateChange("ETH balance", format_eth(acct.eth_balance),
                                   f"{format_eth(acct.eth_balance + amount)} (less gas)"))
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.withdrawFees(recipient, amount),
        action="withdrawFees", summary=f"Withdraw {format_eth(amount)} of fees to {recipient}", changes=changes,
    )
    return make_plan(client, f"withdraw {format_eth(amount)} of fees", [intent], eth_balance=acct.eth_balance)


def transfer_bond(client: ChainClient, sender: str, recipient: str, amount: int) -> TxPlan:
    """Move `amount` of the sender's bond to another address (it stays with the same orchestrator
    unless the recipient is already delegated elsewhere)."""
    sender, recipient = to_checksum_address(sender), to_checksum_address(recipient)
    if sender == recipient:
        raise PreflightError("the recipient is the sender itself", "give another address")
    acct = load_account(client, sender)
    require_open_round(acct.round)
    _require_bonded(acct, "transfer a bond")
    if amount <= 0:
        raise PreflightError("the amount must be greater than zero")
    if amount > acct.pending_stake:
        raise PreflightError(f"that is more than the bonded stake: {format_lpt(amount)} asked, "
                             f"{format_lpt(acct.pending_stake)} bonded",
                             f"transfer at most {format_lpt(acct.pending_stake)}")
    other = load_account(client, recipient)
    delegate = other.delegate or acct.delegate
    other_before = other.pending_stake if other.status is not DelegatorStatus.UNBONDED else 0
    changes = [
        StateChange("your bond", format_lpt(acct.pending_stake), format_lpt(acct.pending_stake - amount)),
        StateChange(f"bond of {short_address(recipient)}", format_lpt(other_before), format_lpt(other_before + amount),
                    f"to {short_address(delegate, 'nobody')}"),
    ]
    warnings = []
    if other.delegate and other.delegate != acct.delegate:
        warnings.append(f"{recipient} is delegated to {other.delegate}: the stake moves to that orchestrator")
    bm = client.contract("BondingManager")
    zero = "0x0000000000000000000000000000000000000000"
    intent = build_intent(
        client, sender=sender, contract="BondingManager",
        fn=bm.functions.transferBond(recipient, amount, zero, zero, zero, zero), action="transferBond",
        summary=f"Transfer {format_lpt(amount)} of your bond to {recipient}", changes=changes, warnings=warnings,
    )
    return make_plan(client, f"transfer {format_lpt(amount)} of bond", [intent], eth_balance=acct.eth_balance)
