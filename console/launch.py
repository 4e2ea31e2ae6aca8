"""`lpc` with no subcommand: make sure the chain is reachable (starting the devnet), then open the console.

Up to the first frame this runs on the early settings (console/quick_settings.py), without the settings
model: when the model already accepted these inputs it is loaded by the console right after its first
frame (ConsoleServices.settings), else it was loaded, and any bad value refused, before this ran.
"""

from __future__ import annotations

import click

from console.context import CliContext
from console.quick_settings import EarlySettings


def run_console(ctx: CliContext, early: EarlySettings) -> int:
    from console import headless_keyring

    headless_keyring.ensure_keyring()  # on a server without an OS keyring: ask now, before the screen is
    headless_keyring.no_more_prompts()  # taken, and never while it is
    if early.is_devnet and not early.rpc_url:
        from chain.devnet.anvil import DevnetError
        from chain.devnet.manager import Devnet

        devnet = Devnet(early.data_dir, anvil_path=early.devnet_anvil_path,
                        seed_orchestrators=early.devnet_orchestrators)
        try:
            info = devnet.up(port=early.devnet_port, block_time=early.devnet_block_time, progress=_progress())
        except DevnetError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"devnet {'already running' if info.reused else 'started'} at {info.rpc_url}", err=True)
        if info.port_note:
            click.echo(f"note: {info.port_note}", err=True)
    from chain.client import ChainError
    from console.first_run import ensure_devnet_account
    from core.composition import network_profile

    first = ensure_devnet_account(early)
    if first.note:
        click.echo(f"note: {first.note}", err=True)

    try:
        profile, _rpc = network_profile(early)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
    from console.quick_settings import remember

    if first.account == early.account:  # (a first run wrote the account: the next start checks again)
        remember(early)  # the model accepted these inputs: the next start paints before it loads the model
    from console import startup_gc
    from console.app import LivepeerConsole
    from console.services import ConsoleServices

    def settings():
        return ctx.settings  # a value the model refuses now is a ClickException: the console ends with it

    def journal():
        from core.composition import tx_journal

        return tx_journal(services.settings)

    def client():
        from core.composition import chain_client

        return chain_client(services.settings)

    def monitor():
        from core.composition import gpu_monitor

        return gpu_monitor(services.settings)

    # The client (web3, and its chain id check) is made by the first read, after the first paint; an
    # unreachable or wrong chain is the console's stale banner, and nothing can be signed on it.
    services = ConsoleServices(settings=ctx.loaded_settings, settings_loader=settings, theme=early.theme,
                               profile=profile, client_factory=client, account=first.account,
                               gpu_monitor_factory=monitor, signer_factory=keyring_signer, journal_factory=journal)
    services.node_factory = node_factory(None, services)
    services.is_orchestrator = lambda: _is_orchestrator(services.client, first.account)
    app = LivepeerConsole(services)
    try:
        app.run()
    finally:
        startup_gc.release()  # (the console gives it back at its first frame; this, if it never drew one)
        services.close()
    if app.refusal is not None:
        raise click.ClickException(app.refusal)
    return 0


def _progress():
    """`lpc devnet up`'s progress lines on stderr, its module imported at the first line (a devnet that
    is already running says nothing on the way)."""
    shown = None

    def show(message: str, fraction: float) -> None:
        nonlocal shown
        if shown is None:
            from console.commands.devnet import _progress_printer

            shown = _progress_printer(False)
        shown(message, fraction)

    return show


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
    """What `x` (Sessions, Dashboard) starts: core.composition.assemble_node of these settings (None: the
    console's, `services.settings`, read when the node starts) — offchain, or with `node.offchain = false`
    the on-chain node of `services.account`, signing with its wallet key.
    `overrides` beat settings (tests: free ports, x264 ultrafast); `store_dir` puts the on-chain node's SQL
    store elsewhere than the data dir."""

    def make():
        from core.composition import assemble_node

        return assemble_node(settings if settings is not None else services.settings, overrides, signer=_signer,
                             payment_config=payment_config, store_dir=store_dir, monitor=services.gpu_monitor)

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
