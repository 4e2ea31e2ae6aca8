"""Deposit: the gateway (sender) side of probabilistic micropayments — the TicketBroker deposit and
reserve of the account: fund, unlock, cancel the unlock, withdraw. Every action goes through the
confirmation modal (what it does and costs) like every other write."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from chain.amounts import format_eth, parse_eth
from console.screens.chain_view import ChainReadScreen, Notice, ReadFailed


@dataclass
class SenderLoaded(Message):
    info: object  # chain.services.deposit.SenderInfo


class DepositScreen(ChainReadScreen):
    CSS_PATH = "deposit.tcss"
    BINDINGS = [
        Binding("ctrl+s", "fund", "Fund", id="deposit.fund"),
        Binding("U", "unlock", "Unlock", id="deposit.unlock"),
        Binding("C", "cancel_unlock", "Cancel unlock", id="deposit.cancel_unlock"),
        Binding("W", "withdraw", "Withdraw", id="deposit.withdraw"),
    ]

    def __init__(self) -> None:
        super().__init__(id="deposit")
        self.info = None

    def compose_body(self) -> ComposeResult:
        yield Static("loading the TicketBroker deposit and reserve…", id="deposit-info")
        with Vertical(id="deposit-form"):
            yield Label("Add to deposit (ETH) — pays tickets first", classes="field-label")
            yield Input(placeholder="e.g. 0.5", id="add-deposit")
            yield Label("Add to reserve (ETH) — insurance orchestrators can claim a share of", classes="field-label")
            yield Input(placeholder="e.g. 0.2", id="add-reserve")
            with Horizontal(id="deposit-buttons"):
                yield Button("Fund (ctrl+s)", variant="primary", id="fund")
                yield Button("Unlock (U)", id="unlock")
                yield Button("Cancel unlock (C)", id="cancel-unlock")
                yield Button("Withdraw (W)", id="withdraw")
            yield Notice("", id="deposit-notice")

    def on_mount(self) -> None:
        super().on_mount()
        self.reload()

    def read(self, client, account: str | None) -> Message:
        from chain.services.deposit import load_sender

        return SenderLoaded(load_sender(client, account))

    def on_sender_loaded(self, message: SenderLoaded) -> None:
        self.info = info = message.info
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_row("sender", info.sender)
        table.add_row("state", f"{info.state}" + (f" — withdrawable from round {info.withdraw_round}"
                                                  if info.withdraw_round else ""))
        table.add_row("deposit", format_eth(info.deposit))
        table.add_row("reserve", f"{format_eth(info.reserve)} (claimed this round "
                                 f"{format_eth(info.reserve_claimed_this_round)})")
        table.add_row("wallet", f"{format_eth(info.eth_balance, places=6)} available to fund")
        table.add_row("rules", f"unlocking takes {info.unlock_period} rounds; funding again cancels an unlock; "
                               "orchestrators refuse tickets from an unlocked sender")
        self.query_one("#deposit-info", Static).update(table)

    def on_read_failed(self, message: ReadFailed) -> None:
        self.query_one("#deposit-notice", Notice).say(message.reason, "error")

    def show_refusal(self, reason: str, fix: str) -> None:
        self.query_one("#deposit-notice", Notice).say(reason + (f" — {fix}" if fix else ""), "error")

    # -- actions --------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"fund": self.action_fund, "unlock": self.action_unlock, "cancel-unlock": self.action_cancel_unlock,
         "withdraw": self.action_withdraw}[event.button.id]()

    def _amount(self, field: str) -> int | None:
        text = self.query_one(f"#{field}", Input).value.strip()
        if not text:
            return 0
        try:
            return parse_eth(text, allow_zero=True)
        except ValueError as exc:
            self.query_one("#deposit-notice", Notice).say(f"{field.replace('add-', '')}: {exc}", "error")
            return None

    def action_fund(self) -> None:
        from chain.services import deposit as deposit_plans

        deposit, reserve = self._amount("add-deposit"), self._amount("add-reserve")
        if deposit is None or reserve is None:
            return
        if deposit == 0 and reserve == 0:
            self.query_one("#deposit-notice", Notice).say("give an amount to add to the deposit or the reserve",
                                                          "error")
            return
        account = self.app.services.account
        self.query_one("#deposit-notice", Notice).say("")
        self.app.propose(lambda c: deposit_plans.fund(c, account, deposit=deposit, reserve=reserve),
                         on_done=lambda _o: self.reload())

    def _simple(self, name: str) -> None:
        from chain.services import deposit as deposit_plans

        account = self.app.services.account
        fn = getattr(deposit_plans, name)
        self.query_one("#deposit-notice", Notice).say("")
        self.app.propose(lambda c: fn(c, account), on_done=lambda _o: self.reload())

    def action_unlock(self) -> None:
        self._simple("unlock")

    def action_cancel_unlock(self) -> None:
        self._simple("cancel_unlock")

    def action_withdraw(self) -> None:
        self._simple("withdraw")
