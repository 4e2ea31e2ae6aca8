"""The header on every screen: network (DEVNET clearly marked), current round and its progress, account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from chain.amounts import short_address

if TYPE_CHECKING:  # chain.reads loads with the first read, after the console's first frame
    from chain.reads import RoundInfo


class StatusHeader(Horizontal):
    DEFAULT_CSS = """
    StatusHeader { height: 1; dock: top; background: $panel; }
    StatusHeader > .badge { width: auto; padding: 0 1; text-style: bold; }
    StatusHeader > .badge.devnet { background: $devnet; color: $background; }
    StatusHeader > .badge.mainnet { background: $mainnet; color: $background; }
    StatusHeader > #title { width: auto; padding: 0 1; color: $primary; text-style: bold; }
    StatusHeader > #round { width: auto; padding: 0 1; }
    StatusHeader > ProgressBar { width: 28; }
    StatusHeader > ProgressBar > Bar { width: 20; }
    StatusHeader > #stale { width: auto; padding: 0 1; background: $error; color: $background; display: none; }
    StatusHeader.-stale > #stale { display: block; }
    StatusHeader > #spacer { width: 1fr; }
    StatusHeader > #account { width: auto; padding: 0 1; color: $muted-text; }
    """

    round_info: reactive[RoundInfo | None] = reactive(None)
    stale_reason: reactive[str | None] = reactive(None)

    def __init__(self, network_label: str, is_devnet: bool, account: str | None) -> None:
        super().__init__()
        self.network_label = network_label
        self.is_devnet = is_devnet
        self.account = account

    def compose(self) -> ComposeResult:
        yield Static(self.network_label, classes="badge " + ("devnet" if self.is_devnet else "mainnet"), id="network")
        yield Static("Livepeer Console", id="title")
        yield Static("round …", id="round")
        yield ProgressBar(total=1.0, show_eta=False, show_percentage=True, id="round-progress")
        yield Static("STALE", id="stale")
        yield Static("", id="spacer")
        yield Static(f"account {short_address(self.account, 'no account')}", id="account")

    def on_mount(self) -> None:
        # The round or a stale reason can be set before the parts above exist (the first chain read
        # may finish while the screen is still composing): show them now.
        self.watch_round_info(self.round_info)
        self.watch_stale_reason(self.stale_reason)

    def _composed(self) -> bool:
        return bool(self.query("#stale"))

    def watch_round_info(self, info: RoundInfo | None) -> None:
        if info is None or not self._composed():
            return
        state = "initialized" if info.initialized else "NOT initialized"
        lock = " · locked" if info.locked else ""
        self.query_one("#round", Static).update(
            f"round {info.number} · {state}{lock} · {info.blocks_left} blocks left"
        )
        self.query_one(ProgressBar).update(total=1.0, progress=info.progress)

    def watch_stale_reason(self, reason: str | None) -> None:
        self.set_class(reason is not None, "-stale")
        if not self._composed():
            return
        stale = self.query_one("#stale", Static)
        stale.update("STALE: chain unreachable" if reason else "")
        stale.tooltip = reason

    def set_account(self, account: str | None) -> None:
        """The console now acts as `account` (switched on the Wallet screen)."""
        self.account = account
        self.query_one("#account", Static).update(f"account {short_address(account, 'no account')}")
