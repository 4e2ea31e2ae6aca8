"""Orchestrator settings: reward cut, fee share and service URI next to their on-chain values.

Empty fields mean "unchanged": nothing is ever filled in with a default (livepeer_cli's Enter applies a
10 % reward cut and 95 % fee share). Only the fields that differ are sent, shown as a diff in the
confirmation modal. The two protocol rules on rate changes — the round lock window and "an active
orchestrator must call reward first" — are shown with their current state before you try.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static

from chain.amounts import InputError, format_lpt, format_percent, parse_percent, short_address
from chain.reads import OrchestratorDetail, OrchestratorPool, RoundInfo
from console.screens.chain_view import ChainReadScreen, Notice, ReadFailed

LOCK_REVERT = "can't update transcoder params, current round is locked"
REWARD_REVERT = "caller can't be active or must have already called reward for the current round"
URI_MAX = 256


@dataclass
class OrchestratorLoaded(Message):
    detail: OrchestratorDetail
    round: RoundInfo
    pool: OrchestratorPool
    ai_service_uri: str = ""  # in the AI ServiceRegistry, where -aiServiceRegistry gateways look


def parse_service_uri(text: str) -> str:
    """A service URI gateways can reach: https://host[:port], no path, query or spaces."""
    raw = text.strip()
    if any(c.isspace() for c in raw):
        raise InputError(f"service URI {raw!r} contains spaces")
    if len(raw) > URI_MAX:
        raise InputError(f"service URI is {len(raw)} characters; at most {URI_MAX}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InputError(f"service URI {raw!r} has an invalid port; use https://host:8935") from None
    if parts.scheme != "https" or not parts.hostname:
        raise InputError(f"service URI {raw!r} is not an https URL; gateways expect https://host:port (e.g. "
                         "https://203.0.113.7:8935)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InputError(f"service URI {raw!r}: give only https://host:port (no path, query or user)")
    if port == 0:
        raise InputError(f"service URI {raw!r}: port 0 is not a port")
    return raw.rstrip("/")


FIELDS = ("reward-cut", "fee-share", "service-uri", "ai-service-uri")


def _field_label(name: str) -> str:
    return {"reward-cut": "the reward cut", "fee-share": "the fee share"}[name]


class OrchestratorScreen(ChainReadScreen):
    CSS_PATH = "orchestrator.tcss"
    BINDINGS = [
        Binding("ctrl+s", "review", "Review and send", id="orchestrator.review"),
        Binding("escape", "clear", "Leave field / clear", id="orchestrator.clear"),
        Binding("r", "reload", "Refresh", id="orchestrator.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="orchestrator")
        self.data: OrchestratorLoaded | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("reading the orchestrator…", id="summary")
        with Horizontal(id="columns"):
            with Vertical(id="form"):
                yield Static("Configuration — on chain now, and your change (empty = unchanged)",
                             classes="panel-title")
                for name, label, placeholder in (
                        ("reward-cut", "Reward cut", "unchanged · e.g. 10 or 12.5%"),
                        ("fee-share", "Fee share", "unchanged · e.g. 75 (to delegators)"),
                        ("service-uri", "Service URI", "unchanged · https://host:8935"),
                        ("ai-service-uri", "AI service URI", "unchanged · https://host:8935 (AI gateways)")):
                    with Horizontal(classes="field", id=f"field-{name}"):
                        yield Static(label, classes="field-label")
                        yield Static("…", classes="field-current", id=f"current-{name}")
                        yield Input(placeholder=placeholder, id=name, classes="field-input")
                    yield Notice("", classes="field-notice", id=f"notice-{name}")
                yield Static("", id="diff")
                with Horizontal(id="buttons"):
                    yield Button("Review and send  ^s", id="review", variant="primary")
                    yield Button("Clear  esc", id="clear")
                yield Notice("", id="config-message")
            with Vertical(id="rules"):
                yield Static("Before you change rates", classes="panel-title")
                yield Static("", id="rule-lock", classes="rule")
                yield Static("", id="rule-reward", classes="rule")
                yield Static("", id="rule-notes", classes="rule")
        yield Static("", id="not-orchestrator")

    def on_mount(self) -> None:
        super().on_mount()
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def read(self, client, account: str | None) -> Message:
        from chain.reads import load_orchestrator, load_orchestrator_pool, load_round_info

        detail = load_orchestrator(client, account)
        rnd = load_round_info(client)
        pool = load_orchestrator_pool(client, cache=self.app.pool_cache)
        ai_uri = ""
        if detail.registered:
            ai_uri = client.contract("AIServiceRegistry").functions.getServiceURI(detail.address).call()
        return OrchestratorLoaded(detail, rnd, pool, ai_uri)

    def on_read_failed(self, message: ReadFailed) -> None:
        self.add_class("-stale")
        shown = f"showing round {self.data.round.number}" if self.data else "nothing loaded yet"
        self.query_one("#summary", Static).update(f"⚠ STALE — could not read the orchestrator: {message.reason} "
                                                  f"({shown}; r retries)")

    def on_orchestrator_loaded(self, message: OrchestratorLoaded) -> None:
        self.data = message
        self.remove_class("-stale")
        d, rnd = message.detail, message.round
        self.set_class(not d.registered, "-not-orchestrator")
        if not d.registered:
            self.query_one("#summary", Static).update(f"{d.address} is not a registered orchestrator")
            self.query_one("#not-orchestrator", Static).update(self._how_to_join(message))
            return
        state = "active" if d.active else "registered, not in the active set"
        self.query_one("#summary", Static).update(
            f"orchestrator {d.address} · {state} · stake {format_lpt(d.total_stake, 0)} · "
            f"last reward round {d.last_reward_round} · round {rnd.number}"
        )
        self.query_one("#current-reward-cut", Static).update(
            Text.assemble((format_percent(d.reward_cut), "bold"), " of rewards kept"))
        self.query_one("#current-fee-share", Static).update(
            Text.assemble((format_percent(d.fee_share), "bold"), f" to delegators (fee cut {format_percent(1_000_000 - d.fee_share)})"))
        self.query_one("#current-service-uri", Static).update(Text(d.service_uri or "(none)", style="bold"))
        self.query_one("#current-ai-service-uri", Static).update(
            Text(message.ai_service_uri or "(none)", style="bold"))
        self._show_rules(message)
        self._show_diff()

    def _show_rules(self, m: OrchestratorLoaded) -> None:
        d, rnd = m.detail, m.round
        lock_pct = rnd.lock_amount / 10_000
        lock = Text()
        if rnd.locked:
            lock.append("✗ Round lock: ", style="bold")
            lock.append(f"round {rnd.number} is LOCKED now", style="bold")
            lock.append(f" — rates can change again when round {rnd.number + 1} starts, in {rnd.blocks_left} blocks.\n")
        else:
            lock.append("✓ Round lock: ", style="bold")
            lock.append(f"round {rnd.number} is not locked; the lock starts at L1 block {rnd.lock_starts_at} "
                        f"({max(0, rnd.lock_starts_at - rnd.l1_block)} blocks from now).\n")
        lock.append(f"Rule: rates cannot change in the last {lock_pct:g}% of a round; transcoder() reverts "
                    f"“{LOCK_REVERT}”.", style="italic")
        self.query_one("#rule-lock", Static).update(lock)
        self.query_one("#rule-lock").set_class(rnd.locked, "-violated")
        reward = Text()
        blocked = d.active and not d.reward_called_this_round
        if not d.active:
            reward.append("✓ Reward first: ", style="bold")
            reward.append("not in the active set this round, so no reward call is needed first.\n")
        elif d.reward_called_this_round:
            reward.append("✓ Reward first: ", style="bold")
            reward.append(f"reward was called in round {rnd.number}.\n")
        else:
            reward.append("✗ Reward first: ", style="bold")
            reward.append(f"reward NOT called yet in round {rnd.number} (last: {d.last_reward_round}) — "
                          "call it on the Rewards screen (e) first.\n", style="bold")
        reward.append("Rule: an active orchestrator must call reward in the current round before changing its "
                      f"rates; transcoder() reverts “{REWARD_REVERT}”.", style="italic")
        self.query_one("#rule-reward", Static).update(reward)
        self.query_one("#rule-reward").set_class(blocked, "-violated")
        self.query_one("#rule-notes", Static).update(
            "New rates apply from the next round's earnings pool. The service URIs are not bound by either rule "
            "(ServiceRegistry.setServiceURI; the AI one is where gateways started with -aiServiceRegistry look). Empty fields are never sent: unlike livepeer_cli, nothing falls "
            "back to a default."
        )

    @staticmethod
    def _how_to_join(m: OrchestratorLoaded) -> Text:
        d, pool = m.detail, m.pool
        active = [o for o in pool.orchestrators if o.active]
        lowest = min((o.total_stake for o in active), default=0)
        out = Text()
        out.append("How to become an orchestrator\n\n", style="bold")
        steps = [
            f"Bond LPT to yourself — bond(amount, {short_address(d.address)}) on the Staking screen or "
            f"`lpc stake bond --to {d.address} --amount …`. The self-bond registers the address (a bond to "
            "someone else moves with it).",
            "In the same round and outside the lock window (the last 10% of the round), set the reward cut and "
            "fee share here: transcoder(rewardCut, feeShare). Until then both are 0%.",
            "Set the service URI gateways reach your node at (https://host:8935).",
            f"The active set is chosen for the next round: {len(active)} orchestrators are active now and the "
            f"lowest active stake is {format_lpt(lowest, 0)}; a new orchestrator enters when the set has room or "
            "its stake is strictly greater than the lowest, which it evicts. Only active orchestrators call reward "
            "and earn fees.",
            "Run go-livepeer with -orchestrator -reward so reward is called every round (or call it from the "
            "Rewards screen).",
        ]
        for i, s in enumerate(steps, 1):
            out.append(f" {i}. ", style="bold")
            out.append(s + "\n\n")
        out.append(f"This account ({d.address}) is not registered, so there is nothing to configure yet.",
                   style="italic")
        return out

    # -- the form ------------------------------------------------------------------------------
    def _read_form(self) -> tuple[dict, dict[str, str]]:
        """The changed fields (parsed) and a message per field that cannot be used."""
        values: dict = {}
        errors: dict[str, str] = {}
        for name in ("reward-cut", "fee-share"):
            raw = self.query_one(f"#{name}", Input).value.strip()
            if raw:
                try:
                    values[name] = parse_percent(raw, _field_label(name))
                except InputError as exc:
                    errors[name] = str(exc)
        for name in ("service-uri", "ai-service-uri"):
            raw = self.query_one(f"#{name}", Input).value.strip()
            if raw:
                try:
                    values[name] = parse_service_uri(raw)
                except InputError as exc:
                    errors[name] = ("AI " if name == "ai-service-uri" else "") + str(exc)
        return values, errors

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show_diff()

    def _show_diff(self) -> None:
        values, errors = self._read_form()
        for name in FIELDS:
            notice = self.query_one(f"#notice-{name}", Notice)
            if name in errors:
                notice.say(f"✗ {errors[name]}", "error")
            else:
                notice.say("")
        diff = self.query_one("#diff", Static)
        if self.data is None or not values:
            diff.update(Text("No change typed: every field is unchanged.", style="italic"))
            return
        d = self.data.detail
        lines = Text()
        lines.append("Will send only:\n", style="bold")
        if "reward-cut" in values and values["reward-cut"] != d.reward_cut:
            lines.append(f"  reward cut  {format_percent(d.reward_cut)} → {format_percent(values['reward-cut'])}\n")
        if "fee-share" in values and values["fee-share"] != d.fee_share:
            lines.append(f"  fee share   {format_percent(d.fee_share)} → {format_percent(values['fee-share'])}\n")
        if "service-uri" in values and values["service-uri"] != d.service_uri:
            lines.append(f"  service URI {d.service_uri or '(none)'} → {values['service-uri']}\n")
        if "ai-service-uri" in values and values["ai-service-uri"] != self.data.ai_service_uri:
            lines.append(f"  AI service URI {self.data.ai_service_uri or '(none)'} → {values['ai-service-uri']}\n")
        if len(lines.plain.splitlines()) == 1:
            lines = Text("The values typed are already on chain: nothing would be sent.", style="italic")
        diff.update(lines)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "review":
            self.action_review()
        elif event.button.id == "clear":
            self.action_clear()

    def action_clear(self) -> None:
        """Escape in a field leaves it (screen keys work again); Escape outside the fields clears them."""
        if self.leave_field():
            return
        for name in FIELDS:
            self.query_one(f"#{name}", Input).value = ""
        self.query_one("#config-message", Notice).say("")

    def action_review(self) -> None:
        from chain.services import orchestrator

        notice = self.query_one("#config-message", Notice)
        account = self.app.services.account
        if self.data is None or not account:
            notice.say("✗ nothing loaded yet", "error")
            return
        if not self.data.detail.registered:
            notice.say("✗ this account is not a registered orchestrator", "error")
            return
        values, errors = self._read_form()
        if errors:
            notice.say("✗ nothing sent: " + "; ".join(errors.values()), "error")
            return
        if not values:
            notice.say("✗ nothing to send: type a new value in at least one field (empty = unchanged)", "error")
            return
        kwargs = {"reward_cut": values.get("reward-cut"), "fee_share": values.get("fee-share"),
                  "service_uri": values.get("service-uri"), "ai_service_uri": values.get("ai-service-uri")}
        notice.say("checking the rules and preparing the transaction…")
        self.app.propose(lambda c: orchestrator.configure(c, account, **kwargs), self._after)

    def _after(self, outcome) -> None:
        notice = self.query_one("#config-message", Notice)
        if outcome.error:
            notice.say(f"✗ {outcome.error}", "error")
        elif outcome.sent:
            notice.say("✓ configuration changed on chain", "ok")
            self.action_clear()
            notice.say("✓ configuration changed on chain", "ok")
        else:
            notice.say("cancelled: nothing was signed")
        self.reload()

    def show_refusal(self, reason: str, fix: str) -> None:
        """A refusal before signing (the app calls this): the reason, the fix and the rule it broke."""
        rule = ""
        if "lock period" in reason:
            rule = f" Rule: transcoder() reverts “{LOCK_REVERT}”."
        elif "call reward" in reason:
            rule = f" Rule: transcoder() reverts “{REWARD_REVERT}”."
        self.query_one("#config-message", Notice).say(
            f"✗ nothing sent: {reason}" + (f" — {fix}." if fix else ".") + rule, "error")
        self.reload()
