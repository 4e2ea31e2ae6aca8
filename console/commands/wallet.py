"""`lpc wallet`: accounts whose keys live in the OS keyring (being written)."""

import click


@click.group()
def wallet() -> None:
    """Manage accounts; private keys live only in the OS keyring."""
