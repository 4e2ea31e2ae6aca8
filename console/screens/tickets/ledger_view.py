"""What the node screens (Tickets, Earnings, Dashboard, Pricing) read from the in-process on-chain node:
its ticket ledger grouped per gateway, the ticket value it received, and why there is nothing to read
when the node is offchain or stopped. Called from workers: the ledger is SQL."""

from __future__ import annotations

from dataclasses import dataclass

from chain.amounts import format_units, short_hash
from core.payments.ledger import LedgerEntry, LedgerSummary
from core.payments.views import GatewayTickets, tickets_by_gateway


def node_unavailable(services) -> str | None:
    """Why there is no on-chain ledger to read, or None when there is one."""
    if services.node_parts is not None and services.node is not None:
        return None
    if services.settings.node.offchain:
        running = services.node is not None
        return ("The node runs offchain" if running else "The node is set to run offchain") + (
            ": gateways pay nothing, so there are no tickets, fees or prices to show. To be paid, register the "
            "account as an orchestrator and set node.offchain = false (Settings screen or settings.toml), "
            "then start the node with x.")
    return ("The node is stopped: press x (Dashboard, Tickets, Pricing or Sessions) to start the on-chain "
            "node of this account; its ticket ledger, prices and reward autopilot appear once it runs.")


def eth(wei: int | float | None, places: int = 6) -> str:
    return "—" if wei is None else format_units(int(wei), "", places=places)


@dataclass(frozen=True)
class TicketsView:
    summary: LedgerSummary
    entries: tuple[LedgerEntry, ...]  # the newest SHOWN_TICKETS (the sums above count every ticket)
    gateways: tuple[GatewayTickets, ...]
    received_ev: int
    l1_block: int | None
    redeemer_error: str | None


SHOWN_TICKETS = 500


def load_tickets(parts) -> TicketsView:
    """`parts`: the running on-chain node's (core.composition.OnchainParts)."""
    receipts = parts.receipts.totals() if parts.receipts is not None else {}
    gateways = tickets_by_gateway(parts.store, receipts)
    try:
        block = parts.payments.state.view().l1_block
    except Exception:  # noqa: BLE001 - only used to say how long a ticket still waits
        block = None
    return TicketsView(parts.ledger.summary(), tuple(parts.ledger.entries(limit=SHOWN_TICKETS)), gateways,
                       sum(g.received_ev for g in gateways), block,
                       getattr(parts.redeemer, "last_error", None))


def status_words(e: LedgerEntry, l1_block: int | None) -> tuple[str, str]:
    """(status, detail) of one winning ticket, in words."""
    if e.status == "pending":
        if l1_block is not None and l1_block <= e.params_expiration_block:
            return "pending redemption", f"waits until its params expire at L1 block {e.params_expiration_block:,} " \
                                         f"(now {l1_block:,})"
        return "pending redemption", e.last_error or "redeeming on the next block"
    if e.status in ("submitting", "sent"):
        return "redeeming", f"tx {short_hash(e.tx_hash)} sent, waiting for its receipt" if e.tx_hash \
            else "signing the redemption"
    if e.status == "redeemed":
        return "redeemed", f"tx {short_hash(e.tx_hash)} · paid {eth(e.paid_wei)} ETH · gas {eth(e.fee_wei, 8)} ETH"
    if e.status == "failed":
        return "given up", e.last_error or "no reason recorded"
    return e.status, e.last_error or ""
