"""What the console needs from the world, built once by the launcher (the composition root for the UI).

Screens call these from workers; they never touch web3, SQL or sockets themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chain.client import ChainClient
    from chain.network import NetworkProfile
    from core.settings import Settings
    from chain.tx import Journal, Signer
    from chain.wallet import Wallet
    from core.composition import AssembledNode, OnchainParts
    from core.node import Node
    from core.node.status import NodeStatus
    from core.store.journal import JournalEntry
    from gpu import GpuMonitor


@dataclass(eq=False)
class ConsoleServices:
    # The settings model; the launcher may give None and `settings_loader` instead: then it is loaded on
    # first use (the console does that right after its first frame). See the `settings` property below.
    settings: Settings | None = field(repr=False)
    profile: NetworkProfile
    client_factory: Callable[[], ChainClient]
    account: str | None = None
    gpu_monitor_factory: Callable[[], GpuMonitor] | None = None
    signer_factory: Callable[[str], Signer] | None = None  # address -> signer (keyring wallet)
    node_factory: Callable[[], AssembledNode] | None = None  # the node to start (console.launch.node_factory)
    node: Node | None = None  # the in-process node once started (changed on the UI thread only)
    node_parts: OnchainParts | None = None  # the running on-chain node's ledger, prices… (None offchain)
    opens_on_dashboard: bool = False  # the account is an orchestrator: the console opens on the Dashboard
    # read after the first paint: True turns the Overview the console opened on into the Dashboard
    is_orchestrator: Callable[[], bool] | None = None
    journal_factory: Callable[[], Journal] | None = None  # -> the SQL journal of the data dir
    wallet_factory: Callable[[], Wallet] | None = None  # None: the OS keyring's wallet
    _journal: Journal | None = None
    _wallet: Wallet | None = None
    _client: ChainClient | None = None
    _gpu_monitor: GpuMonitor | None = None

    settings_loader: Callable[[], Settings] | None = None  # -> the settings model; may raise (bad values)
    theme: str | None = None  # the configured theme, known before the settings model is loaded

    _client_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _settings_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _get_settings(self) -> Settings:
        """The settings model, loaded by `settings_loader` on first use (from any thread; a failure
        raises again on the next use)."""
        loaded = self.__dict__.get("_settings")
        if loaded is not None:
            return loaded
        with self._settings_lock:
            if self.__dict__.get("_settings") is None:
                if self.settings_loader is None:
                    raise RuntimeError("these console services were made without settings")
                self.__dict__["_settings"] = self.settings_loader()
            return self.__dict__["_settings"]

    def _set_settings(self, value: Settings | None) -> None:
        self.__dict__["_settings"] = value

    @property
    def settings_loaded(self) -> bool:
        return self.__dict__.get("_settings") is not None

    @property
    def theme_name(self) -> str:
        """The theme to paint with: the early value when the settings model is not loaded yet."""
        if self.theme is not None and not self.settings_loaded:
            return self.theme
        return self.settings.console.theme

    @property
    def client(self) -> ChainClient:
        """The chain client, made on first use (from a worker: it imports web3 and checks the chain id);
        a failure raises again on the next use."""
        with self._client_lock:
            if self._client is None:
                self._client = self.client_factory()
            return self._client

    @property
    def gpu_monitor(self) -> GpuMonitor | None:
        """The shared GPU monitor, started on first use; None when not configured."""
        if self._gpu_monitor is None and self.gpu_monitor_factory is not None:
            self._gpu_monitor = self.gpu_monitor_factory()
            self._gpu_monitor.start()
        return self._gpu_monitor

    # -- the node: built and started in a worker, adopted and released on the UI thread -----------
    def launch_node(self) -> tuple[AssembledNode, NodeStatus]:
        """Build and start a node (blocking until it listens; call from a worker). It is not this console's
        node until `adopt_node` (on the UI thread); when it does not start, what it opened is closed."""
        if self.node_factory is None:
            raise RuntimeError("this console was started without a node")
        built = self.node_factory()
        try:
            return built, built.node.start()
        except BaseException:
            built.node.stop()
            built.close()
            raise

    def adopt_node(self, built: AssembledNode) -> None:
        """Make a started node this console's (UI thread); a previous, stopped one is released."""
        if self.node is not None and self.node is not built.node:
            self.release_node()
        self.node, self.node_parts = built.node, built.parts

    def release_node(self) -> None:
        """Forget the node (UI thread), closing what its assembly opened; the node stops its own services
        (chain poller, redeemer, autopilot) when it stops serving."""
        node, parts = self.node, self.node_parts
        self.node, self.node_parts = None, None
        if node is not None:
            node.stop()
        if parts is not None:
            parts.store.close()

    def close(self) -> None:
        self.release_node()
        if self._gpu_monitor is not None:
            self._gpu_monitor.close()
            self._gpu_monitor = None

    def signer_for(self, address: str | None) -> Signer:
        """The signer of `address` from the wallet; raises a clear error when there is none."""
        if not address:
            raise RuntimeError("no account selected: pick one on the Wallet screen or with `lpc wallet use`")
        if self.signer_factory is None:
            raise RuntimeError("this console has no wallet: it was started read-only")
        return self.signer_factory(address)

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            if self.journal_factory is None:
                from chain.tx import MemoryJournal

                self._journal = MemoryJournal()
            else:
                self._journal = self.journal_factory()
        return self._journal

    # -- the wallet ----------------------------------------------------------------------------
    @property
    def wallet(self) -> Wallet:
        """The keyring wallet. Its methods raise WalletError with a message for
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
    def transactions(self, limit: int = 200) -> list[JournalEntry]:
        """The newest journal entries, newest first."""
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


# `settings` is a dataclass field (ConsoleServices(settings=…), services.settings = …) read through this
# property, so the settings model can arrive after the first frame.
ConsoleServices.settings = property(ConsoleServices._get_settings, ConsoleServices._set_settings,
                                    doc=ConsoleServices._get_settings.__doc__)
