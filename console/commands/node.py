"""`lpc node`: the headless orchestrator/transcoder node (flag names follow go-livepeer's)."""

from __future__ import annotations

import logging
import signal
import threading

import click

from console.context import CliContext, pass_ctx


def _max_sessions(value: str) -> int | str:
    if value == "auto":
        return "auto"
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter("must be a whole number or 'auto'") from None
    if n < 1:
        raise click.BadParameter("must be at least 1")
    return n


@click.command()
@click.option("--orchestrator", is_flag=True, help="Run as an orchestrator (-orchestrator).")
@click.option("--transcoder", is_flag=True, help="Transcode in this process (-transcoder).")
@click.option("--offchain", is_flag=True, help="Run without a blockchain: no tickets, no payments (-network offchain).")
@click.option("--service-addr", default="127.0.0.1:8935", show_default=True,
              help="HOST:PORT advertised to gateways (-serviceAddr); gRPC and HTTP share this TLS port.")
@click.option("--http-addr", default=None, help="HOST:PORT to bind (-httpAddr; default: all interfaces, the service port).")
@click.option("--cli-addr", default="127.0.0.1:7935", show_default=True,
              help="Management HOST:PORT with Prometheus /metrics and /status (-cliAddr); 'none' turns it off.")
@click.option("--max-sessions", default="10", show_default=True,
              help="Concurrent transcoding sessions, or 'auto' to measure this machine at start-up (-maxSessions).")
@click.option("--price-per-unit", default=0, type=click.IntRange(min=0), show_default=True,
              help="Price in wei per pixels-per-unit pixels (-pricePerUnit).")
@click.option("--pixels-per-unit", default=1, type=click.IntRange(min=1), show_default=True, help="(-pixelsPerUnit)")
@click.option("--encoder", type=click.Choice(["auto", "nvenc", "x264"]), default="auto", show_default=True,
              help="H.264 encoder: NVENC when a GPU answers, else libx264.")
@click.option("--x264-preset", default="veryfast", show_default=True, help="libx264 preset.")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@pass_ctx
def node(
    ctx: CliContext, orchestrator: bool, transcoder: bool, offchain: bool, service_addr: str, http_addr: str | None,
    cli_addr: str, max_sessions: str, price_per_unit: int, pixels_per_unit: int, encoder: str, x264_preset: str,
    verbose: int,
) -> None:
    """Run the Livepeer orchestrator+transcoder node headless (for servers and systemd)."""
    if not (orchestrator and transcoder):
        raise click.UsageError("only the combined orchestrator+transcoder is built: pass --orchestrator --transcoder")
    if not offchain:
        raise click.ClickException(
            "on-chain mode needs the payments issue (ticket parameters and payment validation); "
            "run with --offchain for now"
        )
    from core.node import Node, NodeConfig
    from core.node.config import split_host_port
    from core.node.node import NodeStartError

    try:
        split_host_port(service_addr, 8935)
        sessions = _max_sessions(max_sessions)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose + 1, 2), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = NodeConfig(
        data_dir=ctx.data_path / "node",
        service_addr=service_addr,
        http_addr=http_addr,
        cli_addr=None if cli_addr.lower() == "none" else cli_addr,
        max_sessions=sessions,
        price_per_unit=price_per_unit,
        pixels_per_unit=pixels_per_unit,
        offchain=True,
        encoder=encoder,
        x264_preset=x264_preset,
    )
    n = Node(config)
    if sessions == "auto":
        click.echo("measuring this machine's capacity (a few seconds)…", err=True)
    try:
        st = n.start()
    except NodeStartError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"node up (offchain): {st.service_uri} (bound {st.listening}), encoder {st.encoder}, "
        f"max sessions {st.max_sessions}" + (f", metrics http://{st.management}/metrics" if st.management else ""),
        err=True,
    )
    stopping = threading.Event()

    def _stop(*_):
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping.is_set() and not n.wait(0.5):
        pass
    n.stop()
    if n.status().error:
        raise click.ClickException(n.status().error)
