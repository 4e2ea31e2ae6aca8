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
        from console.commands.devnet import _devnet, _progress_printer

        try:
            info = _devnet(ctx).up(
                port=settings.devnet.port, block_time=settings.devnet.block_time, progress=_progress_printer(False)
            )
        except DevnetError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"devnet {'already running' if info.reused else 'started'} at {info.rpc_url}", err=True)
    from console.first_run import ensure_devnet_account
    from core.composition import build_node, chain_client, gpu_monitor, network_profile

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
                               signer_factory=signer, journal_factory=journal,
                               node_factory=lambda: build_node(settings))
    try:
        LivepeerConsole(services).run()
    finally:
        services.close()
    return 0
