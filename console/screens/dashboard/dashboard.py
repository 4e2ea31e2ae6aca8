"""Dashboard: one glance answers "is my node healthy and earning?" — the node (listening, sessions
used/max, segments per minute, real-time ratio), this round's reward (called? by the autopilot? LPT
minted), earnings this round and today, the GPUs (or the host when there is none) and the last alerts.

Node figures are the node's in-memory snapshot, read every second; chain, ledger and alerts are read by a
worker with the app's chain poll (and after x); GPU samples arrive from the monitor's thread."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from chain.amounts import clip, format_lpt
from console.screens.base import ConsoleScreen
from console.screens.chain_view import describe_failure
from console.screens.dashboard.health import DashboardData, load_dashboard
from console.screens.dashboard.node_toggle import NodeToggle
from console.screens.gpu.cards import DeviceCard, MetricCell, gib, num, pct
from console.screens.tickets.ledger_view import eth
from gpu import NA, GpuSnapshot

MAX_CARDS = 4


@dataclass
class DashboardLoaded(Message):
    data: DashboardData


@dataclass
class DashboardGpuSampled(Message, bubble=False):
    snapshot: GpuSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DashboardGpuSampled)


def _grid() -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold", no_wrap=True, min_width=9, max_width=9)
    t.add_column(overflow="fold", ratio=1)
    return t


class DashboardScreen(NodeToggle, ConsoleScreen):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [NodeToggle.NODE_BINDING,
                Binding("r", "reload", "Refresh", id="dashboard.refresh")]
    POLL_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__(id="dashboard")
        self.data: DashboardData | None = None
        self.status = None
        self._rate: list[tuple[float, int]] = []
        self._unsubscribe = None
        self._monitor = None
        self._cards = 0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="verdict")
        with Horizontal(id="top"):
            yield Static("", id="node-panel", classes="panel")
            yield Static("reading the round…", id="reward-panel", classes="panel")
            yield Static("", id="earnings-panel", classes="panel")
        with Horizontal(id="bottom"):
            with Vertical(id="hardware"):
                yield Static("GPU monitoring is not set up for this console", id="gpu-note")
                yield Vertical(id="devices")
                with Vertical(id="host-card", classes="card"):
                    yield MetricCell("CPU", id="host-cpu")
                    yield MetricCell("memory", id="host-memory")
            yield Static("", id="alerts", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#node-panel").border_title = "Node"
        self.query_one("#reward-panel").border_title = "Reward this round"
        self.query_one("#earnings-panel").border_title = "Earnings"
        self.query_one("#alerts").border_title = "Last alerts"
        self.query_one("#host-card").border_title = "Host (no GPU)"
        self.add_class("-no-monitor")
        self.render_node(self._node_status())
        self.set_interval(self.POLL_SECONDS, self._poll_node)
        monitor = self.app.services.gpu_monitor
        if monitor is not None:
            self._monitor = monitor
            self.remove_class("-no-monitor")
            self._unsubscribe = monitor.subscribe(lambda s: self.post_message(DashboardGpuSampled(s)))
            latest = monitor.latest()
            if latest is not None:
                self.post_message(DashboardGpuSampled(latest))
        self.reload()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- the node: an in-memory snapshot, cheap on the UI thread --------------------------------
    def _node_status(self):
        node = self.app.services.node
        return node.status() if node is not None else None

    def _poll_node(self) -> None:
        self.render_node(self._node_status())

    def _segments_per_minute(self, done: int) -> float:
        now = time.monotonic()
        self._rate.append((now, done))
        self._rate = [(t, n) for t, n in self._rate if now - t <= 60]
        t0, n0 = self._rate[0]
        return 0.0 if now - t0 < 1 else (done - n0) * 60 / (now - t0)

    def render_node(self, status) -> None:
        self.status = status
        running = status is not None and status.running
        self.set_class(not running, "-stopped")
        t = _grid()
        if status is None:
            mode = "offchain" if self.app.services.settings.node.offchain else "on-chain"
            t.add_row("node", Text("stopped", style="bold"))
            t.add_row("", f"x starts the {mode} node in this console")
        else:
            state = "running" if running else ("failed" if status.error else "stopped")
            t.add_row("node", Text(f"{state} · {'offchain' if status.offchain else 'on-chain'}", style="bold"))
            t.add_row("listening", status.listening or "—")
            t.add_row("sessions", f"{status.sessions_used} of {status.max_sessions or '—'} in use")
            ratios = [s.realtime_ratio for s in status.sessions if s.realtime_ratio is not None]
            rt = f"{sum(ratios) / len(ratios):.2f}" if ratios else "—"
            t.add_row("segments", f"{self._segments_per_minute(status.segments_done):.1f}/min · "
                                  f"{status.segments_done} done · {status.segments_failed} failed")
            t.add_row("real-time", f"{rt} (transcode ÷ source time; < 1 keeps up)")
            if status.error:
                t.add_row("error", Text(status.error, style="bold"))
        self.query_one("#node-panel", Static).update(t)
        self._verdict()

    # -- chain, ledger, alerts: a worker with the app's poll ----------------------------------------
    def action_reload(self) -> None:
        self.reload()
        self.app.refresh_chain()

    def chain_polled(self, info) -> None:
        self.reload()

    def node_changed(self, error: str | None = None) -> None:
        if error:
            self.query_one("#node-panel", Static).update(Text(f"node did not start: {error}", style="bold"))
        self.reload()

    @work(thread=True, exclusive=True, group="dashboard-load")
    def reload(self) -> None:
        services = self.app.services
        try:
            data = load_dashboard(services.client, services.account, services.node_parts)
        except Exception as exc:  # noqa: BLE001 - keep the last figures, say why they are stale
            data = DashboardData(None, None, None, (), describe_failure(exc))
        self.post_message(DashboardLoaded(data))

    def on_dashboard_loaded(self, message: DashboardLoaded) -> None:
        data = message.data
        if data.reason and self.data is not None:
            self.data = DashboardData(self.data.reward, self.data.this_round, self.data.today, self.data.alerts,
                                      data.reason)
        else:
            self.data = data
        self._render_reward()
        self._render_earnings()
        self._render_alerts()
        self._verdict()

    def _render_reward(self) -> None:
        data = self.data
        panel = self.query_one("#reward-panel", Static)
        r = data.reward if data else None
        if r is None:
            panel.update(Text(f"could not read the round: {data.reason}" if data and data.reason
                              else "no account selected", style="bold"))
            return
        t = _grid()
        t.add_row("round", f"{r.round} · " + ("initialized" if r.initialized else "NOT initialized")
                  + f" · {r.blocks_left} blocks left")
        if not r.registered:
            t.add_row("reward", "this account is not an orchestrator")
        elif r.called:
            who = "by the autopilot" if r.by_autopilot else "(not by the autopilot)"
            t.add_row("reward", Text(f"✓ called {who}", style="bold"))
            t.add_row("minted", f"{format_lpt(r.minted, 4)} to the pool · {format_lpt(r.treasury, 4)} treasury")
            t.add_row("kept", f"{format_lpt(r.commission, 4)} commission (reward cut)")
            if r.tx_hash:
                t.add_row("tx", clip(r.tx_hash, 42))
        elif not r.active:
            t.add_row("reward", "not in the active set this round: nothing to call")
        else:
            t.add_row("reward", Text("✗ not called yet this round", style="bold"))
        t.add_row("autopilot", r.autopilot)
        if r.autopilot_note and not r.called:
            t.add_row("why", r.autopilot_note)
        if data.reason:
            t.add_row("stale", Text(data.reason, style="bold"))
        panel.update(t)

    def _render_earnings(self) -> None:
        data = self.data
        panel = self.query_one("#earnings-panel", Static)
        if data is None or data.this_round is None:
            panel.update("Earnings come from the running on-chain node's ticket ledger and reward calls: "
                         "start it with x.")
            return
        t = _grid()
        for label, e in (("round", data.this_round), ("today UTC", data.today)):
            t.add_row(label, f"won {e.won} tickets · {eth(e.won_face)} ETH face")
            t.add_row("", f"redeemed {eth(e.redeemed)} ETH · kept {format_lpt(e.lpt_kept, 4)}")
        panel.update(t)

    def _render_alerts(self) -> None:
        data = self.data
        panel = self.query_one("#alerts", Static)
        if data is None or self.app.services.node_parts is None:
            panel.update(Text("The node's alerts (missed reward, ticket given up) appear here while it runs.",
                              style="italic"))
            return
        if not data.alerts:
            panel.update("✓ no alerts")
            return
        text = Text()
        for a in data.alerts:
            text.append(f"{a.severity:<7} ", style="bold")
            text.append(f"{a.source}: {a.message}\n")
        panel.update(text)

    def _verdict(self) -> None:
        status, data = self.status, self.data
        running = status is not None and status.running
        reward = data.reward if data else None
        alerts = data.alerts if data else ()
        if not running:
            text, kind = "● Node stopped — not serving, not earning. Press x to start it.", "-bad"
        elif status.offchain:
            text, kind = "● Node running offchain — transcoding for free, not earning.", "-warn"
        elif reward is not None and reward.registered and reward.active and not reward.called:
            text, kind = f"● Node running; reward for round {reward.round} not called yet.", "-warn"
        elif alerts:
            text, kind = f"● Node running and paid; {len(alerts)} alert(s) below need a look.", "-warn"
        else:
            text, kind = (f"● Healthy and earning: {status.sessions_used}/{status.max_sessions} sessions, "
                          "reward " + ("called" if reward and reward.called else "not due") + " this round."), "-good"
        verdict = self.query_one("#verdict", Static)
        for k in ("-bad", "-warn", "-good"):
            verdict.set_class(k == kind, k)
        verdict.update(text)

    # -- GPUs (or the host) -------------------------------------------------------------------
    @on(DashboardGpuSampled)
    async def show_gpu(self, message: DashboardGpuSampled) -> None:
        snap, monitor = message.snapshot, self._monitor
        self.set_class(not snap.devices, "-no-gpu")
        note = self.query_one("#gpu-note", Static)
        if not snap.devices:
            note.update(f"{snap.reason or 'no GPU found'} — host figures instead"
                        + (" · SIMULATED" if snap.simulated else ""))
            host, history = snap.host, monitor.host_history()
            self.query_one("#host-cpu", MetricCell).show(pct(host.cpu_pct, 1), [num(h.cpu_pct) for h in history])
            memory = "N/A" if host.memory_pct is NA else (
                f"{host.memory_pct:.0f} % {gib(host.memory_used_bytes)}/{gib(host.memory_total_bytes)} GiB")
            self.query_one("#host-memory", MetricCell).show(memory, [num(h.memory_pct) for h in history])
            return
        note.update(f"{len(snap.devices)} GPU(s)" + (" · SIMULATED — NVML test double" if snap.simulated else ""))
        count = min(len(snap.devices), MAX_CARDS)
        if count != self._cards:
            self._cards = count
            devices = self.query_one("#devices", Vertical)
            await devices.remove_children()
            await devices.mount_all(DeviceCard(i, compact=True) for i in range(count))
        for d in snap.devices[:count]:
            self.query_one(f"#gpu-{d.index}", DeviceCard).show(d, monitor.history(d.index), {})
