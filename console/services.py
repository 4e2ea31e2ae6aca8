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
    gpu_monitor_factory: Callable[[], object] | None = None
    signer_factory: Callable[[str], object] | None = None  # address -> signer (keyring wallet)
    journal_factory: Callable[[], object] | None = None  # -> chain.tx.Journal (SQL journal)
    _journal: object | None = None
    _client: ChainClient | None = None
    _gpu_monitor: object | None = None

    @property
    def client(self) -> ChainClient:
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    @property
    def gpu_monitor(self):
        """The shared GPU monitor (gpu.GpuMonitor), started on first use; None when not configured."""
        if self._gpu_monitor is None and self.gpu_monitor_factory is not None:
            self._gpu_monitor = self.gpu_monitor_factory()
            self._gpu_monitor.start()
        return self._gpu_monitor

    def close(self) -> None:
        if self._gpu_monitor is not None:
            self._gpu_monitor.close()
            self._gpu_monitor = None

    def signer_for(self, address: str | None):
        """The signer of `address` from the wallet; raises a clear error when there is none."""
        if not address:
            raise RuntimeError("no account selected: pick one on the Wallet screen or with `lpc wallet use`")
        if self.signer_factory is None:
            raise RuntimeError("this console has no wallet: it was started read-only")
        return self.signer_factory(address)

    @property
    def journal(self):
        if self._journal is None:
            if self.journal_factory is None:
                from chain.tx import MemoryJournal

                self._journal = MemoryJournal()
            else:
                self._journal = self.journal_factory()
        return self._journal
