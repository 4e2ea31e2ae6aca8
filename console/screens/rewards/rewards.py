"""Rewards: the account's earnings per round (reward LPT, fees ETH) as a table and charts; for an
orchestrator its reward calls made and missed, LPT minted and commission; "call reward" and
"initialize round"; and a yield calculator built on the protocol's own integer math."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from chain.amounts import (
    InputError,
    format_eth,
    format_lpt,
    format_percent,
    format_units,
    parse_address,
    parse_lpt,
    units,
)
from chain.reads import RoundInfo
from chain.services.earnings import Earnings
from chain.services.reward_calls import BondForecast, RewardCalls, YieldInputs
from console.screens.chain_view import ChainReadScreen, Notice, ReadFailed, describe_failure
from console.widgets.charts import draw_bars

EARNING_COLUMNS = (("round", "Round", 17), ("reward", "Reward (LPT)", 14), ("fees", "Fees (ETH)", 12),
                   ("called", "Reward called", 13))
CALL_COLUMNS = (("round", "Round", 8), ("status", "Reward call", 18), ("rewards", "Reward (LPT)", 12),
                ("treasury", "Treasury (LPT)", 14), ("commission", "Commission (LPT)", 16))
MAX_FORECAST_ROUNDS = 10_000
L1_BLOCK_SECONDS = 12


@dataclass
class RewardsLoaded(Message):
    round: RoundInfo
    earnings: Earnings
    calls: RewardCalls | None  # None when the account is not an orchestrator
    delegate: str | None


@dataclass
class ForecastReady(Message):
    inputs: YieldInputs
    forecast: BondForecast


def _num(wei: int, places: int = 6) -> str:
    return format_units(wei, "", places=places)


class RewardsScreen(ChainReadScreen):
    CSS_PATH = "rewards.tcss"
    BINDINGS = [
        Binding("R", "call_reward", "Call reward", id="rewards.call_reward"),
        Binding("I", "initialize_round", "Initialize round", id="rewards.initialize_round"),
        Binding("ctrl+y", "calculate", "Calculate yield", id="rewards.calculate"),
        Binding("r", "reload", "Refresh", id="rewards.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="rewards")
        self.data: RewardsLoaded | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("reading earnings…", id="summary")
        with TabbedContent(id="tabs"):
            with TabPane("Earnings", id="tab-earnings"):
                with Horizontal(id="earnings-body"):
                    yield DataTable(id="earnings", cursor_type="row", zebra_stripes=True)
                    with Vertical(id="charts"):
                        yield PlotextPlot(id="reward-chart")
                        yield PlotextPlot(id="fee-chart")
            with TabPane("Reward calls", id="tab-calls"):
                yield Static("", id="calls-summary")
                with Horizontal(id="calls-body"):
                    yield DataTable(id="calls", cursor_type="row", zebra_stripes=True)
                    with Vertical(id="actions"):
                        yield Static("This round", classes="panel-title")
                        yield Static("", id="round-state")
                        yield Button("Call reward  R", id="call-reward", variant="primary")
                        yield Button("Initialize round  I", id="initialize-round")
                        yield Notice("", id="action-message")
            with TabPane("Yield calculator", id="tab-yield"):
                with Horizontal(id="yield-body"):
                    with Vertical(id="yield-form"):
                        yield Static("Bond X LPT to orchestrator O for N rounds", classes="panel-title")
                        for name, label, placeholder in (
                                ("amount", "Bond (LPT)", "e.g. 1000"),
                                ("target", "To", "orchestrator address 0x…"),
                                ("rounds", "For (rounds)", f"1 – {MAX_FORECAST_ROUNDS}")):
                            with Horizontal(classes="field"):
                                yield Static(label, classes="field-label")
                                yield Input(placeholder=placeholder, id=name)
                            yield Notice("", classes="field-notice", id=f"notice-{name}")
                        yield Button("Calculate  ^y", id="calculate", variant="primary")
                        yield Notice("", id="yield-message")
                    yield Static("", id="yield-result")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#earnings", DataTable)
        for key, label, width in EARNING_COLUMNS:
            table.add_column(label, key=key, width=width)
        calls = self.query_one("#calls", DataTable)
        for key, label, width in CALL_COLUMNS:
            calls.add_column(label, key=key, width=width)
        self.query_one("#rounds", Input).value = "30"
        table.focus()
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def read(self, client, account: str | None) -> Message:
        from chain.reads import load_orchestrator, load_round_info
        from chain.services import earnings, reward_calls

        rnd = load_round_info(client)
        e = earnings.earnings(client, account)
        detail = load_orchestrator(client, account)
        calls = reward_calls.reward_calls(client, account) if detail.registered else None
        return RewardsLoaded(rnd, e, calls, e.delegate)

    def on_read_failed(self, message: ReadFailed) -> None:
        self.add_class("-stale")
        shown = f"showing round {self.data.round.number}" if self.data else "nothing loaded yet"
        self.query_one("#summary", Static).update(f"⚠ STALE — could not read earnings: {message.reason} "
                                                  f"({shown}; r retries)")

    def on_rewards_loaded(self, message: RewardsLoaded) -> None:
        self.data = message
        self.remove_class("-stale")
        e = message.earnings
        self.set_class(not e.rounds and not e.claimed, "-no-earnings")
        if e.delegate is None:
            summary = f"{e.address} is not bonded: no earnings yet — bond LPT to an orchestrator on the Staking screen"
        else:
            who = "self-delegated orchestrator" if e.delegate == e.address else f"delegating to {e.delegate}"
            summary = (f"{who} · since round {e.since_round}: +{format_lpt(e.pending_rewards, 4)}, "
                       f"+{format_eth(e.pending_fees, 6)} unclaimed")
            if e.commission_rewards or e.commission_fees:
                summary += (f" (incl. commission {format_lpt(e.commission_rewards, 4)}, "
                            f"{format_eth(e.commission_fees, 6)})")
        self.query_one("#summary", Static).update(summary)
        self._fill_earnings(e)
        self._fill_calls(message)
        target = self.query_one("#target", Input)
        if not target.value and e.delegate:
            target.value = e.delegate

    def _fill_earnings(self, e: Earnings) -> None:
        table = self.query_one("#earnings", DataTable)
        table.clear()
        for r in reversed(e.rounds):
            table.add_row(str(r.round), Text(_num(r.rewards), justify="right"),
                          Text(format_units(r.fees, "", places=6), justify="right"),
                          Text("✓ yes", style="bold") if r.reward_called else Text("✗ no", style="dim"))
        for span in reversed(e.claimed):
            if not (span.rewards or span.fees):
                continue
            label = f"{span.start_round}–{span.end_round}" if span.end_round != span.start_round \
                else str(span.start_round)
            table.add_row(label, Text(_num(span.rewards), justify="right"),
                          Text(format_units(span.fees, "", places=6), justify="right"),
                          Text("claimed", style="italic"))
        if table.row_count == 0:
            table.add_row("—", "no earnings", "", "")
        rounds = [str(r.round)[-4:] for r in e.rounds]
        self._chart("#reward-chart", rounds, [units(r.rewards) for r in e.rounds], "reward",
                    f"Reward per round since the last claim (LPT) · round …{'' if not rounds else rounds[-1]}")
        self._chart("#fee-chart", rounds, [units(r.fees) for r in e.rounds], "fees",
                    "Fees per round since the last claim (ETH)")

    def _chart(self, selector: str, labels: list[str], values: list[float], variable: str, title: str) -> None:
        draw_bars(self.query_one(selector, PlotextPlot), labels, values,
                  self.app.theme_variables.get(variable, "white"), title)

    def _fill_calls(self, m: RewardsLoaded) -> None:
        rnd = m.round
        state = Text()
        state.append(f"Round {rnd.number}: ", style="bold")
        state.append("initialized" if rnd.initialized else "NOT initialized — nothing works until someone does")
        state.append(f"\n{rnd.blocks_left} blocks left" + (" · locked" if rnd.locked else "") + "\n")
        table = self.query_one("#calls", DataTable)
        table.clear()
        calls = m.calls
        if calls is None:
            self.query_one("#calls-summary", Static).update(
                "This account is not an orchestrator: it makes no reward calls. Its delegate's calls show in the "
                "Earnings tab (Reward called). Anyone can initialize a round.")
            self.query_one("#round-state", Static).update(state)
            return
        last = calls.rounds[-1] if calls.rounds else None
        if last is not None and last.round == rnd.number:
            state.append("Reward: ", style="bold")
            state.append("called this round ✓" if last.called else
                         ("not called yet" if last.eligible else "not active this round"))
        self.query_one("#round-state", Static).update(state)
        not_init = sum(not r.initialized and r.eligible for r in calls.rounds)
        self.query_one("#calls-summary", Static).update(Text.assemble(
            (f"Last {len(calls.rounds)} rounds: ", "bold"),
            (f"{calls.made} calls made", "bold"), " · ", (f"{calls.missed} missed", "bold"), " ",
            f" (active, round initialized, no call) · {not_init} never initialized · "
            f"call ratio {calls.call_ratio:.0%}\n",
            f"LPT minted {format_lpt(calls.minted, 4)} = {format_lpt(calls.rewards, 4)} to the pool + "
            f"{format_lpt(calls.treasury, 4)} to the treasury · your commission {format_lpt(calls.commission, 4)}",
        ))
        for r in reversed(calls.rounds):
            if r.called:
                status = Text("✓ called", style="bold")
            elif not r.eligible:
                status = Text("· not active", style="dim")
            elif not r.initialized:
                status = Text("· not initialized", style="dim")
            elif r.round == calls.current_round:
                status = Text("… not yet", style="bold")
            else:
                status = Text("✗ missed", style="bold reverse")
            table.add_row(str(r.round), status, Text(_num(r.rewards), justify="right"),
                          Text(_num(r.treasury), justify="right"), Text(_num(r.commission), justify="right"))

    # -- actions ------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"call-reward": self.action_call_reward, "initialize-round": self.action_initialize_round,
                   "calculate": self.action_calculate}
        if event.button.id in actions:
            actions[event.button.id]()

    def action_call_reward(self) -> None:
        from chain.services import orchestrator

        account = self.app.services.account
        notice = self.query_one("#action-message", Notice)
        self.query_one("#tabs", TabbedContent).active = "tab-calls"
        if not account:
            notice.say("✗ no account selected: pick one on the Wallet screen", "error")
            return
        notice.say("checking and preparing the reward call…")
        cache = self.app.pool_cache
        self.app.propose(lambda c: orchestrator.reward(c, account, cache=cache), self._after)

    def action_initialize_round(self) -> None:
        from chain.services import rounds

        account = self.app.services.account
        notice = self.query_one("#action-message", Notice)
        self.query_one("#tabs", TabbedContent).active = "tab-calls"
        if not account:
            notice.say("✗ no account selected: pick one on the Wallet screen", "error")
            return
        notice.say("checking and preparing the round initialization…")
        self.app.propose(lambda c: rounds.initialize(c, account), self._after)

    def _after(self, outcome) -> None:
        notice = self.query_one("#action-message", Notice)
        if outcome.error:
            notice.say(f"✗ {outcome.error}", "error")
        elif outcome.sent:
            events = [e for r in outcome.results for e in r.events]
            notice.say("✓ done" + (f": {events[-1]}" if events else ""), "ok")
        else:
            notice.say("cancelled: nothing was signed")
        self.reload()

    def show_refusal(self, reason: str, fix: str) -> None:
        self.query_one("#action-message", Notice).say(f"✗ {reason}" + (f" — {fix}" if fix else ""), "error")

    # -- yield calculator ---------------------------------------------------------------------
    def action_calculate(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "tab-yield"
        values, errors = {}, {}
        raw = {n: self.query_one(f"#{n}", Input).value.strip() for n in ("amount", "target", "rounds")}
        try:
            values["amount"] = parse_lpt(raw["amount"])
        except InputError as exc:
            errors["amount"] = str(exc)
        try:
            values["target"] = parse_address(raw["target"], "the orchestrator")
        except InputError as exc:
            errors["target"] = str(exc)
        if not raw["rounds"].isdigit() or not 1 <= int(raw["rounds"]) <= MAX_FORECAST_ROUNDS:
            errors["rounds"] = f"rounds {raw['rounds']!r}: give a whole number from 1 to {MAX_FORECAST_ROUNDS}"
        else:
            values["rounds"] = int(raw["rounds"])
        for n in ("amount", "target", "rounds"):
            self.query_one(f"#notice-{n}", Notice).say(f"✗ {errors[n]}" if n in errors else "",
                                                       "error" if n in errors else "")
        message = self.query_one("#yield-message", Notice)
        if errors:
            message.say("✗ fix the fields above", "error")
            return
        message.say("reading inflation, active stake and the orchestrator…")
        self._forecast(values["target"], values["amount"], values["rounds"])

    @work(thread=True, exclusive=True, group="rewards-forecast")
    def _forecast(self, target: str, amount: int, n: int) -> None:
        from chain.services import reward_calls

        try:
            inputs = reward_calls.yield_inputs(self.app.services.client, target)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.query_one("#yield-message", Notice).say,
                                      f"✗ could not read the inputs: {describe_failure(exc)}", "error")
            return
        if not inputs.transcoder_stake:
            self.app.call_from_thread(self.query_one("#yield-message", Notice).say,
                                      f"✗ {target} is not a registered orchestrator: bonding to it earns nothing",
                                      "error")
            return
        self.post_message(ForecastReady(inputs, reward_calls.forecast_bond(inputs, amount, n)))

    def on_forecast_ready(self, message: ForecastReady) -> None:
        i, f = message.inputs, message.forecast
        self.query_one("#yield-message", Notice).say("")
        days = f.rounds * i.round_length * L1_BLOCK_SECONDS / 86_400
        out = Text()
        out.append(f"Bond {format_lpt(f.amount)} to {i.transcoder} for {f.rounds} rounds\n", style="bold")
        out.append(f"(≈ {days:,.1f} days at {i.round_length:,} L1 blocks per round, {L1_BLOCK_SECONDS} s each)\n\n")
        pct = f.rewards / f.amount if f.amount else 0
        out.append("Rewards if it calls every round  ", style="bold")
        out.append(f"+{format_lpt(f.rewards, 6)}  ({pct:.4%})\n")
        out.append(f"{'At its recent call ratio ' + format(i.call_ratio, '.0%'):33}", style="bold")
        out.append(f"+{format_lpt(f.expected_rewards, 6)}\n")
        out.append("First round                      ", style="bold")
        out.append(f"+{format_lpt(f.first_round_rewards, 8)}\n")
        out.append("Your share of its stake          ", style="bold")
        out.append(f"{f.pool_share:.2%}\n\n")
        if not i.active:
            out.append("⚠ This orchestrator is not active now: it earns nothing until it enters the active set.\n\n",
                       style="bold")
        out.append("Assumptions (live values, round {})\n".format(i.round), style="bold")
        for line in (
            f"inflation {i.inflation / 1e7:.7f}%/round now, moving {i.inflation_change / 1e7:.7f} pp per round "
            f"toward the {i.target_bonding_rate / 1e7:g}% target bonding rate",
            f"supply {format_lpt(i.global_supply, 0)}, active stake {format_lpt(i.total_active_stake, 0)}; "
            "every active orchestrator calls reward, so both grow by what is minted",
            f"orchestrator stake {format_lpt(i.transcoder_stake, 0)}, reward cut {format_percent(i.reward_cut)} "
            f"(it keeps that share), treasury cut {i.treasury_cut_rate / 1e25:g}% of minted LPT",
            "your stake counts from the next round (bonding is Pending for the rest of this one)",
            "nobody else bonds or unbonds; rates stay as they are; fees (ETH) are not included",
            "exact contract integer math per round (protocol.md §3.2–3.3), rewards compounding",
        ):
            out.append(f" · {line}\n")
        self.query_one("#yield-result", Static).update(out)
