"""A real Secret Service for tests: a private D-Bus session bus with gnome-keyring on it.

`running_keyring(root)` starts, under `root` (a temp dir that becomes the daemons' HOME and XDG dirs):
1. `dbus-daemon --session --nofork --print-address=1` (we own the process and read its address);
2. `gnome-keyring-daemon --foreground --unlock --components=secrets` with the password on stdin, which
   creates and unlocks a `login` collection under `root` and owns org.freedesktop.secrets on that bus.
It waits until the login collection answers unlocked, points this process's DBUS_SESSION_BUS_ADDRESS at
the private bus, and on exit kills both daemons (by their own pids) and restores the variable.
DISPLAY and WAYLAND_DISPLAY are dropped for the daemons, so an unlock prompt can never pop up on a
developer's desktop: it fails at once, as on a server.

The pytest fixtures at the bottom are meant to be imported into a conftest.py:
    from tests.keyring_session import keyring_session, secret_service  # noqa: F401
`keyring_session` (session scope) is the running keyring; `secret_service` (per test) also makes
keyring's global backend the SecretService backend on that bus, and empties the keyring afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

import keyring
import pytest
import secretstorage
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection
from keyring.backends import SecretService
from secretstorage.util import add_match_rules

BINARIES = ("dbus-daemon", "gnome-keyring-daemon")
STARTUP_TIMEOUT = 10.0
_DROPPED_ENV = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK")


def missing_binaries() -> str | None:
    """Why the keyring cannot run here, or None."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        return (
            f"{', '.join(missing)} not installed: apt-get install gnome-keyring dbus dbus-daemon libsecret-tools "
            "(the README set-up does this)"
        )
    return None


class KeyringSession:
    """One private bus with gnome-keyring on it. Not started until `start()`."""

    def __init__(self, root: Path, password: str = "lpc-test-keyring-password"):
        self.root = root
        self.password = password
        self.address: str | None = None
        self._bus: subprocess.Popen | None = None
        self._daemon: subprocess.Popen | None = None
        self._logs = root / "logs"

    @property
    def keyring_dir(self) -> Path:
        """Where gnome-keyring keeps its (encrypted) collection files."""
        return self.root / "data" / "keyrings"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should use this keyring (e.g. `lpc` itself)."""
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(
            HOME=str(self.root / "home"),
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            XDG_RUNTIME_DIR=str(self.root / "run"),
        )
        if self.address:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return env

    def start(self) -> None:
        for sub in ("home", "data", "config", "cache", "logs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "run").mkdir(mode=0o700, exist_ok=True)
        with open(self._logs / "dbus-daemon.log", "ab") as log:
            self._bus = subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=self.env,
                text=True,
            )
        self.address = self._bus.stdout.readline().strip()
        if not self.address:
            self.stop()
            raise RuntimeError(f"dbus-daemon printed no address; see {self._logs / 'dbus-daemon.log'}")
        self._start_keyring_daemon()

    def _start_keyring_daemon(self) -> None:
        with open(self._logs / "gnome-keyring-daemon.log", "ab") as log:
            self._daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=self.env,
            )
        self._daemon.stdin.write(self.password.encode())
        self._daemon.stdin.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._daemon.poll() is not None:
                raise RuntimeError(
                    f"gnome-keyring-daemon exited with {self._daemon.returncode}; "
                    f"see {self._logs / 'gnome-keyring-daemon.log'}"
                )
            try:
                with self.connection() as conn:
                    if Proxy(message_bus, conn).NameHasOwner("org.freedesktop.secrets")[0]:
                        collection = secretstorage.collection.get_collection_by_alias(conn, "default")
                        if not collection.is_locked():
                            return
            except Exception as exc:  # not up yet
                last = exc
            time.sleep(0.02)
        raise RuntimeError(f"gnome-keyring did not come up unlocked within {STARTUP_TIMEOUT} s (last: {last!r})")

    @contextmanager
    def connection(self):
        """A secretstorage-ready connection to this session's bus (whatever the environment says)."""
        with closing(open_dbus_connection(bus=self.address)) as conn:
            add_match_rules(conn)
            yield conn

    def backend(self) -> SecretService.Keyring:
        """keyring's Secret Service backend (it connects through DBUS_SESSION_BUS_ADDRESS)."""
        return SecretService.Keyring()

    def lock(self) -> None:
        """Lock the login collection, as a screen lock or `secret-tool lock` would."""
        with self.connection() as conn:
            secretstorage.get_default_collection(conn).lock()

    def is_locked(self) -> bool:
        with self.connection() as conn:
            return secretstorage.collection.get_collection_by_alias(conn, "default").is_locked()

    def unlock(self) -> None:
        """Unlock again. Headless, gnome-keyring can only unlock with a password at start, so restart it
        (same HOME, same password: the same login collection with the same items)."""
        if not self.is_locked():
            return
        self._stop_daemon()
        self._start_keyring_daemon()

    def clear(self) -> None:
        """Delete every item of the login collection."""
        with self.connection() as conn:
            collection = secretstorage.get_default_collection(conn)
            for item in list(collection.get_all_items()):
                item.delete()

    def _stop_daemon(self) -> None:
        if self._daemon is not None:
            _stop(self._daemon)
            self._daemon = None

    def stop(self) -> None:
        self._stop_daemon()
        if self._bus is not None:
            _stop(self._bus)
            self._bus.stdout.close()
            self._bus = None


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def running_keyring(root: Path) -> Iterator[KeyringSession]:
    """Start a private bus + gnome-keyring, point this process at it, and tear both down after."""
    session = KeyringSession(root)
    saved = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    try:
        session.start()
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = session.address
        yield session
    finally:
        session.stop()
        if saved is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = saved


@pytest.fixture(scope="session")
def keyring_session(tmp_path_factory) -> Iterator[KeyringSession]:
    """A real, unlocked gnome-keyring Secret Service on a private D-Bus, for the whole test session."""
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    with running_keyring(tmp_path_factory.mktemp("keyring")) as session:
        yield session


@pytest.fixture
def secret_service(keyring_session) -> Iterator[KeyringSession]:
    """keyring's global backend is the Secret Service on the private bus for this test; the keyring
    is unlocked and emptied afterwards so tests do not see each other's entries.

    Each module that imports these fixtures has its own keyring_session, and the one started last owns
    DBUS_SESSION_BUS_ADDRESS; the backend connects through that variable, so it is pointed at this
    test's bus for the test (otherwise, in another test order such as a pytest-xdist worker's, the
    backend would talk to another module's keyring while the test locks or reads its own)."""
    previous = keyring.get_keyring()
    saved_bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = keyring_session.address
    keyring.set_keyring(keyring_session.backend())
    try:
        yield keyring_session
    finally:
        if saved_bus is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = saved_bus
        keyring.set_keyring(previous)
        keyring_session.unlock()
        keyring_session.clear()
