"""First start of a data dir on the devnet: give it an account to act with.

The seeded devnet's orchestrator #1 (a well-known anvil development key) becomes the default account,
and its key goes into the OS keyring so the console can sign on the devnet straight away. The label
says plainly that the key is public and for the devnet only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.quick_settings import EarlySettings
    from core.settings import Settings

DEVNET_LABEL = "devnet orchestrator #1 (public anvil key: devnet only)"


@dataclass(frozen=True)
class FirstRunResult:
    account: str | None
    note: str | None = None


def ensure_devnet_account(settings: Settings | EarlySettings) -> FirstRunResult:
    """`settings` is the model or the console's early settings (whose network is Network's value: the
    str enum compares equal to it), so the console's usual start gets here without pydantic."""
    if settings.network != "devnet" or settings.account:
        return FirstRunResult(settings.account)
    from core.settings import write_setting
    from chain.devnet.accounts import dev_account  # eth_account: only on a first run
    from chain.devnet.seed import DEFAULT_ACCOUNT_INDEX
    from chain.wallet import AccountExists, Wallet, WalletError

    dev = dev_account(DEFAULT_ACCOUNT_INDEX)
    note = None
    try:
        Wallet().import_hex(dev.key.hex(), label=DEVNET_LABEL)
    except AccountExists:
        pass
    except WalletError as exc:
        note = f"watch-only: the devnet account's key could not be stored ({exc})"
    write_setting(settings.data_dir, "account", dev.address)
    return FirstRunResult(dev.address, note)
