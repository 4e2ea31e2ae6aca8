"""The keyring wallet: accounts whose private keys live only in the OS keyring (Secret Service on
Linux, Keychain on macOS, Credential Locker on Windows), with signers that never show their key."""

from chain.wallet.errors import (
    AccountExists,
    InvalidAddress,
    InvalidKeystore,
    InvalidLabel,
    InvalidPassphrase,
    InvalidPrivateKey,
    KeyringFailure,
    KeyringLocked,
    KeyringUnavailable,
    NoAccount,
    SigningError,
    UnknownAccount,
    WalletError,
    WrongPassphrase,
)

# The rest loads eth_account (about a second of imports): only when first asked for, so the private
# Secret Service (chain.wallet.secret_service) and the errors cost nothing at the console's start.
_LAZY = {
    "SecretKey": "chain.wallet.keys",
    "Signer": "chain.wallet.signer",
    "SERVICE": "chain.wallet.wallet",
    "AccountInfo": "chain.wallet.wallet",
    "Wallet": "chain.wallet.wallet",
    "normalize_address": "chain.wallet.wallet",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SERVICE",
    "AccountExists",
    "AccountInfo",
    "InvalidAddress",
    "InvalidKeystore",
    "InvalidLabel",
    "InvalidPassphrase",
    "InvalidPrivateKey",
    "KeyringFailure",
    "KeyringLocked",
    "KeyringUnavailable",
    "NoAccount",
    "SecretKey",
    "Signer",
    "SigningError",
    "UnknownAccount",
    "Wallet",
    "WalletError",
    "WrongPassphrase",
    "normalize_address",
]
