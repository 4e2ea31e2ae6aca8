"""The Textual application: header, screens, the command palette and the chain poll loop."""

from __future__ import annotations

from textual import work
from textual.app import App
from textual.binding import Binding

from chain.reads import load_orchestrator_pool, load_round_info
from console.messages import ChainUnavailable, PoolLoaded, RoundLoaded
from console.screens.network.network import NetworkScreen
from console.services import ConsoleServices
from console.widgets.status_header import StatusHeader
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES


class LivepeerConsole(App):
    TITLE = "Livepeer Console"
    BINDINGS = [
        Binding("n", "show_network", "Network", id="app.network"),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, services: ConsoleServices, *, poll: bool = True) -> None:
        super().__init__()
        self.services = services
        self.poll_enabled = poll
        self._poll_timer = None
        self.last_round = None
        self.last_pool = None
        for theme in THEMES:
            self.register_theme(theme)
        wanted = services.settings.console.theme
        self.theme = wanted if wanted in {t.name for t in THEMES} else DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_mount(self) -> None:
        self.push_screen(NetworkScreen())
        self.refresh_chain()

    # -- polling: one poll at a time, the next armed when the last finished ----------------------
    def action_refresh(self) -> None:
        self.refresh_chain()

    @work(thread=True, exclusive=True, group="chain-poll")
    def refresh_chain(self) -> None:
        try:
            client = self.services.client
            info = load_round_info(client)
            self.post_message(RoundLoaded(info))
            pool = load_orchestrator_pool(client)
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
        for header in self.screen.query(StatusHeader):
            header.round_info = message.info
            header.stale_reason = None
        self.last_round = message.info

    def on_pool_loaded(self, message: PoolLoaded) -> None:
        self.last_pool = message.pool
        if isinstance(self.screen, NetworkScreen):
            self.screen.show_pool(message.pool)

    def on_chain_unavailable(self, message: ChainUnavailable) -> None:
        for header in self.screen.query(StatusHeader):
            header.stale_reason = message.reason

    def action_show_network(self) -> None:
        if not isinstance(self.screen, NetworkScreen):
            self.push_screen(NetworkScreen())


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
