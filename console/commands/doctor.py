"""`lpc doctor [--json]`: is this installation healthy? It checks the data dir, its settings and database,
the keyring, the devnet (or the RPC endpoint), anvil, the node's ports and the H.264 encoder, and says
for each what to do. It never changes anything, and it exits 1 when any check fails.

--json prints one object with stable keys:
    {"data_dir": str, "ok": bool, "counts": {"ok": n, "warn": n, "fail": n},
     "checks": [{"name": str, "status": "ok" | "warn" | "fail", "message": str, "action": str}, ...]}
The check names, in order: data_dir, settings, database, keyring, devnet (rpc on arbitrum-one), anvil,
service_port, cli_port, encoder, ffmpeg.
"""

from __future__ import annotations

import json
import sys

import click

from console.context import CliContext, pass_ctx

_MARK = {"ok": ("ok", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (keys: data_dir, ok, counts, checks).")
@pass_ctx
def doctor(ctx: CliContext, as_json: bool) -> None:
    """Check the data dir, database, settings, keyring, devnet, ports and tools; change nothing."""
    from console.commands.doctor_checks import run_checks
    from core.settings import resolve_data_dir

    root = resolve_data_dir(ctx.data_dir)
    checks = run_checks(root, ctx.network, ctx.rpc_url)
    counts = {status: sum(c.status == status for c in checks) for status in ("ok", "warn", "fail")}
    if as_json:
        click.echo(json.dumps({"data_dir": str(root), "ok": counts["fail"] == 0, "counts": counts,
                               "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        click.echo(f"lpc doctor: {root}")
        width = max(len(c.name) for c in checks)
        for c in checks:
            word, colour = _MARK[c.status]
            click.echo(f"  {click.style(f'{word:<4}', fg=colour, bold=c.status == 'fail')}  {c.name:<{width}}  {c.message}")
            if c.action:
                click.echo(f"  {'':<4}  {'':<{width}}  → {c.action}")
        click.echo(f"{counts['ok']} ok, {counts['warn']} to note, {counts['fail']} failed")
    if counts["fail"]:
        sys.exit(1)
