"""`lpc` in a terminal on a machine without an OS keyring (a headless server over ssh): ask for the
password of the user's gnome-keyring and run a private one for this lpc (chain/wallet/secret_service.py).

The first time, when the user has no login keyring yet, the password is new: it is asked twice, and
it encrypts the keyring file gnome-keyring creates; it is stored nowhere. Later runs ask once; a wrong
password is refused, three times at most. The daemons stop when lpc exits.

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
    secret_service_reachable,
)

ATTEMPTS = 3
_asked = False
_service: PrivateSecretService | None = None


def install() -> None:
    """Let keyring reads and writes of this process ask for the keyring when there is none."""
    from chain.wallet.keyring_store import provide_keyring_with

    provide_keyring_with(lambda: ensure_keyring() is not None)


def ensure_keyring() -> PrivateSecretService | None:
    """The private Secret Service this process started (asking for its password now if it has to),
    or None when one was already reachable or none can be started here. A wrong password, three
    times, is a ClickException (exit 1); nothing is changed."""
    global _asked, _service
    if _service is not None or _asked:
        return _service
    if not _interactive() or secret_service_reachable() or missing_daemons():
        return None
    _asked = True
    path = login_keyring_file()
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
        service = PrivateSecretService()
        try:
            unlocked = service.start(password)
        except SecretServiceError as exc:
            raise click.ClickException(f"cannot start a keyring for lpc: {exc}") from None
        if unlocked:
            _activate(service)
            click.echo("keyring unlocked for this lpc (it locks again when lpc exits)", err=True)
            return service
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
    global _service
    import keyring
    from keyring.backends import SecretService

    _service = service
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = service.address  # keyring and the node's children use it
    keyring.set_keyring(SecretService.Keyring())
    atexit.register(service.stop)
