"""`lpc` with no subcommand: make sure the chain is reachable (starting the devnet), then open the console."""

from __future__ import annotations

import click

from chain.client import ChainError
from chain.devnet.anvil import DevnetError
from console.context import CliContext
from core.settings import Network


def run_console(ctx: CliContext) -> int:
    settings = ctx.settings
    from console import headless_keyring

    headless_keyring.ensure_keyring()  # on a server without an OS keyring: ask now, before the screen is
    headless_keyring.no_more_prompts()  # taken, and never while it is
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
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
    from console.app import LivepeerConsole
    from console.services import ConsoleServices

    def journal():
        from core.composition import tx_journal

        return tx_journal(settings)

    # The client (web3, and its chain id check) is made by the first read, after the first paint; an
    # unreachable or wrong chain is the console's stale banner, and nothing can be signed on it.
    services = ConsoleServices(settings=settings, profile=profile, client_factory=lambda: chain_client(settings),
                               account=first.account, gpu_monitor_factory=lambda: gpu_monitor(settings),
                               signer_factory=keyring_signer, journal_factory=journal)
    services.node_factory = node_factory(settings, services)
    services.is_orchestrator = lambda: _is_orchestrator(services.client, first.account)
    try:
        LivepeerConsole(services).run()
    finally:
        services.close()
    return 0


def keyring_signer(address: str):
    """The console's signer for `address`: its key read from the OS keyring wallet."""
    from chain.wallet import Wallet

    return Wallet().signer(address)


def _is_orchestrator(client, account: str | None) -> bool:
    """Whether the console should show the Dashboard (a registered orchestrator) — one read after the first
    paint (console/app.py)."""
    if not account:
        return False
    from chain.reads import load_orchestrator

    try:
        return load_orchestrator(client, account).registered
    except Exception:  # noqa: BLE001 - the Overview says what is wrong with the chain
        return False


def node_factory(settings, services, *, payment_config=None, store_dir=None, **overrides):
    """What `x` (Sessions, Dashboard) starts: core.composition.assemble_node of these settings — offchain,
    or with `node.offchain = false` the on-chain node of `services.account`, signing with its wallet key.
    `overrides` beat settings (tests: free ports, x264 ultrafast); `store_dir` puts the on-chain node's SQL
    store elsewhere than the data dir."""

    def make():
        from core.composition import assemble_node

        return assemble_node(settings, overrides, signer=_signer, payment_config=payment_config,
                             store_dir=store_dir, monitor=services.gpu_monitor)

    def _signer():
        from core.composition import NodeUnavailable

        account = services.account
        if not account:
            raise NodeUnavailable("the on-chain node signs as an orchestrator: pick its account on the Wallet "
                                  "screen (or set node.offchain = true)")
        try:
            return services.signer_for(account)
        except Exception as exc:  # noqa: BLE001 - keyring locked, no key: say so
            raise NodeUnavailable(f"no signing key for {account}: {exc} — import its key on the Wallet screen") \
                from None

    return make
