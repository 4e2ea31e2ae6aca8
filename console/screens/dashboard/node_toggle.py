"""`x` on the node screens (Dashboard, Tickets, Pricing, Sessions): start or stop the in-process node.

A worker builds and starts (or stops) the node — blocking work, off the UI thread — and reports what
happened as a message to the app: NodeStarted, NodeStopped or NodeFailed (with why: no key, not an
orchestrator, port in use). The app (NodeHost) changes `services.node` on the UI thread only, logs it,
and tells the screen on view through its `node_changed` hook, so a screen left meanwhile loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.message import Message

if TYPE_CHECKING:
    from core.composition import AssembledNode
    from core.node.status import NodeStatus


@dataclass
class NodeStarted(Message):
    """A node was built and listens; the app makes it the console's node."""

    built: AssembledNode
    status: NodeStatus


@dataclass
class NodeStopped(Message):
    """The console's node stopped serving; the app releases it."""


@dataclass
class NodeFailed(Message):
    """The node did not start (or stop): why, in words."""

    reason: str


class NodeToggle:
    """Screen mixin: the `x` binding and its worker. Screens react in `node_changed`."""

    NODE_BINDING = Binding("x", "toggle_node", "Start/stop node", id="node.toggle")

    def action_toggle_node(self) -> None:
        self._toggle_node()

    @work(thread=True, exclusive=True, group="node-toggle")
    def _toggle_node(self) -> None:
        app = self.app
        services = app.services
        node = services.node
        try:
            if node is not None and node.status().running:
                node.stop()
                app.post_message(NodeStopped())
                return
            built, status = services.launch_node()
        except Exception as exc:  # noqa: BLE001 - no key, not registered, port in use: say so, keep running
            app.post_message(NodeFailed(str(exc)))
            return
        app.post_message(NodeStarted(built, status))

    def node_changed(self, error: str | None = None) -> None:
        """The node started, stopped or failed to start (`error`): reread what depends on it."""


class NodeHost:
    """App mixin: applies the node messages to the services on the UI thread."""

    def on_node_started(self, message: NodeStarted) -> None:
        self.services.adopt_node(message.built)
        status = message.status
        mode = "offchain" if status.offchain else "on-chain"
        self.log_event("success", f"{mode} node listening on {status.listening} ({status.encoder})")
        self._tell_screen(None)

    def on_node_stopped(self, message: NodeStopped) -> None:
        self.services.release_node()
        self.log_event("info", "node stopped")
        self._tell_screen(None)

    def on_node_failed(self, message: NodeFailed) -> None:
        node = self.services.node
        if node is not None and not node.status().running:
            self.services.release_node()
        self.log_event("error", f"node did not start: {message.reason}")
        self._tell_screen(message.reason)

    def _tell_screen(self, error: str | None) -> None:
        hook = getattr(self.screen, "node_changed", None)
        if hook is not None:
            hook(error)
