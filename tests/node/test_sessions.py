"""Session capacity (OrchestratorCapped), the bounded per-session queue (OrchestratorBusy), idle end."""

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from core.media.profiles import COMMON_LADDER
from tests.node.gateway import headers_for, post_segment, seg_data, transcode

LADDER = COMMON_LADDER[:1]


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sessions_beyond_capacity_are_refused_until_one_ends(node_factory, clips):
    node, gw = node_factory(max_sessions=1)
    a, b = gw.get_orchestrator(), gw.get_orchestrator()
    assert transcode(a, clips["180p"], LADDER).WhichOneof("result") == "data"
    with pytest.raises(grpc.RpcError) as err:
        gw.get_orchestrator(ignore_capacity=False)
    assert err.value.details() == "OrchestratorCapped"
    r = post_segment(b, clips["180p"], headers_for(seg_data(b, clips["180p"], LADDER)))
    assert (r.status_code, r.text.strip()) == (403, "OrchestratorCapped")
    # the live session itself keeps working
    assert transcode(a, clips["180p"], LADDER, seq=1).WhichOneof("result") == "data"
    gw.end_session(a.auth_token)
    assert node.status().sessions_used == 0
    assert transcode(b, clips["180p"], LADDER).WhichOneof("result") == "data"
    node.stop()


def test_idle_session_ends_and_frees_its_slot(node_factory, clips):
    node, gw = node_factory(max_sessions=1, idle_timeout_s=0.3)
    a, b = gw.get_orchestrator(), gw.get_orchestrator()
    transcode(a, clips["180p"], LADDER)
    assert _wait_for(lambda: node.status().sessions_used == 0)
    assert transcode(b, clips["180p"], LADDER).WhichOneof("result") == "data"
    node.stop()


def test_a_full_session_queue_answers_orchestrator_busy(node_factory, clips):
    node, gw = node_factory(max_sessions=1, session_queue=1)
    info = gw.get_orchestrator()

    def send(seq):
        return transcode(info, clips["720p"], COMMON_LADDER, seq=seq)

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(send, range(5)))
    errors = [r.error for r in results if r.WhichOneof("result") == "error"]
    done = [r for r in results if r.WhichOneof("result") == "data"]
    assert "OrchestratorBusy" in errors and done
    assert set(errors) == {"OrchestratorBusy"}
    node.stop()


def _post_from(source_ip: str, info, data: bytes, **kw):
    """A /segment POST from another loopback address: another gateway as far as the node can tell."""
    import httpx

    transport = httpx.HTTPTransport(verify=False, local_address=source_ip)
    with httpx.Client(transport=transport, timeout=30) as c:
        return c.post(info.transcoder + "/segment", content=data, headers=headers_for(seg_data(info, data, LADDER, **kw)))


def test_one_offchain_gateway_cannot_take_every_slot(node_factory, clips):
    """Offchain a gateway (an IP) may hold node.gateway_session_share of the slots: with 4 slots and the
    default share of 0.5, a third session of one client is refused with words while another gateway is
    served, and the node's status names who holds what and who was refused."""
    node, gw = node_factory(max_sessions=4, gateway_session_share=0.5)
    data = clips["180p"]
    mine = [gw.get_orchestrator() for _ in range(3)]
    for i, info in enumerate(mine[:2]):
        assert transcode(info, data, LADDER, manifest=f"hog-{i}".encode()).WhichOneof("result") == "data"
    r = post_segment(mine[2], data, headers_for(seg_data(mine[2], data, LADDER)))
    assert r.status_code == 403
    assert r.text.startswith("OrchestratorCapped: gateway 127.0.0.1 holds 2 of this node's 4 sessions")
    assert "node.gateway_session_share" in r.text
    with pytest.raises(grpc.RpcError) as err:  # discovery says the same to this gateway
        gw.get_orchestrator(ignore_capacity=False)
    assert err.value.details().startswith("OrchestratorCapped: gateway 127.0.0.1")
    # its live sessions keep working, and another gateway gets a slot
    assert transcode(mine[0], data, LADDER, seq=1, manifest=b"hog-0").WhichOneof("result") == "data"
    other = _post_from("127.0.0.2", gw.get_orchestrator(), data, manifest=b"other")
    assert other.status_code == 200, other.text
    status = node.status()
    assert status.max_sessions_per_gateway == 2 and status.sessions_used == 3
    shares = {g.gateway: g for g in status.gateways}
    assert shares["127.0.0.1"].sessions == 2 and shares["127.0.0.1"].refused == 1
    assert shares["127.0.0.1"].refused_because == "share" and shares["127.0.0.1"].refused_ago_s is not None
    assert shares["127.0.0.2"].sessions == 1 and shares["127.0.0.2"].refused == 0
    node.stop()


def test_idle_timeout_and_gateway_share_are_settings(tmp_path, monkeypatch):
    from core.node.config import node_config
    from core.settings import SettingsError, load_settings

    monkeypatch.setenv("LPC_NODE__IDLE_TIMEOUT_S", "12.5")
    (tmp_path / "settings.toml").write_text("[node]\ngateway_session_share = 0.25\n")
    cfg = node_config(load_settings(data_dir=tmp_path))
    assert (cfg.idle_timeout_s, cfg.gateway_session_share) == (12.5, 0.25)
    from click.testing import CliRunner

    from console.cli import cli  # the `lpc node` flags beat both
    from console.commands.node import _node_overrides

    flags = _node_overrides(None, None, None, None, None, None, None, None, None, idle_timeout_s=3.0,
                            gateway_session_share=1.0)
    assert node_config(load_settings(data_dir=tmp_path), flags).idle_timeout_s == 3.0
    out = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "node", "--orchestrator", "--transcoder",
                                    "--gateway-session-share", "0"])
    assert out.exit_code == 2 and "--gateway-session-share" in out.output
    monkeypatch.setenv("LPC_NODE__GATEWAY_SESSION_SHARE", "1.5")
    with pytest.raises(SettingsError, match="node.gateway_session_share: Input should be less than or equal to 1"):
        load_settings(data_dir=tmp_path)
