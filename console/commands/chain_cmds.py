"""Chain commands: account, stake, round, reward, orchestrator, orchestrators, gov, poll."""

from __future__ import annotations

import json

import click

from chain.client import ChainError
from console.context import CliContext, pass_ctx

NOT_YET = "not built yet: it arrives with 'Foundation 2: the chain layer, the keyring wallet and the first screen'"


def _client(ctx: CliContext):
    from core.composition import chain_client

    try:
        return chain_client(ctx.settings)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None


def _fmt_lpt(wei: int) -> str:
    return f"{wei / 10**18:,.2f}"


def print_orchestrators(ctx: CliContext, as_json: bool = False) -> None:
    from chain.reads import load_orchestrator_pool

    client = _client(ctx)
    pool = load_orchestrator_pool(client)
    if as_json:
        click.echo(json.dumps([o.to_json() for o in pool.orchestrators]))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Orchestrators on {client.profile.label} — round {pool.round}", title_justify="left")
    for col, justify in (("#", "right"), ("Address", "left"), ("Service URI", "left"), ("Active", "center"),
                         ("Stake (LPT)", "right"), ("Share", "right"), ("Reward cut", "right"),
                         ("Fee cut", "right"), ("Last reward", "right")):
        table.add_column(col, justify=justify)
    for i, o in enumerate(pool.orchestrators, 1):
        table.add_row(
            str(i), o.address, o.service_uri or "—", "●" if o.active else "·", _fmt_lpt(o.total_stake),
            f"{o.stake_share:.2%}", f"{o.reward_cut / 10_000:.2f}%", f"{(1_000_000 - o.fee_share) / 10_000:.2f}%",
            str(o.last_reward_round),
        )
    Console().print(table)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_ctx
def orchestrators(ctx: CliContext, as_json: bool) -> None:
    """List the registered orchestrators (the transcoder pool), highest stake first."""
    print_orchestrators(ctx, as_json)


def _placeholder_group(name: str, help_text: str, commands: dict[str, str]) -> click.Group:
    group = click.Group(name=name, help=help_text)
    for cmd_name, cmd_help in commands.items():
        def _cb() -> None:
            raise click.ClickException(f"`lpc {name}` is {NOT_YET}")

        group.add_command(click.Command(cmd_name, callback=_cb, help=cmd_help))
    return group


account = _placeholder_group("account", "Balances, delegation, pending stake and fees of an account.",
                             {"show": "Show the account overview."})
stake = _placeholder_group("stake", "Bond, unbond, rebond, withdraw stake and fees, transfer bond.", {
    "bond": "Bond LPT to an orchestrator (approving first when needed).",
    "unbond": "Unbond all or part of your stake.",
    "rebond": "Rebond an unbonding lock to your current delegate.",
    "rebond-unbonded": "Rebond an unbonding lock to an orchestrator while fully unbonded.",
    "withdraw-stake": "Withdraw an unbonding lock once its unbonding period has passed.",
    "withdraw-fees": "Withdraw earned ETH fees.",
    "transfer-bond": "Move part of your bond to another address.",
})
round_ = _placeholder_group("round", "The current round: progress, lock window, initialize.", {
    "show": "Show the current round.", "initialize": "Initialize the current round.",
})
reward = _placeholder_group("reward", "Call reward for an orchestrator; manage the LIP-118 reward caller.", {
    "call": "Call reward for this round.", "caller": "Set or clear the reward caller.",
})
orchestrator = _placeholder_group("orchestrator", "Your orchestrator: status, reward cut, fee share, service URI.", {
    "show": "Show an orchestrator.", "config": "Change reward cut, fee share or service URI.",
})
gov = _placeholder_group("gov", "Treasury proposals: list, tallies, voting power, vote.", {
    "proposals": "List proposals.", "show": "Show one proposal.", "vote": "Vote on a proposal.",
})
poll = _placeholder_group("poll", "LIP signalling polls: list, tally, vote.", {
    "list": "List polls.", "vote": "Vote in a poll.",
})

COMMANDS = [account, stake, round_, reward, orchestrator, orchestrators, gov, poll]
