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
from chain.wallet.keys import SecretKey
from chain.wallet.signer import Signer
from chain.wallet.wallet import SERVICE, AccountInfo, Wallet, normalize_address

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
