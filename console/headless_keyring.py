"""`lpc` in a terminal on a machine without an OS keyring (a headless server over ssh): ask for the
password of the user's gnome-keyring and run a private one for this lpc (chain/wallet/secret_service.py).

The first time, when the user has no login keyring yet, the password is new: it is asked twice, and
it encrypts the keyring file gnome-keyring creates; it is stored nowhere. Later runs ask once; a wrong
password is refused, three times at most. The daemons stop when lpc exits. While one lpc runs them,
another lpc of the same user uses that keyring (no second daemon may open the file: see
chain/wallet/secret_service.py) and asks nothing.

Only in a terminal, on the main thread, and at most once per process: without a terminal (systemd, a
pipe, tests) or when the user gave up, keyring calls fail as before with words that say what to do.
The console asks before it opens (`ensure_keyring`); other commands ask when they first touch a key
(`install`, called by the entry point).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

import click

from chain.wallet.secret_service import (
    PrivateSecretService,
    SecretServiceError,
    login_keyring_file,
    missing_daemons,
    running_session,
    secret_service_reachable,
)

ATTEMPTS = 3
_asked = False  # asked once (or told not to ask any more): never again in this process
_provided = False  # this module made a keyring reachable (ours, or another lpc's)


def install() -> None:
    """Let keyring reads and writes of this process ask for the keyring when there is none."""
    from chain.wallet.keyring_store import provide_keyring_with

    provide_keyring_with(ensure_keyring)


def no_more_prompts() -> None:
    """From now on never ask (the console's screen owns the terminal)."""
    global _asked
    _asked = True


def ensure_keyring() -> bool:
    """Make a keyring reachable when there is none: the one another lpc of this user runs, else a
    private one started now with a password asked in the terminal. True when this module made one
    reachable. A wrong password, three times, is a ClickException (exit 1); nothing is changed."""
    global _asked, _provided
    if _asked or _provided:
        return _provided
    if secret_service_reachable() or missing_daemons():
        return False
    path = login_keyring_file()
    shared = running_session(path)
    if shared is not None:
        address, pid = shared
        _use_bus(address)
        _provided = True
        click.echo(f"using the keyring that lpc (pid {pid}) unlocked; it locks when that lpc exits", err=True)
        return True
    if not _interactive():
        return False
    _asked = True
    new = not path.exists()
    if new:
        click.echo(f"There is no OS keyring here (no Secret Service on D-Bus). lpc keeps its keys in a "
                   f"gnome-keyring, encrypted with a password you choose now: it is stored nowhere and "
                   f"asked each time lpc starts. The keyring file will be {path}.", err=True)
    for attempt in range(1, ATTEMPTS + 1):
        if new:
            password = click.prompt("New keyring password", hide_input=True, err=True,
                                    confirmation_prompt="Repeat the password", value_proc=_not_blank)
        else:
            password = click.prompt(f"Password of your keyring ({path})", hide_input=True, err=True)
        service = PrivateSecretService(path)
        try:
            unlocked = service.start(password)
        except SecretServiceError as exc:
            raise click.ClickException(f"cannot start a keyring for lpc: {exc}") from None
        if unlocked:
            _activate(service)
            click.echo("keyring unlocked for this lpc (it locks again when lpc exits)", err=True)
            return True
        left = ATTEMPTS - attempt
        if left:
            click.echo(f"That password does not unlock {path}; try again ({left} more).", err=True)
    raise click.ClickException(
        f"{ATTEMPTS} wrong passwords: the keyring at {path} stays locked and nothing was changed. Run lpc "
        "again with the password this keyring was created with (a forgotten one cannot be recovered: move "
        "the file aside to start a new, empty keyring)")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise click.UsageError("the password must not be empty: an empty one would leave the keys unencrypted")
    return value


def _interactive() -> bool:
    return (sys.stdin.isatty() and sys.stderr.isatty()
            and threading.current_thread() is threading.main_thread())


def _activate(service: PrivateSecretService) -> None:
    global _provided
    _provided = True
    _use_bus(service.address)
    atexit.register(service.stop)


def _use_bus(address: str) -> None:
    import keyring
    from keyring.backends import SecretService

    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address  # keyring, and the children lpc starts, use it
    keyring.set_keyring(SecretService.Keyring())
