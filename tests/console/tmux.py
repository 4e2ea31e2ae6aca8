"""A real `lpc` in a real terminal: a private tmux server running the console on a fresh data dir with
its own devnet port, key presses sent as a user types them, and the screen read back as text — with
the current screen's entry of the nav bar (drawn in reverse video) read from the escape codes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chain.devnet.anvil import free_port

REPO = Path(__file__).resolve().parents[2]
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by the set-up command")

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER_ESCAPE = re.compile(r"\x1b[^\[]|\x1b\[[0-9;?]*[A-Za-z]")


def _reverse_runs(line: str) -> list[str]:
    """The pieces of one captured line drawn in reverse video (SGR 7 on; 27 or 0 off)."""
    runs: list[str] = []
    reverse, current, pos = False, "", 0
    for m in _SGR.finditer(line):
        if reverse:
            current += line[pos:m.start()]
        codes = [c for c in m.group(1).split(";") if c] or ["0"]
        for code in codes:
            if code == "7":
                reverse = True
            elif code in ("0", "27") and reverse:
                reverse = False
                runs.append(current)
                current = ""
        pos = m.end()
    if reverse:
        runs.append(current + line[pos:])
    return [r for r in (_OTHER_ESCAPE.sub("", r).strip() for r in runs) if r]


class TmuxConsole:
    """`lpc --data-dir DATA` in a detached tmux session of a fixed size (160×45), in `env` (e.g. a test
    Secret Service's, so no keyring password is asked) without any LPC_ setting of the caller's."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, *, cols: int = 160, rows: int = 45,
                 prepare=None) -> None:
        """`prepare(data_dir, env)`, when given, runs first in the session's environment (e.g. to start the
        devnet and change it before the console opens on it)."""
        self.data_dir = data_dir
        self.sock = f"lpc-test-{uuid.uuid4().hex[:8]}"
        base = os.environ if env is None else env
        self.env = {k: v for k, v in base.items() if not k.startswith("LPC_") and k != "NO_COLOR"}
        self.env.update(LPC_DEVNET__PORT=str(free_port()), LPC_DEVNET__BLOCK_TIME="0", TERM="xterm-256color")
        if prepare is not None:
            try:
                prepare(data_dir, self.env)
            except BaseException:
                self.close()  # a devnet it started is stopped
                raise
        cmd = f"{sys.executable} -m console.cli --data-dir {data_dir}"
        # remain-on-exit: if lpc dies, its last words stay on the screen for the failure message
        subprocess.run(["tmux", "-L", self.sock, "new-session", "-d", "-s", "lpc", "-x", str(cols), "-y", str(rows),
                        "-c", str(REPO), cmd, ";", "set-option", "-t", "lpc", "remain-on-exit", "on"],
                       check=True, env=self.env)

    def capture(self) -> tuple[str, str]:
        """(plain text of the screen, the nav bar's highlighted entry or "")."""
        raw = subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-e", "-p", "-t", "lpc"], capture_output=True,
                             text=True).stdout
        plain = _OTHER_ESCAPE.sub("", _SGR.sub("", raw))
        lines = raw.splitlines()
        runs = _reverse_runs(lines[1]) if len(lines) > 1 else []  # line 2 is the nav bar
        return plain, runs[0] if runs else ""

    def raw_line(self, containing: str) -> str:
        """The first screen line whose text contains `containing`, with its colour escape codes ("" if
        none): how a field is drawn tells whether it has the focus."""
        raw = subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-e", "-p", "-t", "lpc"], capture_output=True,
                             text=True).stdout
        return next((line for line in raw.splitlines() if containing in _SGR.sub("", line)), "")

    def wait_until(self, condition, what: str, timeout: float = 30.0):
        """Wait until `condition()` returns something true, and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            time.sleep(0.05)
        raise AssertionError(f"{what} never happened; screen was:\n{self.capture()[0]}")

    def wait_for(self, *texts: str, highlighted: str | None = None, timeout: float = 90.0) -> str:
        """Wait until every one of `texts` is on the screen at once (and, if given, the nav bar
        highlights `highlighted`): the content asserted, not a title that appears before the chain
        read filled the screen."""
        deadline = time.monotonic() + timeout
        screen, current, polls, gone = "", "", 0, False
        while time.monotonic() < deadline:
            screen, current = self.capture()
            if all(t in screen for t in texts) and (highlighted is None or current == highlighted):
                return screen
            polls += 1
            if polls % 20 == 0 and (gone := self.exited()):
                break  # lpc died: say so now, with what it printed
            time.sleep(0.05)
        missing = [t for t in texts if t not in screen]
        raise AssertionError(f"{missing!r} never appeared (nav bar highlights {current!r}, wanted "
                             f"{highlighted!r}){'; lpc exited' if gone else ''}; screen was:\n{screen}")

    def keys(self, *keys: str) -> None:
        """tmux key names: "Escape", "Tab", "Enter"."""
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "lpc", *keys], check=True)

    def type(self, text: str) -> None:
        """Characters exactly as typed (no tmux key-name lookup: "," is a comma)."""
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "lpc", "-l", text], check=True)

    def exited(self) -> bool:
        """Whether lpc has exited (its pane is dead, or the session is gone)."""
        out = subprocess.run(["tmux", "-L", self.sock, "display-message", "-p", "-t", "lpc", "#{pane_dead}"],
                             capture_output=True, text=True)
        return out.returncode != 0 or out.stdout.strip() == "1"

    def quit(self) -> None:
        """Press q and wait (bounded) for the console to exit."""
        self.type("q")
        self.wait_until(self.exited, "lpc exiting after q", timeout=15)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)
        subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(self.data_dir), "devnet", "down"],
                       cwd=REPO, env=self.env, capture_output=True)
