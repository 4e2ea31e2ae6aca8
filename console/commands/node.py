"""`lpc node`: the headless orchestrator/transcoder node."""

import click


@click.command(context_settings={"ignore_unknown_options": False})
@click.option("--orchestrator", is_flag=True, help="Run as an orchestrator.")
@click.option("--transcoder", is_flag=True, help="Transcode in this process.")
@click.option("--offchain", is_flag=True, help="Run without a blockchain (no payments).")
@click.option("--service-addr", default="127.0.0.1:8935", show_default=True, help="HOST:PORT to serve gateways on.")
def node(orchestrator: bool, transcoder: bool, offchain: bool, service_addr: str) -> None:
    """Run the Livepeer node headless (for servers and systemd)."""
    raise click.ClickException(
        "the node is not built yet (see the issue 'The orchestrator node'); nothing was started"
    )
