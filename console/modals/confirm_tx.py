"""Confirm a transaction plan: what it will do and cost, then progress while it mines, then the
decoded result or the reason it failed. Nothing is signed until the user presses Send."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, LoadingIndicator, Static

from chain.amounts import format_eth, format_gwei
from chain.intents import TxIntent, TxPlan


@dataclass
class PlanOutcome:
    """What the modal returns: sent (with results) or not, and the error if it failed."""

    sent: bool
    results: list
    error: str | None = None


def plan_table(plan: TxPlan) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for n, intent in enumerate(plan.intents, 1):
        step = f"{n}." if len(plan.intents) > 1 else "→"
        table.add_row(step, Text(intent.summary, style="bold"))
        table.add_row("", f"call  {intent.contract}.{intent.function}")
        table.add_row("", f"to    {intent.to}")
        gas = f"{intent.gas:,} gas" if intent.gas_estimated else f"≈{intent.gas:,} gas, estimated again before signing"
        table.add_row("", f"cost  {format_eth(intent.cost_wei)}  ({gas} at {format_gwei(intent.gas_price)})")
        if intent.value:
            table.add_row("", f"sends {format_eth(intent.value)}")
        for change in intent.changes:
            table.add_row("", Text(f"      {change}", style="italic"))
        for warning in intent.warnings:
            table.add_row("", Text(f"⚠ {warning}", style="bold"))
    if len(plan.intents) > 1:
        table.add_row("Σ", f"{len(plan.intents)} transactions, about {format_eth(plan.cost_wei)} in gas")
    for note in plan.notes:
        table.add_row("ℹ", note)
    return table


class ConfirmTxModal(ModalScreen[PlanOutcome]):
    DEFAULT_CSS = """
    ConfirmTxModal { align: center middle; }
    ConfirmTxModal > Vertical { width: 100; max-height: 90%; height: auto; border: thick $primary;
                                background: $surface; padding: 1 2; }
    ConfirmTxModal #title { text-style: bold; color: $primary; margin-bottom: 1; }
    ConfirmTxModal VerticalScroll { height: auto; max-height: 65vh; }
    ConfirmTxModal #progress { height: auto; margin-top: 1; }
    ConfirmTxModal #result { height: auto; margin-top: 1; }
    ConfirmTxModal #result.-error { color: $error; }
    ConfirmTxModal #result.-ok { color: $success; }
    ConfirmTxModal LoadingIndicator { height: 1; display: none; }
    ConfirmTxModal.-sending LoadingIndicator { display: block; }
    ConfirmTxModal #buttons { height: 3; margin-top: 1; align-horizontal: right; }
    ConfirmTxModal Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tx.cancel")]

    class Step(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, plan: TxPlan) -> None:
        super().__init__()
        self.plan = plan
        self.outcome: PlanOutcome | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.plan.title, id="title")
            with VerticalScroll():
                yield Static(plan_table(self.plan), id="plan")
                yield Static("", id="progress")
                yield Static("", id="result")
            yield LoadingIndicator()
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Sign and send", variant="primary", id="send")

    def on_mount(self) -> None:
        self.query_one("#send", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()
        elif event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "close":
            self.dismiss(self.outcome)

    def action_cancel(self) -> None:
        if self.has_class("-sending"):
            return  # can't un-send: wait for the chain
        self.dismiss(self.outcome or PlanOutcome(sent=False, results=[]))

    def action_send(self) -> None:
        if self.has_class("-sending") or self.outcome is not None:
            return
        self.add_class("-sending")
        self.query_one("#send", Button).disabled = True
        self.query_one("#cancel", Button).disabled = True
        self._send()

    @work(thread=True, exclusive=True, group="tx-send")
    def _send(self) -> None:
        from chain.tx import TxFailed, execute_plan

        services = self.app.services
        n = len(self.plan.intents)
        done = []

        def on_step(intent: TxIntent) -> None:
            done.append(intent)
            prefix = f"{len(done)}/{n} " if n > 1 else ""
            self.post_message(self.Step(f"{prefix}signing and sending: {intent.summary} … waiting for the block"))

        try:
            signer = services.signer_for(services.account)
            results = execute_plan(services.client, self.plan, signer, services.journal,
                                   on_step=on_step)
            self.app.call_from_thread(self._finish, PlanOutcome(sent=True, results=results))
        except TxFailed as exc:
            self.app.call_from_thread(self._finish, PlanOutcome(sent=True, results=exc.results, error=str(exc)))
        except Exception as exc:  # noqa: BLE001 - RPC gone, keyring locked…: say so, never crash
            self.app.call_from_thread(self._finish, PlanOutcome(sent=bool(done), results=[], error=str(exc)))

    def on_confirm_tx_modal_step(self, message: Step) -> None:
        self.query_one("#progress", Static).update(message.text)

    def _finish(self, outcome: PlanOutcome) -> None:
        self.outcome = outcome
        self.remove_class("-sending")
        result = self.query_one("#result", Static)
        if outcome.error:
            result.set_class(True, "-error")
            result.update(f"✗ {outcome.error}")
        else:
            result.set_class(True, "-ok")
            lines = []
            for r in outcome.results:
                lines.append(f"✓ {r.intent.summary} — block {r.block_number}, gas {r.gas_used:,}, "
                             f"fee {format_eth(r.fee_wei or 0)}")
                lines += [f"    {e}" for e in r.events]
            result.update("\n".join(lines))
        self.query_one("#progress", Static).update("")
        buttons = self.query_one("#buttons", Horizontal)
        buttons.remove_children()
        close = Button("Close", variant="primary", id="close")
        buttons.mount(close)
        close.focus()
        self.query_one(VerticalScroll).scroll_end(animate=False)
