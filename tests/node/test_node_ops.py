"""The operator-facing parts: Prometheus metrics under go-livepeer's names, the reused TLS certificate,
encoder choice, `lpc node` refusing on-chain mode, and the auth token rules."""

import httpx
import pytest
from click.testing import CliRunner

from console.commands.node import node as node_command
from console.context import CliContext
from core.media.encoders import probe_encoder
from core.media.profiles import COMMON_LADDER
from core.node.auth import AuthError, AuthTokens
from core.node.tls import ensure_certificate
from tests.node.gateway import transcode


def test_metrics_use_go_livepeer_names(node_and_gateway, clips):
    node, gw = node_and_gateway
    transcode(gw.get_orchestrator(), clips["180p"], COMMON_LADDER[:1])
    text = httpx.get(f"http://{node.status().management}/metrics").text
    for name in ("livepeer_max_sessions_total", "livepeer_current_sessions_total", "livepeer_segment_transcoded_total",
                 "livepeer_transcode_time_seconds_bucket", "livepeer_mil_pixels_processed", "livepeer_success_rate",
                 'lpc_transcode_encoder{encoder="libx264"'):
        assert name in text
    assert 'livepeer_max_sessions_total{node_id=' in text and "_created" not in text


def test_status_endpoint_is_json(node_and_gateway):
    node, _ = node_and_gateway
    body = httpx.get(f"http://{node.status().management}/status").json()
    assert body["running"] and body["encoder"].startswith("libx264")


def test_certificate_is_made_once_and_reused(tmp_path):
    cert1, _ = ensure_certificate(tmp_path, "127.0.0.1")
    first = cert1.read_bytes()
    cert2, key = ensure_certificate(tmp_path, "127.0.0.1")
    assert cert2.read_bytes() == first
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    ensure_certificate(tmp_path, "node.example.org")  # another service host: a new certificate
    assert cert1.read_bytes() != first


def test_without_a_gpu_the_encoder_falls_back_to_libx264():
    choice = probe_encoder("auto")
    assert choice.name in ("h264_nvenc", "libx264")
    if choice.name == "libx264":
        assert "NVENC" in choice.reason


def test_lpc_node_on_chain_needs_an_orchestrator_account(tmp_path):
    result = CliRunner().invoke(node_command, ["--orchestrator", "--transcoder", "--onchain"], obj=CliContext(data_dir=str(tmp_path)))
    assert result.exit_code != 0
    assert "on chain the node signs as an orchestrator: pass --account" in result.output


def test_lpc_node_refuses_signing_flags_for_an_offchain_node(tmp_path):
    """node.offchain (default true) makes the headless node offchain, like the console's: a signing flag
    without --onchain is a mistake, said before anything starts."""
    result = CliRunner().invoke(node_command, ["--orchestrator", "--transcoder", "--dev-account", "1"],
                                obj=CliContext(data_dir=str(tmp_path)))
    assert result.exit_code == 2
    assert "this node runs offchain (node.offchain): pass --onchain" in result.output


def test_auth_tokens_expire_and_cannot_be_forged():
    now = [1000.0]
    tokens = AuthTokens(ttl_s=60, clock=lambda: now[0])
    t = tokens.issue()
    assert tokens.verify(t.token, t.session_id, t.expiration) == t.session_id
    with pytest.raises(AuthError, match="Invalid"):
        tokens.verify(t.token, t.session_id + "x", t.expiration)
    now[0] += 61
    with pytest.raises(AuthError, match="Expired"):
        tokens.verify(t.token, t.session_id, t.expiration)


def test_gpu_figures_are_served_beside_the_node_metrics(tmp_path):
    """The node's /metrics carries the GPU monitor's figures (here: two labelled simulated GPUs)."""
    import httpx

    from core.composition import gpu_metrics
    from gpu import create_monitor
    from core.node import Node, NodeConfig

    monitor = create_monitor(simulate=2)
    node = Node(NodeConfig(data_dir=tmp_path, service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                           cli_addr="127.0.0.1:0", encoder="x264", x264_preset="ultrafast"),
                extra_metrics=gpu_metrics(monitor))
    st = node.start()
    try:
        text = httpx.get(f"http://{st.management}/metrics", timeout=10).text
    finally:
        node.stop()
        monitor.close()
    assert any(line.startswith("livepeer_max_sessions_total{") for line in text.splitlines())  # the node's own
    gpu_lines = [line for line in text.splitlines() if line.startswith("livepeer_gpu_")]
    assert any('gpu="0"' in line for line in gpu_lines) and any('gpu="1"' in line for line in gpu_lines)
    assert any(line.startswith("livepeer_gpu_temperature") for line in gpu_lines)
