"""Network: every orchestrator in the pool, like the Explorer's list."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from chain.reads import Orchestrator, OrchestratorPool
from console.screens.base import ConsoleScreen

# Fixed widths: the table looks the same whatever arrives first, and doesn't jump as rows change.
COLUMNS = (
    ("rank", "#", 3), ("address", "Orchestrator", 42), ("host", "Service URI", 30), ("active", "Active", 8),
    ("stake", "Stake (LPT)", 11), ("share", "Share", 7), ("reward_cut", "Reward cut", 10),
    ("fee_cut", "Fee cut", 8), ("last_reward", "Last reward", 11),
)


def _host(uri: str) -> str:
    if not uri:
        return "—"
    rest = uri.split("://", 1)[-1]
    return rest.split("/", 1)[0]


def _lpt(wei: int) -> str:
    return f"{wei / 10**18:,.0f}"


class NetworkScreen(ConsoleScreen):
    CSS_PATH = "network.tcss"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="network.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="network.clear_filter"),
    ]

    def __init__(self) -> None:
        super().__init__(id="network")
        self.pool: OrchestratorPool | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Input(placeholder="filter by address or host  ( / )", id="filter")
            yield Static("loading orchestrators…", id="summary")
        yield DataTable(id="orchestrators", zebra_stripes=True, cursor_type="row")
        yield Static("No orchestrators match.", id="empty")

    def on_mount(self) -> None:
        super().on_mount()
        pool = getattr(self.app, "last_pool", None)
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        if pool is not None:
            self.show_pool(pool)
        table.focus()

    def show_pool(self, pool: OrchestratorPool) -> None:
        self.pool = pool
        self._render_rows()

    def _render_rows(self) -> None:
        if self.pool is None:
            return
        table = self.query_one(DataTable)
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = [
            (i, o) for i, o in enumerate(self.pool.orchestrators, 1)
            if not needle or needle in o.address.lower() or needle in o.service_uri.lower()
        ]
        cursor = table.cursor_row
        table.clear()
        for i, o in rows:
            table.add_row(*self._cells(i, o), key=o.address)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        self.set_class(not rows, "-empty")
        active = sum(o.active for o in self.pool.orchestrators)
        total = sum(o.total_stake for o in self.pool.orchestrators)
        self.query_one("#summary", Static).update(
            f"round {self.pool.round} · {len(self.pool.orchestrators)} orchestrators · {active} active · "
            f"{_lpt(total)} LPT staked" + (f" · showing {len(rows)}" if needle else "")
        )

    @staticmethod
    def _cells(rank: int, o: Orchestrator) -> tuple:
        active = Text("● active", style="bold") if o.active else Text("· inactive", style="dim")
        return (
            Text(str(rank), justify="right"),
            o.address,
            _host(o.service_uri),
            active,
            Text(_lpt(o.total_stake), justify="right"),
            Text(f"{o.stake_share:.2%}", justify="right"),
            Text(f"{o.reward_cut / 10_000:.2f}%", justify="right"),
            Text(f"{(1_000_000 - o.fee_share) / 10_000:.2f}%", justify="right"),
            Text(str(o.last_reward_round), justify="right"),
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._render_rows()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one(DataTable).focus()
