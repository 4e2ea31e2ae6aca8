"""Governance: treasury proposals (state, tally with quorum and quota, time left in rounds, your voting
power, your vote, your orchestrator's vote and what the delegator override would change) and LIP polls.
Votes go through the app's `propose`, so the confirmation modal shows them before anything is signed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, ProgressBar, Static, TabbedContent, TabPane

from chain.amounts import format_lpt, short_address, units
from chain.reads import RoundInfo
from chain.services.ballots import Ballot
from chain.services.governance import PollInfo, Proposal, ProposalState, Support
from console.screens.chain_view import ChainReadScreen, Notice, ReadFailed

PROPOSAL_COLUMNS = (
    ("state", "State", 9), ("title", "Proposal", 52), ("for", "For (LPT)", 12), ("against", "Against (LPT)", 13),
    ("abstain", "Abstain (LPT)", 13), ("quorum", "Quorum", 7), ("ends", "Voting", 22),
)
POLL_COLUMNS = (
    ("poll", "Poll", 13), ("proposal", "Proposal (IPFS multihash)", 30), ("status", "Status", 8),
    ("ends", "Ends (L1 block)", 16), ("yes", "Yes (LPT)", 12), ("no", "No (LPT)", 12), ("share", "Yes %", 7),
    ("voters", "Voters", 6),
)
REASON_MAX = 280


@dataclass
class GovernanceLoaded(Message):
    round: RoundInfo
    proposals: list[Proposal]
    ballots: dict[int, Ballot]
    polls: list[PollInfo]
    total_stake: int


def _lpt0(wei: int) -> str:
    return f"{units(wei):,.0f}"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def voting_time(p: Proposal, current: int) -> str:
    """Time left in rounds, as the Governor counts it (snapshot and deadline are rounds)."""
    if p.state is ProposalState.PENDING:
        n = p.snapshot - current + 1
        return f"opens in {n} round{'s' * (n != 1)}"
    if p.state is ProposalState.ACTIVE:
        n = p.deadline - current + 1
        return f"{n} round{'s' * (n != 1)} left"
    return f"closed round {p.deadline}"


class GovernanceScreen(ChainReadScreen):
    CSS_PATH = "governance.tcss"
    BINDINGS = [
        Binding("f", "vote('for')", "Vote for", id="governance.vote_for"),
        Binding("a", "vote('against')", "Vote against", id="governance.vote_against"),
        Binding("b", "vote('abstain')", "Abstain", id="governance.vote_abstain"),
        Binding("Y", "poll_vote('yes')", "Poll: yes", id="governance.poll_yes"),
        Binding("N", "poll_vote('no')", "Poll: no", id="governance.poll_no"),
        Binding("r", "reload", "Refresh", id="governance.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="governance")
        self.data: GovernanceLoaded | None = None
        self.selected: int | None = None  # proposal id
        self.selected_poll: str | None = None

    # -- layout ---------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static("reading proposals and polls…", id="summary")
        with TabbedContent(id="tabs"):
            with TabPane("Treasury proposals", id="tab-proposals"):
                yield DataTable(id="proposals", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="proposal-body"):
                    with VerticalScroll(id="detail"):
                        yield Static("", id="proposal-title")
                        yield Static("", id="proposal-meta")
                        for key, label in (("for", "For"), ("against", "Against"), ("abstain", "Abstain"),
                                           ("quorum", "Quorum"), ("quota", "Quota")):
                            with Horizontal(classes="bar-row", id=f"row-{key}"):
                                yield Static(label, classes="bar-label")
                                yield ProgressBar(total=1.0, show_eta=False, id=f"bar-{key}")
                                yield Static("", classes="bar-text", id=f"text-{key}")
                        yield Static("", id="proposal-description")
                    with Vertical(id="ballot"):
                        yield Static("Your vote", classes="panel-title")
                        yield Static("", id="ballot-text")
                        yield Input(placeholder="reason (optional, published on chain)", max_length=REASON_MAX,
                                    id="reason")
                        with Horizontal(id="vote-buttons"):
                            yield Button("For  f", id="vote-for", variant="success")
                            yield Button("Against  a", id="vote-against", variant="error")
                            yield Button("Abstain  b", id="vote-abstain")
                        yield Notice("", id="vote-message")
            with TabPane("LIP polls", id="tab-polls"):
                yield DataTable(id="polls", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="poll-body"):
                    with Vertical(id="poll-detail"):
                        yield Static("", id="poll-text")
                        for key, label in (("yes", "Yes"), ("participation", "Turnout")):
                            with Horizontal(classes="bar-row", id=f"row-poll-{key}"):
                                yield Static(label, classes="bar-label")
                                yield ProgressBar(total=1.0, show_eta=False, id=f"bar-poll-{key}")
                                yield Static("", classes="bar-text", id=f"text-poll-{key}")
                    with Vertical(id="poll-ballot"):
                        yield Static("Your poll vote", classes="panel-title")
                        yield Static("Stake-weighted and free to change: a later vote replaces an earlier one. "
                                     "A delegator's vote comes off its orchestrator's weight.", id="poll-help")
                        with Horizontal(id="poll-buttons"):
                            yield Button("Yes  y", id="poll-yes", variant="success")
                            yield Button("No  x", id="poll-no", variant="error")
                        yield Notice("", id="poll-message")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#proposals", DataTable)
        for key, label, width in PROPOSAL_COLUMNS:
            table.add_column(label, key=key, width=width)
        polls = self.query_one("#polls", DataTable)
        for key, label, width in POLL_COLUMNS:
            polls.add_column(label, key=key, width=width)
        table.focus()
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    REQUIRES_ACCOUNT = False  # proposals and polls are readable without an account

    def read(self, client, account: str | None) -> Message:
        from chain.reads import load_orchestrator_pool, load_round_info
        from chain.services import ballots, governance

        rnd = load_round_info(client)
        proposals = governance.list_proposals(client)
        by_id = {p.id: ballots.ballot(client, p, account) for p in proposals} if account else {}
        polls = governance.list_polls(client)
        total = load_orchestrator_pool(client, cache=self.app.pool_cache).total_stake
        return GovernanceLoaded(rnd, proposals, by_id, polls, total)

    def on_governance_loaded(self, message: GovernanceLoaded) -> None:
        self.data = message
        self.remove_class("-stale")
        active = sum(p.state is ProposalState.ACTIVE for p in message.proposals)
        open_polls = sum(p.active for p in message.polls)
        self.query_one("#summary", Static).update(
            f"round {message.round.number} · {len(message.proposals)} treasury proposals, {active} open for voting · "
            f"{len(message.polls)} LIP polls, {open_polls} open · account {short_address(self.app.services.account, 'none')}"
        )
        self._fill_proposals()
        self._fill_polls()

    def on_read_failed(self, message: ReadFailed) -> None:
        self.add_class("-stale")
        shown = f"showing round {self.data.round.number}" if self.data else "nothing loaded yet"
        self.query_one("#summary", Static).update(
            Text(f"⚠ STALE — could not read governance: {message.reason} ({shown}; r retries)")
        )

    # -- proposals ----------------------------------------------------------------------------
    def _fill_proposals(self) -> None:
        assert self.data is not None
        table = self.query_one("#proposals", DataTable)
        cursor = table.cursor_row
        table.clear()
        for p in self.data.proposals:
            quorum = "—" if p.quorum is None else f"{_share(p.total_votes, p.quorum):.0%}"
            state = Text(p.state.label, style="bold" if p.state is ProposalState.ACTIVE else "dim")
            table.add_row(state, p.title, Text(_lpt0(p.for_votes), justify="right"),
                          Text(_lpt0(p.against_votes), justify="right"), Text(_lpt0(p.abstain_votes), justify="right"),
                          Text(quorum, justify="right"), voting_time(p, self.data.round.number), key=str(p.id))
        self.set_class(not self.data.proposals, "-no-proposals")
        if self.data.proposals:
            table.move_cursor(row=min(cursor, len(self.data.proposals) - 1))
            self._show_proposal(self.data.proposals[table.cursor_row])
        else:
            self.query_one("#proposal-title", Static).update("No treasury proposals yet.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.data is None or event.row_key is None:
            return
        if event.data_table.id == "proposals":
            p = next((p for p in self.data.proposals if str(p.id) == event.row_key.value), None)
            if p is not None:
                self._show_proposal(p)
        elif event.data_table.id == "polls":
            poll = next((p for p in self.data.polls if p.address == event.row_key.value), None)
            if poll is not None:
                self._show_poll(poll)

    def _bar(self, key: str, progress: float, text: str | Text) -> None:
        self.query_one(f"#bar-{key}", ProgressBar).update(total=1.0, progress=max(0.0, min(1.0, progress)))
        self.query_one(f"#text-{key}", Static).update(text)

    def _show_proposal(self, p: Proposal) -> None:
        assert self.data is not None
        self.selected = p.id
        current = self.data.round.number
        self.query_one("#proposal-title", Static).update(Text(p.title, style="bold"))
        self.query_one("#proposal-meta", Static).update(
            f"{p.state.label} · proposed by {short_address(p.proposer)} · snapshot round {p.snapshot} · "
            f"voting ends after round {p.deadline} · {voting_time(p, current)}\n"
            f"quorum: for+against+abstain ≥ {_lpt0(p.quorum) + ' LPT' if p.quorum else '33.33% of active stake'}"
            f" (33.33% of active stake at the snapshot) · quota: for ≥ {p.quota / 10_000:g}% of for+against"
        )
        total = p.total_votes
        for key, votes in (("for", p.for_votes), ("against", p.against_votes), ("abstain", p.abstain_votes)):
            self._bar(key, _share(votes, total), f"{format_lpt(votes, 2)} of {_lpt0(total)} LPT cast")
        if p.quorum is None:
            self._bar("quorum", 0, "known once the snapshot round has ended")
        else:
            verdict = "reached" if p.quorum_reached else f"{_lpt0(p.quorum - total)} LPT more needed"
            self._bar("quorum", _share(total, p.quorum), f"{_lpt0(total)} / {_lpt0(p.quorum)} LPT · {verdict}")
        decided = p.for_votes + p.against_votes
        need = p.quota / 10_000
        if decided:
            verdict = "passing" if p.passing else "failing"
            self._bar("quota", _share(p.for_votes, decided),
                      f"{_share(p.for_votes, decided):.1%} for · needs ≥ {need:g}% · {verdict}")
        else:
            self._bar("quota", 0, f"no for/against votes yet; needs ≥ {need:g}% for")
        body = "\n".join(ln for ln in p.description.splitlines()[1:] if ln.strip())
        self.query_one("#proposal-description", Static).update(body)
        self._show_ballot(p)

    def _show_ballot(self, p: Proposal) -> None:
        assert self.data is not None
        out = Text()
        b = self.data.ballots.get(p.id)
        if b is None:
            out.append("No account selected: pick one on the Wallet screen.")
        else:
            out.append("Voting power ", style="bold")
            out.append(f"{format_lpt(b.power, 2)} at snapshot round {p.snapshot}\n")
            out.append("Your vote    ", style="bold")
            out.append(self._vote_text(b.own_vote) + "\n")
            if b.is_orchestrator:
                out.append("Role         ", style="bold")
                out.append("orchestrator (votes its delegators' stake)\n")
            else:
                out.append("Orchestrator ", style="bold")
                if b.delegate is None:
                    out.append("none at the snapshot\n")
                else:
                    out.append(f"{short_address(b.delegate)} voted {self._vote_text(b.delegate_vote)}\n")
            if b.own_vote is None and p.state is ProposalState.ACTIVE and b.power and b.is_orchestrator:
                out.append("\nIf you vote (delegator override):\n", style="bold")
                out.append(b.override_effect(Support.FOR) + "\n")
            elif b.own_vote is None and p.state is ProposalState.ACTIVE and b.power:
                out.append("\nIf you vote (delegator override):\n", style="bold")
                for s in (Support.FOR, Support.AGAINST, Support.ABSTAIN):
                    out.append(f" {s.name.lower():8}", style="bold")
                    out.append(b.override_effect(s) + "\n")
            elif b.own_vote is None and not b.power:
                out.append("\nNo voting power at the snapshot: stake bonded to a registered orchestrator "
                           "before the snapshot round votes.\n")
        self.query_one("#ballot-text", Static).update(out)

    @staticmethod
    def _vote_text(v) -> str:
        if v is None:
            return "not cast"
        reason = f" — “{v.reason}”" if v.reason else ""
        return f"{v.support.name.lower()} ({format_lpt(v.weight, 2)}){reason}"

    # -- polls --------------------------------------------------------------------------------
    def _fill_polls(self) -> None:
        assert self.data is not None
        table = self.query_one("#polls", DataTable)
        cursor = table.cursor_row
        table.clear()
        l1 = self.data.round.l1_block
        for p in self.data.polls:
            status = Text("open", style="bold") if p.active else Text("ended", style="dim")
            table.add_row(short_address(p.address), p.proposal[:14] + "…" + p.proposal[-8:], status,
                          Text(f"{p.end_block}" + (f" ({p.end_block - l1} left)" if p.active else ""), justify="right"),
                          Text(_lpt0(p.yes), justify="right"), Text(_lpt0(p.no), justify="right"),
                          Text(f"{_share(p.yes, p.yes + p.no):.1%}", justify="right"), Text(str(p.voters), justify="right"),
                          key=p.address)
        if self.data.polls:
            table.move_cursor(row=min(cursor, len(self.data.polls) - 1))
            self._show_poll(self.data.polls[table.cursor_row])
        else:
            self.query_one("#poll-text", Static).update("No LIP polls yet.")

    def _show_poll(self, p: PollInfo) -> None:
        assert self.data is not None
        self.selected_poll = p.address
        total = self.data.total_stake
        when = (f"open until L1 block {p.end_block} ({p.end_block - self.data.round.l1_block} blocks left)"
                if p.active else f"ended at L1 block {p.end_block}")
        self.query_one("#poll-text", Static).update(Text.assemble(
            (f"Poll {p.address}\n", "bold"), f"proposal {p.proposal}\n{when} · {p.voters} voters · "
            f"quorum {p.quorum / 10_000:g}% of stake · quota {p.quota / 10_000:g}% yes"))
        decided = p.yes + p.no
        self.query_one("#bar-poll-yes", ProgressBar).update(total=1.0, progress=_share(p.yes, decided))
        self.query_one("#text-poll-yes", Static).update(
            f"{format_lpt(p.yes, 0)} yes · {format_lpt(p.no, 0)} no · needs ≥ {p.quota / 10_000:g}% yes")
        self.query_one("#bar-poll-participation", ProgressBar).update(total=1.0, progress=min(1.0, _share(decided, total)))
        self.query_one("#text-poll-participation", Static).update(
            f"{_share(decided, total):.1%} of {_lpt0(total)} LPT staked; quorum {p.quorum / 10_000:g}%")

    # -- actions ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Proposal votes on the proposals tab, poll votes on the polls tab (keys stay unambiguous)."""
        if action in ("vote", "poll_vote"):
            try:
                tab = self.query_one("#tabs", TabbedContent).active
            except Exception:  # noqa: BLE001 - before compose
                return True
            return (action == "vote") == (tab != "tab-polls")
        return True

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        if bid.startswith("vote-"):
            self.action_vote(bid.removeprefix("vote-"))
        elif bid.startswith("poll-"):
            self.action_poll_vote(bid.removeprefix("poll-"))

    def action_vote(self, support: str) -> None:
        from chain.services import governance

        notice = self.query_one("#vote-message", Notice)
        account = self.app.services.account
        if self.data is None or self.selected is None:
            notice.say("✗ no proposal selected", "error")
            return
        if not account:
            notice.say("✗ no account selected: pick one on the Wallet screen", "error")
            return
        self.query_one("#tabs", TabbedContent).active = "tab-proposals"
        reason = self.query_one("#reason", Input).value.strip()
        pid = self.selected
        notice.say(f"preparing a vote {support}…")
        self.app.propose(lambda c: governance.vote(c, account, pid, support, reason), self._after_vote)

    def action_poll_vote(self, choice: str) -> None:
        from chain.services import governance

        notice = self.query_one("#poll-message", Notice)
        account = self.app.services.account
        if self.data is None or self.selected_poll is None:
            notice.say("✗ no poll selected", "error")
            return
        if not account:
            notice.say("✗ no account selected: pick one on the Wallet screen", "error")
            return
        self.query_one("#tabs", TabbedContent).active = "tab-polls"
        poll = self.selected_poll
        notice.say(f"preparing a poll vote {choice}…")
        self.app.propose(lambda c: governance.poll_vote(c, account, poll, choice), self._after_poll_vote)

    def _after_vote(self, outcome) -> None:
        self._after(outcome, "#vote-message")

    def _after_poll_vote(self, outcome) -> None:
        self._after(outcome, "#poll-message")

    def _after(self, outcome, notice_id: str) -> None:
        notice = self.query_one(notice_id, Notice)
        if outcome.error:
            notice.say(f"✗ {outcome.error}", "error")
        elif outcome.sent:
            notice.say("✓ vote recorded on chain", "ok")
            self.query_one("#reason", Input).value = ""
        else:
            notice.say("cancelled: nothing was signed")
        self.reload()

    def show_refusal(self, reason: str, fix: str) -> None:
        """The app calls this when a plan was refused before signing."""
        tab = self.query_one("#tabs", TabbedContent).active
        notice = self.query_one("#poll-message" if tab == "tab-polls" else "#vote-message", Notice)
        notice.say(f"✗ {reason}" + (f" — {fix}" if fix else ""), "error")
