"""The well-known anvil development accounts (mnemonic "test test … junk").

These keys are public knowledge and fund nothing outside a local devnet. They are derived here
from the mnemonic rather than written out, and they are never used on any other network.
"""

from __future__ import annotations

from functools import cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
DERIVATION_PATH = "m/44'/60'/0'/0/{}"


@cache
def dev_account(index: int) -> LocalAccount:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL_MNEMONIC, account_path=DERIVATION_PATH.format(index))


def dev_accounts(count: int) -> list[LocalAccount]:
    return [dev_account(i) for i in range(count)]
