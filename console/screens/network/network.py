"""Network: every orchestrator in the pool, like the Explorer's list — stake, cuts, reward calls over
the last 30 rounds, fees, price, forecast yield — sortable and filterable, with a detail pane of the
selected orchestrator's history and "delegate to this"."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from chain.amounts import format_eth, format_lpt, format_percent, short_address, units
from chain.reads import Orchestrator, OrchestratorPool
from chain.services.network import NetworkActivity
from console.screens.base import ConsoleScreen
from console.screens.chain_view import describe_failure

# Fixed widths (the table looks the same whatever arrives first, and doesn't jump as rows change);
# 13 columns × (width + 2 of padding) stay within 150 columns. The detail pane has the full address.
COLUMNS = (
    ("rank", "#", 3), ("address", "Orchestrator", 13), ("host", "Service URI", 27), ("active", "Active", 6),
    ("stake", "Stake LPT", 10), ("share", "Share", 6), ("reward_cut", "Rwd cut", 7), ("fee_cut", "Fee cut", 7),
    ("calls", "Calls/30", 8), ("fees", "Fees ETH", 9), ("price", "Wei/px", 7), ("yield", "Yield 1y", 8),
    ("last_reward", "Last rwd", 8),
)
SORT_ORDER = ("rank", "stake", "yield", "calls", "fees", "reward_cut", "fee_cut", "last_reward", "host", "address")
PRINCIPLE_LPT = 1_000
MONTHS = 12


@dataclass
class ActivityLoaded(Message):
    activity: NetworkActivity


@dataclass
class ActivityFailed(Message):
    reason: str


def _host(uri: str) -> str:
    if not uri:
        return "—"
    rest = uri.split("://", 1)[-1]
    host = rest.split("/", 1)[0]
    return host.removesuffix(":8935")  # go-livepeer's default service port says nothing


def _lpt(wei: int) -> str:
    return f"{units(wei):,.0f}"


def _pct(ppm: int) -> str:
    return f"{ppm / 10_000:.2f}%"


class NetworkScreen(ConsoleScreen):
    CSS_PATH = "network.tcss"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="network.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="network.clear_filter"),
        Binding("S", "cycle_sort", "Sort", id="network.sort"),
        Binding("minus", "reverse_sort", "Reverse", show=False, id="network.reverse_sort"),
        Binding("d", "delegate", "Delegate to this", id="network.delegate"),
    ]

    def __init__(self) -> None:
        super().__init__(id="network")
        self.pool: OrchestratorPool | None = None
        self.activity: NetworkActivity | None = None
        self.sort_key = "rank"
        self.sort_reverse = False
        self.selected: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Input(placeholder="filter by address or host  ( / )", id="filter")
            yield Static("loading orchestrators…", id="summary")
        yield DataTable(id="orchestrators", zebra_stripes=True, cursor_type="row")
        yield Static("No orchestrators match.", id="empty")
        yield Static("", id="detail")

    def on_mount(self) -> None:
        super().on_mount()
        pool = getattr(self.app, "last_pool", None)
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.query_one("#detail").border_title = "Orchestrator"
        if pool is not None:
            self.show_pool(pool)
        table.focus()

    # -- data -----------------------------------------------------------------------------------
    def show_pool(self, pool: OrchestratorPool) -> None:
        if pool is not self.pool:  # a cached pool (same round, nothing sent) needs no new rows
            self.pool = pool
            self._render_rows()
        self.load_activity()

    @work(thread=True, exclusive=True, group="network-activity")
    def load_activity(self) -> None:
        from chain.services.network import network_activity

        try:
            activity = network_activity(self.app.services.client, cache=self.app.activity_cache)
        except Exception as exc:  # noqa: BLE001 - the table still shows the pool; say what is missing
            self.post_message(ActivityFailed(describe_failure(exc)))
            return
        self.post_message(ActivityLoaded(activity))

    def on_activity_loaded(self, message: ActivityLoaded) -> None:
        if message.activity == self.activity:
            return  # no new block, no new reward or fee: the rows stand
        self.activity = message.activity
        self._render_rows()

    def on_activity_failed(self, message: ActivityFailed) -> None:
        self.app.log_event("warning", f"reward-call and fee history unavailable: {message.reason}")

    def _forecast(self, o: Orchestrator):
        if self.activity is None or not o.active:
            return None
        return self.activity.forecast(o, principle_lpt=PRINCIPLE_LPT, months=MONTHS)

    def _sort_value(self, rank: int, o: Orchestrator):
        a = self.activity
        key = self.sort_key
        if key == "yield":
            f = self._forecast(o)
            return f.total if f else -1.0
        if key == "calls":
            return a.of(o.address).calls if a else 0
        if key == "fees":
            return a.of(o.address).fees_total if a else 0
        return {"rank": rank, "stake": o.total_stake, "reward_cut": o.reward_cut, "fee_cut": o.fee_cut,
                "last_reward": o.last_reward_round, "host": _host(o.service_uri), "address": o.address.lower(),
                "share": o.total_stake, "active": not o.active}.get(key, rank)

    def _render_rows(self) -> None:
        if self.pool is None:
            return
        table = self.query_one(DataTable)
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = [
            (i, o) for i, o in enumerate(self.pool.orchestrators, 1)
            if not needle or needle in o.address.lower() or needle in o.service_uri.lower()
        ]
        descending = self.sort_key in ("stake", "share", "yield", "calls", "fees", "last_reward")
        rows.sort(key=lambda r: self._sort_value(*r), reverse=descending != self.sort_reverse)
        keep = self.selected
        table.clear()
        for i, o in rows:
            table.add_row(*self._cells(i, o), key=o.address)
        if rows:
            index = next((n for n, (_, o) in enumerate(rows) if o.address == keep), 0)
            table.move_cursor(row=index)
            self._show_detail(rows[index][1])
        self.set_class(not rows, "-empty")
        active = sum(o.active for o in self.pool.orchestrators)
        total = sum(o.total_stake for o in self.pool.orchestrators)
        label = next(lbl for k, lbl, _ in COLUMNS if k == self.sort_key)
        arrow = "↑" if descending == self.sort_reverse else "↓"
        self.query_one("#summary", Static).update(
            f"round {self.pool.round} · {len(self.pool.orchestrators)} orchestrators · {active} active · "
            f"{_lpt(total)} LPT staked · sorted by {label} {arrow} (S)" + (f" · showing {len(rows)}" if needle else "")
        )

    def _cells(self, rank: int, o: Orchestrator) -> tuple:
        active = Text("● yes", style="bold") if o.active else Text("· no", style="dim")
        a = self.activity
        if a is None:
            calls = fees = yld = Text("…", justify="right", style="dim")
        else:
            act = a.of(o.address)
            calls = Text(f"{act.calls}/{a.window}", justify="right")
            fees = Text(f"{units(act.fees_total):.4f}", justify="right")
            f = self._forecast(o)
            yld = Text(f"{f.total:.2%}" if f else "—", justify="right", style="" if f else "dim")
        return (
            Text(str(rank), justify="right"),
            short_address(o.address),
            Text(_host(o.service_uri), no_wrap=True),  # set by anyone on chain: never markup
            active,
            Text(_lpt(o.total_stake), justify="right"),
            Text(f"{o.stake_share:.1%}", justify="right"),
            Text(_pct(o.reward_cut), justify="right"),
            Text(_pct(o.fee_cut), justify="right"),
            calls,
            fees,
            Text("—", justify="right", style="dim"),  # price per pixel is advertised off-chain: unknown here
            yld,
            Text(str(o.last_reward_round), justify="right"),
        )

    # -- detail pane --------------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.pool is None or event.row_key is None:
            return
        o = self.pool.get(event.row_key.value)
        if o is not None:
            self._show_detail(o)

    def _show_detail(self, o: Orchestrator) -> None:
        self.selected = o.address
        detail = self.query_one("#detail", Static)
        detail.border_title = Text(f"{o.address}  {o.service_uri or '(no service URI)'}")
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", no_wrap=True)
        t.add_column(no_wrap=True)
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        state = "active" if o.active else "inactive"
        t.add_row("Status", f"{state} since round {o.activation_round}" if o.active else state,
                  "Stake", f"{format_lpt(o.total_stake, 2)} ({o.stake_share:.2%} of the pool)")
        t.add_row("Reward cut", f"{format_percent(o.reward_cut)} kept by the orchestrator",
                  "Fee cut", f"{format_percent(o.fee_cut)} kept ({format_percent(o.fee_share)} to delegators)")
        a = self.activity
        if a is None:
            t.add_row("History", Text("reading reward calls and fees…", style="dim"), "", "")
        else:
            act = a.of(o.address)
            strip = Text()
            for r in a.rounds:
                if act.called(r):
                    strip.append("■", style="bold")
                elif r not in a.initialized:
                    strip.append("·", style="dim")
                elif r < o.activation_round:
                    strip.append(" ")
                else:
                    strip.append("□")
            t.add_row("Reward calls", Text.assemble(f"{act.calls} of {a.window} rounds ", strip),
                      "Last reward", f"round {o.last_reward_round} · window {a.first_round}–{a.protocol.round} "
                                     "(■ called □ missed)")
            t.add_row("Minted to pool", format_lpt(act.rewards_total, 2) + " in these rounds",
                      "Fees", format_eth(act.fees_total, 6) + " of winning tickets")
            f = self._forecast(o)
            if f is None:
                t.add_row("Forecast", Text("— not in the active set: it earns nothing now", style="dim"), "", "")
            else:
                t.add_row("Forecast", f"{f.total:.2%} a year for {PRINCIPLE_LPT:,} LPT "
                                      f"(+{f.reward_lpt:,.2f} LPT from rewards)",
                          "Assumes", f"call ratio {a.call_ratio(o.address, o.activation_round):.0%}, "
                                     "fees not counted (no LPT price)")
        t.add_row("Price / pixel", Text("— advertised off-chain by the node; unknown on this network", style="dim"),
                  "", Text("d: delegate to this", style="bold"))
        detail.update(t)

    # -- sorting --------------------------------------------------------------------------------
    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self._render_rows()

    def action_cycle_sort(self) -> None:
        n = SORT_ORDER.index(self.sort_key) if self.sort_key in SORT_ORDER else -1
        self.sort_key, self.sort_reverse = SORT_ORDER[(n + 1) % len(SORT_ORDER)], False
        self._render_rows()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._render_rows()

    # -- filter and actions ----------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._render_rows()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one(DataTable).focus()

    def action_delegate(self) -> None:
        """Open Staking with this orchestrator in the Bond form."""
        if self.selected is None:
            return
        address = self.selected
        self.app.action_show("staking")
        screen = self.app.screen
        if hasattr(screen, "prefill_delegate"):
            screen.prefill_delegate(address)
