"""`x` on the node screens (Dashboard, Tickets): start or stop the in-process node from a worker, and say
what happened — including why an on-chain node cannot start (no key, not an orchestrator)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.binding import Binding
from textual.message import Message


@dataclass
class NodeToggled(Message):
    """The node was started or stopped (error: why it did not start)."""

    running: bool
    error: str | None = None


class NodeToggle:
    NODE_BINDING = Binding("x", "toggle_node", "Start/stop node", id="node.toggle")

    def action_toggle_node(self) -> None:
        self._toggle_node()

    @work(thread=True, exclusive=True, group="node-toggle")
    def _toggle_node(self) -> None:
        app = self.app
        services = app.services
        try:
            if services.node is not None and services.node.status().running:
                services.stop_node()
                app.call_from_thread(app.log_event, "info", "node stopped")
                self.post_message(NodeToggled(False))
            else:
                status = services.start_node()
                mode = "offchain" if status.offchain else "on-chain"
                app.call_from_thread(app.log_event, "success",
                                     f"{mode} node listening on {status.listening} ({status.encoder})")
                self.post_message(NodeToggled(True))
        except Exception as exc:  # noqa: BLE001 - no key, not registered, port in use: say so, keep running
            services.node = None
            services.node_parts = None
            app.call_from_thread(app.log_event, "error", f"node did not start: {exc}")
            self.post_message(NodeToggled(False, str(exc)))
