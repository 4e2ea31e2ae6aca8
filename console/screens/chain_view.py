"""What the chain-backed screens (Rewards, Orchestrator settings, Governance) share: a message for a
failed read that keeps the last data on screen, a stable description of the failure, and the line that
shows a refusal or a validation message."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Static


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
