"""`lpc`: the console (no subcommand) and the headless commands.

Textual is imported only when the console itself starts, so `lpc node`, `lpc devnet` and the other
headless commands stay light and work on servers.
"""

from __future__ import annotations

import sys

import click

from console.context import CliContext

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyCommands(click.Group):
    """The subcommands are imported when one is looked up or listed (a command, or --help), so `lpc`
    alone opens the console without loading them (they bring eth_account, psutil …)."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from console import headless_keyring, startup_gc

        startup_gc.release()  # a command runs with the usual garbage collector

        # in a terminal with no OS keyring, a key's first use asks for one (the console itself asks
        # before it opens: console/launch.py)
        headless_keyring.install()
        from console.commands import chain_cmds, devnet, doctor, gpu, node, payments_cmds, selftest, wallet

        for command in (
            devnet.devnet,
            doctor.doctor,
            node.node,
            wallet.wallet,
            gpu.gpu,
            selftest.selftest,
            *chain_cmds.COMMANDS, *payments_cmds.COMMANDS,
        ):
            self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)


@click.group(cls=LazyCommands, invoke_without_command=True, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--data-dir",
    envvar="LPC_DATA_DIR",
    type=click.Path(file_okay=False),
    help="Folder with all state of one installation (env LPC_DATA_DIR; default: the platform's user data dir).",
)
@click.option(
    "--network",
    type=click.Choice(["devnet", "arbitrum-one"]),
    default=None,
    help="Which network to use (default: the embedded devnet).",
)
@click.option("--rpc-url", default=None, help="JSON-RPC endpoint (default on devnet: the devnet's own).")
@click.version_option(package_name="livepeer-console", prog_name="lpc")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, network: str | None, rpc_url: str | None) -> None:
    """Livepeer Console: run and watch a Livepeer node, check and move stake, vote.

    With no command, opens the console (starting the embedded devnet when the network is devnet).
    """
    ctx.obj = CliContext(data_dir=data_dir, network=network, rpc_url=rpc_url)
    if ctx.invoked_subcommand is None:
        from console.launch import run_console

        early = _refuse_a_broken_data_dir(ctx.obj)
        sys.exit(run_console(ctx.obj, early))


def _refuse_a_broken_data_dir(obj: CliContext):
    """The console writes into its data dir (devnet, database, TLS): a broken one stops lpc in one line
    before the devnet or Textual start, with nothing changed. Returns the console's early settings
    (console/quick_settings.py), read after the settings were found valid."""
    from console.quick_settings import early_settings
    from core.data_dir import data_dir_problem
    from core.store.db import verify_database

    early = early_settings(obj)
    root = early.data_dir
    problem = data_dir_problem(root, writing=True)
    if problem:
        raise click.ClickException(problem)
    verify_database(root)
    return early


def main() -> None:
    """Errors about the data dir, its settings or its database are one line and exit 1, never a traceback
    (and nothing is written)."""
    from console import startup_gc

    startup_gc.hold()  # until the console's first frame, or until a subcommand loads
    try:
        cli(prog_name="lpc")
    except Exception as exc:
        if not _is_refusal(exc):
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


def _is_refusal(exc: Exception) -> bool:
    """Whether `exc` is a SettingsError or StoreError. Their modules are looked up, not imported: the
    console's start does not load the settings model (pydantic) before its first frame, and an error of
    a module that was never loaded cannot have been raised."""
    kinds = [getattr(sys.modules.get(module), name, None)
             for module, name in (("core.settings", "SettingsError"), ("core.store.db", "StoreError"))]
    return isinstance(exc, tuple(k for k in kinds if k is not None))


if __name__ == "__main__":
    main()
