"""Overview, the screen the console opens on: the account (balances, delegation, pending stake and
fees), the round and its progress, the active set, and what needs attention now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ProgressBar, Static

from chain.amounts import format_eth, format_lpt, format_percent
from console.screens.chain_view import ChainReadScreen, ReadFailed

if TYPE_CHECKING:  # these load with the first read, after the first frame
    from chain.services.overview import Overview


@dataclass
class OverviewLoaded(Message):
    overview: Overview


def _host(uri: str) -> str:
    return uri.split("://", 1)[-1].split("/", 1)[0] if uri else ""


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=14)
    table.add_column()
    return table


class OverviewScreen(ChainReadScreen):
    CSS_PATH = "overview.tcss"
    BINDINGS = [
        # the same keys as on Rewards: one key, one action, wherever it works
        Binding("I", "initialize_round", "Initialize round", id="overview.initialize_round"),
        Binding("R", "call_reward", "Call reward", id="overview.call_reward"),
    ]

    def __init__(self) -> None:
        super().__init__(id="overview")
        self.data: Overview | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("reading the account…", id="summary")
        with Horizontal(id="top"):
            yield Static("", id="account-panel", classes="panel")
            with Vertical(id="round-panel", classes="panel"):
                yield Static("", id="round-text")
                yield ProgressBar(total=1.0, show_eta=False, id="round-bar")
                yield Static("", id="set-text")
        yield Static("", id="attention", classes="panel")
        yield Static("", id="empty", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#account-panel").border_title = "Account"
        self.query_one("#round-panel").border_title = "Round"
        self.query_one("#attention").border_title = "Needs attention"
        self.query_one("#empty").border_title = "Getting started"
        self.call_after_refresh(self.reload)  # after the first frame: the read (and web3) never delays it

    # -- loading ------------------------------------------------------------------------------
    def read(self, client, account: str | None) -> Message:
        from chain.services.overview import load_overview

        return OverviewLoaded(load_overview(client, account, pool_cache=self.app.pool_cache))

    def on_read_failed(self, message: ReadFailed) -> None:
        self.add_class("-stale")
        shown = "showing the last data" if self.data else "nothing loaded yet"
        self.query_one("#summary", Static).update(Text(f"⚠ {message.reason} ({shown}; r retries)"))

    def on_overview_loaded(self, message: OverviewLoaded) -> None:
        self.data = d = message.overview
        self.remove_class("-stale")
        self.set_class(d.is_empty, "-empty")
        self.query_one("#summary", Static).update(
            f"{d.account.address} · {d.account.status.label}"
            + (" · orchestrator" if d.account.is_registered_transcoder else "")
        )
        self.query_one("#account-panel", Static).update(self._account_table(d))
        self._show_round(d)
        self.query_one("#attention", Static).update(self._attention(d))
        self.query_one("#empty", Static).update(Text.assemble(
            ("This account holds no LPT and has no stake.\n\n", "bold"),
            "To earn rewards and fees, get LPT into ", (d.account.address, "bold"),
            ", then pick an orchestrator on Network (n) and press d to delegate, or bond on Staking (s).\n"
            "Other accounts of your keyring are on Wallet (w).",
        ))

    # -- panels -------------------------------------------------------------------------------
    def _account_table(self, d: Overview) -> Table:
        from chain.reads import DelegatorStatus  # loaded by the read that brought `d`

        a = d.account
        t = _grid()
        t.add_row("LPT balance", Text(format_lpt(a.lpt_balance, 4), style="bold"))
        t.add_row("ETH balance", format_eth(a.eth_balance, 6))
        if a.status is DelegatorStatus.UNBONDED and not a.bonded_amount:
            t.add_row("Delegation", Text("not bonded", style="dim"))
        else:
            who = "itself (orchestrator)" if a.delegate == a.address else (a.delegate or "—")
            host = _host(d.delegate.service_uri) if d.delegate else ""
            t.add_row("Delegated to", Text(who + (f"  {host}" if host and a.delegate != a.address else "")))
            status = a.status.label + (f" (earning from round {a.start_round})"
                                       if a.status is DelegatorStatus.PENDING else "")
            t.add_row("Status", status)
            t.add_row("Bonded", format_lpt(a.bonded_amount, 4))
            t.add_row("Pending stake", format_lpt(a.pending_stake, 4))
            t.add_row("Unclaimed", f"+{format_lpt(a.rewards_since_claim, 4)} of rewards since round {a.last_claim_round}")
        t.add_row("Pending fees", format_eth(a.pending_fees, 6))
        if a.unbonding_locks:
            t.add_row("Unbonding", f"{format_lpt(a.unbonding_total, 4)} in {len(a.unbonding_locks)} "
                                   f"lock{'s' * (len(a.unbonding_locks) != 1)}")
        t.add_row("Voting power", format_lpt(a.voting_power, 2))
        if d.own is not None:
            t.add_row("As orchestrator", f"{'active' if d.own.active else 'inactive'} · reward cut "
                                         f"{format_percent(d.own.reward_cut)} · fee cut "
                                         f"{format_percent(1_000_000 - d.own.fee_share)} · last reward round "
                                         f"{d.own.last_reward_round}")
        return t

    def _show_round(self, d: Overview) -> None:
        r = d.round
        state = Text("initialized", style="bold") if r.initialized else Text("NOT initialized", style="bold reverse")
        text = Text.assemble(("Round ", "bold"), (f"{r.number}", "bold"), "  ", state,
                             ("  · locked (no rate changes)" if r.locked else ""))
        text.append(f"\n{r.blocks_into_round} of {r.length} blocks · next round in {r.blocks_left} blocks")
        self.query_one("#round-text", Static).update(text)
        self.query_one("#round-bar", ProgressBar).update(total=1.0, progress=r.progress)
        self.query_one("#set-text", Static).update(
            f"Active set  {d.active_count} of {d.pool_max_size} seats · {d.pool_size} orchestrators in the pool\n"
            f"Lock window from block {r.lock_starts_at:,}"
        )

    def _attention(self, d: Overview):
        t = Table.grid(padding=(0, 1))
        t.add_column(no_wrap=True)
        t.add_column(no_wrap=True, style="bold", min_width=16)
        t.add_column()
        r = d.round
        if r.paused:
            t.add_row("⚠", Text(""), Text("the protocol is paused by governance: staking actions are refused until it is "
                                         "unpaused"))
        if not r.initialized:
            t.add_row("⚠", Text("[i] initialize"), Text(f"round {r.number} is not initialized: nobody can bond, unbond "
                                                        "or call reward until someone does (anyone can; it costs a "
                                                        "little gas)"))
        if d.reward_due:
            t.add_row("⚠", Text("[a] call reward"), Text(f"your orchestrator has not called reward in round {r.number} "
                                                         f"(last call: round {d.own.last_reward_round})"))
        for lock in d.withdrawable:
            t.add_row("⚠", Text("[s] Staking"), Text(f"unbonding lock #{lock.id} ({format_lpt(lock.amount, 4)}) can be "
                                                     f"withdrawn since round {lock.withdraw_round}"))
        for op in d.unvoted:
            p = op.proposal
            left = p.deadline - r.number + 1
            t.add_row("⚠", Text("[v] Governance"), Text(f"“{p.title}” is open for {left} more round{'s' * (left != 1)}; "
                                                        f"you have not voted ({format_lpt(op.power, 2)} of voting power)"))
        if not t.row_count:
            return Text("✓ nothing needs attention", style="bold")
        return t

    # -- actions ------------------------------------------------------------------------------
    def action_initialize_round(self) -> None:
        from chain.services import rounds

        account = self.app.services.account
        self.app.propose(lambda client: rounds.initialize(client, account), lambda _o: self.reload())

    def action_call_reward(self) -> None:
        from chain.services import orchestrator

        account = self.app.services.account
        self.app.propose(lambda client: orchestrator.reward(client, account), lambda _o: self.reload())
