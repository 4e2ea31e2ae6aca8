"""`lpc devnet up|status|down|reset|eth-price`: the embedded Livepeer devnet of this data dir."""

from __future__ import annotations

import json
import sys
import time

import click

from chain.devnet.anvil import DevnetError
from console.context import CliContext, pass_ctx


def _devnet(ctx: CliContext):
    from chain.devnet.manager import Devnet

    s = ctx.settings
    return Devnet(s.data_dir, anvil_path=s.devnet.anvil_path, seed_orchestrators=s.devnet.orchestrators)


def configured_port(settings) -> int | None:
    """The devnet port the user set (settings.toml, LPC_DEVNET__PORT or a flag), or None: then the data
    dir's remembered port, or for a new data dir 8545 or a free one (chain/devnet/manager.py)."""
    return settings.devnet.port if "port" in settings.devnet.model_fields_set else None


def _progress_printer(quiet: bool):
    """Progress on stderr (stdout stays clean for --json)."""
    if quiet:
        return lambda _m, _f: None
    from rich.console import Console

    err = Console(stderr=True)
    last = {"msg": None}

    def show(message: str, fraction: float) -> None:
        if message != last["msg"]:
            err.print(f"[dim]{fraction:4.0%}[/dim] {message}", highlight=False)
            last["msg"] = message

    return show


@click.group()
def devnet() -> None:
    """The embedded devnet: a local anvil with Livepeer contracts and a seeded network."""


@devnet.command()
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="JSON-RPC port (default: devnet.port in settings, else the port this data dir's "
                   "devnet used before, else 8545 or a free port when 8545 is taken); remembered.")
@click.option("--block-time", type=click.FloatRange(min=0), default=None,
              help="Seconds between timer-mined blocks (0: only mine on transactions).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line: rpc_url, chain_id, controller, poll_creator.")
@click.option("--mainnet-addresses", is_flag=True,
              help="Put the Controller (and PollCreator, AI registry) at their Arbitrum One addresses, so "
                   "`--network arbitrum-one --rpc-url <devnet>` works against it.")
@pass_ctx
def up(ctx: CliContext, port: int | None, block_time: float | None, as_json: bool, mainnet_addresses: bool) -> None:
    """Start the devnet (or reuse the one already running for this data dir); return once it is ready."""
    s = ctx.settings
    t0 = time.monotonic()
    try:
        info = _devnet(ctx).up(
            port=port or configured_port(s),
            block_time=s.devnet.block_time if block_time is None else block_time,
            progress=_progress_printer(as_json),
            mainnet_addresses=mainnet_addresses,
        )
    except DevnetError as exc:
        raise click.ClickException(str(exc)) from None
    for note in (info.port_note, info.rebuilt_reason):
        if note:
            click.echo(f"note: {note}", err=True)
    from console.first_run import ensure_devnet_account

    first = ensure_devnet_account(s)
    if first.note:
        click.echo(f"note: {first.note}", err=True)
    if as_json:
        click.echo(json.dumps(info.public_json()))
        return
    verb = "already running" if info.reused else f"ready in {time.monotonic() - t0:.1f} s"
    click.echo(f"devnet {verb}: {info.rpc_url} (chain id {info.chain_id})")
    click.echo(f"  Controller   {info.controller}")
    click.echo(f"  PollCreator  {info.poll_creator}")
    click.echo(f"  AI registry  {info.ai_service_registry}")
    if info.price_feed:
        click.echo(f"  ETH/USD feed {info.price_feed}")


@devnet.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def status(ctx: CliContext, as_json: bool) -> None:
    """Is the devnet running, and where is it (block, round)?"""
    st = _devnet(ctx).status()
    if as_json:
        out = {"running": st.running, "message": st.message}
        if st.info:
            out.update(st.info.public_json(), pid=st.info.pid, block_number=st.block_number,
                       l1_block=st.l1_block, current_round=st.current_round,
                       round_initialized=st.round_initialized)
        click.echo(json.dumps(out))
        return
    if not st.running:
        click.echo(st.message)
        sys.exit(3)
    i = st.info
    click.echo(f"devnet running: {i.rpc_url} (pid {i.pid}, chain id {i.chain_id})")
    if st.current_round is not None:
        init = "initialized" if st.round_initialized else "NOT initialized"
        click.echo(f"  round {st.current_round} ({init}); L1 block {st.l1_block}; L2 block {st.block_number}")
    else:
        click.echo(f"  {st.message}")
    click.echo(f"  Controller {i.controller}")


@devnet.command()
@pass_ctx
def down(ctx: CliContext) -> None:
    """Stop the devnet of this data dir (its state is kept for the next `up`)."""
    try:
        click.echo(_devnet(ctx).down())
    except DevnetError as exc:
        raise click.ClickException(str(exc)) from None


@devnet.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def reset(ctx: CliContext, yes: bool) -> None:
    """Throw away the devnet's chain history and start again from a freshly seeded network."""
    if not yes:
        click.confirm("Discard all devnet history (balances, stakes, votes) for this data dir?", abort=True)
    s = ctx.settings
    try:
        info = _devnet(ctx).reset(port=configured_port(s), block_time=s.devnet.block_time, progress=_progress_printer(False))
    except DevnetError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("devnet reset" + (f"; running again at {info.rpc_url}" if info else "; start it with `lpc devnet up`"))


def _feed_price(_ctx, _param, text: str | None) -> int | None:
    """Click callback: the PRICE argument as the feed's integer answer (8 decimals)."""
    if text is None:
        return None
    from chain.devnet.price_feed import parse_price

    try:
        return parse_price(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _usd(price_text: str) -> str:
    """'2500.5' -> '2,500.50': thousands separated, at least two decimals, never rounded."""
    from decimal import Decimal

    places = max(2, len(price_text.partition(".")[2]))
    return f"{Decimal(price_text):,.{places}f}"


@devnet.command("eth-price")
@click.argument("price", required=False, callback=_feed_price)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the feed's latest round).")
@pass_ctx
def eth_price(ctx: CliContext, price: int | None, as_json: bool) -> None:
    """Show the devnet's ETH/USD price feed, or set it: `lpc devnet eth-price 2500.50` (USD per ETH).

    The feed has Chainlink's ABI, so a node pricing in USD (go-livepeer's `-pricePerUnit 0.5USD`) converts
    with it. Setting a price starts a new feed round, signed with the devnet deployer's public anvil key;
    it works only on this data dir's running devnet."""
    from chain.client import ChainError
    from chain.devnet import price_feed
    from core.payments.feed import age_text

    st = _devnet(ctx).status()
    if not st.running or st.info is None:
        raise click.ClickException(f"{st.message}; start it with `lpc devnet up`")
    try:
        feed_round = (price_feed.read_eth_price(st.info) if price is None
                      else price_feed.set_eth_price(st.info, price))
    except (ChainError, DevnetError) as exc:
        raise click.ClickException(str(exc)) from None
    age = max(0, int(time.time() - feed_round.updated_at))
    if as_json:
        click.echo(json.dumps({**feed_round.to_json(), "age_s": age}))
        return
    pair = f"{feed_round.base}/{feed_round.quote}" if feed_round.base else feed_round.description
    shown = f"{_usd(feed_round.price_text())} {feed_round.quote}".rstrip()
    where = f"devnet feed {feed_round.address}, round {feed_round.round_id}"
    if price is None:
        click.echo(f"{pair} {shown} ({where}, updated {age_text(age)} ago)")
    else:
        click.echo(f"{pair} set to {shown} ({where})")
