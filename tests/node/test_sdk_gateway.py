"""The official Python gateway SDK (livepeer-gateway, Python >= 3.12, its own venv) fetches
OrchestratorInfo from `lpc node --offchain` running as a separate process."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
SDK_VENV = REPO / ".venv-sdk"
SDK_PYTHON = SDK_VENV / "bin" / "python"

CLIENT = r"""
import json, sys
from livepeer_gateway import get_orch_info
info = get_orch_info(sys.argv[1])
print(json.dumps({
    "transcoder": info.transcoder,
    "session_id": info.auth_token.session_id,
    "token_len": len(info.auth_token.token),
    "expiration": info.auth_token.expiration,
    "has_ticket_params": info.HasField("ticket_params"),
    "bitstring": list(info.capabilities.bitstring),
}))
"""


def _python312() -> str | None:
    """A Python >= 3.12 that really runs. A pyenv shim on PATH may exist and still fail (exit 127)
    when 3.12 is installed but not selected, so each candidate is tried before it is used."""
    candidates = [shutil.which("python3.12"), shutil.which("python3.13")]
    for pattern in ("~/.pyenv/versions/3.1[2-9]*/bin/python3", "/usr/bin/python3.1[2-9]"):
        candidates += sorted(glob.glob(os.path.expanduser(pattern)), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"],
                               capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    # One process at a time makes or completes the SDK venv: two pytest-xdist workers (or two runs in the
    # same checkout) creating .venv-sdk at once would leave it half-made for both.
    SDK_VENV.mkdir(exist_ok=True)  # `python -m venv` fills an existing directory
    with FileLock(str(SDK_VENV / ".lpc-making.lock"), timeout=600):
        return _make_sdk_venv()


def _make_sdk_venv() -> Path:
    if not SDK_PYTHON.exists():
        py = _python312()
        if py is None:
            pytest.skip("no python3.12 on this machine: the livepeer-gateway SDK needs Python >= 3.12")
        made = subprocess.run([py, "-m", "venv", str(SDK_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            shutil.rmtree(SDK_VENV, ignore_errors=True)
            raise RuntimeError(f"{py} -m venv failed: {made.stderr.strip()[-400:]}")
    check = subprocess.run([str(SDK_PYTHON), "-c", "import livepeer_gateway"], capture_output=True)
    if check.returncode != 0:
        pip = subprocess.run([str(SDK_PYTHON), "-m", "pip", "install", "-q", "livepeer-gateway"],
                             capture_output=True, text=True, timeout=300)
        if pip.returncode != 0:
            pytest.skip(f"pip could not install livepeer-gateway: {pip.stderr.strip()[-400:]}")
    return SDK_PYTHON


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lpc_node(tmp_path):
    port, mgmt = _free_port(), _free_port()
    lpc = Path(sys.executable).with_name("lpc")
    proc = subprocess.Popen(
        [str(lpc), "--data-dir", str(tmp_path), "node", "--orchestrator", "--transcoder", "--offchain",
         "--service-addr", f"127.0.0.1:{port}", "--cli-addr", f"127.0.0.1:{mgmt}", "--max-sessions", "2"],
        stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "node up" in line or proc.poll() is not None:
                break
        assert "node up" in line, f"lpc node did not start: {line}{proc.stderr.read() if proc.poll() is not None else ''}"
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        assert rc == 0, f"lpc node exited with {rc}"


def test_official_sdk_gets_orchestrator_info_from_lpc_node(sdk_python, lpc_node):
    out = subprocess.run([str(sdk_python), "-c", CLIENT, f"127.0.0.1:{lpc_node}"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["transcoder"] == f"https://127.0.0.1:{lpc_node}"
    assert info["session_id"] and info["token_len"] == 32
    assert info["expiration"] > time.time() + 1700
    assert info["has_ticket_params"] is False
    assert info["bitstring"] and info["bitstring"][0] & 1  # H.264
