"""Streams: the console's in-process gateway and its live streams (issue #11, "Output and watching").

A table of the live streams (of the in-process gateway; while none runs, of a headless
`lpc node --gateway` whose management API answers /status at [gateway].cli_addr) (manifest, origin, source size, segments in/done/failed, orchestrator in use,
swaps, price paid); for the selected one a per-segment latency chart, its failures in words, its pool
(orchestrators, state, latency, price), the deposit and reserve when the gateway pays on chain, and a
picture of the latest source and rendition segment (one frame each, decoded in a worker).

`G` starts or stops the gateway (services.launch_gateway in a worker; adopted/released on the UI thread),
`T` runs the operator self-test (core.gateway.selftest) against this console's node, or against the
address typed in the field; each check appears as it finishes. The rules of habit 1–3: the screen reads
in-memory snapshots on the UI thread (streams_view(), as Sessions reads node.status()), everything
blocking (start, stop, self-test, decoding, the chain) runs in workers that post typed messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, ProgressBar, Static
from textual_plotext import PlotextPlot

from chain.amounts import clip
from console.screens.base import ConsoleScreen
from console.widgets.charts import draw_bars

COLUMNS = (
    ("manifest", "Manifest", 14), ("origin", "Origin", 6), ("source", "Source", 9), ("in", "In", 4),
    ("done", "Done", 4), ("failed", "Fail", 4), ("orch", "Orchestrator", 18), ("swaps", "Swaps", 5),
    ("paid", "Paid (wei)", 12),
)
FUNDS_EVERY = 5  # polls between two reads of the on-chain deposit and reserve
HEADLESS_EVERY = 3  # polls between two reads of a headless gateway's /status while none runs here


# -- messages (workers → screen) ------------------------------------------------------------------
@dataclass
class GatewayStarted(Message):
    """A gateway was started and adopted as the console's; what it listens on."""

    http: str
    rtmp: str | None


@dataclass
class GatewayStopped(Message):
    """The console's gateway stopped."""


@dataclass
class GatewayFailed(Message):
    """The gateway did not start (or stop): why, in words."""

    reason: str


@dataclass
class SelftestStep(Message):
    """A self-test check finished (`check`), or work between checks is under way (`progress`)."""

    check: object | None = None  # core.gateway.selftest.Check
    progress: object | None = None  # core.gateway.selftest.Progress


@dataclass
class SelftestDone(Message):
    target: str
    ok: bool
    error: str = ""  # the self-test itself could not run


@dataclass
class PreviewsDecoded(Message):
    """One frame of the latest source and rendition segment of a stream (RGB arrays or None)."""

    manifest_id: str
    seq: int
    source: object | None
    rendition: str
    picture: object | None


@dataclass
class HeadlessRead(Message):
    """What a headless gateway's /status answered: its streams, or why nothing did."""

    addr: str | None
    views: tuple
    error: str = ""


@dataclass
class FundsRead(Message):
    deposit: int | None
    reserve: int | None
    error: str = ""


def _frame(data: bytes | None):
    """The first decodable frame of an MPEG-TS segment as an RGB array (None when there is none)."""
    if not data:
        return None
    import io

    import av

    try:
        with av.open(io.BytesIO(data), format="mpegts") as c:
            for frame in c.decode(video=0):
                return frame.to_ndarray(format="rgb24")
    except Exception:  # noqa: BLE001 - a broken segment shows "no frame"
        return None
    return None


class StreamsScreen(ConsoleScreen):
    CSS_PATH = "streams.tcss"
    BINDINGS = [
        Binding("G", "toggle_gateway", "Start/stop gateway", id="streams.toggle_gateway"),
        Binding("T", "selftest", "Self-test", id="streams.selftest"),
        Binding("r", "refresh", "Refresh", id="streams.refresh"),
    ]
    POLL_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__(id="streams")
        self._views: tuple = ()
        self._preview_key: tuple[str, int] | None = None
        self._funds: FundsRead | None = None
        self._funds_first: FundsRead | None = None  # the first read after the gateway started: what drained since
        self._polls = 0
        self._headless: HeadlessRead | None = None  # the last /status read of a headless gateway
        self._start_error: str | None = None  # why the last G did not start a gateway (until the next G)
        self.checks: list = []  # the self-test's checks so far (core.gateway.selftest.Check)
        self.selftest_state = "idle"  # idle | running | passed | failed

    def compose_body(self) -> ComposeResult:
        yield Static("", id="gateway-status")
        with Horizontal(id="body"):
            with Vertical(id="streams-col"):
                yield DataTable(id="stream-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="empty")
                yield PlotextPlot(id="latency-chart")
                with Horizontal(id="details"):
                    yield Static("", id="failures")
                    yield Static("", id="pool")
            with Vertical(id="side-col"):
                with Horizontal(id="previews"):
                    with Vertical(classes="preview-box"):
                        yield Static("source", classes="preview-title", id="source-title")
                        yield Static("", id="source-preview")
                    with Vertical(classes="preview-box"):
                        yield Static("rendition", classes="preview-title", id="rendition-title")
                        yield Static("", id="rendition-preview")
                with VerticalScroll(id="selftest-box"):
                    yield Static("Self-test (T): gateways can use it?", id="selftest-title")
                    yield Input(placeholder="host:port (empty: this console's node)", id="selftest-addr")
                    yield ProgressBar(total=1, show_eta=False, id="selftest-progress")
                    yield Static("", id="selftest-checks")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self._render_checks()
        self._poll()
        self.set_interval(self.POLL_SECONDS, self._poll)

    # -- reading the gateway (in-memory snapshots) ------------------------------------------------
    def _poll(self) -> None:
        gateway = self.app.services.gateway
        self._polls += 1
        if gateway is not None and self._polls % FUNDS_EVERY == 0:
            self._read_funds()  # on chain the deposit drains as tickets are sent; a worker, never overlapping
        if gateway is None and self._polls % HEADLESS_EVERY == 1:
            self._read_headless()
        self._render_status(gateway.status() if gateway is not None else None)
        if gateway is not None:
            self._views = gateway.streams_view()
        else:
            self._views = self._headless.views if self._headless is not None else ()
        self._render_streams()

    def action_refresh(self) -> None:
        self._poll()
        if self.app.services.gateway is not None:
            self._read_funds()

    def _render_status(self, status) -> None:
        running = status is not None and status.running
        self.set_class(not running, "-stopped")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        headless = self._headless
        if not running and headless is not None and not headless.error:
            grid.add_row("gateway", Text(f"watching the headless gateway at {headless.addr} (management API "
                                         f"/status) · {len(headless.views)} streams", style="bold"))
            grid.add_row("", Text("press G to start one in this console instead"))
        elif not running:
            grid.add_row("gateway", Text("not running in this console", style="bold"))
            grid.add_row("", Text("press G to start the gateway of these settings ([gateway]: -orchAddr, ladder, "
                                  "ports); with no orchestrator configured it uses this console's node (x on Sessions)"))
            addr = self.app.services.headless_gateway_addr() or "its -cliAddr"
            grid.add_row("", Text(f"a headless `lpc node --gateway` is watched through its management API "
                                  f"(http://{addr}/status) when it answers"))
        else:
            grid.add_row("gateway", Text(f"running · {status.streams}/{status.max_sessions} streams · "
                                         f"ladder {status.transcoding_options}", style="bold"))
            ingest = [f"HLS + push http://{status.http}" if status.push else f"HLS http://{status.http}"]
            ingest.append(f"RTMP rtmp://{status.rtmp}" if status.rtmp else "RTMP off")
            ingest.append(f"management http://{status.cli}" if status.cli else "management off")
            grid.add_row("ports", " · ".join(ingest))
            grid.add_row("funds", self._funds_words())
        if self._start_error and not running:
            grid.add_row("error", Text(f"gateway did not start: {self._start_error}", style="bold"))
        self.query_one("#gateway-status", Static).update(grid)

    def _funds_words(self) -> str:
        funds = self._funds
        if funds is None:
            return "offchain: no deposit (r reads it on chain)"
        if funds.error:
            return f"deposit not read: {funds.error}"
        if funds.deposit is None:
            return "offchain: no deposit"
        paid = sum(r.paid_wei for v in self._views for r in v.recent)
        first = self._funds_first
        drained = (f" ({first.deposit - funds.deposit:,} wei redeemed from it since the gateway started)"
                   if first is not None and first.deposit is not None else "")
        return (f"deposit {funds.deposit:,} wei{drained} · reserve {funds.reserve:,} wei · tickets sent for the "
                f"segments shown: {paid:,} wei (expected value)")

    def _selected(self):
        table = self.query_one(DataTable)
        if not self._views or not table.row_count:
            return None
        return self._views[min(table.cursor_row, len(self._views) - 1)]

    def _render_streams(self) -> None:
        table = self.query_one(DataTable)
        selected = None
        if table.row_count and table.cursor_row < table.row_count:
            selected = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        table.clear()
        for v in self._views:
            size = f"{v.source_resolution[0]}x{v.source_resolution[1]}" if v.source_resolution else "—"
            pool = v.pool
            orch = pool.in_use if pool and pool.in_use else "—"
            paid = sum(r.paid_wei for r in v.recent)
            table.add_row(clip(v.manifest_id, 14), v.origin, size, Text(str(v.segments_in), justify="right"),
                          Text(str(v.segments_done), justify="right"), Text(str(v.segments_failed), justify="right"),
                          clip(orch.removeprefix("https://"), 18), Text(str(pool.swaps if pool else 0), justify="right"),
                          Text(f"{paid:,}", justify="right"), key=v.manifest_id)
        self.set_class(not self._views, "-no-streams")
        status = self.app.services.gateway.status() if self.app.services.gateway is not None else None
        if status is not None:
            empty = (f"No live streams. Push one: curl -X POST -H 'Content-Duration: 2000' --data-binary @seg.ts "
                     f"http://{status.http}/live/<name>/0.ts"
                     + (f", or publish RTMP to rtmp://{status.rtmp}/live/<name>" if status.rtmp else ""))
        elif self._headless is not None and not self._headless.error:
            empty = f"No live streams on the headless gateway at {self._headless.addr}."
        else:
            empty = ("No gateway running in this console: press G to start one. Its live streams show here: "
                     "segments, latency per segment, the orchestrators used, failures, payments and a picture "
                     "of the latest source and rendition.")
        self.query_one("#empty", Static).update(Text(empty))
        keys = [v.manifest_id for v in self._views]
        if selected in keys:
            table.move_cursor(row=keys.index(selected))
        self._render_selected()

    def _render_selected(self) -> None:
        view = self._selected()
        plot = self.query_one("#latency-chart", PlotextPlot)
        if view is None:
            draw_bars(plot, [], [], self.app.theme_variables.get("primary", "white"), "Segment latency (s)")
            self.query_one("#failures", Static).update("")
            self.query_one("#pool", Static).update("")
            return
        done = [r for r in view.recent if r.latency_s is not None]
        draw_bars(plot, [str(r.seq) for r in done], [r.latency_s for r in done],
                  self.app.theme_variables.get("primary", "white"),
                  f"Segment latency (s) · {clip(view.manifest_id, 24)} · {view.segments_done} done")
        failed = [r for r in view.recent if r.latency_s is None]
        lines = Text()
        lines.append("failures\n", style="bold")
        if not failed:
            lines.append("none", style="dim")
        for r in failed[-5:]:
            lines.append(f"segment {r.seq}: {r.error or 'failed'}"
                         f"{f' (after {r.attempts} attempts)' if r.attempts > 1 else ''}\n")
        self.query_one("#failures", Static).update(lines)
        pool = Table(box=None, padding=(0, 1), show_edge=False)
        for col in ("orchestrator", "state", "latency", "wei/pixel"):
            pool.add_column(col, no_wrap=True)
        for o in (view.pool.orchestrators if view.pool else ()):
            state = o.state + (f" ({o.note})" if o.note else "")
            pool.add_row(clip(o.uri.removeprefix("https://"), 22), clip(state, 28),
                         "—" if o.latency_s is None else f"{o.latency_s * 1000:.0f} ms", o.price_wei_per_pixel)
        self.query_one("#pool", Static).update(pool if view.pool and view.pool.orchestrators
                                               else Text("pool: not discovered yet", style="dim"))
        newest = next((r for r in reversed(view.recent) if r.latency_s is not None), None)
        if (newest is not None and self.app.services.gateway is not None
                and (view.manifest_id, newest.seq) != self._preview_key):
            self._preview_key = (view.manifest_id, newest.seq)
            self._decode_previews(view.manifest_id, newest.seq, view.profiles[-1] if view.profiles else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_selected()

    # -- previews: decoded in a worker ------------------------------------------------------------
    @work(thread=True, exclusive=True, group="stream-previews")
    def _decode_previews(self, manifest_id: str, seq: int, rendition: str) -> None:
        services = self.app.services
        source = _frame(services.gateway_segment(manifest_id, "source", seq))
        picture = _frame(services.gateway_segment(manifest_id, rendition, seq)) if rendition else None
        self.post_message(PreviewsDecoded(manifest_id, seq, source, rendition, picture))

    def on_previews_decoded(self, message: PreviewsDecoded) -> None:
        from console.widgets.frame_preview import FramePreview

        for which, frame, title in (("source", message.source, f"source · segment {message.seq}"),
                                    ("rendition", message.picture, message.rendition or "rendition")):
            self.query_one(f"#{which}-title", Static).update(title)
            self.query_one(f"#{which}-preview", Static).update(
                FramePreview(frame, width=22) if frame is not None else Text("no frame", style="dim"))

    # -- a headless gateway's /status: a worker ---------------------------------------------------
    @work(thread=True, exclusive=True, group="headless-status")
    def _read_headless(self) -> None:
        services = self.app.services
        try:
            views = services.headless_streams()
        except Exception as exc:  # noqa: BLE001 - nothing answers: the screen says how to start one
            self.post_message(HeadlessRead(services.headless_gateway_addr(), (), str(exc)))
            return
        self.post_message(HeadlessRead(services.headless_gateway_addr(), views))

    def on_headless_read(self, message: HeadlessRead) -> None:
        was = self._headless
        self._headless = message
        if self.app.services.gateway is None and (was is None or was != message):
            self._views = message.views
            self._render_status(None)
            self._render_streams()

    # -- funds (on chain): a worker ---------------------------------------------------------------
    @work(thread=True, exclusive=True, group="gateway-funds")
    def _read_funds(self) -> None:
        try:
            funds = self.app.services.gateway_funds()
        except Exception as exc:  # noqa: BLE001 - an RPC failure is shown, not raised
            self.post_message(FundsRead(None, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(FundsRead(getattr(funds, "deposit", None), getattr(funds, "reserve", None)))

    def on_funds_read(self, message: FundsRead) -> None:
        self._funds = message
        if self._funds_first is None and message.deposit is not None:
            self._funds_first = message
        self._poll()

    # -- the gateway: started and stopped in a worker, adopted on the UI thread -------------------
    def action_toggle_gateway(self) -> None:
        self._toggle_gateway()

    @work(thread=True, exclusive=True, group="gateway-toggle")
    def _toggle_gateway(self) -> None:
        app = self.app
        services = app.services
        gateway = services.gateway
        try:
            if gateway is not None and gateway.status().running:
                gateway.stop()
                app.call_from_thread(_released, app)
                self.post_message(GatewayStopped())
                return
            built, status = services.launch_gateway()
        except Exception as exc:  # noqa: BLE001 - a port in use, a bad ladder, no key: say so, keep running
            app.call_from_thread(app.log_event, "error", f"gateway did not start: {exc}")
            self.post_message(GatewayFailed(str(exc)))
            return
        app.call_from_thread(_adopted, app, built, status)
        self.post_message(GatewayStarted(status.http, status.rtmp))

    def on_gateway_started(self, message: GatewayStarted) -> None:
        self._funds = self._funds_first = None
        self._start_error = None
        self._poll()
        self._read_funds()

    def on_gateway_stopped(self, message: GatewayStopped) -> None:
        self._funds = self._funds_first = None
        self._poll()

    def on_gateway_failed(self, message: GatewayFailed) -> None:
        self._start_error = message.reason
        self._poll()

    # -- the self-test ----------------------------------------------------------------------------
    def action_selftest(self) -> None:
        if self.selftest_state == "running":
            return
        typed = self.query_one("#selftest-addr", Input).value.strip()
        target = typed or self.app.services.own_orchestrator()
        if not target:
            self.selftest_state = "failed"
            self.checks = []
            self._render_checks("no orchestrator to test: start this console's node (x on Sessions) or type an "
                                "address (host:port) in the field")
            return
        self.checks = []
        self.selftest_state = "running"
        self.query_one("#selftest-progress", ProgressBar).update(total=1, progress=0)
        self._render_checks(f"testing {target} …")
        self._run_selftest(target)

    @on(Input.Submitted, "#selftest-addr")
    def _address_typed(self, event: Input.Submitted) -> None:
        self.set_focus(None)
        self.action_selftest()

    @work(thread=True, exclusive=True, group="selftest")
    def _run_selftest(self, target: str) -> None:
        from core.gateway import selftest

        ok = True
        try:
            chain = self.app.services.selftest_chain()  # None offchain; on chain it pays from the account's deposit
            for check in selftest.run(target, onchain=chain,
                                      progress=lambda p: self.post_message(SelftestStep(progress=p))):
                ok = ok and check.ok
                self.post_message(SelftestStep(check=check))
        except Exception as exc:  # noqa: BLE001 - the self-test's own failure, in words
            self.post_message(SelftestDone(target, False, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SelftestDone(target, ok))

    def on_selftest_step(self, message: SelftestStep) -> None:
        bar = self.query_one("#selftest-progress", ProgressBar)
        if message.progress is not None:
            p = message.progress
            bar.update(total=p.total, progress=p.done)
            self._render_checks(p.text + " …")
        if message.check is not None:
            self.checks.append(message.check)
            self._render_checks("")

    def on_selftest_done(self, message: SelftestDone) -> None:
        from core.gateway.selftest import CHECKS

        passed = message.ok and not message.error and len(self.checks) == len(CHECKS)
        self.selftest_state = "passed" if passed else "failed"
        bar = self.query_one("#selftest-progress", ProgressBar)
        bar.update(total=1, progress=1)
        words = (f"every check passed: gateways can use {message.target}" if passed
                 else f"self-test could not run: {message.error}" if message.error else "a check failed")
        self._render_checks(words)
        self.app.log_event("success" if passed else "warning", f"self-test of {message.target}: {words}")

    def _render_checks(self, footer: str = "") -> None:
        text = Text()
        for c in self.checks:
            colour = self.app.theme_variables.get("success" if c.ok else "error", "")
            text.append("✓ " if c.ok else "✗ ", style=f"bold {colour}".strip())
            text.append(f"{c.title}\n", style="bold")
            text.append(f"  {c.detail}\n")
            if c.hint:
                text.append(f"  → {c.hint}\n", style="bold")
        if footer:
            text.append(footer, style="dim" if self.selftest_state == "running" else "bold")
        elif not self.checks:
            text.append("press T: a synthetic stream through an in-process gateway to this console's node "
                        "(or the address above); each check shows as it passes", style="dim")
        self.set_class(self.selftest_state == "running", "-testing")
        self.query_one("#selftest-checks", Static).update(text)


def _adopted(app, built, status) -> None:
    """UI thread: the started gateway becomes the console's (whichever screen is on view now)."""
    app.services.adopt_gateway(built)
    app.log_event("success", f"gateway serving HLS on {status.http}" + (f", RTMP on {status.rtmp}" if status.rtmp else ""))


def _released(app) -> None:
    app.services.release_gateway()
    app.log_event("info", "gateway stopped")
