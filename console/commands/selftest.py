"""`lpc selftest [ADDR] [--json]`: is this orchestrator working for gateways? A synthetic stream goes through
an in-process gateway to ADDR (default: this installation's node, its `node.service_addr`) and each check
of core.gateway.selftest is printed as it finishes, with what to do when it failed. Exit 1 on a failure.

--json prints one object when done:
    {"orchestrator": str, "ok": bool,
     "checks": [{"key": str, "title": str, "ok": bool, "detail": str, "hint": str, "seconds": float|null}, ...]}
Check keys, in order (a failure ends the list): reach, address, price, segment, renditions, hls, realtime.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction

import click

from console.context import CliContext, pass_ctx


@click.command()
@click.argument("addr", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object when done (keys: orchestrator, ok, checks).")
@click.option("--onchain", is_flag=True,
              help="Pay in tickets from the deposit of settings.account (its key from the keyring), as an on-chain "
                   "gateway does; the renditions are verified as such a gateway verifies them.")
@click.option("--max-price", type=str, default=None, metavar="WEI_PER_PIXEL",
              help="The cap of the gateways you want to serve, in wei per pixel (default 1200, an assumption; "
                   "0 = any price).")
@pass_ctx
def selftest(ctx: CliContext, addr: str | None, as_json: bool, onchain: bool, max_price: str | None) -> None:
    """Run a synthetic stream through an in-process gateway to ADDR (default: this node) and check each step."""
    from core.gateway import selftest as st

    limit = st.DEFAULT_MAX_PRICE_WEI_PER_PIXEL
    if max_price is not None:
        try:
            limit = Fraction(max_price)
        except (ValueError, ZeroDivisionError):
            raise click.BadParameter(f"{max_price!r} is not a number of wei per pixel (e.g. 1200 or 1/3)",
                                     param_hint="--max-price") from None
        if limit < 0:
            raise click.BadParameter("a price cannot be negative", param_hint="--max-price")
        limit = limit or None
    target = addr or ctx.settings.node.service_addr
    chain = _gateway_chain(ctx) if onchain else None
    checks: list[st.Check] = []
    if not as_json:
        click.echo(f"lpc selftest: {target}")
    try:
        for check in st.run(target, max_price=limit, onchain=chain):
            checks.append(check)
            if not as_json:
                mark = click.style("ok  ", fg="green") if check.ok else click.style("FAIL", fg="red", bold=True)
                click.echo(f"  {mark}  {check.title:<32}  {check.detail}")
                if check.hint:
                    click.echo(f"  {'':<4}  {'':<32}  → {check.hint}")
    except KeyboardInterrupt:  # the generator's finally has stopped the gateway
        click.echo("interrupted", err=True)
        sys.exit(130)
    ok = bool(checks) and all(c.ok for c in checks) and len(checks) == len(st.CHECKS)
    if as_json:
        click.echo(json.dumps({"orchestrator": target, "ok": ok, "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        click.echo("every check passed: gateways can use this node" if ok else "a check failed")
    if not ok:
        sys.exit(1)


def _gateway_chain(ctx: CliContext):
    """The on-chain gateway of settings.account: the chain client and its keyring key (ClickException
    with what to do when there is no account, no key or no chain)."""
    from chain.client import ChainError
    from chain.services.gateway_chain import Web3GatewayChain
    from console.commands.chain_cmds import _client

    account = ctx.settings.account
    if not account:
        raise click.UsageError("--onchain pays from an account's deposit: choose one with `lpc wallet use ADDRESS`")
    client = _client(ctx)
    try:
        from console.launch import keyring_signer

        key = keyring_signer(account)
    except Exception as exc:  # noqa: BLE001 - keyring locked, no key: say so (never the key itself)
        raise click.ClickException(f"no signing key for {account}: {exc} — import it with `lpc wallet import`") \
            from None
    try:
        return Web3GatewayChain(client, key)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
