"""Transactions: every transaction the console sent, from the SQL journal — what it was meant to do,
its status, block, gas and fee, and (in the detail view) its hash, the error or the decoded events."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from chain.amounts import GWEI, format_eth, short_address
from console.screens.base import ConsoleScreen
from console.screens.chain_view import describe_failure

COLUMNS = (("id", "#", 4), ("status", "Status", 9), ("action", "Action", 18), ("sender", "From", 13),
           ("summary", "What it does", 62), ("block", "Block", 10), ("fee", "Fee gwei", 12))
STATUS_STYLE = {"mined": "bold", "failed": "bold reverse", "refused": "bold", "sent": "italic", "pending": "dim"}


@dataclass
class JournalLoaded(Message):
    entries: list  # core.store.journal.JournalEntry, newest first


@dataclass
class JournalFailed(Message):
    reason: str


class TransactionsScreen(ConsoleScreen):
    CSS_PATH = "transactions.tcss"
    BINDINGS = [Binding("r", "reload", "Refresh", id="transactions.refresh")]

    def __init__(self) -> None:
        super().__init__(id="transactions")
        self.entries: list = []

    def compose_body(self) -> ComposeResult:
        yield Static("reading the journal…", id="summary")
        yield DataTable(id="journal", cursor_type="row", zebra_stripes=True)
        yield Static("No transactions yet: what you send from Staking, Overview or Governance is listed here.",
                     id="empty")
        yield Static("", id="detail")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.query_one("#detail").border_title = "Transaction"
        table.focus()
        self.reload()

    def chain_polled(self, _info) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="journal-load")
    def reload(self) -> None:
        try:
            entries = self.app.services.transactions()
        except Exception as exc:  # noqa: BLE001 - e.g. the database is locked: say so
            self.post_message(JournalFailed(describe_failure(exc)))
            return
        self.post_message(JournalLoaded(entries))

    def on_journal_failed(self, message: JournalFailed) -> None:
        self.query_one("#summary", Static).update(Text(f"⚠ could not read the journal: {message.reason}",
                                                       style="bold"))

    def on_journal_loaded(self, message: JournalLoaded) -> None:
        self.entries = message.entries
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for e in self.entries:
            table.add_row(
                Text(str(e.id), justify="right"), Text(e.status, style=STATUS_STYLE.get(e.status, "")), e.action,
                short_address(e.sender), Text(e.summary.splitlines()[0] if e.summary else ""),
                Text(str(e.block_number or "—"), justify="right"),
                Text(f"{e.fee_wei / GWEI:,.4f}" if e.fee_wei is not None else "—", justify="right"),
                key=str(e.id))
        self.set_class(not self.entries, "-empty")
        counts: dict[str, int] = {}
        for e in self.entries:
            counts[e.status] = counts.get(e.status, 0) + 1
        self.query_one("#summary", Static).update(
            f"{len(self.entries)} transactions in the journal"
            + ("".join(f" · {n} {status}" for status, n in sorted(counts.items())))
            + " · enter shows one")
        if self.entries:
            table.move_cursor(row=min(cursor, len(self.entries) - 1))
            self._show(self.entries[table.cursor_row])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None:
            return
        entry = next((e for e in self.entries if str(e.id) == event.row_key.value), None)
        if entry is not None:
            self._show(entry)

    def _show(self, e) -> None:
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        t.add_row("Summary", Text(e.summary))
        t.add_row("Status", Text(e.status, style=STATUS_STYLE.get(e.status, "")))
        t.add_row("From → to", f"{e.sender} → {e.to}")
        t.add_row("Hash", e.tx_hash or "— (not sent)")
        if e.block_number:
            gas = f"{e.gas_used:,} gas used of {e.gas_estimate:,}" if e.gas_used and e.gas_estimate else ""
            t.add_row("Mined", f"block {e.block_number:,} · {gas} · fee {format_eth(e.fee_wei or 0)}")
        if e.value_wei:
            t.add_row("Value", format_eth(e.value_wei))
        if e.error:
            t.add_row("Error", Text(e.error, style="bold"))
        for n, ev in enumerate(e.events):
            args = ", ".join(f"{k}={short_address(str(v), empty='')}" for k, v in (ev.get("args") or {}).items())
            t.add_row("Events" if n == 0 else "", Text(f"{ev.get('name', '?')}({args})"))
        self.query_one("#detail", Static).update(t)
        self.query_one("#detail").border_title = f"Transaction #{e.id} · {e.action}"

