"""The wallet's view of the OS keyring: get/set/delete of one service's entries, with every keyring
failure turned into a wallet error that says what to do.

Before the first read or write of the process, a provider set with `provide_keyring_with` may make a
keyring reachable when there is none (the `lpc` entry point asks for the password of a private
gnome-keyring: chain/wallet/secret_service.py); `state()` never consults it, it only looks.

Error messages come from the keyring backend (D-Bus and Secret Service errors); they never see the
secret we store, but they are still scrubbed of it before being shown.
"""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass
from typing import Callable

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import fail

from chain.wallet.errors import KeyringFailure, KeyringLocked, KeyringUnavailable

log = logging.getLogger(__name__)

# secretstorage's exceptions, matched by name so that other platforms need not import it.
_UNAVAILABLE = {"SecretServiceNotAvailableException"}
_LOCKED = {"LockedException", "PromptDismissedException"}

_provider: Callable[[], object] | None = None


def provide_keyring_with(provider: Callable[[], object] | None) -> None:
    """`provider()` is called once, before the first get/set/delete of this process; it may make a
    keyring reachable (and set keyring's backend to it)."""
    global _provider
    _provider = provider


@dataclass(frozen=True)
class KeyringState:
    """What the OS keyring looks like, asked without unlocking or creating anything (no prompt)."""

    backend: str  # the keyring backend's name, e.g. "SecretService Keyring"
    has_collection: bool | None  # Secret Service: is there a default collection? None: cannot tell
    locked: bool | None  # is that collection locked? None: the backend cannot tell without unlocking


class KeyringStore:
    """Entries of one keyring service. `backend` defaults to `keyring.get_keyring()` at each call,
    so a backend chosen later with `keyring.set_keyring` is honoured."""

    def __init__(self, service: str, backend: KeyringBackend | None = None):
        self.service = service
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def get(self, name: str) -> str | None:
        return self._call("read", name, lambda b: b.get_password(self.service, name))

    def set(self, name: str, value: str) -> None:
        self._call("write", name, lambda b: b.set_password(self.service, name, value), secret=value)

    def delete(self, name: str) -> bool:
        """Delete an entry; False if there was none."""
        if self.get(name) is None:
            return False
        self._call("delete", name, lambda b: b.delete_password(self.service, name))
        return True

    def state(self) -> KeyringState:
        """The backend and, on Secret Service, whether its default collection exists and is locked.
        Nothing is unlocked, created, read or started: a Secret Service the bus could start but that is
        not running counts as unavailable (asking it anything would start it)."""
        backend = self.backend
        if isinstance(backend, fail.Keyring):
            raise KeyringUnavailable("keyring found no usable backend")
        name = f"{getattr(backend, 'name', type(backend).__name__)}"
        from keyring.backends import SecretService

        if not isinstance(backend, SecretService.Keyring):
            return KeyringState(name, has_collection=None, locked=None)
        import secretstorage

        try:
            connection = secretstorage.dbus_init()
        except Exception as exc:  # no session bus, or nothing owns org.freedesktop.secrets
            raise KeyringUnavailable(_detail(exc, None)) from None
        with closing(connection):
            if not _secrets_running(connection):
                raise KeyringUnavailable("no Secret Service is running on the session bus")
            path = getattr(backend, "preferred_collection", None) or secretstorage.collection.DEFAULT_COLLECTION
            try:
                locked = secretstorage.Collection(connection, path).is_locked()
            except secretstorage.exceptions.ItemNotFoundException:
                return KeyringState(name, has_collection=False, locked=None)
            except Exception as exc:  # noqa: BLE001 - D-Bus errors: the service is there but not answering
                raise KeyringUnavailable(_detail(exc, None)) from None
            return KeyringState(name, has_collection=True, locked=locked)

    def _call(self, action: str, name: str, op, secret: str | None = None):
        global _provider
        if _provider is not None:
            provider, _provider = _provider, None
            provider()
        backend = self.backend
        if isinstance(backend, fail.Keyring):
            raise KeyringUnavailable("keyring found no usable backend")
        problem: Exception | None = None
        try:
            return op(backend)
        except keyring.errors.NoKeyringError:
            problem = KeyringUnavailable("keyring found no usable backend")
        except keyring.errors.KeyringLocked as exc:
            problem = KeyringLocked(_detail(exc, secret))
        except keyring.errors.InitError as exc:
            detail = _detail(exc, secret)
            if "dismissed" in detail.lower() or "locked" in detail.lower():
                problem = KeyringLocked(detail)
            else:
                problem = KeyringUnavailable(detail)
        except Exception as exc:  # D-Bus, Secret Service and backend-specific errors
            detail = _detail(exc, secret)
            if type(exc).__name__ in _UNAVAILABLE:
                problem = KeyringUnavailable(detail)
            elif type(exc).__name__ in _LOCKED or "locked" in detail.lower() or "dismissed" in detail.lower():
                problem = KeyringLocked(detail)
            else:
                problem = KeyringFailure(
                    f"the OS keyring could not {action} the entry {name!r} of {self.service!r} ({detail}): "
                    "check the keyring is running and unlocked, then retry"
                )
        log.debug("keyring %s of %s/%s failed: %s", action, self.service, name, type(problem).__name__)
        raise problem


def _secrets_running(connection) -> bool:
    """Does a process own org.freedesktop.secrets on this bus now? (Asked of the bus, which starts nothing.)"""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy

    try:
        return bool(Proxy(message_bus, connection, timeout=3).NameHasOwner("org.freedesktop.secrets")[0])
    except Exception as exc:  # noqa: BLE001 - a bus that cannot answer this has no usable keyring
        raise KeyringUnavailable(_detail(exc, None)) from None


def _detail(exc: Exception, secret: str | None) -> str:
    text = f"{type(exc).__name__}: {str(exc).strip()}"[:300]
    if secret and secret.lower() in text.lower():
        return type(exc).__name__
    return text
