"""The composition root: builds the chain client, the node, the GPU monitor and the store from settings.

This is the one module in core that wires chain/ and gpu/ in; everything else in core talks to ports.
`assemble_node` is the one way a node is built, for the console and `lpc node` alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chain.client import ChainClient, ChainError
from chain.network import ARBITRUM_ONE, ARBITRUM_ONE_PUBLIC_RPC, NetworkProfile, devnet_profile
if TYPE_CHECKING:
    from core.settings import Settings
    from core.node import Node
    from core.node.onchain import OnchainPayments
    from core.payments.alerts import Alerts
    from core.payments.autopilot import RewardAutopilot
    from core.payments.config import PaymentConfig
    from core.payments.feed import PriceFeedWatcher
    from core.payments.ledger import TicketLedger
    from core.payments.ports import TicketChain
    from core.payments.pricing import PriceBook
    from core.payments.receipts import TicketReceipts
    from core.payments.redeemer import RedemptionWorker
    from core.store import Store
    from core.store.journal import SqlJournal


def network_profile(settings: Settings) -> tuple[NetworkProfile, str]:
    """The profile and RPC URL for the configured network. `settings` may also be the console's early
    settings (console/quick_settings.py: network is Network's value, which the str enum equals), so the
    console finds its chain before its first frame without importing the settings model (pydantic)."""
    if settings.network == "arbitrum-one":  # Network.ARBITRUM_ONE
        return ARBITRUM_ONE, settings.rpc_url or ARBITRUM_ONE_PUBLIC_RPC
    running = settings.data_dir / "devnet" / "devnet.json"
    try:
        info = json.loads(running.read_text())
    except FileNotFoundError:
        raise ChainError(
            f"the devnet of {settings.data_dir} is not running; start it with `lpc devnet up` "
            "(or run `lpc`, which starts it)"
        ) from None
    profile = devnet_profile(
        controller=info["controller"],
        poll_creator=info["poll_creator"],
        ai_service_registry=info["ai_service_registry"],
        chain_id=info["chain_id"],
        multicall3=info.get("multicall3", ARBITRUM_ONE.multicall3),
        price_feed=info.get("price_feed"),
    )
    return profile, settings.rpc_url or info["rpc_url"]


def chain_client(settings: Settings, *, check: bool = True) -> ChainClient:
    profile, rpc_url = network_profile(settings)
    client = ChainClient(rpc_url, profile)
    if check:
        client.check_chain()
    return client


def gpu_monitor(settings: Settings, node_pids: tuple[int, ...] = ()):
    """The GPU monitor for this installation: real NVML, or the labelled double when asked for."""
    from gpu import create_monitor

    return create_monitor(simulate=settings.gpu.simulate, interval=settings.gpu.interval, node_pids=node_pids)


def gpu_metrics(monitor):
    """Prometheus text of the GPU monitor's latest snapshot, for the node's /metrics (go-livepeer exports
    no GPU metrics; dashboards can put these beside the node's own)."""
    from gpu import prometheus_text

    def render() -> str:
        snap = monitor.latest() or monitor.sample()
        return prometheus_text(snap)

    return render


def data_store(settings: Settings, *, create: bool = True) -> Store:
    """The SQL store of this installation's data dir (StoreError saying what is wrong with it); with
    `create=False` (read-only commands) a missing data dir or database is an error, not made."""
    from core.store import open_store

    return open_store(settings.data_dir, create=create)


def tx_journal(settings: Settings) -> SqlJournal:
    """The transaction journal every write of the console and the CLI is recorded in."""
    from core.store.journal import SqlJournal

    return SqlJournal(data_store(settings))


@contextmanager
def journal_session(settings: Settings):
    """The transaction journal for one write, its store closed after it (a long-running gateway that
    seldom writes keeps no store open)."""
    store = data_store(settings)
    try:
        from core.store.journal import SqlJournal

        yield SqlJournal(store)
    finally:
        store.close()


class AIModelsProblem(ValueError):
    """The node's AI models cannot be read: a bad aiModels.json (the message names the file, the entry and
    the field) or a price the models need and the node cannot give."""


def ai_specs(config) -> tuple:
    """The ModelSpecs of `config` (a NodeConfig): its -aiModels (a file path or the inline form), else every
    pipeline with a bundled model. Priced at -pricePerUnit/-pixelsPerUnit where an entry gives no price; a
    currency default (0.5USD) is not a wei amount, so then an entry must carry its own price. Offchain the
    prices are ignored, as go-livepeer ignores them. AIModelsProblem saying what is wrong."""
    from fractions import Fraction

    from core.ai.models_file import AIModelsError, load_ai_models
    from core.payments.pricing import PriceError, parse_price

    try:
        amount = parse_price(config.price_per_unit)
    except PriceError as exc:
        raise AIModelsProblem(f"--price-per-unit: {exc}") from None
    default = Fraction(amount.value) if amount.currency == "WEI" else Fraction(0)
    try:
        specs = tuple(load_ai_models(config.ai_models, default_price=default, default_pixels=config.pixels_per_unit,
                                     offchain=config.offchain))
    except AIModelsError as exc:
        raise AIModelsProblem(str(exc)) from None
    return specs


def ai_currencies(ai) -> set[str]:
    """The currencies (USD …) the AI worker's models are priced in: the price feed must quote them."""
    return {s.currency.upper() for s in getattr(ai, "specs", ()) if s.currency and s.currency.upper() != "WEI"}


def check_ai_models(config) -> None:
    """Read the AI models as the node will at start, so `lpc node` stops with the reason before binding."""
    ai_specs(config)


def ai_worker(config):
    """The AI worker of a node (core.ai.worker.AIWorker over ai_specs(config), user weights from
    config.models_dir()), built and not started. The one place it is assembled: the console's node and
    `lpc node` both get it through assemble_node."""
    from core.ai.worker import AIWorker

    return AIWorker(ai_specs(config), models_dir=config.models_dir())


class NodeUnavailable(RuntimeError):
    """The node cannot be built: the message says why and what to do (no signing key, not an orchestrator,
    the chain unreachable)."""


@dataclass(frozen=True)
class AssembledNode:
    """A built node (not started) and, on chain, the parts around it (ledger, prices, store…)."""

    node: Node
    parts: OnchainParts | None = None

    def close(self) -> None:
        """Release what the assembly opened (the on-chain store); the node stops its own services."""
        if self.parts is not None:
            self.parts.store.close()


def assemble_node(settings: Settings, overrides: Mapping[str, Any] | None = None, *,
                  signer: Callable[[], Any] | None = None, payment_config: PaymentConfig | None = None,
                  store_dir: Path | None = None, monitor=None) -> AssembledNode:
    """The node of this installation, offchain or on chain as `node.offchain` (or the override) says.

    `overrides` are explicit flags only (core.node.config.node_config). On chain, `signer()` gives the
    orchestrator's signer (asked only then; it may raise NodeUnavailable saying why there is none) and the
    ledger lives in the store of `store_dir` (default: the data dir). With a GPU `monitor` its figures are
    served beside the node's own on /metrics."""
    from core.node import Node
    from core.node.config import node_config

    config = node_config(settings, overrides)
    try:
        ai = ai_worker(config) if config.ai_worker else None
    except AIModelsProblem as exc:
        raise NodeUnavailable(str(exc)) from None
    extensions = node_extensions(config, ai)
    if config.offchain:
        built = AssembledNode(Node(config, ai=ai, extensions=extensions))
    else:
        if signer is None:
            raise NodeUnavailable("the on-chain node signs as an orchestrator, and no account was given")
        key = signer()
        from core.store import open_store

        store = open_store(store_dir) if store_dir is not None else data_store(settings)
        try:
            node, parts = onchain_node(settings, config, key, payment_config, store=store, ai=ai,
                                       extensions=extensions)
        except ChainError as exc:
            store.close()
            raise NodeUnavailable(str(exc)) from None
        except BaseException:
            store.close()
            raise
        built = AssembledNode(node, parts)
    if monitor is not None:
        built.node.extra_metrics = gpu_metrics(monitor)
    return built


def node_extensions(config, ai=None) -> list:
    """The node's extensions (core/node/extensions.py) that `config` asks for: each serves its own routes
    beside /segment and the AI routes. The one place they are chosen, for the console's node and `lpc node`."""
    extensions: list = []
    return extensions


def onchain_node(settings: Settings, node_config, signer, payment_config=None, *, store=None, ai=None,
                 extensions=()):
    """Everything an on-chain node needs around the servers, wired: the TicketBroker client signing with
    `signer` (a keyring chain.wallet.Signer, or a devnet dev key), the payment policy, the ticket ledger
    and its redemption worker, prices, the reward autopilot and the management API. `ai`: the node's AI
    worker (ai_worker(node_config)). Returns (Node, OnchainParts)."""
    import threading
    from dataclasses import replace

    from chain.services.payment_ports import BrokerClient, RewardClient
    from core.node import Node
    from core.node.onchain import OnchainPayments
    from core.payments.alerts import Alerts
    from core.payments.api import PaymentsApi
    from core.payments.autopilot import AutopilotConfig, RewardAutopilot
    from core.payments.config import PaymentConfig
    from core.payments.ledger import TicketLedger
    from core.payments.params import ParamsMaker, expiration_blocks
    from core.payments.feed import NoFeed, PriceFeedWatcher
    from core.payments.pricing import PriceBook, PriceEntry, parse_price
    from core.payments.receipts import TicketReceipts
    from core.payments.redeemer import RedeemerConfig, RedemptionWorker
    from core.store.journal import SqlJournal

    pc: PaymentConfig = payment_config or PaymentConfig()
    client = chain_client(settings)
    store = store or data_store(settings)
    journal = SqlJournal(store)
    lock = threading.Lock()
    broker = BrokerClient(client, signer, journal, tx_lock=lock)
    view = broker.view()
    if not view.registered:
        raise ChainError(f"{broker.address} is not a registered orchestrator on {client.profile.name}: "
                         "self-bond and set the reward cut and fee share first (`lpc orchestrator configure`)")
    ledger = TicketLedger(store)
    alerts = Alerts(store)
    given = parse_price(node_config.price_per_unit)
    prices = PriceBook(store, default=PriceEntry("", given.value, node_config.pixels_per_unit, given.currency),
                       auto_adjust=pc.auto_adjust_price)
    feed = None
    feed_address = pc.price_feed or settings.node.price_feed or client.profile.price_feed
    ai_priced_in = ai_currencies(ai)
    if feed_address:
        from chain.services.price_feed import PriceFeedReader

        feed = PriceFeedWatcher(PriceFeedReader(client, feed_address), alerts=alerts,
                                poll_s=pc.price_feed_poll_s or settings.node.price_feed_poll_s,
                                required=lambda: prices.currencies() | ai_priced_in)
        prices.rates = feed
    elif ai_priced_in:  # each request would be refused: say so at start instead
        raise ChainError(f"AI models are priced in {', '.join(sorted(ai_priced_in))}, and {client.profile.name} has "
                         "no ETH price feed to convert that to wei: set node.price_feed (go-livepeer's "
                         "-priceFeedAddr), or price the models in wei")
    else:
        prices.rates = NoFeed(f"none is configured for {client.profile.name}: set node.price_feed to the feed's "
                              "address (go-livepeer's -priceFeedAddr)")
    exp = expiration_blocks(view.round_length, view.ticket_validity_period, pc.params_expiration_blocks)
    params = ParamsMaker(bytes.fromhex(broker.address[2:]), ticket_ev=pc.ticket_ev, max_face_value=pc.max_face_value,
                         redeem_gas=pc.redeem_gas, expiration=exp)
    payments = OnchainPayments(broker, ledger, prices, params, poll_s=pc.poll_s)
    payments.receipts = receipts = TicketReceipts(store)

    def count_redeemed(entry, paid: int) -> None:
        if hasattr(payments.metrics, "redeemed"):
            payments.metrics.redeemed(entry.sender, paid or 0)

    redeemer = RedemptionWorker(
        ledger, broker, RedeemerConfig(max_gas_price=pc.max_gas_price, backoff_base_s=pc.redeem_backoff_s,
                                       poll_s=pc.poll_s), alerts=alerts, on_redeemed=count_redeemed)
    services = ([feed] if feed is not None else []) + [payments, redeemer, receipts]  # the feed first: USD needs it
    caps = settings.node.gateway_max_prices
    if caps:
        from fractions import Fraction

        from core.payments.caps import PriceCapWatch

        services.append(PriceCapWatch(payments, {k: Fraction(str(v)) for k, v in caps.items()}, alerts,
                                      poll_s=max(pc.poll_s, 1.0)))
    autopilot = None
    if pc.reward:
        autopilot = RewardAutopilot(
            RewardClient(client, signer, journal, tx_lock=lock), store,
            AutopilotConfig(transcoder=pc.reward_for, initialize_rounds=pc.initialize_rounds,
                            max_gas_price=pc.max_gas_price, poll_s=pc.reward_poll_s), alerts=alerts)
        services.append(autopilot)
    api = PaymentsApi(prices, ledger, autopilot, alerts, redeemer, receipts)
    node = Node(replace(node_config, offchain=False), payments, services=services, api=api, ai=ai,
                extensions=extensions)
    return node, OnchainParts(payments, ledger, prices, redeemer, autopilot, alerts, store, broker, feed, receipts)


@dataclass(frozen=True)
class OnchainParts:
    """The parts around a running on-chain node that the console reads and changes (prices at runtime)."""

    payments: OnchainPayments
    ledger: TicketLedger
    prices: PriceBook
    redeemer: RedemptionWorker
    autopilot: RewardAutopilot | None  # None with --no-reward
    alerts: Alerts
    store: Store
    broker: TicketChain  # the orchestrator's TicketBroker client (its address, its message signer)
    feed: PriceFeedWatcher | None = None  # None when the network has no price feed
    receipts: TicketReceipts | None = None  # tickets received per gateway and round


class GatewayUnavailable(RuntimeError):
    """The gateway cannot be built in this installation: the message says why (a part missing from this
    build, an on-chain gateway not wired yet)."""


NO_ORCHESTRATOR = "No orchestrator specified; transcoding will not happen"  # go-livepeer's words


def assemble_gateway(settings: Settings, overrides: Mapping[str, Any] | None = None, *,
                     signer: Callable[[], Any] | None = None):
    """The gateway of this installation (`lpc node --gateway`), built and not started:
    GatewayNode(config, NetworkBroadcaster(config), rtmp=RtmpIngest) from core.gateway.config.gateway_config
    (`overrides` are explicit flags only, as assemble_node's). The gateway's parts are imported here, off the
    console's start-up path. With no orchestrator
    to use (no -orchAddr, no -orchWebhookUrl, offchain) it logs go-livepeer's error line and still starts,
    as go-livepeer does. On chain, `signer()` gives the gateway's signer (asked only then; the keyring
    signer the node uses, or a devnet dev key), wrapped in chain.services.gateway_chain.Web3GatewayChain
    for the broadcaster's tickets and the active pool, and in chain.services.deposit.SenderDesk for the
    management API's deposit endpoints (their writes journaled like the console's, in the data dir's store,
    opened per write). The broadcaster is built without an observer: the GatewayNode gives it its own metrics."""
    import logging

    from core.gateway.config import gateway_config

    config = gateway_config(settings, overrides)
    from core.gateway.broadcast import NetworkBroadcaster
    from core.gateway.node import GatewayNode
    from core.gateway.rtmp import RtmpIngest

    onchain = desk = None
    if not config.offchain:
        if signer is None:
            raise GatewayUnavailable("an on-chain gateway signs its tickets, and no account was given: pass "
                                     "-ethAcctAddr (--account), or run it offchain (-network offchain)")
        from chain.services.gateway_chain import Web3GatewayChain

        from chain.services.deposit import SenderDesk

        key = signer()
        try:
            client = chain_client(settings)
            onchain = Web3GatewayChain(client, key)
        except ChainError as exc:
            raise GatewayUnavailable(str(exc)) from None
        # the management API's deposit writes; after one the broadcaster reads the funds afresh
        desk = SenderDesk(client, key, lambda: journal_session(settings), on_sent=onchain.invalidate)
    if not config.orch_addrs and not config.orch_webhook_url and config.offchain:  # on chain: the active pool
        logging.getLogger("core.gateway").error(NO_ORCHESTRATOR)  # an error log in go-livepeer, not fatal
    broadcaster = NetworkBroadcaster(config, onchain=onchain)
    return GatewayNode(config, broadcaster, rtmp=RtmpIngest, sender=desk)
