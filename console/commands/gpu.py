"""`lpc gpu`: GPU and host snapshot (filled by the GPU monitoring work)."""

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--watch", is_flag=True, help="Refresh live until Ctrl-C.")
def gpu(as_json: bool, watch: bool) -> None:
    """Show the GPUs (utilisation, memory, temperature, power, encoder/decoder) and host figures."""
    raise click.ClickException("GPU monitoring is not built yet (see the issue 'GPU monitoring and the operator dashboard')")
