"""A Secret Service of lpc's own, for a machine that has none (a headless server).

Keys live only in the OS keyring. A desktop session has one (gnome-keyring or KWallet on the session
D-Bus); a server reached over ssh usually has no session bus at all. `PrivateSecretService` then runs
the two daemons a desktop would, for this lpc process only:
1. `dbus-daemon --nofork --print-address=1` with a config of our own: a socket in a private (0700)
   directory and no service activation, so nothing else is ever started on the bus;
2. `gnome-keyring-daemon --foreground --unlock --components=secrets`, the password written to its
   stdin (never argv or the environment). It opens the user's `login` keyring in gnome-keyring's own
   place ($XDG_DATA_HOME/keyrings, an encrypted file), or creates it with that password, so keys
   survive between runs and are the same keys a desktop session of this user would show.
A wrong password leaves the keyring locked: `start` reports that and stops both daemons. Both are
children of this process, die with it (PR_SET_PDEATHSIG on Linux) and are stopped by `stop()`.

One keyring file, one daemon: two gnome-keyring daemons on the same file each rewrite it whole, and one
loses the other's new entries (a key!). So the process that runs the daemons holds an exclusive lock
(`lpc-session.lock` beside the keyring file) for as long as they run and writes the bus address next to
it (`lpc-session.json`, 0600); a second lpc of the same user finds it with `running_session` and uses
that keyring, already unlocked, instead of starting another daemon. It works until the first lpc exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

SECRETS_NAME = "org.freedesktop.secrets"
DAEMONS = ("dbus-daemon", "gnome-keyring-daemon")
READY_TIMEOUT_S = 10.0
UNLOCK_GRACE_S = 1.0  # a collection seen locked this long after start means the password was wrong
# What the daemons must not see: a display (an unlock prompt must never pop up anywhere) and the
# addresses of another session.
_HIDDEN_ENV = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK")

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SecretServiceError(RuntimeError):
    """The private Secret Service could not start; the message says why and what to do."""


def secret_service_reachable(environ: dict[str, str] | None = None) -> bool:
    """Is there a Secret Service to use on the session bus: one running, or one the bus can start
    where it can ask for its password (a display)? A server's session bus (systemd --user, or
    dbus-run-session) can start gnome-keyring, but that one cannot create or unlock a keyring without
    a display ("Prompt dismissed"): that counts as none."""
    env = os.environ if environ is None else environ
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    if not address:
        return False
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    try:
        with closing(open_dbus_connection(bus=address)) as conn:
            bus = Proxy(message_bus, conn, timeout=3)
            if bus.NameHasOwner(SECRETS_NAME)[0]:
                return True
            can_start = SECRETS_NAME in bus.ListActivatableNames()[0]
    except Exception:  # noqa: BLE001 - no bus at that address, or it does not answer
        return False
    return can_start and bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def missing_daemons() -> list[str]:
    return [d for d in DAEMONS if shutil.which(d) is None]


def login_keyring_file(environ: dict[str, str] | None = None) -> Path:
    """Where gnome-keyring keeps the `login` keyring of this user."""
    env = os.environ if environ is None else environ
    data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
    return Path(data) / "keyrings" / "login.keyring"


def _lock_path(keyring_file: Path) -> Path:
    return keyring_file.with_name("lpc-session.lock")


def _session_path(keyring_file: Path) -> Path:
    return keyring_file.with_name("lpc-session.json")


def running_session(keyring_file: Path | None = None) -> tuple[str, int] | None:
    """(bus address, pid of the lpc that runs it) of the private Secret Service another lpc of this
    user runs on `keyring_file`, when it answers unlocked; None when there is none."""
    keyring_file = keyring_file or login_keyring_file()
    lock = _lock_path(keyring_file)
    if not lock.exists():
        return None
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: someone runs it
        else:
            return None  # nobody holds it (a stale file): released when f closes
    try:
        record = json.loads(_session_path(keyring_file).read_text())
        address, pid = str(record["address"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _unlocked(address):
        return None
    return address, pid


def _unlocked(address: str) -> bool:
    import secretstorage
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection
    from secretstorage.util import add_match_rules

    try:
        with closing(open_dbus_connection(bus=address)) as conn:
            add_match_rules(conn)
            if not Proxy(message_bus, conn, timeout=3).NameHasOwner(SECRETS_NAME)[0]:
                return False
            return not secretstorage.collection.get_collection_by_alias(conn, "default").is_locked()
    except Exception:  # noqa: BLE001 - gone, or not answering
        return False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PrivateSecretService:
    """One private bus with gnome-keyring on it, for this process. `address` is the bus to use."""

    def __init__(self, keyring_file: Path | None = None) -> None:
        self.keyring_file = keyring_file or login_keyring_file()
        self.address: str | None = None
        self._lock = None  # the open, flock-ed lpc-session.lock while our daemons run
        self._dir: str | None = None
        self._bus: subprocess.Popen | None = None
        self._daemon: subprocess.Popen | None = None

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(p.pid for p in (self._bus, self._daemon) if p is not None)

    def start(self, password: str) -> bool:
        """Start both daemons and open the login keyring with `password` (creating it when there is
        none). True when it is unlocked; False (both daemons stopped) when the password is wrong."""
        missing = missing_daemons()
        if missing:
            raise SecretServiceError(f"{', '.join(missing)} not installed: install gnome-keyring and dbus "
                                     "(`bash packaging/setup.sh install` does)")
        self._claim()
        self._dir = tempfile.mkdtemp(prefix="lpc-dbus-")  # 0700: only this user reaches the socket
        config = Path(self._dir) / "bus.conf"
        config.write_text(_BUS_CONFIG.format(dir=self._dir))
        env = {k: v for k, v in os.environ.items() if k not in _HIDDEN_ENV}
        try:
            self._bus = subprocess.Popen(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                preexec_fn=_die_with_parent,
            )
            self.address = self._bus.stdout.readline().strip()
            if not self.address:
                raise SecretServiceError("dbus-daemon did not start (it printed no bus address)")
            self._daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**env, "DBUS_SESSION_BUS_ADDRESS": self.address}, preexec_fn=_die_with_parent,
            )
            self._daemon.stdin.write(password.encode())
            self._daemon.stdin.close()
            unlocked = self._wait_unlocked()
            if unlocked:
                session = _session_path(self.keyring_file)
                fd = os.open(session, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump({"address": self.address, "pid": os.getpid()}, f)
        except BaseException:
            self.stop()
            raise
        if not unlocked:
            self.stop()
        return unlocked

    def _claim(self) -> None:
        """Take the keyring's lock, or say which lpc already runs a keyring daemon on it."""
        self.keyring_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = open(_lock_path(self.keyring_file), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise SecretServiceError(f"another lpc is opening the keyring {self.keyring_file} right now; "
                                     "try again in a moment") from None
        self._lock = lock

    def _wait_unlocked(self) -> bool:
        import secretstorage
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import Proxy, open_dbus_connection
        from secretstorage.util import add_match_rules

        deadline = time.monotonic() + READY_TIMEOUT_S
        locked_since: float | None = None
        while time.monotonic() < deadline:
            if self._daemon.poll() is not None:
                raise SecretServiceError(f"gnome-keyring-daemon exited with code {self._daemon.returncode} "
                                         "while starting")
            try:
                with closing(open_dbus_connection(bus=self.address)) as conn:
                    add_match_rules(conn)
                    if Proxy(message_bus, conn).NameHasOwner(SECRETS_NAME)[0]:
                        collection = secretstorage.collection.get_collection_by_alias(conn, "default")
                        if not collection.is_locked():
                            return True
                        locked_since = locked_since or time.monotonic()
                        if time.monotonic() - locked_since > UNLOCK_GRACE_S:
                            return False
            except secretstorage.exceptions.SecretStorageException:
                pass  # the daemon is on the bus but has not opened the login keyring yet
            except (ConnectionError, OSError):
                pass  # the bus is not accepting connections yet
            time.sleep(0.02)
        raise SecretServiceError(f"gnome-keyring did not open the login keyring within {READY_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """Stop gnome-keyring, then the bus; remove the socket directory."""
        for proc in (self._daemon, self._bus):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if self._bus is not None and self._bus.stdout:
            self._bus.stdout.close()
        self._daemon = self._bus = None
        self.address = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._lock is not None:
            _session_path(self.keyring_file).unlink(missing_ok=True)
            self._lock.close()  # releases the flock
            self._lock = None
