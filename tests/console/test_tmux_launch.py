"""`lpc` as a new user starts it: in a real terminal (tmux), with nothing configured, it starts the devnet
with progress, opens the console on Overview, and the keys walk to Network and Staking."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chain.devnet.anvil import free_port
from tests.keyring_session import keyring_session, secret_service  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by the set-up command")


def _capture(sock: str) -> str:
    return subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", "lpc"], capture_output=True,
                          text=True).stdout


def _wait_for(sock: str, *texts: str, timeout: float = 90.0) -> str:
    """Wait until every one of `texts` is on the screen at once: the content asserted, not a title that
    appears before the chain read has filled the screen (that raced under load)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(sock)
        if all(t in screen for t in texts):
            return screen
        time.sleep(0.25)
    missing = [t for t in texts if t not in screen]
    raise AssertionError(f"{missing!r} never appeared; screen was:\n{screen}")


def _keys(sock: str, *keys: str) -> None:
    subprocess.run(["tmux", "-L", sock, "send-keys", "-t", "lpc", *keys], check=True)


def test_lpc_opens_the_console_on_a_fresh_data_dir(tmp_path, secret_service):
    """On a desktop-like session (a Secret Service on the session bus: no password asked; the headless
    path is tests/console/test_headless_first_run.py)."""
    sock = f"lpc-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    data = tmp_path / "fresh"
    env = {k: v for k, v in secret_service.env.items() if not k.startswith("LPC_") and k != "NO_COLOR"}
    env.update(LPC_DEVNET__PORT=str(port), LPC_DEVNET__BLOCK_TIME="0", TERM="xterm-256color")
    cmd = f"{sys.executable} -m console.cli --data-dir {data}"
    subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-s", "lpc", "-x", "160", "-y", "45", "-c",
                    str(REPO), cmd], check=True, env=env)
    try:
        # The default devnet account is an orchestrator, so the console opens on its Dashboard.
        _wait_for(sock, "Reward this round", "DEVNET", "Node stopped")
        _keys(sock, "o")
        _wait_for(sock, "Needs attention", "round", "Pending stake", "itself (orchestrator)")  # Overview
        _keys(sock, "n")
        _wait_for(sock, "atlas-video.devnet.lpc", "Calls/30", "Yield 1y")  # Network
        _keys(sock, "s")
        _wait_for(sock, "My delegation", "Unbonding locks", "Review bond")  # Staking
        _keys(sock, "q")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and subprocess.run(
                ["tmux", "-L", sock, "has-session", "-t", "lpc"], capture_output=True).returncode == 0:
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data), "devnet", "down"],
                       cwd=REPO, env=env, capture_output=True)
