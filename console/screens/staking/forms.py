"""What the Staking forms accept: every field is checked as it is typed against the account as last
read from the chain, and each way it can be wrong has its own message (shown under the field)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain.amounts import InputError, format_eth, format_lpt, parse_address, parse_eth, parse_lpt
from chain.reads import AccountOverview, DelegatorStatus


@dataclass
class Checked:
    """The values a form would send, or why it can't be sent (field id → message)."""

    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    blocker: str = ""  # a reason that is about the account, not a field

    @property
    def ok(self) -> bool:
        return not self.errors and not self.blocker


def plain_amount(wei: int) -> str:
    """Wei as a decimal text the amount fields accept back exactly (no separators, no unit)."""
    whole, frac = divmod(wei, 10**18)
    digits = f"{frac:018d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def _field(checked: Checked, key: str, parse, text: str):
    try:
        value = parse(text)
    except InputError as exc:
        checked.errors[key] = str(exc)
        return None
    checked.values[key] = value
    return value


def check_bond(acct: AccountOverview, amount_text: str, to_text: str) -> Checked:
    c = Checked()
    to = _field(c, "to", lambda t: parse_address(t, "the orchestrator"), to_text)
    amount = _field(c, "amount", lambda t: parse_lpt(t, allow_zero=True), amount_text)
    if amount is not None:
        moving = to is not None and acct.delegate is not None and acct.bonded_amount > 0 and to != acct.delegate
        if amount > acct.lpt_balance:
            c.errors["amount"] = f"above your balance: you hold {format_lpt(acct.lpt_balance)}"
        elif amount == 0 and not moving:
            c.errors["amount"] = "the amount must be greater than zero (0 only moves your bond to another orchestrator)"
    if to is not None and acct.is_registered_transcoder and acct.delegate and to != acct.address \
            and acct.bonded_amount > 0:
        c.errors["to"] = "an orchestrator cannot delegate to another address: unbond fully first"
    return c


def _require_bonded(c: Checked, acct: AccountOverview, what: str) -> None:
    if acct.status is DelegatorStatus.UNBONDED:
        c.blocker = f"you are not bonded, so there is nothing to {what}"
    elif acct.status is DelegatorStatus.PENDING:
        c.blocker = f"your bond is pending until round {acct.start_round}; the protocol refuses to {what} until then"


def check_unbond(acct: AccountOverview, amount_text: str) -> Checked:
    c = Checked()
    _require_bonded(c, acct, "unbond")
    amount = _field(c, "amount", parse_lpt, amount_text)
    if amount is not None and amount > acct.pending_stake:
        c.errors["amount"] = f"above your bonded stake of {format_lpt(acct.pending_stake)}"
    return c


def check_rebond(acct: AccountOverview, lock_id, to_text: str) -> Checked:
    c = Checked()
    if not acct.unbonding_locks:
        c.blocker = "you have no unbonding locks to rebond"
        return c
    if lock_id is None or acct.lock(lock_id) is None:
        c.errors["lock"] = "pick one of your unbonding locks"
    else:
        c.values["lock"] = lock_id
    if acct.status is DelegatorStatus.UNBONDED:
        _field(c, "to", lambda t: parse_address(t, "the orchestrator"), to_text)
    return c


def check_withdraw_stake(acct: AccountOverview, lock_id) -> Checked:
    c = Checked()
    if not acct.unbonding_locks:
        c.blocker = "you have no unbonding locks"
        return c
    lock = acct.lock(lock_id) if lock_id is not None else None
    if lock is None:
        c.errors["lock"] = "pick one of your unbonding locks"
    elif not lock.withdrawable:
        left = lock.withdraw_round - acct.round.number
        c.errors["lock"] = (f"lock #{lock.id} can be withdrawn in round {lock.withdraw_round}, "
                            f"{left} round{'s' * (left != 1)} from now (or rebond it)")
    else:
        c.values["lock"] = lock.id
    return c


def check_withdraw_fees(acct: AccountOverview, amount_text: str, recipient_text: str) -> Checked:
    c = Checked()
    if acct.pending_fees == 0:
        c.blocker = "you have no fees to withdraw"
    amount = _field(c, "amount", parse_eth, amount_text)
    if amount is not None and amount > acct.pending_fees:
        c.errors["amount"] = f"above your fees: {format_eth(acct.pending_fees)} can be withdrawn"
    _field(c, "recipient", lambda t: parse_address(t, "the recipient"), recipient_text)
    return c


def check_transfer(acct: AccountOverview, recipient_text: str, amount_text: str) -> Checked:
    c = Checked()
    _require_bonded(c, acct, "transfer a bond")
    recipient = _field(c, "recipient", lambda t: parse_address(t, "the recipient"), recipient_text)
    if recipient is not None and recipient == acct.address:
        c.errors["recipient"] = "that is your own address: give the account that should receive the stake"
    amount = _field(c, "amount", parse_lpt, amount_text)
    if amount is not None and amount > acct.pending_stake:
        c.errors["amount"] = f"above your bonded stake of {format_lpt(acct.pending_stake)}"
    return c
