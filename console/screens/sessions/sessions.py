"""Sessions: the in-process node — listening address, encoder, capacity — and its live transcoding
sessions with a small preview of the latest source frame of the selected session, and which gateways
hold how many slots and which were refused one (a gateway over its share, or a full node)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, Static

from chain.amounts import clip
from console.screens.base import ConsoleScreen
from console.screens.dashboard.node_toggle import NodeToggle
from console.widgets.frame_preview import FramePreview

COLUMNS = (
    ("gateway", "Gateway", 16), ("manifest", "Manifest", 12), ("profiles", "Profiles", 16),
    ("segments", "Segs", 5), ("failed", "Fail", 4), ("pixels", "Pixels", 11), ("rt", "RT", 5),
    ("error", "Last error", 14),
)


class SessionsScreen(NodeToggle, ConsoleScreen):
    CSS_PATH = "sessions.tcss"
    BINDINGS = [Binding("x", "toggle_node", "Start/stop node", id="sessions.toggle_node")]
    POLL_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self._last_status = None
        self._rate: list[tuple[float, int]] = []  # (time, segments done) for segments per minute

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="node-row"):
            yield Static("", id="node-status")
            with Vertical(id="capacity"):
                yield Static("capacity", id="capacity-label")
                yield ProgressBar(total=1, show_eta=False, id="capacity-bar")
        with Horizontal(id="body"):
            with Vertical(id="sessions-col"):
                yield DataTable(id="session-table", cursor_type="row", zebra_stripes=True)
                yield Static("No sessions yet: gateways that use this node appear here.", id="empty")
                yield Static("", id="gateways")
            with Vertical(id="preview-box"):
                yield Static("latest source frame", id="preview-title")
                yield Static("", id="preview")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.render_status(self._node_status())
        self.set_interval(self.POLL_SECONDS, self._poll)

    def _node_status(self):
        node = self.app.services.node
        return node.status() if node is not None else None

    def _poll(self) -> None:
        # Node status is an in-memory snapshot (no I/O): cheap to read on the UI thread.
        self.render_status(self._node_status())

    def render_status(self, status) -> None:
        self._last_status = status
        running = status is not None and status.running
        self.set_class(not running, "-stopped")
        info = Table.grid(padding=(0, 2))
        info.add_column(style="bold", no_wrap=True)
        info.add_column()
        if status is None:
            info.add_row("node", Text("stopped", style="bold"))
            info.add_row("", "press x to start the orchestrator + transcoder in this console "
                             f"(offchain, service address {self.app.services.settings.node.service_addr})")
        else:
            state = "running" if running else ("failed" if status.error else "stopped")
            info.add_row("node", Text(f"{state} · {'offchain' if status.offchain else 'on-chain'}", style="bold"))
            info.add_row("service", f"{status.service_uri}  (listening on {status.listening or '—'})")
            info.add_row("metrics", f"http://{status.management}/metrics" if status.management else "off")
            info.add_row("encoder", f"{status.encoder}" + (f" — {status.encoder_reason}" if status.encoder_reason else ""))
            info.add_row("work", f"{status.segments_done} segments done · {status.segments_failed} failed · "
                                 f"{status.pixels:,} pixels · {self._segments_per_minute(status):.1f} segments/min")
            if status.error:
                info.add_row("error", Text(status.error, style="bold"))
        self.query_one("#node-status", Static).update(info)
        used = status.sessions_used if status else 0
        cap = status.max_sessions if status and status.max_sessions else 0
        self.query_one("#capacity-label", Static).update(f"sessions {used}/{cap or '—'}")
        self.query_one("#capacity-bar", ProgressBar).update(total=max(cap, 1), progress=used)
        self._render_sessions(status.sessions if status else ())
        self._render_gateways(status)

    def _render_gateways(self, status) -> None:
        """One line per gateway holding a slot or refused one: the lock-outs are the refused lines."""
        rows = status.gateways if status is not None else ()
        self.set_class(not rows, "-no-gateways")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column()
        grid.add_row(Text("gateway", style="bold"), Text("slots", style="bold"), Text("new sessions", style="bold"))
        for g in rows:
            if g.refused:
                why = "held its share" if g.refused_because == "share" else "node full"
                refused = Text(f"{g.refused} new session{'s' if g.refused != 1 else ''} refused, last "
                               f"{g.refused_ago_s:.0f} s ago ({why})", style="bold")
            else:
                refused = Text("none refused", style="dim")
            grid.add_row(clip(g.gateway, 44), f"{g.sessions}/{status.max_sessions}", refused)
        per = status.max_sessions_per_gateway if status is not None else 0
        if per and per < status.max_sessions:
            note = Text(f"one gateway may hold at most {per} of {status.max_sessions} slots "
                        "(node.gateway_session_share)", style="dim")
            grid = Group(grid, note)
        self.query_one("#gateways", Static).update(grid)

    def _segments_per_minute(self, status) -> float:
        import time

        now = time.monotonic()
        self._rate.append((now, status.segments_done))
        self._rate = [(t, n) for t, n in self._rate if now - t <= 60]
        t0, n0 = self._rate[0]
        return 0.0 if now - t0 < 1 else (status.segments_done - n0) * 60 / (now - t0)

    def _render_sessions(self, sessions) -> None:
        table = self.query_one(DataTable)
        selected = None
        if table.row_count and table.cursor_row < table.row_count:
            selected = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        table.clear()
        for s in sessions:
            rt = "—" if s.realtime_ratio is None else f"{s.realtime_ratio:.2f}"
            table.add_row(
                clip(s.gateway, 16), clip(s.manifest_id, 12), clip(", ".join(p.split(" ")[0] for p in s.profiles), 16),
                Text(str(s.segments_done), justify="right"), Text(str(s.segments_failed), justify="right"),
                Text(f"{s.pixels:,}", justify="right"), Text(rt, justify="right"), clip(s.last_error or "", 14),
                key=s.session_id,
            )
        self.set_class(not sessions, "-no-sessions")
        keys = [s.session_id for s in sessions]
        if selected in keys:
            table.move_cursor(row=keys.index(selected))
        self._render_preview(sessions, table)

    def _render_preview(self, sessions, table) -> None:
        preview = self.query_one("#preview", Static)
        if not sessions:
            preview.update("")
            return
        session = sessions[min(table.cursor_row, len(sessions) - 1)]
        if session.preview is None:
            preview.update(Text("no frame yet", style="dim"))
        else:
            self.query_one("#preview-title", Static).update(f"latest source frame · {clip(session.manifest_id, 30)}")
            preview.update(FramePreview(session.preview, width=40))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._last_status is not None:
            self._render_preview(self._last_status.sessions, self.query_one(DataTable))

    def node_changed(self, error: str | None = None) -> None:
        self._poll()
