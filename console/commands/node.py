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


_DEFAULTS = "default: settings.toml [node], LPC_NODE__*, then the built-in"


@click.command()
@click.option("--orchestrator", is_flag=True, help="Run as an orchestrator (-orchestrator).")
@click.option("--transcoder", is_flag=True, help="Transcode in this process (-transcoder).")
@click.option("--offchain/--onchain", default=None,
              help="Run without a blockchain: no tickets, no payments (-network offchain), or on the configured "
                   f"network ({_DEFAULTS} node.offchain, which is offchain).")
@click.option("--service-addr", default=None,
              help="HOST:PORT advertised to gateways (-serviceAddr); gRPC and HTTP share this TLS port "
                   f"({_DEFAULTS} 127.0.0.1:8935).")
@click.option("--http-addr", default=None, help="HOST:PORT to bind (-httpAddr; default: all interfaces, the service port).")
@click.option("--cli-addr", default=None,
              help="Management HOST:PORT with Prometheus /metrics and /status (-cliAddr); 'none' turns it off "
                   f"({_DEFAULTS} 127.0.0.1:7935).")
@click.option("--max-sessions", default=None,
              help="Concurrent transcoding sessions, or 'auto' to measure this machine at start-up (-maxSessions) "
                   f"({_DEFAULTS} 10).")
@click.option("--price-per-unit", default=None,
              help="Price per pixels-per-unit pixels: wei (1200), or an amount in the price feed's currency "
                   f"(0.5USD), converted with the feed as ETH moves (-pricePerUnit) ({_DEFAULTS} 0).")
@click.option("--pixels-per-unit", default=None, help=f"Whole number, e.g. 1 or 1e6 (-pixelsPerUnit) ({_DEFAULTS} 1).")
@click.option("--price-feed", default=None,
              help="ETH/<currency> Chainlink feed address for currency prices (-priceFeedAddr); default: the network's.")
@click.option("--price-feed-poll", default=None, type=click.FloatRange(min=1), help="Seconds between price feed reads (default 60).")
@click.option("--encoder", type=click.Choice(["auto", "nvenc", "x264"]), default=None,
              help="H.264 encoder: NVENC when a GPU answers, else libx264 (default: auto).")
@click.option("--x264-preset", default=None, help="libx264 preset (default: veryfast).")
@click.option("--encoder-threads", type=click.IntRange(min=0, max=256), default=None,
              help="Threads encoding renditions, shared by every session; 0 = one per CPU core (default 0).")
@click.option("--max-ladder-pixels", type=click.IntRange(min=1), default=None,
              help="Output pixels per frame a segment's renditions may add up to; more is refused with 413 "
                   "(default 17694720, two 4096x2160 frames).")
@click.option("--idle-timeout", "idle_timeout_s", type=click.FloatRange(min=0, min_open=True, max=3600), default=None,
              help="Seconds a session lives after its last segment (default 70, as go-livepeer).")
@click.option("--gateway-session-share", type=click.FloatRange(min=0, min_open=True, max=1), default=None,
              help="Offchain: the share of --max-sessions one gateway IP may hold; more is refused "
                   "OrchestratorCapped (default 0.5; 1 = no limit). On chain gateways are not limited.")
@click.option("--account", "account", default=None,
              help="On chain: the orchestrator account (default: settings.account); its key is in the keyring.")
@click.option("--dev-account", type=click.IntRange(0, 999), default=None,
              help="Devnet only: sign with anvil development account N instead of the keyring.")
@click.option("--ticket-ev", default=None, help="Expected value of a ticket, wei (-ticketEV; default 8000000000).")
@click.option("--max-face-value", default=None, help="Cap on a ticket's face value, wei (-maxFaceValue).")
@click.option("--max-gas-price", default=None, help="Redemptions and reward calls wait above this gas price, wei (-maxGasPrice).")
@click.option("--auto-adjust-price/--no-auto-adjust-price", default=None,
              help="Add the redemption overhead to the advertised price (-autoAdjustPrice; default: on).")
@click.option("--reward/--no-reward", default=None,
              help="Call reward once per round (the reward autopilot) (-reward; default: on).")
@click.option("--reward-for", default=None, help="Call reward for this orchestrator as its LIP-118 reward caller.")
@click.option("--initialize-round/--no-initialize-round", default=None,
              help="Initialize the round when nobody has (-initializeRound; default: on).")
@click.option("--block-polling-interval", default=None, type=click.FloatRange(min=0.05),
              help="Seconds between chain polls (-blockPollingInterval; default 2).")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@pass_ctx
def node(
    ctx: CliContext, orchestrator: bool, transcoder: bool, offchain: bool | None, service_addr: str | None,
    http_addr: str | None, cli_addr: str | None, max_sessions: str | None, price_per_unit: str | None,
    pixels_per_unit: str | None, price_feed: str | None, price_feed_poll: float | None, encoder: str | None,
    x264_preset: str | None, encoder_threads: int | None, max_ladder_pixels: int | None,
    idle_timeout_s: float | None, gateway_session_share: float | None, account: str | None,
    dev_account: int | None, ticket_ev: str | None, max_face_value: str | None, max_gas_price: str | None, auto_adjust_price: bool | None, reward: bool | None,
    reward_for: str | None, initialize_round: bool | None, block_polling_interval: float | None, verbose: int,
) -> None:
    """Run the Livepeer orchestrator+transcoder node headless (for servers and systemd).

    It is the console's node: settings.toml `[node]` and LPC_NODE__* configure it, a flag beats both.
    On chain (--onchain, or node.offchain = false) it signs with the keyring key of --account /
    settings.account, hands gateways ticket parameters, validates and stores their tickets, redeems the
    winning ones and calls reward every round."""
    if not (orchestrator and transcoder):
        raise click.UsageError("only the combined orchestrator+transcoder is built: pass --orchestrator --transcoder")
    from core.composition import NodeUnavailable, assemble_node
    from core.node.config import node_config, split_host_port
    from core.node.node import NodeStartError

    overrides = _node_overrides(offchain, service_addr, http_addr, cli_addr, max_sessions, price_per_unit,
                                pixels_per_unit, encoder, x264_preset, encoder_threads, max_ladder_pixels,
                                idle_timeout_s=idle_timeout_s, gateway_session_share=gateway_session_share)
    settings = ctx.settings
    try:
        config = node_config(settings, overrides)
        split_host_port(config.service_addr, 8935)
    except ValueError as exc:
        raise click.UsageError(f"{exc} (from the flags, LPC_NODE__* or settings.toml [node])") from None
    if isinstance(config.price_per_unit, str) and config.offchain:
        from core.payments.pricing import parse_price

        currency = parse_price(config.price_per_unit).currency
        raise click.BadParameter(f"{config.price_per_unit}: an offchain node has no price feed to convert {currency} "
                                 "to wei; give wei, or run on chain (--onchain)", param_hint="--price-per-unit")
    if config.offchain and (account is not None or dev_account is not None):
        raise click.UsageError("--account and --dev-account sign on chain, but this node runs offchain "
                               "(node.offchain): pass --onchain")
    if price_feed is not None:
        from chain.amounts import InputError, parse_address

        try:
            price_feed = parse_address(price_feed, "--price-feed")
        except (InputError, ValueError) as exc:
            raise click.BadParameter(str(exc), param_hint="--price-feed") from None
    payment = _payment_config(ticket_ev=_wei(ticket_ev, "--ticket-ev"),
                              max_face_value=_wei(max_face_value, "--max-face-value"),
                              max_gas_price=_wei(max_gas_price, "--max-gas-price"), auto_adjust_price=auto_adjust_price,
                              reward=reward, reward_for=reward_for, initialize_rounds=initialize_round,
                              poll_s=block_polling_interval, price_feed=price_feed, price_feed_poll_s=price_feed_poll)
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose + 1, 2), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import os

    from core.composition import gpu_monitor

    moved = _keep_certificate(settings.data_dir)
    if moved:
        click.echo(f"note: {moved}", err=True)
    monitor = gpu_monitor(settings, node_pids=(os.getpid(),))
    try:
        built = assemble_node(settings, overrides, signer=lambda: _signer(ctx, account, dev_account),
                              payment_config=payment, monitor=monitor)
    except NodeUnavailable as exc:
        monitor.close()
        raise click.ClickException(str(exc)) from None
    except BaseException:
        monitor.close()
        raise
    n = built.node
    if config.max_sessions == "auto":
        click.echo("measuring this machine's capacity (a few seconds)…", err=True)
    monitor.start()
    try:
        st = n.start()
    except NodeStartError as exc:
        monitor.close()
        built.close()
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"node up ({'offchain' if config.offchain else settings.network.value}): {st.service_uri} (bound {st.listening}), encoder {st.encoder}, "
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
    built.close()
    if n.status().error:
        raise click.ClickException(n.status().error)


def _keep_certificate(data_dir) -> str | None:
    """Until one assembly, `lpc node` kept its TLS certificate in <data dir>/node/tls; the node's certificate
    now lives in <data dir>/tls for the console and `lpc node` alike. A certificate only the old place has
    is moved there, so gateways that pinned it keep trusting this node. Returns what was done, or None."""
    from core.node.tls import CERT_FILE, KEY_FILE

    old, new = data_dir / "node" / "tls", data_dir / "tls"
    if new.exists() or not ((old / CERT_FILE).is_file() and (old / KEY_FILE).is_file()):
        return None
    old.rename(new)
    return f"moved the node's TLS certificate from {old} to {new} (shared with the console's node)"


def _node_overrides(offchain, service_addr, http_addr, cli_addr, max_sessions, price_per_unit, pixels_per_unit,
                    encoder, x264_preset, encoder_threads=None, max_ladder_pixels=None, *,
                    idle_timeout_s=None, gateway_session_share=None) -> dict:
    """The NodeConfig fields the user gave as flags (checked here so the error names the flag)."""
    from core.node.config import split_host_port
    from core.payments.pricing import PriceError, parse_pixels, parse_price

    # cli_addr 'none' turns the management port off (the settings model reads it so; None is "not given")
    given: dict = {"offchain": offchain, "service_addr": service_addr, "http_addr": http_addr, "cli_addr": cli_addr,
                   "encoder": encoder, "x264_preset": x264_preset, "encoder_threads": encoder_threads,
                   "max_ladder_pixels": max_ladder_pixels, "idle_timeout_s": idle_timeout_s,
                   "gateway_session_share": gateway_session_share}
    if service_addr is not None:
        try:
            split_host_port(service_addr, 8935)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--service-addr") from None
    if max_sessions is not None:
        given["max_sessions"] = _max_sessions(max_sessions)
    if price_per_unit is not None:
        try:
            price = parse_price(price_per_unit)
        except PriceError as exc:
            raise click.BadParameter(str(exc), param_hint="--price-per-unit") from None
        given["price_per_unit"] = int(price.value) if price.currency == "WEI" else str(price)
    if pixels_per_unit is not None:
        try:
            given["pixels_per_unit"] = parse_pixels(pixels_per_unit)
        except PriceError as exc:
            raise click.BadParameter(str(exc), param_hint="--pixels-per-unit") from None
    return given


def _payment_config(**given):
    """PaymentConfig from the payment flags that were given; the rest keep PaymentConfig's defaults."""
    from core.payments.config import PaymentConfig

    values = {k: v for k, v in given.items() if v is not None}
    if "poll_s" in values:
        values["reward_poll_s"] = max(values["poll_s"], 1.0)
    return PaymentConfig(**values)


def _wei(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise click.BadParameter(f"{text!r} is not a whole number of wei", param_hint=flag)
    return int(text)


def _signer(ctx: CliContext, account: str | None, dev_account: int | None):
    """The on-chain node's signer: a devnet development key, or the keyring key of the account."""
    from core.settings import Network

    settings = ctx.settings
    if dev_account is not None:
        if settings.network is not Network.DEVNET:
            raise click.UsageError("--dev-account signs with a public development key: devnet only")
        from chain.devnet.accounts import dev_account as dev_key

        return dev_key(dev_account)
    address = account or settings.account
    if not address:
        raise click.UsageError("on chain the node signs as an orchestrator: pass --account or set one with "
                               "`lpc wallet use ADDRESS` (or --offchain)")
    from console.commands.chain_cmds import open_signer

    return open_signer(ctx, address)
