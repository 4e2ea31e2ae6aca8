"""Chain commands: account, stake, round, reward, orchestrator, orchestrators, gov, poll.

Every write shows its intent (what it does, what it costs, what changes) and asks before signing
unless `--yes`. `--json` prints one JSON document (with `--json` and no `--yes` nothing is sent: the
plan is printed as a preview). Exit codes: 0 done, 1 a transaction failed or was declined, 2 refused
before signing (bad input or a check that would make it fail; the reason and the fix are printed).
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Callable

import click

from chain.amounts import (
    InputError,
    format_eth,
    format_lpt,
    format_percent,
    parse_address,
    parse_eth,
    parse_lpt,
    parse_percent,
    units,
)
from chain.client import ChainError
from chain.intents import PreflightError, TxPlan
from console.context import CliContext, pass_ctx

EXIT_FAILED = 1
EXIT_REFUSED = 2


def _client(ctx: CliContext):
    from core.composition import chain_client

    try:
        return chain_client(ctx.settings)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None


def _fmt_lpt(wei: int) -> str:
    return f"{units(wei):,.2f}"


# ------------------------------------------------------------------------------- seams


def open_signer(ctx: CliContext, address: str):
    """The keyring wallet's signer for `address` (tests replace this with a dev-key signer)."""
    from chain.wallet import WalletError
    from console.commands.wallet import open_wallet

    try:
        return open_wallet().signer(address)
    except WalletError as exc:
        raise click.ClickException(str(exc)) from None


def open_journal(ctx: CliContext):
    """The SQL transaction journal of the data dir."""
    from core.composition import tx_journal

    return tx_journal(ctx.settings)


# ------------------------------------------------------------------------------- helpers


def _emit(as_json: bool, payload: dict, text: str) -> None:
    click.echo(json.dumps(payload) if as_json else text)


def _refuse(as_json: bool, reason: str, fix: str = "") -> None:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": "refused", "reason": reason, "fix": fix}))
    else:
        click.echo(f"refused: {reason}", err=True)
        if fix:
            click.echo(f"fix: {fix}", err=True)
    sys.exit(EXIT_REFUSED)


def _guard(func):
    """Input and preflight errors become a refusal (exit 2) with the reason and the fix."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        as_json = kwargs.get("as_json", False)
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            _refuse(as_json, str(exc))
        except PreflightError as exc:
            _refuse(as_json, exc.reason, exc.fix)
        except ChainError as exc:
            if as_json:
                click.echo(json.dumps({"ok": False, "error": "chain", "reason": str(exc)}))
                sys.exit(EXIT_FAILED)
            raise click.ClickException(str(exc)) from None

    return wrapper


def _account(ctx: CliContext, given: str | None) -> str:
    if given:
        return parse_address(given, "--account")
    if ctx.settings.account:
        return parse_address(ctx.settings.account, "the configured account")
    raise InputError("no account: pass --account ADDRESS or choose a default with `lpc wallet use ADDRESS`")


def _write_options(func):
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON (without --yes: only the plan, nothing sent).")(func)
    func = click.option("--yes", is_flag=True, help="Send without asking.")(func)
    func = click.option("--account", "account", default=None, help="Account to act as (default: settings.account).")(func)
    return func


def _run_plan(ctx: CliContext, build: Callable, account: str | None, yes: bool, as_json: bool) -> None:
    """Build the plan (checks run here), show it, ask, sign, send, and report the decoded result."""
    from chain.tx import TxFailed, execute_plan

    sender = _account(ctx, account)
    client = _client(ctx)
    plan: TxPlan = build(client, sender)
    if as_json and not yes:
        click.echo(json.dumps({"ok": True, "sent": False, "plan": plan.to_json()}))
        return
    if not as_json:
        click.echo(plan.describe())
    if not yes:
        what = "these transactions" if len(plan.intents) > 1 else "this transaction"
        if not click.confirm(f"Sign and send {what}?", default=False):
            click.echo("nothing sent")
            sys.exit(EXIT_FAILED)
    signer = open_signer(ctx, sender)
    journal = open_journal(ctx)
    step = (lambda i: None) if as_json else (lambda i: click.echo(f"sending {i.action}…", err=True))
    try:
        results = execute_plan(client, plan, signer, journal, on_step=step)
        failed = None
    except TxFailed as exc:
        results, failed = exc.results, exc
    if as_json:
        click.echo(json.dumps({"ok": failed is None, "sent": True, "plan": plan.to_json(),
                               "results": [r.to_json() for r in results]}))
    else:
        for r in results:
            if r.ok:
                click.echo(f"✓ {r.intent.action} mined in block {r.block_number} (tx {r.tx_hash}, "
                           f"gas {r.gas_used:,}, fee {format_eth(r.fee_wei or 0)})")
                for ev in r.events:
                    click.echo(f"    {ev}")
            else:
                click.echo(f"✗ {r.intent.action} failed: {r.error}" + (f" (tx {r.tx_hash})" if r.tx_hash else ""),
                           err=True)
                if r.fix:
                    click.echo(f"fix: {r.fix}", err=True)
    if failed is not None:
        sys.exit(EXIT_FAILED)


# ------------------------------------------------------------------------------- orchestrators


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


# ------------------------------------------------------------------------------- account


@click.group()
def account() -> None:
    """Balances, delegation, pending stake and fees of an account."""


@account.command("show")
@click.option("--account", "account_", default=None, help="Address (default: settings.account).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def account_show(ctx: CliContext, account_: str | None, as_json: bool) -> None:
    """Show the account overview."""
    from chain.services.account import overview

    a = overview(_client(ctx), _account(ctx, account_))
    if as_json:
        click.echo(json.dumps(a.to_json()))
        return
    lines = [
        f"account        {a.address}",
        f"round          {a.round.number}" + ("" if a.round.initialized else " (NOT initialized)"),
        f"LPT            {format_lpt(a.lpt_balance)}   (allowance to BondingManager {format_lpt(a.allowance)})",
        f"ETH            {format_eth(a.eth_balance)}",
        f"status         {a.status.label}" + (f" (active from round {a.start_round})" if a.status.name == "PENDING" else ""),
        f"delegate       {a.delegate or '—'}",
        f"bonded         {format_lpt(a.bonded_amount)}",
        f"pending stake  {format_lpt(a.pending_stake)}   (+{format_lpt(a.rewards_since_claim)} since round {a.last_claim_round})",
        f"pending fees   {format_eth(a.pending_fees)}",
        f"voting power   {format_lpt(a.voting_power)}",
    ]
    if a.is_registered_transcoder:
        lines.append(f"orchestrator   registered, {'active' if a.is_active_transcoder else 'not active'}; "
                     f"delegated stake {format_lpt(a.delegated_amount)}")
    for lock in a.unbonding_locks:
        state = "withdrawable" if lock.withdrawable else f"withdrawable in round {lock.withdraw_round}"
        lines.append(f"lock #{lock.id:<7} {format_lpt(lock.amount)} — {state}")
    click.echo("\n".join(lines))


@account.command("earnings")
@click.option("--account", "account_", default=None, help="Address (default: settings.account).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def account_earnings(ctx: CliContext, account_: str | None, as_json: bool) -> None:
    """Rewards and fees per round since the last claim, and the claimed totals before it."""
    from chain.services.earnings import earnings

    e = earnings(_client(ctx), _account(ctx, account_))
    if as_json:
        click.echo(json.dumps(e.to_json()))
        return
    click.echo(f"earnings of {e.address} (delegate {e.delegate or '—'}), since the claim in round {e.since_round}")
    for r in e.rounds:
        mark = "" if r.reward_called else "  (no reward call)"
        click.echo(f"  round {r.round}: +{format_lpt(r.rewards, 6)}  +{format_eth(r.fees, 8)}{mark}")
    if e.commission_rewards or e.commission_fees:
        click.echo(f"  orchestrator commission: +{format_lpt(e.commission_rewards, 6)} +{format_eth(e.commission_fees, 8)}")
    for c in e.claimed:
        click.echo(f"  claimed rounds {c.start_round}–{c.end_round}: {format_lpt(c.rewards, 6)}, {format_eth(c.fees, 8)}")


# ------------------------------------------------------------------------------- stake


@click.group()
def stake() -> None:
    """Bond, unbond, rebond, withdraw stake and fees, transfer bond."""


@stake.command("bond")
@click.option("--to", "to", required=True, help="Orchestrator address.")
@click.option("--amount", required=True, help="LPT, e.g. 100LPT or 0.5 (0 moves your bond to --to).")
@_write_options
@pass_ctx
@_guard
def stake_bond(ctx, to, amount, account, yes, as_json):
    """Bond LPT to an orchestrator (approving first when needed)."""
    from chain.services import staking

    to_addr, wei = parse_address(to, "--to"), parse_lpt(amount, allow_zero=True)
    _run_plan(ctx, lambda c, s: staking.bond(c, s, wei, to_addr), account, yes, as_json)


@stake.command("unbond")
@click.option("--amount", default=None, help="LPT to unbond, e.g. 50LPT.")
@click.option("--all", "all_", is_flag=True, help="Unbond everything.")
@_write_options
@pass_ctx
@_guard
def stake_unbond(ctx, amount, all_, account, yes, as_json):
    """Unbond all or part of your stake."""
    from chain.services import staking

    if bool(amount) == all_:
        raise InputError("give either --amount or --all")
    wei = None if all_ else parse_lpt(amount)
    _run_plan(ctx, lambda c, s: staking.unbond(c, s, wei), account, yes, as_json)


@stake.command("rebond")
@click.option("--lock", "lock_id", type=click.IntRange(min=0), required=True, help="Unbonding lock id.")
@_write_options
@pass_ctx
@_guard
def stake_rebond(ctx, lock_id, account, yes, as_json):
    """Rebond an unbonding lock to your current delegate."""
    from chain.services import staking

    _run_plan(ctx, lambda c, s: staking.rebond(c, s, lock_id), account, yes, as_json)


@stake.command("rebond-unbonded")
@click.option("--lock", "lock_id", type=click.IntRange(min=0), required=True, help="Unbonding lock id.")
@click.option("--to", "to", required=True, help="Orchestrator address.")
@_write_options
@pass_ctx
@_guard
def stake_rebond_unbonded(ctx, lock_id, to, account, yes, as_json):
    """Rebond an unbonding lock to an orchestrator while fully unbonded."""
    from chain.services import staking

    to_addr = parse_address(to, "--to")
    _run_plan(ctx, lambda c, s: staking.rebond_from_unbonded(c, s, lock_id, to_addr), account, yes, as_json)


@stake.command("withdraw-stake")
@click.option("--lock", "lock_id", type=click.IntRange(min=0), required=True, help="Unbonding lock id.")
@_write_options
@pass_ctx
@_guard
def stake_withdraw_stake(ctx, lock_id, account, yes, as_json):
    """Withdraw an unbonding lock once its unbonding period has passed."""
    from chain.services import staking

    _run_plan(ctx, lambda c, s: staking.withdraw_stake(c, s, lock_id), account, yes, as_json)


@stake.command("withdraw-fees")
@click.option("--amount", default=None, help="ETH, e.g. 0.05ETH (default: all).")
@click.option("--to", "to", default=None, help="Recipient (default: the account).")
@_write_options
@pass_ctx
@_guard
def stake_withdraw_fees(ctx, amount, to, account, yes, as_json):
    """Withdraw earned ETH fees."""
    from chain.services import staking

    wei = parse_eth(amount) if amount else None
    recipient = parse_address(to, "--to") if to else None
    _run_plan(ctx, lambda c, s: staking.withdraw_fees(c, s, wei, recipient), account, yes, as_json)


@stake.command("transfer-bond")
@click.option("--to", "to", required=True, help="Address that receives the bond.")
@click.option("--amount", required=True, help="LPT, e.g. 10LPT.")
@_write_options
@pass_ctx
@_guard
def stake_transfer_bond(ctx, to, amount, account, yes, as_json):
    """Move part of your bond to another address."""
    from chain.services import staking

    to_addr, wei = parse_address(to, "--to"), parse_lpt(amount)
    _run_plan(ctx, lambda c, s: staking.transfer_bond(c, s, to_addr, wei), account, yes, as_json)


# ------------------------------------------------------------------------------- round


@click.group("round")
def round_() -> None:
    """The current round: progress, lock window, initialize."""


@round_.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def round_show(ctx, as_json):
    """Show the current round."""
    from chain.reads import load_round_info

    client = _client(ctx)
    r = load_round_info(client)
    secs = r.blocks_left * client.profile.l1_block_seconds
    left = f"{secs / 3600:.1f} h" if secs >= 3600 else f"{secs / 60:.0f} min"
    _emit(as_json, r.to_json(), "\n".join([
        f"round {r.number} — {'initialized' if r.initialized else 'NOT initialized (`lpc round initialize`)'}"
        + ("; PROTOCOL PAUSED" if r.paused else ""),
        f"  L1 block {r.l1_block}: {r.blocks_into_round}/{r.length} blocks in ({r.progress:.0%}), "
        f"{r.blocks_left} left (~{left})",
        f"  lock period from block {r.lock_starts_at}" + (" — LOCKED now: rate changes wait" if r.locked else ""),
    ]))


@round_.command("initialize")
@_write_options
@pass_ctx
@_guard
def round_initialize(ctx, account, yes, as_json):
    """Initialize the current round."""
    from chain.services import rounds

    _run_plan(ctx, rounds.initialize, account, yes, as_json)


# ------------------------------------------------------------------------------- reward


@click.group()
def reward() -> None:
    """Call reward for an orchestrator; manage the LIP-118 reward caller."""


@reward.command("call")
@click.option("--for", "for_", default=None, help="Orchestrator to call reward for (as its reward caller).")
@_write_options
@pass_ctx
@_guard
def reward_call(ctx, for_, account, yes, as_json):
    """Call reward for this round (with the sorted-pool hints)."""
    from chain.services import orchestrator

    target = parse_address(for_, "--for") if for_ else None
    _run_plan(ctx, lambda c, s: orchestrator.reward(c, s, target), account, yes, as_json)


@reward.command("caller")
@click.option("--set", "set_", default=None, help="Address allowed to call reward for you.")
@click.option("--clear", is_flag=True, help="Remove the reward caller.")
@_write_options
@pass_ctx
@_guard
def reward_caller(ctx, set_, clear, account, yes, as_json):
    """Set or clear the reward caller."""
    from chain.services import orchestrator

    if bool(set_) == clear:
        raise InputError("give either --set ADDRESS or --clear")
    caller = parse_address(set_, "--set") if set_ else None
    _run_plan(ctx, lambda c, s: orchestrator.set_reward_caller(c, s, caller), account, yes, as_json)


# ------------------------------------------------------------------------------- orchestrator


@click.group()
def orchestrator() -> None:
    """Your orchestrator: status, reward cut, fee share, service URI."""


@orchestrator.command("show")
@click.argument("address", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def orchestrator_show(ctx, address, as_json):
    """Show an orchestrator (default: your account)."""
    from chain.reads import load_orchestrator

    addr = parse_address(address, "the address") if address else _account(ctx, None)
    o = load_orchestrator(_client(ctx), addr)
    _emit(as_json, o.to_json(), "\n".join([
        f"orchestrator   {o.address}",
        f"status         {'registered' if o.registered else 'not registered'}, {'active' if o.active else 'not active'}",
        f"stake          {format_lpt(o.total_stake)}",
        f"reward cut     {format_percent(o.reward_cut)}",
        f"fee share      {format_percent(o.fee_share)} to delegators (fee cut {format_percent(1_000_000 - o.fee_share)})",
        f"service URI    {o.service_uri or '—'}",
        f"last reward    round {o.last_reward_round}" + (" (this round)" if o.reward_called_this_round else ""),
        f"reward caller  {o.reward_caller or '—'}",
    ]))


@orchestrator.command("config")
@click.option("--reward-cut", default=None, help="Percentage of rewards you keep, e.g. 10 or 12.5%.")
@click.option("--fee-share", default=None, help="Percentage of fees paid to delegators, e.g. 75%.")
@click.option("--service-uri", default=None, help="Public https://host:port of your orchestrator.")
@click.option("--ai-service-uri", default=None,
              help="Public https://host:port of your AI orchestrator in the AI ServiceRegistry (-aiServiceRegistry).")
@_write_options
@pass_ctx
@_guard
def orchestrator_config(ctx, reward_cut, fee_share, service_uri, ai_service_uri, account, yes, as_json):
    """Change reward cut, fee share, service URI or AI service URI (only changed fields are sent)."""
    from chain.services import orchestrator as svc

    if reward_cut is None and fee_share is None and service_uri is None and ai_service_uri is None:
        raise InputError("nothing to change: give --reward-cut, --fee-share, --service-uri and/or --ai-service-uri")
    rc = parse_percent(reward_cut, "--reward-cut") if reward_cut is not None else None
    fs = parse_percent(fee_share, "--fee-share") if fee_share is not None else None
    for flag, uri in (("--service-uri", service_uri), ("--ai-service-uri", ai_service_uri)):
        if uri is not None and not uri.startswith(("https://", "http://")):
            raise InputError(f"{flag} {uri!r} must start with https:// (e.g. https://my.host:8935)")
    _run_plan(ctx, lambda c, s: svc.configure(c, s, reward_cut=rc, fee_share=fs, service_uri=service_uri,
                                              ai_service_uri=ai_service_uri),
              account, yes, as_json)


# ------------------------------------------------------------------------------- governance


@click.group()
def gov() -> None:
    """Treasury proposals: list, tallies, voting power, vote."""


def _proposal_line(p) -> str:
    quorum = "quorum n/a" if p.quorum is None else (
        f"quorum {'reached' if p.quorum_reached else 'not reached'}")
    return (f"{str(p.id)[:12]}…  {p.state.label:<9} for {_fmt_lpt(p.for_votes)}  against {_fmt_lpt(p.against_votes)}  "
            f"abstain {_fmt_lpt(p.abstain_votes)}  ({quorum}; rounds {p.snapshot}–{p.deadline})  {p.title}")


@gov.command("proposals")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def gov_proposals(ctx, as_json):
    """List proposals, newest first."""
    from chain.services.governance import list_proposals

    ps = list_proposals(_client(ctx))
    _emit(as_json, {"proposals": [p.to_json() for p in ps]},
          "\n".join(_proposal_line(p) for p in ps) or "no proposals")


@gov.command("show")
@click.argument("proposal_id")
@click.option("--account", "account_", default=None, help="Show this account's voting power.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def gov_show(ctx, proposal_id, account_, as_json):
    """Show one proposal, its tally and your voting power."""
    from chain.services.governance import find_proposal, voting_power

    client = _client(ctx)
    p = find_proposal(client, proposal_id)
    who = None
    if account_ or ctx.settings.account:
        who = _account(ctx, account_)
    power = voting_power(client, who, p) if who else None
    payload = p.to_json() | ({"account": who, "voting_power": str(power)} if who else {})
    text = [_proposal_line(p), f"id {p.id}", f"proposer {p.proposer}", "", p.description]
    if who:
        text.append(f"\nvoting power of {who}: {format_lpt(power)}")
    _emit(as_json, payload, "\n".join(text))


@gov.command("vote")
@click.argument("proposal_id")
@click.option("--support", type=click.Choice(["for", "against", "abstain"], case_sensitive=False), required=True)
@click.option("--reason", default="", help="Why (stored on chain with the vote).")
@_write_options
@pass_ctx
@_guard
def gov_vote(ctx, proposal_id, support, reason, account, yes, as_json):
    """Vote on a proposal."""
    from chain.services import governance

    _run_plan(ctx, lambda c, s: governance.vote(c, s, proposal_id, support, reason), account, yes, as_json)


@click.group()
def poll() -> None:
    """LIP signalling polls: list, tally, vote."""


@poll.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def poll_list(ctx, as_json):
    """List polls with their stake-weighted tallies."""
    from chain.services.governance import list_polls

    ps = list_polls(_client(ctx))
    _emit(as_json, {"polls": [p.to_json() for p in ps]}, "\n".join(
        f"{p.address}  {'open' if p.active else 'ended'} (end block {p.end_block})  yes {_fmt_lpt(p.yes)}  "
        f"no {_fmt_lpt(p.no)}  voters {p.voters}  proposal {p.proposal[:18]}…" for p in ps) or "no polls")


@poll.command("vote")
@click.argument("poll_address")
@click.option("--choice", type=click.Choice(["yes", "no"], case_sensitive=False), required=True)
@_write_options
@pass_ctx
@_guard
def poll_vote(ctx, poll_address, choice, account, yes, as_json):
    """Vote in a poll."""
    from chain.services import governance

    addr = parse_address(poll_address, "the poll address")
    _run_plan(ctx, lambda c, s: governance.poll_vote(c, s, addr, choice), account, yes, as_json)


COMMANDS = [account, stake, round_, reward, orchestrator, orchestrators, gov, poll]
