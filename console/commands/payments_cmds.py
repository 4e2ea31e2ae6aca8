"""Payment commands: a gateway's TicketBroker deposit and reserve, the node's prices, its ticket ledger.

  lpc deposit show | fund --deposit ETH --reserve ETH | unlock | cancel-unlock | withdraw
  lpc pricing show | set WEI [--pixels-per-unit N] [--sender ADDR] | clear --sender ADDR | auto-adjust on|off
  lpc tickets [--status STATUS]

Deposit writes show their plan (what changes, what it costs) and ask before signing unless --yes, like
every chain command. Pricing talks to the running node's management API (--node, default the
management port 127.0.0.1:7935) so a change applies at once; with no node answering it is written to
the data dir's database and applies at the node's next start.
"""

from __future__ import annotations

import json

import click

from chain.amounts import format_eth, parse_address, parse_eth
from console.commands.chain_cmds import _account, _client, _guard, _run_plan, _write_options
from console.context import CliContext, pass_ctx

DEFAULT_NODE = "http://127.0.0.1:7935"


# ------------------------------------------------------------------------------- deposit


@click.group()
def deposit() -> None:
    """A gateway's TicketBroker deposit and reserve (what pays orchestrators' winning tickets)."""


@deposit.command("show")
@click.option("--account", "account_", default=None, help="Address (default: settings.account).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def deposit_show(ctx: CliContext, account_: str | None, as_json: bool) -> None:
    """Show the deposit, the reserve and the unlock state."""
    from chain.services.deposit import load_sender

    info = load_sender(_client(ctx), _account(ctx, account_))
    if as_json:
        click.echo(json.dumps(info.to_json()))
        return
    unlock = (f"withdrawable from round {info.withdraw_round}" if info.withdraw_round else "not unlocking")
    click.echo("\n".join([
        f"sender     {info.sender}",
        f"state      {info.state} ({unlock}; round {info.current_round}, unlock period {info.unlock_period} rounds)",
        f"deposit    {format_eth(info.deposit)}",
        f"reserve    {format_eth(info.reserve)}  (claimed this round {format_eth(info.reserve_claimed_this_round)})",
        f"ETH        {format_eth(info.eth_balance)}",
    ]))


@deposit.command("fund")
@click.option("--deposit", "deposit_", default="0", help="ETH to add to the deposit.")
@click.option("--reserve", default="0", help="ETH to add to the reserve.")
@_write_options
@pass_ctx
@_guard
def deposit_fund(ctx: CliContext, deposit_: str, reserve: str, account: str | None, yes: bool, as_json: bool) -> None:
    """Add ETH to the deposit and/or the reserve (also cancels an unlock in progress)."""
    from chain.services import deposit as deposit_plans

    d = parse_eth(deposit_, allow_zero=True)
    r = parse_eth(reserve, allow_zero=True)
    _run_plan(ctx, lambda client, sender: deposit_plans.fund(client, sender, deposit=d, reserve=r), account, yes, as_json)


def _simple(name: str, fn_name: str, doc: str):
    @deposit.command(name)
    @_write_options
    @pass_ctx
    @_guard
    def cmd(ctx: CliContext, account: str | None, yes: bool, as_json: bool) -> None:
        from chain.services import deposit as deposit_plans

        _run_plan(ctx, getattr(deposit_plans, fn_name), account, yes, as_json)

    cmd.__doc__ = doc
    cmd.help = doc
    return cmd


_simple("unlock", "unlock", "Start the unlock period; the funds are withdrawable after it.")
_simple("cancel-unlock", "cancel_unlock", "Cancel an unlock in progress: the funds stay locked and keep paying.")
_simple("withdraw", "withdraw", "Withdraw the deposit and the reserve once the unlock period is over.")


# ------------------------------------------------------------------------------- pricing


def _node_api(node: str, method: str, path: str, body: dict | None = None):
    """The node's answer, or None when no node answers at `node`."""
    import httpx

    try:
        r = httpx.request(method, node.rstrip("/") + path, json=body, timeout=5)
    except httpx.HTTPError:
        return None
    if r.status_code == 404:
        raise click.ClickException(f"the node at {node} does not serve {path} (an offchain node has no prices)")
    data = r.json()
    if r.status_code != 200:
        raise click.ClickException(data.get("error", r.text))
    return data


def _local_book(ctx: CliContext, *, create: bool):
    from core.composition import data_store
    from core.payments.pricing import PriceBook

    return PriceBook(data_store(ctx.settings, create=create))


def _print_prices(data: dict, as_json: bool, where: str) -> None:
    if as_json:
        click.echo(json.dumps(data | {"source": where}))
        return
    click.echo(f"prices ({where}); auto-adjust {'on' if data['auto_adjust'] else 'off'}")
    if not data["prices"]:
        click.echo("  no price set (the node's --price-per-unit applies)")
    for p in data["prices"]:
        who = p["sender"] or "default"
        unit = "wei" if p.get("currency", "WEI") == "WEI" else p["currency"]
        if p.get("wei_per_pixel") is not None:
            then = f"= {p['wei_per_pixel']:g} wei per pixel"
        elif unit != "wei" and "feed" not in data:
            then = f"(converted to wei with the node's ETH/{unit} price feed when it runs)"
        else:
            then = f"✗ {p.get('error', 'cannot be converted now')}"
        click.echo(f"  {who:<44} {p['price_per_unit']} {unit} / {p['pixels_per_unit']} pixels {then}")
    feed = data.get("feed")
    from core.payments.feed import age_text

    if feed and feed.get("configured") and feed.get("price"):
        click.echo(f"  ETH/{feed['quote']} {float(feed['price']):,.2f} from the feed at {feed['address']} "
                   f"(answer {age_text(feed['age_s'])} old{', STALE' if feed.get('stale') else ''}; read every "
                   f"{feed['poll_s']:g} s)" + (f"; last read failed: {feed['last_error']}" if feed.get("last_error") else ""))
    elif feed and feed.get("configured"):
        click.echo(f"  price feed {feed['address']}: no answer yet ({feed.get('last_error')})")


def _pricing_call(ctx: CliContext, node: str, method: str, path: str, body: dict | None, local, as_json: bool) -> None:
    data = _node_api(node, method, path, body)
    if data is not None:
        _print_prices(data, as_json, f"node {node}, applied now")
        return
    book = _local_book(ctx, create=method != "GET")  # showing prices never makes a data dir
    local(book)
    _print_prices(book.to_json(), as_json, f"no node at {node}: saved in {ctx.settings.data_dir}, applies at its next start")


@click.group()
def pricing() -> None:
    """The node's transcoding prices (wei or USD per pixel; per gateway; the auto-adjusted overhead)."""


_node_opt = click.option("--node", default=DEFAULT_NODE, show_default=True, help="The node's management address.")


@pricing.command("show")
@_node_opt
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pricing_show(ctx: CliContext, node: str, as_json: bool) -> None:
    """Show the default price, the per-gateway prices and whether the overhead is added."""
    _pricing_call(ctx, node, "GET", "/pricing", None, lambda book: None, as_json)


@pricing.command("set")
@click.argument("price_per_unit")
@click.option("--pixels-per-unit", default="1", show_default=True)
@click.option("--sender", default=None, help="Only for this gateway address (default: the default price).")
@_node_opt
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pricing_set(ctx: CliContext, price_per_unit: str, pixels_per_unit: str, sender: str | None, node: str,
                as_json: bool) -> None:
    """Set a price: PRICE_PER_UNIT for every --pixels-per-unit pixels, in wei (1200) or in a currency
    (0.5USD: converted to wei with the node's ETH/USD price feed, following ETH; 1.5gwei and 2e-15ETH are
    exact)."""
    from core.payments.pricing import DEFAULT, PriceError, parse_pixels, parse_price

    try:
        ppu, px = parse_price(price_per_unit), parse_pixels(pixels_per_unit)
        addr = parse_address(sender, "--sender") if sender else None
    except (PriceError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None
    body = {"price_per_unit": str(ppu), "pixels_per_unit": str(px)} | ({"sender": addr} if addr else {})
    _pricing_call(ctx, node, "POST", "/pricing", body, lambda book: book.set(ppu, px, addr or DEFAULT), as_json)


@pricing.command("clear")
@click.option("--sender", required=True, help="The gateway whose own price is dropped.")
@_node_opt
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pricing_clear(ctx: CliContext, sender: str, node: str, as_json: bool) -> None:
    """Drop a gateway's own price (it pays the default again)."""
    addr = parse_address(sender, "--sender")
    _pricing_call(ctx, node, "DELETE", f"/pricing?sender={addr}", None, lambda book: book.clear(addr), as_json)


@pricing.command("auto-adjust")
@click.argument("state", type=click.Choice(["on", "off"]))
@_node_opt
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pricing_auto(ctx: CliContext, state: str, node: str, as_json: bool) -> None:
    """Add (on) or not (off) the redemption overhead to the advertised price."""
    on = state == "on"
    _pricing_call(ctx, node, "POST", "/pricing", {"auto_adjust": on}, lambda book: book.set_auto_adjust(on), as_json)


# ------------------------------------------------------------------------------- tickets


@click.command()
@click.option("--status", type=click.Choice(["pending", "submitting", "sent", "redeemed", "failed"]), default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tickets(ctx: CliContext, status: str | None, limit: int, as_json: bool) -> None:
    """The node's winning tickets: pending, redeemed (with the tx) or given up (with the reason)."""
    from core.composition import data_store
    from core.payments.ledger import TicketLedger

    ledger = TicketLedger(data_store(ctx.settings, create=False))
    entries = ledger.entries(status=status, limit=limit)
    summary = ledger.summary()
    if as_json:
        click.echo(json.dumps({"summary": summary.to_json(), "tickets": [e.to_json() for e in entries]}))
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items())) or "none"
    click.echo(f"winning tickets: {counts}; redeemed {format_eth(summary.paid_wei)}, gas {format_eth(summary.gas_fee_wei)}")
    for e in entries:
        line = f"  {e.ticket_hash[:12]}… {e.status:<10} {format_eth(e.face_value)} from {e.sender}"
        if e.tx_hash:
            line += f"  tx {e.tx_hash}"
        if e.last_error and e.status != "redeemed":
            line += f"  ({e.last_error})"
        click.echo(line)


COMMANDS = (deposit, pricing, tickets)
