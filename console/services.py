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
    node_factory: Callable[[], object] | None = None  # -> core.composition.AssembledNode (not started)
    node: object | None = None  # the in-process node once started
    node_parts: object | None = None  # core.composition.OnchainParts of the running on-chain node (ledger, prices…)
    opens_on_dashboard: bool = False  # the account is an orchestrator: the console opens on the Dashboard
    journal_factory: Callable[[], object] | None = None  # -> chain.tx.Journal (SQL journal)
    wallet_factory: Callable[[], object] | None = None  # -> chain.wallet.Wallet (None: the OS keyring's)
    _journal: object | None = None
    _wallet: object | None = None
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

    def start_node(self):
        """Start the in-process node (blocking until it listens); returns its status."""
        if self.node_factory is None:
            raise RuntimeError("this console was started without a node")
        if self.node is None:
            built = self.node_factory()
            self.node, self.node_parts = built.node, built.parts
        try:
            return self.node.start()
        except Exception:
            self._close_parts()
            raise

    def stop_node(self) -> None:
        if self.node is not None:
            self.node.stop()
            self.node = None
        self._close_parts()

    def _close_parts(self) -> None:
        # the node stops its services (chain poller, redeemer, autopilot) when it stops serving
        parts, self.node_parts = self.node_parts, None
        if parts is not None:
            parts.store.close()

    def close(self) -> None:
        self.stop_node()
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

    # -- the wallet ----------------------------------------------------------------------------
    @property
    def wallet(self):
        """The keyring wallet (chain.wallet.Wallet). Its methods raise WalletError with a message for
        the user when the keyring is locked or missing; call them from a worker."""
        if self._wallet is None:
            if self.wallet_factory is None:
                from chain.wallet import Wallet

                self._wallet = Wallet()
            else:
                self._wallet = self.wallet_factory()
        return self._wallet

    def switch_account(self, address: str) -> None:
        """Act as `address` from now on, and remember it in settings.toml."""
        from core.settings import write_setting

        self.account = address
        write_setting(self.settings.data_dir, "account", address)

    # -- the transaction journal -------------------------------------------------------------------
    def transactions(self, limit: int = 200) -> list:
        """The newest journal entries (core.store.journal.JournalEntry), newest first."""
        journal = self.journal
        if hasattr(journal, "read"):
            return journal.read(limit)
        from core.store.journal import JournalEntry

        entries = getattr(journal, "entries", {})
        return [JournalEntry(id=i, created_at=None, network=e.get("network", ""), sender=e.get("sender", ""),
                             to=e.get("to", ""), action=e.get("action", ""), summary=e.get("summary", ""),
                             status=e.get("status", ""), tx_hash=e.get("tx_hash"),
                             block_number=e.get("block_number"), gas_used=e.get("gas_used"),
                             error=e.get("error"))
                for i, e in sorted(entries.items(), reverse=True)][:limit]
