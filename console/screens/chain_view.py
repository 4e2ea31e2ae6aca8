"""What the chain-backed screens (Rewards, Orchestrator settings, Governance) share: a message for a
failed read that keeps the last data on screen, a stable description of the failure, and the line that
shows a refusal or a validation message."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.widgets import Static

from console.screens.base import ConsoleScreen


@dataclass
class ReadFailed(Message):
    """A screen's chain read failed: the screen keeps its last data and says it is stale."""

    reason: str


_OBJECT_AT = re.compile(r"<[^<>]* object at 0x[0-9a-fA-F]+>")


def describe_failure(exc: Exception) -> str:
    """One line about a failed chain read or send, in words a user can act on, without the parts that
    change from run to run (object ids). Used by the app's poll and by every chain-backed screen."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return "the RPC endpoint did not answer in time"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the RPC endpoint did not answer (connection refused or host unreachable)"
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"the RPC endpoint answered HTTP {exc.response.status_code}"
    text = str(exc).strip() or type(exc).__name__
    return _OBJECT_AT.sub("…", text.splitlines()[0])[:160]


class Notice(Static):
    """One line under a form: an error (why nothing was sent), a hint, or what just happened."""

    DEFAULT_CSS = """
    Notice { height: auto; padding: 0 1; color: $muted-text; }
    Notice.-error { color: $error; text-style: bold; }
    Notice.-ok { color: $success; }
    """

    def say(self, text: str, kind: str = "") -> None:
        for k in ("-error", "-ok"):
            self.set_class(kind == k.lstrip("-"), k)
        self.update(text)


class ChainReadScreen(ConsoleScreen):
    """A screen whose data is one read of the chain, done off the UI thread.

    Subclasses implement `read(client, account)`, which runs in a worker and returns the message to
    post (e.g. `OverviewLoaded`). `reload()` never runs two reads at once: a request during a read runs
    once after it. The app's poll (`chain_polled`) and `r` (`action_reload`) trigger it, and a failure
    posts `ReadFailed` so the screen keeps its last data and says why it is stale."""

    REQUIRES_ACCOUNT = True
    NO_ACCOUNT = "no account selected: pick or create one on the Wallet screen (w)"
    _reading = False
    _read_again = False

    def read(self, client, account: str | None) -> Message:
        raise NotImplementedError

    def reload(self) -> None:
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read_worker()

    @work(thread=True, group="chain-read")
    def _read_worker(self) -> None:
        svc = self.app.services
        try:
            if self.REQUIRES_ACCOUNT and not svc.account:
                message: Message = ReadFailed(self.NO_ACCOUNT)
            else:
                message = self.read(svc.client, svc.account)
        except Exception as exc:  # noqa: BLE001 - keep the last data, say why it is stale
            message = ReadFailed(describe_failure(exc))
        self.post_message(message)
        self.app.call_from_thread(self._read_done)

    def _read_done(self) -> None:
        self._reading = False
        if self._read_again:
            self._read_again = False
            self.reload()

    def chain_polled(self, _info) -> None:
        """The app's poll read the round (and runs after every send): read this screen's data again."""
        self.reload()

    def action_reload(self) -> None:
        self.reload()
        self.app.refresh_chain()
