"""`lpc` with no subcommand: make sure the chain is reachable (starting the devnet), then open the console."""

from __future__ import annotations

import click

from chain.client import ChainError
from chain.devnet.anvil import DevnetError
from console.context import CliContext
from core.settings import Network


def run_console(ctx: CliContext) -> int:
    settings = ctx.settings
    if settings.network is Network.DEVNET and not settings.rpc_url:
        from console.commands.devnet import _devnet, _progress_printer, configured_port

        try:
            info = _devnet(ctx).up(
                port=configured_port(settings), block_time=settings.devnet.block_time,
                progress=_progress_printer(False),
            )
        except DevnetError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"devnet {'already running' if info.reused else 'started'} at {info.rpc_url}", err=True)
        if info.port_note:
            click.echo(f"note: {info.port_note}", err=True)
    from console.first_run import ensure_devnet_account
    from core.composition import chain_client, gpu_monitor, network_profile

    first = ensure_devnet_account(settings)
    if first.note:
        click.echo(f"note: {first.note}", err=True)

    try:
        profile, _rpc = network_profile(settings)
        client = chain_client(settings)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
    from console.app import LivepeerConsole
    from console.services import ConsoleServices

    def signer(address: str):
        from chain.wallet import Wallet

        return Wallet().signer(address)

    def journal():
        from core.store import open_store
        from core.store.journal import SqlJournal

        return SqlJournal(open_store(settings.data_dir))

    services = ConsoleServices(settings=settings, profile=profile, client_factory=lambda: client,
                               account=first.account, gpu_monitor_factory=lambda: gpu_monitor(settings),
                               signer_factory=signer, journal_factory=journal)
    services.node_factory = node_factory(settings, services)
    services.opens_on_dashboard = _is_orchestrator(client, first.account)
    try:
        LivepeerConsole(services).run()
    finally:
        services.close()
    return 0


def _is_orchestrator(client, account: str | None) -> bool:
    """Whether the console should open on the Dashboard (a registered orchestrator) — one read at start."""
    if not account:
        return False
    from chain.reads import load_orchestrator

    try:
        return load_orchestrator(client, account).registered
    except Exception:  # noqa: BLE001 - the Overview says what is wrong with the chain
        return False


class NodeUnavailable(RuntimeError):
    """The on-chain node cannot be built for this account: the message says why and what to do."""


def node_factory(settings, services, *, payment_config=None, store_dir=None, **config):
    """What `x` (Sessions, Dashboard) starts: the offchain node, or — with `node.offchain = false` — the
    on-chain node of `services.account`, signing with its wallet key; it returns (Node, OnchainParts).
    `config` overrides NodeConfig fields (tests: free ports, x264 ultrafast); `store_dir` puts the
    node's SQL store elsewhere than the data dir."""

    def make():
        from core.node import Node, NodeConfig

        n = settings.node
        cfg = NodeConfig(**{
            "data_dir": settings.data_dir, "service_addr": n.service_addr, "http_addr": n.http_addr,
            "cli_addr": n.cli_addr, "max_sessions": n.max_sessions, "price_per_unit": n.price_per_unit,
            "pixels_per_unit": n.pixels_per_unit, "offchain": n.offchain, "max_renditions": n.max_renditions,
            **config})
        node = Node(cfg) if cfg.offchain else _onchain(cfg)
        monitor = services.gpu_monitor
        if monitor is not None:  # GPU figures beside the node's own on /metrics
            from core.composition import gpu_metrics

            (node[0] if isinstance(node, tuple) else node).extra_metrics = gpu_metrics(monitor)
        return node

    def _onchain(cfg):
        from chain.client import ChainError
        from core.composition import onchain_node
        from core.payments.config import PaymentConfig

        account = services.account
        if not account:
            raise NodeUnavailable("the on-chain node signs as an orchestrator: pick its account on the Wallet "
                                  "screen (or set node.offchain = true)")
        try:
            signer = services.signer_for(account)
        except Exception as exc:  # noqa: BLE001 - keyring locked, no key: say so
            raise NodeUnavailable(f"no signing key for {account}: {exc} — import its key on the Wallet screen") \
                from None
        store = None
        if store_dir is not None:
            from core.store import open_store

            store = open_store(store_dir)
        try:
            return onchain_node(settings, cfg, signer, payment_config or PaymentConfig(), store=store)
        except ChainError as exc:
            if store is not None:
                store.close()
            raise NodeUnavailable(str(exc)) from None

    return make
