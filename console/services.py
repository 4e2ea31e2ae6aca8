"""What the console needs from the world, built once by the launcher (the composition root for the UI).

Screens call these from workers; they never touch web3, SQL or sockets themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from chain.client import ChainClient
from chain.network import NetworkProfile
from core.settings import Settings


@dataclass
class ConsoleServices:
    settings: Settings
    profile: NetworkProfile
    client_factory: Callable[[], ChainClient]
    account: str | None = None
    _client: ChainClient | None = None

    @property
    def client(self) -> ChainClient:
        if self._client is None:
            self._client = self.client_factory()
        return self._client
