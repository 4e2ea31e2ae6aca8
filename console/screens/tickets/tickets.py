"""Tickets: what gateways paid this node — ticket value received, winning tickets, pending redemption,
redeemed (with the transaction), given up (with the reason) — per gateway and ticket by ticket, from the
running on-chain node's ledger. Offchain or stopped, it says why there is nothing and what to do."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from chain.amounts import clip
from console.screens.base import ConsoleScreen
from console.screens.chain_view import describe_failure
from console.screens.dashboard.node_toggle import NodeToggle
from console.screens.tickets.ledger_view import TicketsView, eth, load_tickets, node_unavailable, status_words

GATEWAY_COLUMNS = (
    ("gateway", "Gateway", 42), ("received", "EV received (ETH)", 17), ("won", "Won", 4),
    ("won_face", "Won (ETH)", 12), ("pending", "Pending", 7), ("redeemed", "Redeemed", 8),
    ("paid", "Paid (ETH)", 12), ("failed", "Given up", 8),
)
TICKET_COLUMNS = (
    ("hash", "Ticket", 12), ("gateway", "Gateway", 13), ("face", "Face (ETH)", 11), ("round", "Round", 6),
    ("status", "Status", 18), ("detail", "Transaction / reason", 74),
)
STATUS_STYLE = {"redeemed": "bold", "given up": "bold reverse", "pending redemption": "", "redeeming": "italic"}


@dataclass
class TicketsLoaded(Message):
    view: TicketsView | None
    reason: str | None = None  # why there is no view: offchain, stopped, read failed


def _right(text: str) -> Text:
    return Text(text, justify="right")


class TicketsScreen(NodeToggle, ConsoleScreen):
    CSS_PATH = "tickets.tcss"
    BINDINGS = [NodeToggle.NODE_BINDING,
                Binding("r", "reload", "Refresh", id="tickets.refresh")]
    POLL_SECONDS = 2.0

    def __init__(self) -> None:
        super().__init__(id="tickets")
        self.view: TicketsView | None = None
        self._timer = None

    def compose_body(self) -> ComposeResult:
        yield Static("reading the ticket ledger…", id="state")
        yield Static("", id="summary")
        yield Static("Per gateway", classes="section")
        yield DataTable(id="gateways", cursor_type="row", zebra_stripes=True)
        yield Static("Winning tickets, newest first", classes="section")
        yield DataTable(id="tickets-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        super().on_mount()
        for selector, columns in (("#gateways", GATEWAY_COLUMNS), ("#tickets-table", TICKET_COLUMNS)):
            table = self.query_one(selector, DataTable)
            for key, label, width in columns:
                table.add_column(label, key=key, width=width)
        self.reload()

    # -- loading: one read at a time, the next armed when the last one is shown ---------------
    def action_reload(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="tickets-load")
    def reload(self) -> None:
        services = self.app.services
        why = node_unavailable(services)
        if why is not None:
            self.post_message(TicketsLoaded(None, why))
            return
        try:
            view = load_tickets(services.node_parts)
        except Exception as exc:  # noqa: BLE001 - the store closed under us (node stopping): say so, retry
            self.post_message(TicketsLoaded(None, f"could not read the ticket ledger: {describe_failure(exc)}"))
            return
        self.post_message(TicketsLoaded(view))

    def on_tickets_loaded(self, message: TicketsLoaded) -> None:
        self.show_view(message.view, message.reason)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.POLL_SECONDS, self.reload)

    def node_changed(self, error: str | None = None) -> None:
        self.reload()

    # -- rendering ------------------------------------------------------------------------------
    def show_view(self, view: TicketsView | None, reason: str | None) -> None:
        self.view = view
        self.set_class(view is None, "-unavailable")
        state = self.query_one("#state", Static)
        if view is None:
            state.update(Text(reason or "", style="bold"))
            return
        s = view.summary
        counts, faces = s.counts, s.face_value
        won = sum(counts.values())
        pending = sum(counts.get(k, 0) for k in ("pending", "submitting", "sent"))
        pending_face = sum(faces.get(k, 0) for k in ("pending", "submitting", "sent"))
        line = Text()
        line.append("Received ", style="bold")
        line.append(f"{eth(view.received_ev, 9)} ETH of ticket value · ")
        line.append(f"winning {won}", style="bold")
        line.append(f" ({eth(sum(faces.values()))} ETH face) · ")
        line.append(f"pending redemption {pending}", style="bold")
        line.append(f" ({eth(pending_face)} ETH) · ")
        line.append(f"redeemed {counts.get('redeemed', 0)}", style="bold")
        line.append(f" ({eth(s.paid_wei)} ETH paid, {eth(s.gas_fee_wei, 8)} ETH gas) · ")
        line.append(f"given up {counts.get('failed', 0)}", style="bold")
        if view.redeemer_error:
            line.append(f"\nredeemer: {view.redeemer_error}", style="bold")
        self.query_one("#summary", Static).update(line)
        state.update("")
        self._fill_gateways(view)
        self._fill_tickets(view)

    def _fill_gateways(self, view: TicketsView) -> None:
        table = self.query_one("#gateways", DataTable)
        table.clear()
        for g in view.gateways:
            table.add_row(g.sender, _right(eth(g.received_ev, 9)), _right(str(g.won)), _right(eth(g.won_face)),
                          _right(f"{g.pending}"), _right(str(g.redeemed)), _right(eth(g.paid)),
                          _right(str(g.failed)), key=g.sender)
        if not view.gateways:
            table.add_row("no gateway has paid this node yet", "", "", "", "", "", "", "")

    def _fill_tickets(self, view: TicketsView) -> None:
        table = self.query_one("#tickets-table", DataTable)
        table.clear()
        for e in view.entries:
            status, detail = status_words(e, view.l1_block)
            table.add_row(clip(e.ticket_hash, 12), clip(e.sender, 13), _right(eth(e.face_value)),
                          _right(str(e.creation_round)), Text(status, style=STATUS_STYLE.get(status, "")),
                          clip(detail, 74), key=e.ticket_hash)
        if not view.entries:
            table.add_row("—", "", "", "", "no winning ticket yet",
                          "a ticket wins with probability EV ÷ face value; its face value is paid on redemption")
