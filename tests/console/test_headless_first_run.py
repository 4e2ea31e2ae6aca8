"""`lpc` on a headless server, as a new user meets it: no D-Bus session, no Secret Service, a fresh HOME.
In a real terminal (tmux) lpc asks for a new keyring password twice, opens the console with the
devnet account's key stored in the user's gnome-keyring; a later command asks for the password once,
refuses a wrong one with words, and signs a bond with that key. No key is ever on disk in plain text,
and no dbus-daemon or gnome-keyring-daemon outlives lpc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chain.devnet.accounts import dev_account
from chain.devnet.anvil import free_port
from chain.devnet.seed import DEFAULT_ACCOUNT_INDEX
from chain.wallet.secret_service import missing_daemons

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or bool(missing_daemons()),
                                reason="tmux, dbus and gnome-keyring are installed by the set-up command")


class Terminal:
    def __init__(self, env: dict[str, str]):
        self.sock = f"lpc-headless-{uuid.uuid4().hex[:8]}"
        self.env = env

    def run(self, command: str) -> None:
        subprocess.run(["tmux", "-L", self.sock, "new-session", "-d", "-s", "lpc", "-x", "160", "-y", "45",
                        "-c", str(REPO), command], check=True, env=self.env)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-J", "-t", "lpc"],
                              capture_output=True, text=True).stdout

    def wait_for(self, *texts: str, timeout: float = 90.0, times: int = 1) -> str:
        """Wait until every one of `texts` is on the screen (`times` times or more)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(screen.count(t) >= times for t in texts):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{[t for t in texts if screen.count(t) < times]!r} never appeared {times}×; "
                             f"screen:\n{screen}")

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "lpc", "-l", text], check=True)
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "lpc", "Enter"], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "lpc", *keys], check=True)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.sock, "has-session", "-t", "lpc"],
                              capture_output=True).returncode == 0

    def wait_closed(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.alive():
            assert time.monotonic() < deadline, f"lpc did not exit; screen:\n{self.screen()}"
            time.sleep(0.2)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def keyring_daemons(home: Path) -> list[str]:
    """dbus-daemon and gnome-keyring-daemon processes started for this HOME."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            if comm not in ("dbus-daemon", "gnome-keyring-d"):
                continue
            if f"HOME={home}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append(f"{comm} (pid {proc.name})")
        except OSError:
            continue
    return found


def files_containing(root: Path, secret: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret in p.read_bytes().lower()]


def test_headless_first_run_creates_a_keyring_and_later_runs_sign_with_it(tmp_path):
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LPC_", "XDG_", "DBUS_", "GNOME_KEYRING")) and k not in
           ("NO_COLOR", "DISPLAY", "WAYLAND_DISPLAY", "SSH_AUTH_SOCK")}
    env.update(HOME=str(home), TERM="xterm-256color", LPC_DEVNET__PORT=str(free_port()), LPC_DEVNET__BLOCK_TIME="0")
    lpc = f"{sys.executable} -m console.cli --data-dir {data}"
    account = dev_account(DEFAULT_ACCOUNT_INDEX)
    term = Terminal(env)
    try:
        # first run: the console asks for a new password twice, then opens with the account's key stored
        term.run(lpc)
        term.wait_for("There is no OS keyring here", "New keyring password:")
        term.type(PASSWORD)
        term.wait_for("Repeat the password:")
        term.type(PASSWORD)
        term.wait_for("Reward this round", "DEVNET", account.address[:6])
        assert len(keyring_daemons(home)) == 2  # the private bus and gnome-keyring, while lpc runs

        # meanwhile another lpc of this user uses that keyring: nothing asked, no second daemon on the file
        listed, other = tmp_path / "list.json", Terminal(env)
        try:
            other.run(f"sh -c '{lpc} wallet list --json > {listed}; echo exit $?; read _'")
            screen = other.wait_for("using the keyring that lpc (pid", "exit 0")
            assert "password" not in screen.lower()
            assert [a["address"] for a in json.loads(listed.read_text())] == [account.address]
            assert len(keyring_daemons(home)) == 2
            other.type("")
            other.wait_closed()
        finally:
            other.kill()
        term.keys("q")
        term.wait_closed()
        assert keyring_daemons(home) == []
        assert (home / ".local" / "share" / "keyrings" / "login.keyring").is_file()
        secret = account.key.hex().removeprefix("0x").encode()
        assert files_containing(home, secret) == [] and files_containing(data, secret) == []

        # a later command asks once, refuses a wrong password with words, then signs with the stored key
        out = tmp_path / "bond.json"
        term.run(f"{lpc} stake bond --to {account.address} --amount 1LPT --yes --json > {out}")
        term.wait_for("Password of your keyring")
        assert "New keyring password" not in term.screen()
        term.type("not the password")
        term.wait_for("That password does not unlock", "try again (2 more)")
        term.type(PASSWORD)
        term.wait_closed(timeout=90)
        result = json.loads(out.read_text())
        assert result["ok"] and result["sent"]
        assert {r["action"] for r in result["results"] if r["ok"]} >= {"bond"}
        assert keyring_daemons(home) == []

        # three wrong passwords: a clear refusal, exit 1, and the keyring file is left as it was
        keyring_file = home / ".local" / "share" / "keyrings" / "login.keyring"
        before = keyring_file.read_bytes()
        code = tmp_path / "exit-code"
        term.run(f"sh -c '{lpc} wallet list; echo $? > {code}; read _'")  # read: the screen stays to be read
        for attempt in range(3):
            term.wait_for("Password of your keyring", times=attempt + 1)
            term.type(f"wrong {attempt}")
        screen = term.wait_for("3 wrong passwords", "stays locked and nothing was changed")
        assert "try again (2 more)" in screen and "try again (1 more)" in screen
        term.type("")
        term.wait_closed()
        assert code.read_text().strip() == "1"
        assert keyring_file.read_bytes() == before and keyring_daemons(home) == []
    finally:
        term.kill()
        subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data), "devnet", "down"],
                       cwd=REPO, env=env, capture_output=True)
    assert keyring_daemons(home) == []


def test_a_servers_own_session_bus_without_a_running_keyring_gets_the_private_one(tmp_path):
    """ssh to a server with a systemd user bus (or under dbus-run-session): the bus could start
    gnome-keyring, but without a display that one can neither create nor unlock a keyring ("Prompt
    dismissed"); lpc asks in the terminal and runs its own instead, and the bus starts nothing."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LPC_", "XDG_", "DBUS_", "GNOME_KEYRING")) and k not in
           ("NO_COLOR", "DISPLAY", "WAYLAND_DISPLAY", "SSH_AUTH_SOCK")}
    env.update(HOME=str(home), TERM="xterm-256color")
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    term = Terminal({**env, "DBUS_SESSION_BUS_ADDRESS": bus.stdout.readline().strip()})
    try:
        created = tmp_path / "created"
        term.run(f"sh -c '{sys.executable} -m console.cli --data-dir {tmp_path / 'data'} wallet new --label srv "
                 f"> {created}; echo exit $?; read _'")
        term.wait_for("There is no OS keyring here", "New keyring password:")
        term.type(PASSWORD)
        term.wait_for("Repeat the password:")
        term.type(PASSWORD)
        screen = term.wait_for("exit 0")
        assert "Prompt dismissed" not in screen and "could not be unlocked" not in screen
        assert "0x" in created.read_text()
        term.type("")
        term.wait_closed()
        assert keyring_daemons(home) == [f"dbus-daemon (pid {bus.pid})"]  # the user's bus started nothing
    finally:
        term.kill()
        bus.terminate()
        bus.wait(timeout=10)
