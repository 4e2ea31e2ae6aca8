"""`lpc` as a new user starts it: in a real terminal (tmux), with nothing configured, it starts the devnet
with progress, opens the console (on the Dashboard: the default devnet account is an orchestrator), and
the keys walk to Overview, Network and Staking."""

from __future__ import annotations

from tests.console.tmux import TmuxConsole, needs_tmux
from tests.keyring_session import keyring_session, secret_service  # noqa: F401

pytestmark = needs_tmux


def test_lpc_opens_the_console_on_a_fresh_data_dir(tmp_path, secret_service):
    """On a desktop-like session (a Secret Service on the session bus: no password asked; the headless
    path is tests/console/test_headless_first_run.py)."""
    lpc = TmuxConsole(tmp_path / "fresh", secret_service.env)
    try:
        lpc.wait_for("Reward this round", "DEVNET", "Node stopped")  # Dashboard
        lpc.type("o")
        lpc.wait_for("Needs attention", "round", "Pending stake", "itself (orchestrator)")  # Overview
        lpc.type("n")
        lpc.wait_for("atlas-video.devnet.lpc", "Calls/30", "Yield 1y")  # Network
        lpc.type("s")
        lpc.wait_for("My delegation", "Unbonding locks", "Review bond")  # Staking
        lpc.quit()
    finally:
        lpc.close()
