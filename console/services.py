"""What the console needs from the world, built once by the launcher (the composition root for the UI).

Screens call these from workers; they never touch web3, SQL or sockets themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chain.client import ChainClient
    from chain.network import NetworkProfile
    from core.settings import Settings
    from chain.tx import Journal, Signer
    from chain.wallet import Wallet
    from console.screens.ai.overview import AIOverview
    from console.screens.ai.try_it import TryAnswer
    from core.ai.ports import AIWorkerPort, LLMChunk, Pipeline
    from core.composition import AssembledNode, OnchainParts
    from core.gateway.node import GatewayNode, GatewayStatus
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
    # the in-process gateway the Streams screen starts (None: core.composition.assemble_gateway of the settings)
    gateway_factory: Callable[[], GatewayNode] | None = None
    gateway: GatewayNode | None = None  # the in-process gateway once started (changed on the UI thread only)
    headless_gateway: str | None = None  # management API of a headless gateway to watch (None: [gateway].cli_addr)
    # the AI worker the AI screen starts when the node has none (None: core.composition.ai_worker of the settings)
    ai_worker_factory: Callable[[], AIWorkerPort] | None = None
    ai_worker: AIWorkerPort | None = None  # the AI worker started from the AI screen (changed on the UI thread only)
    _journal: Journal | None = None
    _wallet: Wallet | None = None
    _client: ChainClient | None = None
    _gpu_monitor: GpuMonitor | None = None
    _ai_start_note: str | None = None

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

    # -- the gateway: built and started in a worker, adopted and released on the UI thread ---------
    def launch_gateway(self) -> tuple[GatewayNode, GatewayStatus]:
        """Build and start a gateway (blocking until it listens; call from a worker). It is not this
        console's gateway until `adopt_gateway` (UI thread); when it does not start, it is stopped."""
        built = (self.gateway_factory or self._assemble_gateway)()
        try:
            return built, built.start()
        except BaseException:
            built.stop()
            raise

    def _assemble_gateway(self) -> GatewayNode:
        """The settings' gateway (`[gateway]`, as `lpc node --gateway` builds it); with no orchestrator
        configured, offchain, it uses this console's own node when that runs."""
        from core.composition import assemble_gateway

        overrides = {}
        gw = self.settings.gateway
        own = self.own_orchestrator()
        if gw.offchain and not gw.orch_addrs and not gw.orch_webhook_url and own:
            overrides["orch_addrs"] = (own,)
        return assemble_gateway(self.settings, overrides, signer=lambda: self.signer_for(self.account))

    def adopt_gateway(self, gateway: GatewayNode) -> None:
        """Make a started gateway this console's (UI thread); a previous one is stopped."""
        if self.gateway is not None and self.gateway is not gateway:
            self.release_gateway()
        self.gateway = gateway

    def release_gateway(self) -> None:
        """Forget the gateway (UI thread), stopping it (its ports close, its streams end)."""
        gateway, self.gateway = self.gateway, None
        if gateway is not None:
            gateway.stop()

    def gateway_funds(self):
        """The on-chain gateway's TicketBroker funds (`deposit`, `reserve`, wei) or None offchain / when
        none runs. Reads the chain: call from a worker. The broadcaster keeps its chain port on its payer
        (core.gateway.onchain.OnchainPayer.chain); an offchain one has none."""
        gateway = self.gateway
        chain = getattr(getattr(getattr(gateway, "broadcaster", None), "_payer", None), "chain", None)
        return chain.sender_funds() if chain is not None else None

    def gateway_segment(self, manifest_id: str, rendition: str, seq: int) -> bytes | None:
        """The bytes of one segment the console's gateway holds for HLS (None when gone or none runs)."""
        gateway = self.gateway
        return gateway.playlists.segment(manifest_id, rendition, seq) if gateway is not None else None

    def headless_gateway_addr(self) -> str | None:
        """Where a headless `lpc node --gateway` of this installation answers /status (its -cliAddr)."""
        return self.headless_gateway or self.settings.gateway.cli_addr

    def headless_streams(self):
        """The live streams of the headless gateway (core.gateway.status_client.read_streams; a socket:
        call from a worker). StatusUnavailable when none answers."""
        from core.gateway.status_client import StatusUnavailable, read_streams

        addr = self.headless_gateway_addr()
        if not addr:
            raise StatusUnavailable("no management address configured ([gateway] cli_addr)")
        return read_streams(addr)

    def selftest_chain(self):
        """What the self-test pays with: None while the gateway settings are offchain ([gateway] offchain),
        else the on-chain gateway of this console's account (its wallet key). From a worker (it reads the
        chain); raises with what to do when there is no account or key."""
        if self.settings.gateway.offchain:
            return None
        from chain.services.gateway_chain import Web3GatewayChain

        return Web3GatewayChain(self.client, self.signer_for(self.account))

    def own_orchestrator(self) -> str | None:
        """host:port of this console's running node's service port (what the self-test defaults to)."""
        node = self.node
        if node is None:
            return None
        status = node.status()
        if not status.running or not status.listening:
            return None
        host, _, port = status.listening.rpartition(":")
        return f"{'127.0.0.1' if host in ('', '0.0.0.0', '[::]', '::') else host}:{port}"

    # -- AI (issue #12): the node's worker, else one started from the AI screen ------------------
    def ai_source(self) -> tuple[AIWorkerPort | None, str]:
        """The AI worker the AI screen shows and whose it is: the running node's (`Node.ai`, "node"), else
        the one started from the screen ("console"), else (None, "")."""
        node_ai = getattr(self.node, "ai", None) if self.node is not None else None
        if node_ai is not None:
            return node_ai, "node"
        if self.ai_worker is not None:
            return self.ai_worker, "console"
        return None, ""

    def ai_overview(self) -> AIOverview:
        """One read of that worker: its models (state, device, memory, requests, latency, price) and the
        device they run on with why. In memory, but the first device probe imports torch: from a worker."""
        from console.screens.ai.overview import AIOverview

        worker, source = self.ai_source()
        if worker is None:
            return AIOverview("")
        models = tuple(worker.models())
        device = next((m.device for m in models if m.device), "")
        reason = ""
        if models:
            from core.ai.device import probe_device

            probed, reason = probe_device()
            device = device or probed
        return AIOverview(source, models, device, reason)

    def _assemble_ai_worker(self) -> AIWorkerPort:
        """The AI worker `lpc node --aiWorker` of these settings would run (its aiModels, else the bundled
        defaults; user weights from its models dir), built by the composition root and not started."""
        from core.composition import ai_worker
        from core.node.config import node_config

        return ai_worker(node_config(self.settings))

    def ai_start_note(self) -> str:
        """What starting a worker here would load and the memory it takes (a worker is built, read and
        dropped: nothing loads; the answer is kept for the next time the screen opens). From a worker."""
        from console.screens.ai.overview import start_note

        if self._ai_start_note is None:
            built = (self.ai_worker_factory or self._assemble_ai_worker)()
            try:
                self._ai_start_note = start_note(tuple(built.models()))
            finally:
                built.stop()
        return self._ai_start_note

    def launch_ai_worker(self) -> AIWorkerPort:
        """Build and start an AI worker (its warm models load in the background; call from a worker). It is
        not this console's until `adopt_ai_worker` (UI thread); when it does not start, it is stopped."""
        built = (self.ai_worker_factory or self._assemble_ai_worker)()
        try:
            built.start()
        except BaseException:
            built.stop()
            raise
        return built

    def adopt_ai_worker(self, worker: AIWorkerPort) -> None:
        """Make a started AI worker this console's (UI thread); a previous one is stopped."""
        old = self.release_ai_worker()
        if old is not None and old is not worker:
            old.stop()
        self.ai_worker = worker

    def release_ai_worker(self) -> AIWorkerPort | None:
        """Forget the console's AI worker (UI thread) and hand it back: the caller stops it, from a worker
        (stopping waits for a model that is loading, then frees every model)."""
        worker, self.ai_worker = self.ai_worker, None
        return worker

    def _ai_for_try(self) -> AIWorkerPort:
        worker, _ = self.ai_source()
        if worker is None:
            from core.ai.ports import ModelUnavailable

            raise ModelUnavailable("no AI worker runs in this console: press M on the AI screen to start one")
        return worker

    def ai_try(self, pipeline: Pipeline, prompt: str, path: str = "") -> TryAnswer:
        """One request through the worker as the gateway would send it, from what the try-it panel holds;
        produced files are saved under <data dir>/ai-try. Blocking (a model runs): from a worker. Raises the
        AIError of whatever failed (a bad path, no weights, all slots busy, the model's fault)."""
        import time

        from console.screens.ai.try_it import TRY_DIR, answer_of, build_request

        worker = self._ai_for_try()
        request = build_request(pipeline, prompt, path)
        model_id = worker.resolve(pipeline, "")
        cold = any(m.pipeline == pipeline.value and m.model_id == model_id and m.state != "warm"
                   for m in worker.models())
        started = time.monotonic()
        result = worker.run(pipeline, request)
        return answer_of(result, pipeline=pipeline, model_id=model_id, elapsed_s=time.monotonic() - started,
                         out_dir=self.settings.data_dir / TRY_DIR, loaded_first=cold)

    def ai_try_stream(self, prompt: str) -> Iterator[LLMChunk]:
        """The llm's answer to `prompt` as it is generated (a blocking iterator: from a worker); closing
        it early stops the generation and frees the slot."""
        from console.screens.ai.try_it import build_request
        from core.ai.ports import Pipeline

        worker = self._ai_for_try()
        request = build_request(Pipeline.LLM, prompt, stream=True)
        worker.resolve(Pipeline.LLM, "")
        return worker.stream(request)

    def close(self) -> None:
        self.release_gateway()
        ai = self.release_ai_worker()
        if ai is not None:
            ai.stop()
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
