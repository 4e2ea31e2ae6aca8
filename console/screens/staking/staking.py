"""Staking: my delegation and unbonding locks, and a form for each staking action (bond, unbond,
rebond, withdraw stake, withdraw fees, transfer bond). Forms are pre-filled from the chain, checked
as they are typed, and end in the app's `propose` (the confirmation modal); after a send the screen
reads the chain again."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static, TabbedContent, TabPane

from chain.amounts import format_eth, format_lpt, short_address
from chain.reads import AccountOverview, DelegatorStatus
from console.screens.chain_view import ChainReadScreen, Notice, ReadFailed
from console.screens.staking import forms

LOCK_COLUMNS = (("id", "Lock", 5), ("amount", "Amount (LPT)", 15), ("round", "Withdraw round", 14),
                ("left", "Rounds left", 11), ("state", "State", 12))

# form id → (tab title, the fields it reads, submit button label)
FORMS = {
    "bond": ("Bond", ("amount", "to"), "Review bond"),
    "unbond": ("Unbond", ("amount",), "Review unbond"),
    "rebond": ("Rebond", ("lock", "to"), "Review rebond"),
    "withdraw": ("Withdraw stake", ("lock",), "Review withdrawal"),
    "fees": ("Withdraw fees", ("amount", "recipient"), "Review fee withdrawal"),
    "transfer": ("Transfer bond", ("recipient", "amount"), "Review transfer"),
}


@dataclass
class AccountLoaded(Message):
    account: AccountOverview


class StakingScreen(ChainReadScreen):
    CSS_PATH = "staking.tcss"
    BINDINGS = [
        Binding("1", "form('bond')", "Bond", id="staking.bond"),
        Binding("2", "form('unbond')", "Unbond", id="staking.unbond"),
        Binding("3", "form('rebond')", "Rebond", id="staking.rebond"),
        Binding("4", "form('withdraw')", "Withdraw", id="staking.withdraw"),
        Binding("5", "form('fees')", "Fees", id="staking.fees"),
        Binding("6", "form('transfer')", "Transfer", id="staking.transfer"),
        Binding("ctrl+s", "submit", "Review & send", id="staking.submit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="staking")
        self.account: AccountOverview | None = None
        self._refill = True
        self._delegate_to: str | None = None

    # -- layout -------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static("reading your delegation…", id="summary")
        with Horizontal(id="top"):
            yield Static("", id="delegation", classes="panel")
            with Vertical(id="locks-panel", classes="panel"):
                yield DataTable(id="locks", cursor_type="row", zebra_stripes=True)
                yield Static("No unbonding locks.", id="no-locks")
        with TabbedContent(id="forms", initial="tab-bond"):
            with TabPane("1 Bond", id="tab-bond"):
                yield from self._amount("bond", "Amount (LPT)", "e.g. 100 or 0.5")
                yield from self._address("bond", "to", "Orchestrator", "0x… (Network screen: select one, press d)")
                yield from self._submit("bond")
            with TabPane("2 Unbond", id="tab-unbond"):
                yield from self._amount("unbond", "Amount (LPT)", "your whole stake is pre-filled; lower it to unbond part")
                yield from self._submit("unbond")
            with TabPane("3 Rebond", id="tab-rebond"):
                yield from self._lock("rebond")
                yield from self._address("rebond", "to", "Orchestrator",
                                         "only when fully unbonded: who to bond the lock to")
                yield from self._submit("rebond")
            with TabPane("4 Withdraw stake", id="tab-withdraw"):
                yield from self._lock("withdraw")
                yield from self._submit("withdraw")
            with TabPane("5 Withdraw fees", id="tab-fees"):
                yield from self._amount("fees", "Amount (ETH)", "all your fees are pre-filled")
                yield from self._address("fees", "recipient", "Recipient", "0x… (your own address by default)")
                yield from self._submit("fees")
            with TabPane("6 Transfer bond", id="tab-transfer"):
                yield from self._address("transfer", "recipient", "Recipient", "0x… the account that gets the stake")
                yield from self._amount("transfer", "Amount (LPT)", "how much of your bond to move")
                yield from self._submit("transfer")

    def _row(self, label: str, widget, form: str, key: str) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Static(label, classes="label")
            with Vertical(classes="input-col"):
                yield widget
                yield Notice("", id=f"{form}-{key}-msg", classes="field-msg")

    def _amount(self, form: str, label: str, placeholder: str) -> ComposeResult:
        yield from self._row(label, Input(placeholder=placeholder, id=f"{form}-amount"), form, "amount")

    def _address(self, form: str, key: str, label: str, placeholder: str) -> ComposeResult:
        yield from self._row(label, Input(placeholder=placeholder, id=f"{form}-{key}"), form, key)

    def _lock(self, form: str) -> ComposeResult:
        yield from self._row("Unbonding lock", Select([], prompt="pick a lock", id=f"{form}-lock"), form, "lock")

    def _submit(self, form: str) -> ComposeResult:
        with Horizontal(classes="submit-row"):
            yield Button(FORMS[form][2], id=f"{form}-submit", variant="primary", disabled=True)
            yield Notice("", id=f"{form}-blocker")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#delegation").border_title = "My delegation"
        self.query_one("#locks-panel").border_title = "Unbonding locks"
        table = self.query_one("#locks", DataTable)
        for key, label, width in LOCK_COLUMNS:
            table.add_column(label, key=key, width=width)
        if self._delegate_to:
            self.call_after_refresh(self.prefill_delegate, self._delegate_to)
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def read(self, client, account: str | None) -> Message:
        from chain.services.account import overview

        return AccountLoaded(overview(client, account))

    def on_read_failed(self, message: ReadFailed) -> None:
        self.add_class("-stale")
        shown = "showing the last data" if self.account else "nothing loaded yet"
        self.query_one("#summary", Static).update(Text(f"⚠ {message.reason} ({shown}; r retries)"))
        if self.account is None:
            for form in FORMS:
                self.query_one(f"#{form}-submit", Button).disabled = True

    def on_account_loaded(self, message: AccountLoaded) -> None:
        self.account = a = message.account
        self.remove_class("-stale")
        self.query_one("#summary", Static).update(
            f"{a.address} · {a.status.label} · round {a.round.number}"
            + ("" if a.round.initialized else " (NOT initialized: staking actions wait for it)")
        )
        self.query_one("#delegation", Static).update(self._delegation(a))
        self._fill_locks(a)
        if self._refill:
            self._refill = False
            self._prefill(a)
        for form in FORMS:
            self._validate(form, quiet_empty=True)

    def _delegation(self, a: AccountOverview) -> Table:
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        delegate = "itself (orchestrator)" if a.delegate == a.address else (a.delegate or "nobody")
        t.add_row("Delegate", delegate)
        t.add_row("Status", a.status.label + (f" until round {a.start_round}" if a.status is DelegatorStatus.PENDING
                                              else ""))
        t.add_row("Bonded", format_lpt(a.bonded_amount, 4))
        t.add_row("Pending stake", format_lpt(a.pending_stake, 4))
        t.add_row("Pending fees", format_eth(a.pending_fees, 6))
        t.add_row("LPT balance", format_lpt(a.lpt_balance, 4))
        t.add_row("Allowance", format_lpt(a.allowance, 4) + "  (bond approves what is missing first)")
        return t

    def _fill_locks(self, a: AccountOverview) -> None:
        table = self.query_one("#locks", DataTable)
        table.clear()
        for lock in a.unbonding_locks:
            left = max(0, lock.withdraw_round - a.round.number)
            state = Text("withdrawable", style="bold") if lock.withdrawable else Text("unbonding", style="dim")
            table.add_row(Text(f"#{lock.id}", justify="right"), Text(format_lpt(lock.amount, 4), justify="right"),
                          Text(str(lock.withdraw_round), justify="right"), Text(str(left), justify="right"), state,
                          key=str(lock.id))
        self.query_one("#locks-panel").set_class(not a.unbonding_locks, "-none")
        options = [(f"#{lk.id} · {format_lpt(lk.amount, 4)} · "
                    + ("withdrawable" if lk.withdrawable else f"round {lk.withdraw_round}"), lk.id)
                   for lk in a.unbonding_locks]
        for form in ("rebond", "withdraw"):
            select = self.query_one(f"#{form}-lock", Select)
            keep = select.value
            select.set_options(options)
            if keep in {v for _, v in options}:
                select.value = keep
            elif options:
                pick = next((v for _, v, in options if a.lock(v).withdrawable), options[0][1]) \
                    if form == "withdraw" else options[0][1]
                select.value = pick

    def _prefill(self, a: AccountOverview) -> None:
        self._set("bond-amount", forms.plain_amount(a.lpt_balance) if a.lpt_balance else "")
        self._set("bond-to", self._delegate_to or a.delegate or "")
        self._set("unbond-amount", forms.plain_amount(a.pending_stake) if a.pending_stake else "")
        self._set("rebond-to", a.delegate or "")
        self._set("fees-amount", forms.plain_amount(a.pending_fees) if a.pending_fees else "")
        self._set("fees-recipient", a.address)
        self._set("transfer-recipient", "")
        self._set("transfer-amount", "")

    def _set(self, input_id: str, value: str) -> None:
        widget = self.query_one(f"#{input_id}", Input)
        with widget.prevent(Input.Changed):
            widget.value = value

    def prefill_delegate(self, address: str) -> None:
        """"Delegate to this" from the Network screen: the Bond form with the orchestrator filled in."""
        self._delegate_to = address
        if not self.is_mounted:
            return  # on_mount applies it
        self.query_one("#forms", TabbedContent).active = "tab-bond"
        self._set("bond-to", address)
        self._validate("bond", quiet_empty=True)
        self.query_one("#bond-amount", Input).focus()

    # -- validation as you type ----------------------------------------------------------------
    def _text(self, form: str, key: str):
        widget = self.query_one(f"#{form}-{key}")
        if isinstance(widget, Select):
            return None if widget.value is Select.BLANK else widget.value
        return widget.value

    def _check(self, form: str) -> forms.Checked:
        a = self.account
        t = lambda key: self._text(form, key)  # noqa: E731
        if form == "bond":
            return forms.check_bond(a, t("amount"), t("to"))
        if form == "unbond":
            return forms.check_unbond(a, t("amount"))
        if form == "rebond":
            return forms.check_rebond(a, t("lock"), t("to"))
        if form == "withdraw":
            return forms.check_withdraw_stake(a, t("lock"))
        if form == "fees":
            return forms.check_withdraw_fees(a, t("amount"), t("recipient"))
        return forms.check_transfer(a, t("recipient"), t("amount"))

    def _validate(self, form: str, *, quiet_empty: bool = False) -> forms.Checked | None:
        if self.account is None:
            return None
        checked = self._check(form)
        for key in FORMS[form][1]:
            notice = self.query_one(f"#{form}-{key}-msg", Notice)
            error = checked.errors.get(key, "")
            if quiet_empty and isinstance(self._text(form, key), str) and not self._text(form, key).strip():
                error = ""  # an empty field says nothing until it is typed in
            notice.say(error, "error" if error else "")
        if form == "rebond":
            unbonded = self.account.status is DelegatorStatus.UNBONDED
            self.query_one("#rebond-to", Input).disabled = not unbonded
            if not unbonded and not checked.errors.get("to"):
                self.query_one("#rebond-to-msg", Notice).say(
                    f"rebonds to your current delegate {short_address(self.account.delegate)}")
        self.query_one(f"#{form}-blocker", Notice).say(checked.blocker, "error" if checked.blocker else "")
        self.query_one(f"#{form}-submit", Button).disabled = not checked.ok
        return checked

    def _form_of(self, widget_id: str | None) -> str | None:
        form = (widget_id or "").split("-", 1)[0]
        return form if form in FORMS else None

    def on_input_changed(self, event: Input.Changed) -> None:
        if (form := self._form_of(event.input.id)) is not None:
            self._validate(form)

    def on_select_changed(self, event: Select.Changed) -> None:
        if (form := self._form_of(event.select.id)) is not None:
            self._validate(form)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if (form := self._form_of(event.input.id)) is not None:
            self.submit(form)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.endswith("-submit"):
            self.submit(event.button.id.removesuffix("-submit"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a lock: rebond it, or withdraw it when it is withdrawable."""
        if self.account is None or event.row_key is None:
            return
        lock = self.account.lock(int(event.row_key.value))
        if lock is None:
            return
        form = "withdraw" if lock.withdrawable else "rebond"
        self.query_one(f"#{form}-lock", Select).value = lock.id
        self.action_form(form)

    # -- actions ------------------------------------------------------------------------------
    def action_form(self, form: str) -> None:
        self.query_one("#forms", TabbedContent).active = f"tab-{form}"

    def action_submit(self) -> None:
        active = self.query_one("#forms", TabbedContent).active.removeprefix("tab-")
        self.submit(active)

    def submit(self, form: str) -> None:
        checked = self._validate(form)
        if checked is None or not checked.ok:
            return
        from chain.services import staking

        v = checked.values
        me = self.account.address
        unbonded = self.account.status is DelegatorStatus.UNBONDED
        build = {
            "bond": lambda c: staking.bond(c, me, v["amount"], v["to"]),
            "unbond": lambda c: staking.unbond(c, me, v["amount"]),
            "rebond": (lambda c: staking.rebond_from_unbonded(c, me, v["lock"], v["to"])) if unbonded
            else (lambda c: staking.rebond(c, me, v["lock"])),
            "withdraw": lambda c: staking.withdraw_stake(c, me, v["lock"]),
            "fees": lambda c: staking.withdraw_fees(c, me, v["amount"], v["recipient"]),
            "transfer": lambda c: staking.transfer_bond(c, me, v["recipient"], v["amount"]),
        }[form]
        self.app.propose(build, self._sent)

    def _sent(self, outcome) -> None:
        if outcome.sent:
            self._refill = True
            self._delegate_to = None
        self.reload()

    def show_refusal(self, reason: str, fix: str) -> None:
        """The plan was refused before signing (the app logs it too): say it under the active form."""
        active = self.query_one("#forms", TabbedContent).active.removeprefix("tab-")
        if active in FORMS:
            self.query_one(f"#{active}-blocker", Notice).say(reason + (f" — {fix}" if fix else ""), "error")
