"""The Sessions screen runs the node in the console process: start it, see a gateway's session with
its counters and a preview of the source frame, stop it; a busy port is an error, not a crash."""

from __future__ import annotations

import socket

from textual.widgets import DataTable, Static

from console.app import LivepeerConsole
from console.screens.sessions.sessions import SessionsScreen
from console.widgets.frame_preview import FramePreview
from core.media.profiles import lpms_preset
from core.media.synthetic import make_segment
from core.composition import AssembledNode
from core.node import Node, NodeConfig
from tests.node.gateway import Gateway, transcode
from tests.console.pilot import SIZE, plain_text, settle



def _node_factory(tmp_path, service_port: int = 0, **config):
    def make():
        fields = dict(data_dir=tmp_path / "node", service_addr=f"127.0.0.1:{service_port}",
                      http_addr=f"127.0.0.1:{service_port}", cli_addr=None, max_sessions=2,
                      encoder="x264", x264_preset="ultrafast")
        return AssembledNode(Node(NodeConfig(**{**fields, **config})))
    return make


async def test_node_started_in_the_console_serves_a_gateway_and_shows_the_session(console_services, tmp_path):
    console_services.node_factory = _node_factory(tmp_path)
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen) and screen.has_class("-stopped")
        await pilot.press("x")
        await settle(pilot)
        status = console_services.node.status()
        assert status.running and status.encoder.startswith("libx264")
        port = int(status.listening.rsplit(":", 1)[1])
        gw = Gateway("127.0.0.1", port)
        try:
            info = gw.get_orchestrator()
            clip = make_segment(320, 180, 1.0)
            result = transcode(info, clip, [lpms_preset("P144p30fps16x9")], manifest=b"console-test")
            assert len(result.data.segments) == 1
        finally:
            gw.close()
        screen._poll()
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert row[1] == "console-test" and str(row[3]) == "1"
        preview = screen.query_one("#preview", Static)
        assert isinstance(preview.content, FramePreview)
        assert console_services.node.status().segments_done == 1
        await pilot.press("x")
        await settle(pilot)
        assert console_services.node is None
        assert any("node stopped" in e.text for e in app.console_log.entries)


async def test_a_busy_port_is_reported_and_the_console_keeps_running(console_services, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        console_services.node_factory = _node_factory(tmp_path, s.getsockname()[1])
        app = LivepeerConsole(console_services, poll=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("j")
            await settle(pilot)
            await pilot.press("x")
            await settle(pilot)
            errors = [e.text for e in app.console_log.entries if e.severity == "error"]
            assert errors and "node did not start" in errors[0]
            assert console_services.node is None
            assert isinstance(app.screen, SessionsScreen)


def test_sessions_screen_snapshot_node_stopped(console_services, snap_compare, tmp_path):
    console_services.node_factory = _node_factory(tmp_path)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


async def test_a_node_started_from_a_screen_left_meanwhile_is_still_the_consoles(console_services, tmp_path):
    """The worker only reports NodeStarted/NodeStopped; the app adopts and releases the node on the UI
    thread, so leaving Sessions while the node comes up neither loses nor leaks it."""
    from console.screens.dashboard.dashboard import DashboardScreen
    from console.screens.dashboard.node_toggle import NodeStarted, NodeStopped

    seen: list[str] = []
    console_services.node_factory = _node_factory(tmp_path)
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE, message_hook=lambda m: seen.append(type(m).__name__)) as pilot:
        await settle(pilot)
        app.action_show("sessions")
        await settle(pilot)
        await pilot.press("x")
        app.action_show("dashboard")  # before the node listens
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert console_services.node is not None and console_services.node.status().running
        assert seen.count(NodeStarted.__name__) == 1
        await pilot.press("x")  # the Dashboard stops the node the Sessions screen started
        await settle(pilot)
        assert console_services.node is None
        assert seen.count(NodeStopped.__name__) == 1
        said = [e.text for e in app.console_log.entries]
        assert any(t.startswith("offchain node listening on 127.0.0.1:") for t in said) and "node stopped" in said


async def test_a_gateway_locked_out_of_its_share_is_shown(console_services, tmp_path):
    """Offchain with 4 slots, one gateway may hold 2 (node.gateway_session_share 0.5): its third session
    is refused, and Sessions says which gateway holds how many slots and that it was refused."""
    from tests.node.gateway import headers_for, post_segment, seg_data

    console_services.node_factory = _node_factory(tmp_path, max_sessions=4, gateway_session_share=0.5)
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-no-gateways")
        await pilot.press("x")
        await settle(pilot)
        port = int(console_services.node.status().listening.rsplit(":", 1)[1])
        gw = Gateway("127.0.0.1", port)
        clip = make_segment(320, 180, 1.0)
        ladder = [lpms_preset("P144p30fps16x9")]
        try:
            for i in range(2):
                transcode(gw.get_orchestrator(), clip, ladder, manifest=f"hog-{i}".encode())
            third = gw.get_orchestrator()
            refused = post_segment(third, clip, headers_for(seg_data(third, clip, ladder)))
        finally:
            gw.close()
        assert refused.status_code == 403 and refused.text.startswith("OrchestratorCapped: gateway 127.0.0.1")
        screen._poll()
        await pilot.pause()
        assert not screen.has_class("-no-gateways")
        shown = plain_text(screen.query_one("#gateways", Static))
        assert "one gateway may hold at most 2 of 4 slots" in shown
        line = next(ln for ln in shown.splitlines() if "127.0.0.1" in ln)
        assert "2/4" in line and "1 new session refused" in line and "held its share" in line
        await pilot.press("x")
        await settle(pilot)
