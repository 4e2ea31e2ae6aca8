"""Earnings: per round, for the orchestrator account — reward LPT minted to its pool, what it kept
(commission, its reward cut) and what went to its delegators; fees redeemed from winning tickets, gas
spent on reward calls and redemptions, and the net in ETH. Reward figures come from the chain (Reward
events and earnings pools), gas from the reward autopilot's record and the ticket ledger of the running
node. Charts: LPT kept and net ETH per round."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from chain.amounts import format_units, units
from console.screens.base import ConsoleScreen
from console.widgets.charts import draw_bars
from console.screens.chain_view import describe_failure
from console.screens.tickets.ledger_view import eth

ROUNDS = 20
CHART_ROUNDS = 10
COLUMNS = (("round", "Round", 6), ("call", "Reward call", 16), ("minted", "Minted LPT", 11),
           ("kept", "Kept LPT", 11), ("delegators", "Deleg. LPT", 11), ("fees", "Fees ETH", 11),
           ("gas", "Gas ETH", 11), ("net", "Net ETH", 11))


@dataclass(frozen=True)
class RoundRow:
    round: int
    call: str  # called · by autopilot / called / missed / not active / …
    minted: int
    kept: int
    delegators: int
    fees: int | None  # ETH wei redeemed by transactions mined in this round (None: no ledger)
    gas: int | None  # ETH wei: reward call + redemptions (None: no record)

    @property
    def net(self) -> int | None:
        if self.fees is None and self.gas is None:
            return None
        return (self.fees or 0) - (self.gas or 0)


@dataclass
class EarningsLoaded(Message):
    rows: tuple[RoundRow, ...] | None
    note: str


def load_rounds(client, account: str, parts, rounds: int = ROUNDS) -> tuple[tuple[RoundRow, ...], str]:
    from chain.reads import load_orchestrator
    from chain.services.reward_calls import reward_calls

    detail = load_orchestrator(client, account)
    if not detail.registered:
        return (), f"{account} is not an orchestrator: it earns as a delegator — see the Rewards screen (e)."
    calls = reward_calls(client, account, rounds=rounds)
    history = {r.round: r for r in parts.autopilot.history(rounds * 2)} if parts and parts.autopilot else {}
    fees: dict[int, int] = {}
    gas: dict[int, int] = {}
    if parts is not None:  # every redemption of the ledger, booked in the round it was mined in
        from core.payments.views import fees_by_round

        booked = fees_by_round(parts.store, since_round=min((c.round for c in calls.rounds), default=None))
        fees = {r: f.fees for r, f in booked.items()}
        gas = {r: f.gas for r, f in booked.items()}
    rows = []
    for c in reversed(calls.rounds):
        h = history.get(c.round)
        if c.called:
            call = "✓ autopilot" if h is not None and h.status == "called" and h.tx_hash else "✓ called"
        elif not c.eligible:
            call = "· not active"
        elif c.round == calls.current_round:
            call = "… not yet"
        else:
            call = "✗ missed"
        reward_gas = h.fee_wei if h is not None and h.fee_wei else 0
        g = (gas.get(c.round, 0) + reward_gas) if parts is not None else None
        rows.append(RoundRow(c.round, call, c.rewards, c.commission, c.rewards - c.commission,
                             fees.get(c.round, 0) if parts is not None else None, g))
    note = (f"Last {len(rows)} rounds of {account}. Kept = reward cut {detail.reward_cut / 10_000:g} %; fees go to the "
            f"fee pool, delegators get {detail.fee_share / 10_000:g} % of them.")
    if parts is None:
        note += " Fees and gas come from the running node's ledger: start it with x (Dashboard, Tickets or Pricing)."
    return tuple(rows), note


class EarningsScreen(ConsoleScreen):
    CSS_PATH = "earnings.tcss"
    BINDINGS = [Binding("r", "reload", "Refresh", id="earnings.refresh")]

    def __init__(self) -> None:
        super().__init__(id="earnings")
        self.rows: tuple[RoundRow, ...] | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("reading the reward calls and the ticket ledger…", id="note")
        with Horizontal(id="body"):
            yield DataTable(id="rounds", cursor_type="row", zebra_stripes=True)
            with Vertical(id="charts"):
                yield PlotextPlot(id="kept-chart")
                yield PlotextPlot(id="net-chart")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#rounds", DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def chain_polled(self, info) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="earnings-load")
    def reload(self) -> None:
        services = self.app.services
        if not services.account:
            self.post_message(EarningsLoaded(None, "no account selected: pick one on the Wallet screen"))
            return
        parts = services.node_parts if services.node is not None else None
        try:
            rows, note = load_rounds(services.client, services.account, parts)
        except Exception as exc:  # noqa: BLE001 - keep the last rows, say why
            self.post_message(EarningsLoaded(None, f"could not read earnings: {describe_failure(exc)}"))
            return
        self.post_message(EarningsLoaded(rows, note))

    def on_earnings_loaded(self, message: EarningsLoaded) -> None:
        self.set_class(message.rows is None, "-stale")
        self.query_one("#note", Static).update(message.note)
        if message.rows is None:
            return
        self.rows = message.rows
        table = self.query_one("#rounds", DataTable)
        table.clear()
        for r in message.rows:
            table.add_row(str(r.round), Text(r.call, style="bold" if r.call.startswith("✗") else ""),
                          *(Text(v, justify="right") for v in (
                              format_units(r.minted, "", places=4), format_units(r.kept, "", places=4),
                              format_units(r.delegators, "", places=4), eth(r.fees), eth(r.gas, 8),
                              eth(r.net))), key=str(r.round))
        if not message.rows:
            table.add_row("—", "no rounds", "", "", "", "", "", "")
        oldest_first = list(reversed(message.rows[:CHART_ROUNDS]))
        labels = [str(r.round) for r in oldest_first]
        self._chart("#kept-chart", labels, [units(r.kept) for r in oldest_first], "reward",
                    f"LPT kept (commission), last {len(labels)} rounds")
        known = any(r.net is not None for r in oldest_first)
        self._chart("#net-chart", labels if known else [], [units(r.net or 0) for r in oldest_first], "fees",
                    "Net ETH per round (fees − gas)" if known else "Net ETH per round: needs the running node")

    def _chart(self, selector: str, labels: list[str], values: list[float], variable: str, title: str) -> None:
        draw_bars(self.query_one(selector, PlotextPlot), labels, values,
                  self.app.theme_variables.get(variable, "white"), title)
