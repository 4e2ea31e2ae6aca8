"""A go-livepeer command line pasted after a real `lpc node` (subprocesses, loopback ports only): it runs an
orchestrator, is read back by --show-config, and refuses a password without showing it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from chain.devnet.anvil import free_port
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}


def lpc(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), "node", *args],
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)


def test_a_go_livepeer_orchestrator_command_line_runs_the_node(tmp_path):
    port, mgmt = free_port(), free_port()
    log = tmp_path / "node.log"
    line = (f"-orchestrator -transcoder -network=offchain -serviceAddr 127.0.0.1:{port} "
            f"--httpAddr=127.0.0.1:{port} -cliAddr 127.0.0.1:{mgmt} -maxSessions 3 -pricePerUnit=0 "
            "-region eu-west -monitor -v 4 --encoder x264").split()
    with open(log, "w+b") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--data-dir", str(tmp_path / "data"), "node",
                                 *line], cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT)
        try:
            def status():
                assert proc.poll() is None, f"lpc node exited: {log.read_text()}"
                try:
                    body = httpx.get(f"http://127.0.0.1:{mgmt}/status", timeout=1).json()
                except (httpx.HTTPError, ValueError):
                    return None
                return body if body.get("running") else None

            body = wait_for(status, timeout=60, what="lpc node's /status")
        finally:
            proc.terminate()
            proc.wait(30)
    assert body["max_sessions"] == 3 and body["service_uri"] == f"https://127.0.0.1:{port}"
    text = log.read_text()
    assert text.count("-region is accepted and has no effect yet") == 1
    assert "Traceback" not in text


def test_show_config_reads_a_pasted_gateway_command_line(tmp_path):
    out = lpc(tmp_path, *("-gateway -rtmpAddr=127.0.0.1:1936 --httpAddr 127.0.0.1:8936 -cliAddr=:5936 "
                          "-orchAddr 127.0.0.1:8935,127.0.0.1:8937 -transcodingOptions P240p30fps16x9 "
                          "-maxSessions 4 --maxAttempts=2 -discoveryTimeout 1500ms -localVerify -monitor=false "
                          "-orchWebhookUrl http://127.0.0.1:9/o -kafkaBootstrapServers 127.0.0.1:9092 "
                          "--show-config").split())
    assert out.returncode == 0, out.stderr
    lines = set(out.stdout.splitlines())
    for expected in ('roles = ["gateway"]', 'rtmp_addr = "127.0.0.1:1936"', 'http_addr = "127.0.0.1:8936"',
                     'cli_addr = "127.0.0.1:5936"', 'orch_addrs = ["127.0.0.1:8935", "127.0.0.1:8937"]',
                     'transcoding_options = "P240p30fps16x9"', "max_sessions = 4", "max_attempts = 2",
                     "discovery_timeout_s = 1.5", "local_verify = true", "monitor = false",
                     "# verification of renditions: on"):
        assert expected in lines, expected
    assert out.stderr.splitlines() == ["warning: -kafkaBootstrapServers is accepted and has no effect yet"]
    assert not (tmp_path / "devnet").exists() and not (tmp_path / "tls").exists()  # nothing was started


def test_a_password_on_the_command_line_is_refused_and_not_shown(tmp_path):
    out = lpc(tmp_path, "-gateway", "-orchAddr", "127.0.0.1:8935", "-ethPassword", "correct-horse-battery")
    assert out.returncode == 2
    assert "correct-horse-battery" not in out.stdout + out.stderr
    assert "-ethPassword is refused (its value is not shown): lpc keeps keys in the OS keyring" in out.stderr
    assert "Traceback" not in out.stderr


def test_one_lpc_node_runs_an_orchestrator_and_a_gateway_from_go_livepeer_flags(tmp_path):
    """`-orchestrator -transcoder -gateway` in one process: the gateway (its own --gateway-* ports) uses the
    orchestrator beside it through -orchAddr; a segment pushed over HTTP comes back transcoded, one
    multipart part per rendition of -transcodingOptions, and -monitor gives the gateway its /metrics."""
    import email

    from core.media.synthetic import make_segment

    service, mgmt, http, cli, rtmp = (free_port() for _ in range(5))
    line = (f"-orchestrator -transcoder -gateway -network offchain -serviceAddr 127.0.0.1:{service} "
            f"-httpAddr 127.0.0.1:{service} -cliAddr 127.0.0.1:{mgmt} --encoder x264 "
            f"--gateway-http-addr 127.0.0.1:{http} --gateway-cli-addr 127.0.0.1:{cli} -rtmpAddr :{rtmp} "
            f"-orchAddr 127.0.0.1:{service} -transcodingOptions P144p30fps16x9 -monitor").split()
    log = tmp_path / "lpc.log"
    with open(log, "w+b") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--data-dir", str(tmp_path / "data"), "node",
                                 *line], cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT)
        try:
            def up():
                assert proc.poll() is None, f"lpc node exited: {log.read_text()}"
                try:
                    return httpx.get(f"http://127.0.0.1:{cli}/status", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(up, timeout=60, what="the gateway's /status")
            r = httpx.post(f"http://127.0.0.1:{http}/live/pasted/0.ts", content=make_segment(320, 180, 1.0),
                           headers={"Accept": "multipart/mixed", "Content-Duration": "1000"}, timeout=60)
            metrics = httpx.get(f"http://127.0.0.1:{cli}/metrics", timeout=5).text
        finally:
            proc.terminate()
            proc.wait(30)
    assert r.status_code == 200, r.text
    msg = email.message_from_bytes(b"Content-Type: " + r.headers["content-type"].encode() + b"\r\n\r\n" + r.content)
    parts = msg.get_payload()
    assert [p["Rendition-Name"] for p in parts] == ["P144p30fps16x9"]
    import io

    import av

    with av.open(io.BytesIO(parts[0].get_payload(decode=True))) as container:
        frames = [f for f in container.decode(video=0)]
    assert (frames[0].width, frames[0].height) == (256, 144) and len(frames) == 30
    assert 'node_type="bctr"' in metrics
    assert "Traceback" not in log.read_text()


def test_show_config_reads_the_ladder_as_the_gateway_will(tmp_path):
    from click.testing import CliRunner

    from console.cli import cli

    ladder = tmp_path / "ladder.json"
    ladder.write_text('[{"name": "small", "width": 320, "height": 180, "bitrate": 300000, "fps": 24}]')
    r = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "node", "-gateway", f"-transcodingOptions={ladder}",
                                 "--show-config"], env={k: None for k in os.environ if k.startswith("LPC_")})
    assert r.exit_code == 0, r.output
    assert "# rendition: small 320x180 300 kb/s 24 fps" in r.stdout.splitlines()
    r = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "node", "-gateway", "-transcodingOptions",
                                 "P240p30fps16x9,P720p30fps16X9", "--show-config"])
    assert r.exit_code == 2 and "P720p30fps16X9" in r.output  # go-livepeer would drop the typo silently


def test_the_ai_gateway_settings_come_from_settings_toml_and_flags_win(tmp_path):
    (tmp_path / "settings.toml").write_text('[gateway]\nai_processing_retry_timeout_s = 5.0\n'
                                            'max_price_per_capability = "caps.json"\n')
    out = lpc(tmp_path, "-gateway", "-orchAddr", "127.0.0.1:8935", "--show-config")
    assert out.returncode == 0, out.stderr
    lines = set(out.stdout.splitlines())
    assert "ai_processing_retry_timeout_s = 5.0" in lines and 'max_price_per_capability = "caps.json"' in lines
    out = lpc(tmp_path, "-gateway", "-orchAddr", "127.0.0.1:8935", "-aiProcessingRetryTimeout", "750ms",
              "-aiServiceRegistry", "--show-config")
    assert out.returncode == 0, out.stderr
    lines = set(out.stdout.splitlines())
    assert "ai_processing_retry_timeout_s = 0.75" in lines and "ai_service_registry = true" in lines
    assert "no effect" not in out.stderr  # -aiServiceRegistry is a real flag now
