"""One node assembly: `lpc node` reads settings.toml `[node]` and LPC_NODE__* like the console does, a flag
beats both, and the console's node and the headless node serve the same TLS certificate (one data dir)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from cryptography import x509

from chain.devnet.anvil import free_port
from chain.network import ARBITRUM_ONE
from console.launch import node_factory
from console.services import ConsoleServices
from core.node.tls import ensure_certificate
from core.settings import load_settings
from tests.node.gateway import Gateway, server_cert


def _write_settings(data_dir, node: dict) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    lines = ["[node]"] + [f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in node.items()]
    (data_dir / "settings.toml").write_text("\n".join(lines) + "\n")


class HeadlessNode:
    """`lpc node --orchestrator --transcoder --offchain` as a separate process (only loopback ports)."""

    def __init__(self, data_dir, mgmt_port: int, *flags: str, env: dict | None = None):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
        self.mgmt_port = mgmt_port
        self.log = open(data_dir.parent / f"{data_dir.name}-node.log", "w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), "node", "--orchestrator",
             "--transcoder", "--offchain", "--encoder", "x264", *flags],
            stdout=self.log, stderr=subprocess.STDOUT, env={**clean, **(env or {})})

    def status(self, timeout: float = 60.0) -> dict:
        """/status once the node runs (waits for it, with a deadline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise AssertionError(f"lpc node exited with {self.proc.returncode}: {self.log.read().decode()}")
            try:
                body = httpx.get(f"http://127.0.0.1:{self.mgmt_port}/status", timeout=1).json()
                if body["running"]:
                    return body
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise AssertionError("lpc node did not come up")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def _offer(port: int) -> tuple[int, int, str]:
    gw = Gateway("127.0.0.1", port)
    try:
        info = gw.get_orchestrator()
    finally:
        gw.close()
    return info.price_info.pricePerUnit, info.price_info.pixelsPerUnit, info.transcoder


def test_settings_toml_node_table_reaches_the_headless_node_and_the_console_node_shares_its_cert(tmp_path):
    data = tmp_path / "data"
    port, mgmt = free_port(), free_port()
    _write_settings(data, {"service_addr": f"127.0.0.1:{port}", "http_addr": f"127.0.0.1:{port}",
                           "cli_addr": f"127.0.0.1:{mgmt}", "max_sessions": 3, "price_per_unit": 4321,
                           "pixels_per_unit": 7})
    node = HeadlessNode(data, mgmt)
    try:
        status = node.status()
        assert status["max_sessions"] == 3
        assert status["service_uri"] == f"https://127.0.0.1:{port}"
        assert _offer(port) == (4321, 7, f"https://127.0.0.1:{port}")
        headless_cert = server_cert("127.0.0.1", port)
    finally:
        node.stop()

    # the console's node of the same data dir, on other ports: the same certificate
    settings = load_settings(data)
    services = ConsoleServices(settings=settings, profile=ARBITRUM_ONE, client_factory=lambda: None)
    console_port = free_port()
    built = node_factory(settings, services, service_addr=f"127.0.0.1:{console_port}",
                         http_addr=f"127.0.0.1:{console_port}", cli_addr="none", encoder="x264")()
    try:
        st = built.node.start()
        assert st.max_sessions == 3 and st.management is None
        assert server_cert("127.0.0.1", console_port) == headless_cert
    finally:
        built.node.stop()
        built.close()


def test_lpc_node_env_beats_settings_toml_and_a_flag_beats_both(tmp_path):
    """Also: the certificate an older `lpc node` made in <data dir>/node/tls is still the one it serves."""
    data = tmp_path / "data"
    port, mgmt = free_port(), free_port()
    _write_settings(data, {"service_addr": "127.0.0.1:1", "max_sessions": 2, "price_per_unit": 100})
    old_cert, _ = ensure_certificate(data / "node" / "tls", "127.0.0.1")
    pinned = x509.load_pem_x509_certificate(old_cert.read_bytes())
    env = {"LPC_NODE__SERVICE_ADDR": f"127.0.0.1:{port}", "LPC_NODE__MAX_SESSIONS": "5",
           "LPC_NODE__PRICE_PER_UNIT": "555"}
    node = HeadlessNode(data, mgmt, "--http-addr", f"127.0.0.1:{port}", "--cli-addr", f"127.0.0.1:{mgmt}",
                        "--price-per-unit", "777", env=env)
    try:
        status = node.status()
        assert status["max_sessions"] == 5
        assert status["service_uri"] == f"https://127.0.0.1:{port}"
        assert _offer(port)[:1] == (777,)
        assert x509.load_pem_x509_certificate(server_cert("127.0.0.1", port)) == pinned
    finally:
        node.stop()
    assert (data / "tls" / "cert.pem").is_file() and not (data / "node" / "tls").exists()
