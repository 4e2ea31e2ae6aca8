"""What can go wrong with the keyring wallet. Every message says what was wrong and what to do, and
none carries key material: errors are built from our own words, never from a caught exception that
saw a key."""

from __future__ import annotations

KEYRING_HELP = (
    "on a desktop unlock your login keyring; on a server install gnome-keyring and dbus and run lpc in a "
    "terminal (it starts a keyring of its own and asks for its password), or without a terminal under "
    "dbus-run-session with `gnome-keyring-daemon --unlock` fed a password on stdin (see README)"
)


class WalletError(Exception):
    """Base of every wallet error; `str(exc)` is a complete one-line message for the user."""


class KeyringUnavailable(WalletError):
    """There is no OS keyring to keep keys in (no Secret Service, no D-Bus session, fail backend)."""

    def __init__(self, detail: str | None = None):
        msg = f"no OS keyring available: {KEYRING_HELP}"
        if detail:
            msg += f" [{detail}]"
        super().__init__(msg)


class KeyringLocked(WalletError):
    """The keyring exists but is locked, and unlocking it failed or the prompt was dismissed."""

    def __init__(self, detail: str | None = None):
        msg = (
            "the OS keyring is locked and could not be unlocked: unlock your login keyring (e.g. with "
            "Seahorse, or on a server `echo PASSWORD | gnome-keyring-daemon --unlock --replace`) and retry"
        )
        if detail:
            msg += f" [{detail}]"
        super().__init__(msg)


class KeyringFailure(WalletError):
    """The keyring answered with an error we don't recognise more precisely."""


class InvalidPrivateKey(WalletError):
    """The hex text is not a usable secp256k1 private key."""


class InvalidKeystore(WalletError):
    """The keystore file is not a JSON keystore we can read."""


class WrongPassphrase(WalletError):
    """The passphrase does not open the keystore."""


class InvalidPassphrase(WalletError):
    """The passphrase is not acceptable for a new keystore (e.g. empty)."""


class InvalidAddress(WalletError):
    """The text is not an Ethereum address."""


class InvalidLabel(WalletError):
    """The label is too long or contains control characters."""


class UnknownAccount(WalletError):
    """The address is not in the keyring wallet."""


class AccountExists(WalletError):
    """Importing an address that is already in the keyring (never overwritten silently)."""


class NoAccount(WalletError):
    """An operation needs an account and the wallet has none, or none is chosen."""


class SigningError(WalletError):
    """Signing failed; the message names the cause, never the key."""
