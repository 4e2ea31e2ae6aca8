"""The Textual application: screens, the command palette, the log panel and the chain poll loop."""

from __future__ import annotations

import importlib
import inspect
import sys
import threading
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from console.messages import ChainUnavailable, PlanRefused, PoolLoaded, RoundLoaded
from console.screens.base import ConsoleScreen
from console.screens.dashboard.node_toggle import NodeHost
from console.services import ConsoleServices
from console.widgets.log_panel import ConsoleLog, LogPanel
from console.widgets.status_header import StatusHeader
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES

if TYPE_CHECKING:
    from chain.intents import TxPlan
    from chain.reads import PoolCache
    from chain.services.network import ActivityCache
    from console.modals.confirm_tx import PlanOutcome


@dataclass(frozen=True)
class ScreenEntry:
    """One screen of the console, named by import path ("module:Class"): a screen's module (and what it
    imports: SQL, charts, numpy …) loads when the screen is first shown, not when the console starts."""

    key: str
    name: str
    help: str
    path: str

    @property
    def factory(self) -> type[Screen]:
        module, _, name = self.path.partition(":")
        return getattr(importlib.import_module(module), name)

    def shows(self, screen: Screen) -> bool:
        """Whether `screen` is this entry's screen, without importing a screen that was never shown."""
        module, _, name = self.path.partition(":")
        loaded = sys.modules.get(module)
        return loaded is not None and hasattr(loaded, name) and isinstance(screen, getattr(loaded, name))


SCREENS = (
    ScreenEntry("dashboard", "Dashboard", "Is my node healthy and earning: node, reward, earnings, GPUs, alerts",
                "console.screens.dashboard.dashboard:DashboardScreen"),
    ScreenEntry("overview", "Overview", "Your account, the round, and what needs attention", "console.screens.overview.overview:OverviewScreen"),
    ScreenEntry("network", "Network", "Every orchestrator: stake, cuts, reward calls", "console.screens.network.network:NetworkScreen"),
    ScreenEntry("staking", "Staking", "Bond, unbond, rebond, withdraw stake and fees, transfer bond", "console.screens.staking.staking:StakingScreen"),
    ScreenEntry("wallet", "Wallet", "Keyring accounts: balances, switch, create, import, export", "console.screens.wallet.wallet:WalletScreen"),
    ScreenEntry("transactions", "Transactions", "Every transaction sent: status, decoded events", "console.screens.transactions.transactions:TransactionsScreen"),
    ScreenEntry("sessions", "Sessions", "The node: listening address, encoder, capacity, live sessions",
                "console.screens.sessions.sessions:SessionsScreen"),
    ScreenEntry("gpu", "GPU", "GPUs, encoder/decoder load, processes, alerts", "console.screens.gpu.gpu:GpuScreen"),
    ScreenEntry("tickets", "Tickets", "Tickets received, winning, pending, redeemed, given up — per gateway",
                "console.screens.tickets.tickets:TicketsScreen"),
    ScreenEntry("pricing", "Pricing", "Base and advertised price, overhead, network prices, gateway caps, edit",
                "console.screens.pricing.pricing:PricingScreen"),
    ScreenEntry("earnings", "Earnings", "Per round: reward kept and distributed, fees redeemed, gas, net",
                "console.screens.earnings.earnings:EarningsScreen"),
    ScreenEntry("rewards", "Rewards", "Earnings per round, reward calls made and missed, yield calculator",
                "console.screens.rewards.rewards:RewardsScreen"),
    ScreenEntry("orchestrator", "Orchestrator settings", "Reward cut, fee share, service URI; lock and reward rules",
                "console.screens.orchestrator.orchestrator:OrchestratorScreen"),
    ScreenEntry("governance", "Governance", "Treasury proposals and LIP polls: tallies, your vote, override",
                "console.screens.governance.governance:GovernanceScreen"),
    ScreenEntry("deposit", "Deposit", "Gateway side: TicketBroker deposit and reserve — fund, unlock, withdraw",
                "console.screens.deposit.deposit:DepositScreen"),
    ScreenEntry("streams", "Streams", "The console's gateway: live streams, latency, pool, previews, self-test",
                "console.screens.streams.streams:StreamsScreen"),
    ScreenEntry("ai", "AI", "The AI worker's models: state, device, memory, requests, latency, prices; try a pipeline",
                "console.screens.ai.ai:AIScreen"),
    ScreenEntry("settings", "Settings", "Network, RPC URL, theme, refresh cadence", "console.screens.settings.settings:SettingsScreen"),
)


class LivepeerConsole(NodeHost, App):
    TITLE = "Livepeer Console"
    SCREENS_REGISTRY = SCREENS
    BINDINGS = [
        Binding("h", "show('dashboard')", "Dash", id="app.dashboard", show=False),
        Binding("o", "show('overview')", "Overview", id="app.overview", show=False),
        Binding("n", "show('network')", "Network", id="app.network", show=False),
        Binding("s", "show('staking')", "Stake", id="app.staking", show=False),
        Binding("w", "show('wallet')", "Wallet", id="app.wallet", show=False),
        Binding("t", "show('transactions')", "Txs", id="app.transactions", show=False),
        Binding("j", "show('sessions')", "Node", id="app.sessions", show=False),
        Binding("g", "show('gpu')", "GPU", id="app.gpu", show=False),
        Binding("k", "show('tickets')", "Tickets", id="app.tickets", show=False),
        Binding("p", "show('pricing')", "Pricing", id="app.pricing", show=False),
        Binding("m", "show('earnings')", "Earn", id="app.earnings", show=False),
        Binding("e", "show('rewards')", "Rewards", id="app.rewards", show=False),
        Binding("c", "show('orchestrator')", "Orch", id="app.orchestrator", show=False),
        Binding("v", "show('governance')", "Gov", id="app.governance", show=False),
        Binding("y", "show('deposit')", "Deposit", id="app.deposit", show=False),
        Binding("comma", "show('settings')", "Settings", id="app.settings", show=False),
        Binding("i", "show('streams')", "Live", id="app.streams", show=False),
        Binding("A", "show('ai')", "AI", id="app.ai", show=False),
        Binding("l", "toggle_log", "Log", id="app.log"),
        Binding("question_mark", "toggle_keys", "Keys", id="app.keys", show=False),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, services: ConsoleServices, *, poll: bool = True) -> None:
        # an orchestrator opens on its node's Dashboard, everyone else on the Overview of the account
        self._home_screen = self._entry("dashboard" if services.opens_on_dashboard else "overview").factory
        # The first screen's stylesheet is read with the app's: Textual parses every source again (its
        # widgets' too) each time a pushed screen brings a new file, so this saves a full parse before the
        # first frame. The other screens' files load when they open.
        super().__init__(css_path=_css_paths(self._home_screen))
        self.services = services
        self.poll_enabled = poll
        self._poll_timer = None
        self._home: Screen | None = None  # the screen the console opened on
        self._connected = False  # "connected to …" logged once the first read made the client
        self.last_round = None
        self.last_pool = None
        self.console_log = ConsoleLog()
        self._pool_cache: PoolCache | None = None
        self._activity_cache: ActivityCache | None = None
        self._caches_lock = threading.Lock()
        self.log_visible = False
        self.refusal: str | None = None  # why the console ended at once (settings refused after the first frame)
        for theme in THEMES:
            self.register_theme(theme)
        wanted = services.theme_name
        self.theme = wanted if wanted in {t.name for t in THEMES} else DEFAULT_THEME

    @property
    def pool_cache(self) -> PoolCache:
        """The orchestrator pool the screens and the poll share, made at the first read (chain.reads is
        not needed for the first frame)."""
        with self._caches_lock:
            if self._pool_cache is None:
                from chain.reads import PoolCache

                self._pool_cache = PoolCache()
            return self._pool_cache

    @property
    def activity_cache(self) -> ActivityCache:
        """Reward-call / fee logs for the Network screen, made when that screen first reads (its module
        is not needed for the first frame)."""
        with self._caches_lock:
            if self._activity_cache is None:
                from chain.services.network import ActivityCache

                self._activity_cache = ActivityCache()
            return self._activity_cache

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_unmount(self) -> None:
        self.services.close()

    def on_mount(self) -> None:
        self._home = self._home_screen()
        self.push_screen(self._home)
        # the first chain read (it imports web3 and checks the chain id) waits for the first frame
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        from console import startup_gc

        startup_gc.release(freeze=True)  # held by lpc's entry point until now (console/startup_gc.py)
        if self.services.settings_loaded:
            self._start_reads()
        else:
            self._load_settings()

    @work(thread=True, exclusive=True, group="settings")
    def _load_settings(self) -> None:
        """The settings model, after the first frame (console/quick_settings.py): the reads start once it
        is loaded. A value it refuses (only when settings.toml changed since lpc checked it, a moment
        ago) ends the console, and lpc says what is wrong in one line."""
        try:
            self.services.settings
        except Exception as exc:  # noqa: BLE001 - click.ClickException from the launcher: its message
            message = getattr(exc, "message", None) or str(exc)
            self.call_from_thread(self._refuse, message)
            return
        self.call_from_thread(self._start_reads)

    def _refuse(self, reason: str) -> None:
        self.refusal = reason
        self.exit(return_code=1)

    def _start_reads(self) -> None:
        self.refresh_chain()
        if self.services.is_orchestrator is not None and not self.services.opens_on_dashboard:
            self._check_orchestrator()

    @work(thread=True, exclusive=True, group="home-screen")
    def _check_orchestrator(self) -> None:
        if self.services.is_orchestrator():
            self.call_from_thread(self._show_dashboard_if_untouched)

    def _show_dashboard_if_untouched(self) -> None:
        """An orchestrator's console shows its node's Dashboard, unless the user already went elsewhere."""
        if self.screen is self._home:
            self.action_show("dashboard")

    # -- screens and the command palette ----------------------------------------------------
    def action_show(self, key: str) -> None:
        entry = self._entry(key)
        if entry.shows(self.screen):
            return
        # Keep one instance of each screen on the stack: switch rather than pile up.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(entry.factory())
        else:
            self.push_screen(entry.factory())

    @staticmethod
    def _entry(key: str) -> ScreenEntry:
        return next(e for e in SCREENS if e.key == key)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from console.screen_actions import screen_action_commands

        current = next((e for e in SCREENS if e.shows(screen)), None)
        if current is not None:  # this screen's own keys first: every one of them is a palette entry
            yield from screen_action_commands(screen, current.name)
        for entry in SCREENS:
            yield SystemCommand(f"Go to {entry.name}", entry.help, lambda k=entry.key: self.action_show(k))
        yield SystemCommand("Refresh", "Read the chain again now", self.action_refresh)
        yield SystemCommand("Toggle log panel", "Show or hide what the console did", self.action_toggle_log)
        yield SystemCommand("Keys", "Show or hide every key of this screen and the app (?)", self.action_toggle_keys)
        for theme in THEMES:
            yield SystemCommand(f"Theme: {theme.name}", "Switch the colour theme",
                                lambda name=theme.name: setattr(self, "theme", name))
        yield SystemCommand("Quit", "Quit the console (the devnet keeps running)", self.exit)

    def action_toggle_keys(self) -> None:
        """? : Textual's key panel beside the screen (every key that works here), or away again."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    # -- log panel ------------------------------------------------------------------------
    def log_event(self, severity: str, text: str) -> None:
        entry = self.console_log.add(severity, text)
        if isinstance(self.screen, ConsoleScreen):
            for panel in self.screen.query(LogPanel):
                panel.show(entry)
        if severity in ("warning", "error"):
            self.notify(text, severity="error" if severity == "error" else "warning")

    def action_toggle_log(self) -> None:
        self.log_visible = not self.log_visible
        for panel in self.screen.query(LogPanel):
            panel.set_class(self.log_visible, "-visible")

    # -- on-chain actions: build the plan (preflight) off the UI thread, confirm, send -----------
    def propose(self, build: Callable[[object], TxPlan],
                on_done: Callable[[PlanOutcome], None] | None = None) -> None:
        """Every on-chain action goes through here: `build(client)` makes the plan (raising
        PreflightError with the reason and the fix), the modal shows what it will do and cost, and
        only the user's Send signs it."""
        self._build_plan(build, on_done)

    @work(thread=True, exclusive=True, group="tx-plan")
    def _build_plan(self, build, on_done) -> None:
        from chain.intents import PreflightError

        try:
            plan = build(self.services.client)
        except PreflightError as exc:
            self.post_message(PlanRefused(exc.reason, exc.fix))
            return
        except Exception as exc:  # noqa: BLE001 - RPC gone mid-preview: refuse with the cause
            self.post_message(PlanRefused(f"could not prepare the transaction: {_describe(exc)}", "try again"))
            return
        self.call_from_thread(self._confirm, plan, on_done)

    def _confirm(self, plan: TxPlan, on_done) -> None:
        from console.modals.confirm_tx import ConfirmTxModal, PlanOutcome

        def done(outcome: PlanOutcome | None) -> None:
            outcome = outcome or PlanOutcome(sent=False, results=[])
            if outcome.error:
                self.log_event("error", f"{plan.title}: {outcome.error}")
            elif outcome.sent:
                for r in outcome.results:
                    self.log_event("success", f"{r.intent.summary} — tx {r.tx_hash} in block {r.block_number}")
            else:
                self.log_event("info", f"{plan.title}: cancelled, nothing was signed")
            if outcome.sent:
                self.pool_cache.invalidate()
                self.refresh_chain()
            if on_done is not None:
                on_done(outcome)

        self.push_screen(ConfirmTxModal(plan), done)

    def on_plan_refused(self, message: PlanRefused) -> None:
        self.log_event("error", message.reason + (f" — {message.fix}" if message.fix else ""))
        if hasattr(self.screen, "show_refusal"):
            self.screen.show_refusal(message.reason, message.fix)

    # -- polling: one poll at a time, the next armed when the last finished ----------------
    def action_refresh(self) -> None:
        self.refresh_chain()

    @work(thread=True, exclusive=True, group="chain-poll")
    def refresh_chain(self) -> None:
        from chain.reads import load_orchestrator_pool, load_round_info

        try:
            client = self.services.client
            if not self._connected:
                self._connected = True
                self.call_from_thread(self.log_event, "info",
                                      f"connected to {self.services.profile.label} at {client.rpc_url}")
            info = load_round_info(client)
            self.post_message(RoundLoaded(info))
            pool = load_orchestrator_pool(client, cache=self.pool_cache)
            self.post_message(PoolLoaded(pool))
        except Exception as exc:  # noqa: BLE001 - any RPC failure becomes a stale banner
            self.post_message(ChainUnavailable(_describe(exc)))
        finally:
            if self.poll_enabled:
                self.call_from_thread(self._arm_next_poll)

    def _arm_next_poll(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
        self._poll_timer = self.set_timer(self.services.settings.console.refresh_seconds, self.refresh_chain)

    def on_round_loaded(self, message: RoundLoaded) -> None:
        was_stale = any(h.stale_reason for h in self.screen.query(StatusHeader))
        self.last_round = message.info
        for header in self.screen.query(StatusHeader):
            header.round_info = message.info
            header.stale_reason = None
        if was_stale:
            self.log_event("success", "chain reachable again")
        if hasattr(self.screen, "chain_polled"):
            self.screen.chain_polled(message.info)  # screens with their own reads refresh with the poll

    def on_pool_loaded(self, message: PoolLoaded) -> None:
        self.last_pool = message.pool
        if hasattr(self.screen, "show_pool"):
            self.screen.show_pool(message.pool)

    def on_chain_unavailable(self, message: ChainUnavailable) -> None:
        headers = list(self.screen.query(StatusHeader))
        if not any(h.stale_reason for h in headers):
            self.log_event("warning", f"chain unreachable, showing the last data: {message.reason}")
        for header in headers:
            header.stale_reason = message.reason


def _css_paths(screen: type[Screen]) -> list[Path]:
    """The stylesheet files of `screen`, as Textual resolves a screen's CSS_PATH (beside its module)."""
    paths = screen.CSS_PATH
    if paths is None:
        return []
    here = Path(inspect.getfile(screen)).parent
    return [(here / p).resolve() for p in ([paths] if isinstance(paths, (str, PurePath)) else paths)]


def _describe(exc: Exception) -> str:
    from console.screens.chain_view import describe_failure

    return describe_failure(exc)
