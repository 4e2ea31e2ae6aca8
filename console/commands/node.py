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
@click.option("--price-per-unit", default="0", show_default=True,
              help="Price per pixels-per-unit pixels: wei (1200), or an amount in the price feed's currency "
                   "(0.5USD), converted with the feed as ETH moves (-pricePerUnit).")
@click.option("--pixels-per-unit", default="1", show_default=True, help="Whole number, e.g. 1 or 1e6 (-pixelsPerUnit).")
@click.option("--price-feed", default=None,
              help="ETH/<currency> Chainlink feed address for currency prices (-priceFeedAddr); default: the network's.")
@click.option("--price-feed-poll", default=None, type=click.FloatRange(min=1), help="Seconds between price feed reads (default 60).")
@click.option("--encoder", type=click.Choice(["auto", "nvenc", "x264"]), default="auto", show_default=True,
              help="H.264 encoder: NVENC when a GPU answers, else libx264.")
@click.option("--x264-preset", default="veryfast", show_default=True, help="libx264 preset.")
@click.option("--account", "account", default=None,
              help="On chain: the orchestrator account (default: settings.account); its key is in the keyring.")
@click.option("--dev-account", type=click.IntRange(0, 999), default=None,
              help="Devnet only: sign with anvil development account N instead of the keyring.")
@click.option("--ticket-ev", default=str(8 * 10**9), show_default=True, help="Expected value of a ticket, wei (-ticketEV).")
@click.option("--max-face-value", default=None, help="Cap on a ticket's face value, wei (-maxFaceValue).")
@click.option("--max-gas-price", default=None, help="Redemptions and reward calls wait above this gas price, wei (-maxGasPrice).")
@click.option("--auto-adjust-price/--no-auto-adjust-price", default=True, show_default=True,
              help="Add the redemption overhead to the advertised price (-autoAdjustPrice).")
@click.option("--reward/--no-reward", default=True, show_default=True,
              help="Call reward once per round (the reward autopilot) (-reward).")
@click.option("--reward-for", default=None, help="Call reward for this orchestrator as its LIP-118 reward caller.")
@click.option("--initialize-round/--no-initialize-round", default=True, show_default=True,
              help="Initialize the round when nobody has (-initializeRound).")
@click.option("--block-polling-interval", default=2.0, type=click.FloatRange(min=0.05), show_default=True,
              help="Seconds between chain polls (-blockPollingInterval).")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@pass_ctx
def node(
    ctx: CliContext, orchestrator: bool, transcoder: bool, offchain: bool, service_addr: str, http_addr: str | None,
    cli_addr: str, max_sessions: str, price_per_unit: str, pixels_per_unit: str, price_feed: str | None,
    price_feed_poll: float | None, encoder: str, x264_preset: str,
    account: str | None, dev_account: int | None, ticket_ev: str, max_face_value: str | None, max_gas_price: str | None,
    auto_adjust_price: bool, reward: bool, reward_for: str | None, initialize_round: bool,
    block_polling_interval: float, verbose: int,
) -> None:
    """Run the Livepeer orchestrator+transcoder node headless (for servers and systemd).

    On chain (the configured network) it signs with the keyring key of --account / settings.account,
    hands gateways ticket parameters, validates and stores their tickets, redeems the winning ones and
    calls reward every round."""
    if not (orchestrator and transcoder):
        raise click.UsageError("only the combined orchestrator+transcoder is built: pass --orchestrator --transcoder")
    from core.node import Node, NodeConfig
    from core.node.config import split_host_port
    from core.node.node import NodeStartError

    try:
        split_host_port(service_addr, 8935)
        sessions = _max_sessions(max_sessions)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    from core.payments.pricing import PriceError, parse_pixels, parse_price

    try:
        price = parse_price(price_per_unit)
    except PriceError as exc:
        raise click.BadParameter(str(exc), param_hint="--price-per-unit") from None
    try:
        pixels = parse_pixels(pixels_per_unit)
    except PriceError as exc:
        raise click.BadParameter(str(exc), param_hint="--pixels-per-unit") from None
    if price.currency != "WEI" and offchain:
        raise click.BadParameter(f"{price}: an offchain node has no price feed to convert {price.currency} to wei; "
                                 "give wei, or run on chain", param_hint="--price-per-unit")
    if price_feed is not None:
        from chain.amounts import InputError, parse_address

        try:
            price_feed = parse_address(price_feed, "--price-feed")
        except (InputError, ValueError) as exc:
            raise click.BadParameter(str(exc), param_hint="--price-feed") from None
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose + 1, 2), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = NodeConfig(
        data_dir=ctx.data_path / "node",
        service_addr=service_addr,
        http_addr=http_addr,
        cli_addr=None if cli_addr.lower() == "none" else cli_addr,
        max_sessions=sessions,
        price_per_unit=int(price.value) if price.currency == "WEI" else str(price),
        pixels_per_unit=pixels,
        offchain=offchain,
        encoder=encoder,
        x264_preset=x264_preset,
        max_renditions=ctx.settings.node.max_renditions,
    )
    if offchain:
        n = Node(config)
    else:
        n = _onchain_node(ctx, config, account, dev_account, _wei(ticket_ev, "--ticket-ev"),
                          _wei(max_face_value, "--max-face-value"), _wei(max_gas_price, "--max-gas-price"),
                          auto_adjust_price, reward, reward_for, initialize_round, block_polling_interval,
                          price_feed, price_feed_poll)
    if sessions == "auto":
        click.echo("measuring this machine's capacity (a few seconds)…", err=True)
    import os

    from core.composition import gpu_metrics, gpu_monitor

    monitor = gpu_monitor(ctx.settings, node_pids=(os.getpid(),))
    monitor.start()
    n.extra_metrics = gpu_metrics(monitor)  # GPU figures beside the node's own on /metrics
    try:
        st = n.start()
    except NodeStartError as exc:
        monitor.close()
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"node up ({'offchain' if offchain else ctx.settings.network.value}): {st.service_uri} (bound {st.listening}), encoder {st.encoder}, "
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
    monitor.close()
    if n.status().error:
        raise click.ClickException(n.status().error)


def _wei(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise click.BadParameter(f"{text!r} is not a whole number of wei", param_hint=flag)
    return int(text)


def _onchain_node(ctx: CliContext, config, account, dev_account, ticket_ev, max_face_value, max_gas_price,
                  auto_adjust, reward, reward_for, initialize_round, poll_s, price_feed=None, price_feed_poll=None):
    from chain.client import ChainError
    from core.composition import onchain_node
    from core.payments.config import PaymentConfig
    from core.settings import Network

    settings = ctx.settings
    if dev_account is not None:
        if settings.network is not Network.DEVNET:
            raise click.UsageError("--dev-account signs with a public development key: devnet only")
        from chain.devnet.accounts import dev_account as dev_key

        signer = dev_key(dev_account)
    else:
        address = account or settings.account
        if not address:
            raise click.UsageError("on chain the node signs as an orchestrator: pass --account or set one with "
                                   "`lpc wallet use ADDRESS` (or --offchain)")
        from console.commands.chain_cmds import open_signer

        signer = open_signer(ctx, address)
    pc = PaymentConfig(ticket_ev=ticket_ev or 0, max_face_value=max_face_value, max_gas_price=max_gas_price,
                       auto_adjust_price=auto_adjust, reward=reward, reward_for=reward_for,
                       initialize_rounds=initialize_round, poll_s=poll_s, reward_poll_s=max(poll_s, 1.0),
                       price_feed=price_feed, price_feed_poll_s=price_feed_poll)
    try:
        node, _ = onchain_node(settings, config, signer, pc)
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
    return node
