"""`lpc node`: the headless orchestrator/transcoder node and the gateway (flag names follow go-livepeer's).

Every go-livepeer flag is accepted as go-livepeer spells it (`-orchAddr x`, `--orchAddr=x`, `-monitor=false`,
`-discoveryTimeout 2s`) beside lpc's kebab-case options: GoFlagsCommand turns the go-livepeer spellings
into lpc's options before click parses (the table and its rules are core/gateway/flags.py). As in
go-livepeer, -httpAddr, -cliAddr and -maxSessions are the gateway's when -gateway runs without
-orchestrator, and the orchestrator's otherwise (go-livepeer's node is an orchestrator when both are given;
lpc runs both, and the gateway beside an orchestrator takes --gateway-http-addr/--gateway-cli-addr/
--gateway-max-sessions or [gateway] settings). `--show-config` prints how a command line was understood
and starts nothing. With -aiWorker the orchestrator also serves the AI pipelines (-aiModels, -aiModelsDir);
-orchestrator -aiWorker without -transcoder is an AI-only node, as go-livepeer allows (docs/ai.md).
"""
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
_GW = "default: settings.toml [gateway], LPC_GATEWAY__*, then go-livepeer's"


class GoFlagsCommand(click.Command):
    """A click command that also takes go-livepeer's spellings of its options (core/gateway/flags.py):
    they are turned into lpc's options before click parses, each accepted flag with no effect yet gets one
    warning line on stderr, and a flag neither knows is a usage error naming the closest ones."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from core.gateway.flags import GoFlagError, UnknownFlag, normalise

        options: set[str] = set()
        value_options: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                options.update(param.opts + param.secondary_opts)
                if not param.is_flag and not param.count:
                    value_options.update(param.opts)
        try:
            norm = normalise(args, options=options, value_options=value_options)
        except UnknownFlag as exc:
            raise click.UsageError(str(exc)[:1].upper() + str(exc)[1:], ctx=ctx) from None
        except GoFlagError as exc:
            raise click.UsageError(str(exc), ctx=ctx) from None
        ctx.meta["lpc.go_flags"] = norm
        for line in norm.warnings():
            click.echo(f"warning: {line}", err=True)
        return super().parse_args(ctx, list(norm.argv))


_NETWORKS = ("offchain", "arbitrum-one-mainnet", "arbitrum-one", "devnet")


def _go_network(value: str | None) -> str | None:
    """go-livepeer's -network: offchain or arbitrum-one-mainnet (lpc's arbitrum-one too), or lpc's devnet."""
    if value is None or value in _NETWORKS:
        return value
    raise click.BadParameter(f"{value!r}: lpc runs offchain, on arbitrum-one-mainnet or on its own devnet "
                             "(go-livepeer's other networks are retired testnets or need -ethController, which "
                             "lpc does not take)", param_hint="-network")


def _duration(ctx, param, value: str | None) -> float | None:
    """A Go duration ("500ms", "2s") as seconds."""
    if value is None:
        return None
    from core.gateway.flags import parse_go_duration

    try:
        seconds = parse_go_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter(f"{value!r}: the timeout must be above 0")
    return seconds


@click.command(cls=GoFlagsCommand, epilog=(
    "Every go-livepeer flag is taken as go-livepeer spells it (one or two dashes, -flag value or -flag=value, "
    "Go bools and durations). One lpc does not implement yet is accepted with a warning line saying it has no "
    "effect; secret-bearing ones (-ethPassword, -orchSecret, -kafkaPassword …) are refused without showing "
    "their value: keys live in the OS keyring. --show-config shows how a command line was read."))
@click.option("--orchestrator", is_flag=True, help="Run as an orchestrator (-orchestrator).")
@click.option("--transcoder", is_flag=True, help="Transcode in this process (-transcoder).")
@click.option("--gateway", is_flag=True,
              help="Run a gateway: RTMP and HTTP push in, the network's orchestrators transcode, HLS out "
                   "(-gateway; -broadcaster is go-livepeer's old spelling). With --orchestrator both run here.")
@click.option("--show-config", is_flag=True,
              help="Print the configuration these flags, LPC_* variables and settings.toml give, and exit "
                   "without starting anything (to check how a pasted go-livepeer command line was read).")
@click.option("--network", "go_network", callback=lambda c, p, v: _go_network(v), default=None,
              metavar="[offchain|arbitrum-one-mainnet|devnet]", help="offchain (= --offchain), arbitrum-one-mainnet (= --onchain on Arbitrum One) or "
                                 "lpc's devnet (= --onchain on the embedded devnet) (-network).")
@click.option("--data-dir", "node_data_dir", type=click.Path(file_okay=False), default=None,
              help="The installation's data dir, as `lpc --data-dir` (-dataDir).")
@click.option("--eth-url", default=None, help="JSON-RPC endpoint, as `lpc --rpc-url` (-ethUrl).")
@click.option("--offchain/--onchain", default=None,
              help="Run without a blockchain: no tickets, no payments (-network offchain), or on the configured "
                   f"network ({_DEFAULTS} node.offchain, which is offchain).")
@click.option("--service-addr", default=None,
              help="HOST:PORT advertised to gateways (-serviceAddr); gRPC and HTTP share this TLS port "
                   f"({_DEFAULTS} 127.0.0.1:8935).")
@click.option("--http-addr", default=None,
              help="HOST:PORT to bind (-httpAddr): the orchestrator's service port (default: all interfaces, the "
                   "service port), or with --gateway alone the gateway's plain HTTP for HLS and push "
                   "(default 127.0.0.1:9935).")
@click.option("--cli-addr", default=None,
              help="Management HOST:PORT with Prometheus /metrics and /status (-cliAddr); 'none' turns it off "
                   f"({_DEFAULTS} 127.0.0.1:7935; with --gateway alone the gateway's, default 127.0.0.1:5935).")
@click.option("--max-sessions", default=None,
              help="Concurrent transcoding sessions, or 'auto' to measure this machine at start-up (-maxSessions) "
                   f"({_DEFAULTS} 10); with --gateway alone the most concurrent streams (default 10).")
@click.option("--price-per-unit", default=None,
              help="Price per pixels-per-unit pixels: wei (1200), or an amount in the price feed's currency "
                   f"(0.5USD), converted with the feed as ETH moves (-pricePerUnit) ({_DEFAULTS} 0).")
@click.option("--pixels-per-unit", default=None,
              help=f"Whole number, e.g. 1 or 1e6, for the orchestrator's price and the gateway's max price "
                   f"(-pixelsPerUnit) ({_DEFAULTS} 1).")
@click.option("--price-feed", default=None,
              help="ETH/<currency> Chainlink feed address for currency prices (-priceFeedAddr); default: the network's.")
@click.option("--price-feed-poll", default=None, type=click.FloatRange(min=1), help="Seconds between price feed reads (default 60).")
@click.option("--ai-worker/--no-ai-worker", default=None,
              help="Serve the AI pipelines (/text-to-image … /text-to-speech) with in-process models (-aiWorker); "
                   "with --orchestrator and without --transcoder the node does AI only.")
@click.option("--ai-models", default=None,
              help="aiModels.json (a path) or inline pipeline:model_id:warm[,…] (-aiModels); default: every "
                   "pipeline with a model shipped with lpc.")
@click.option("--ai-models-dir", default=None, type=click.Path(file_okay=False),
              help="User-supplied model weights, one directory per model id with a SHA256SUMS file (-aiModelsDir; "
                   "default: <data dir>/models).")
@click.option("--encoder", type=click.Choice(["auto", "nvenc", "x264"]), default=None,
              help="H.264 encoder: NVENC when a GPU answers, else libx264 (default: auto; -nvidia is nvenc).")
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
              help="On chain: the node's account (-ethAcctAddr; default: settings.account); its key is in the keyring.")
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
# The gateway's own
@click.option("--rtmp-addr", default=None, help=f"RTMP ingest HOST:PORT, ':P' or HOST; 'none' turns RTMP off "
                                                 f"(-rtmpAddr) ({_GW} 127.0.0.1:1935).")
@click.option("--gateway-http-addr", default=None,
              help="The gateway's plain HTTP HOST:PORT (HLS, push, /healthz) when it runs beside an orchestrator "
                   f"(-httpAddr of a gateway) ({_GW} 127.0.0.1:9935).")
@click.option("--gateway-cli-addr", default=None,
              help="The gateway's management HOST:PORT when it runs beside an orchestrator; 'none' turns it off "
                   f"(-cliAddr of a gateway) ({_GW} 127.0.0.1:5935).")
@click.option("--gateway-max-sessions", type=click.IntRange(min=1), default=None,
              help=f"The most concurrent streams when the gateway runs beside an orchestrator (-maxSessions of a "
                   f"gateway) ({_GW} 10).")
@click.option("--orch-addr", default=None,
              help="Orchestrators to use, comma-separated HOST:PORT or URLs (-orchAddr).")
@click.option("--orch-webhook-url", default=None,
              help="Discovery webhook: GET answering [{\"address\": \"https://host:port\"}] (-orchWebhookUrl).")
@click.option("--orch-blocklist", default=None,
              help="Orchestrator ETH addresses never used, comma-separated (-orchBlocklist; empty blocks nothing).")
@click.option("--transcoding-options", default=None,
              help="The ladder: preset names (P240p30fps16x9,P360p30fps16x9) or a JSON file's path "
                   f"(-transcodingOptions) ({_GW} P240p30fps16x9,P360p30fps16x9).")
@click.option("--max-attempts", type=int, default=None,
              help=f"Transcode attempts per segment; 0 or less never transcodes (-maxAttempts) ({_GW} 3).")
@click.option("--max-price-per-unit", default=None,
              help="The most the gateway pays per pixels-per-unit pixels: wei, or 0.5USD with the price feed; "
                   f"0 = any price (-maxPricePerUnit) ({_GW} 0).")
@click.option("--ignore-max-price-if-needed/--no-ignore-max-price-if-needed", default=None,
              help="Use orchestrators over the max price when none is under it (-ignoreMaxPriceIfNeeded).")
@click.option("--max-ticket-ev", default=None,
              help=f"On chain: the most one ticket may be worth, wei (-maxTicketEV) ({_GW} 3000000000000).")
@click.option("--max-total-ev", default=None,
              help=f"On chain: the most one segment's tickets may be worth, wei (-maxTotalEV) ({_GW} 20000000000000).")
@click.option("--deposit-multiplier", type=click.IntRange(min=1), default=None,
              help=f"On chain: a ticket's face value is at most the deposit / this (-depositMultiplier) ({_GW} 1).")
@click.option("--select-stake-weight", type=click.FloatRange(min=0), default=None,
              help=f"On chain selection: weight of stake (-selectStakeWeight) ({_GW} 0.7).")
@click.option("--select-price-weight", type=click.FloatRange(min=0), default=None,
              help=f"On chain selection: weight of price (-selectPriceWeight) ({_GW} 0).")
@click.option("--select-rand-freq", type=click.FloatRange(min=0), default=None,
              help=f"On chain selection: weight of chance (-selectRandFreq) ({_GW} 0.3).")
@click.option("--select-price-exp-factor", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"How much a small price change weighs in selection (-selectPriceExpFactor) ({_GW} 100).")
@click.option("--discovery-timeout", "discovery_timeout_s", default=None, callback=_duration,
              help=f"How long to wait for orchestrators' answers, a Go duration: 500ms, 2s (-discoveryTimeout) "
                   f"({_GW} 500ms).")
@click.option("--ai-processing-retry-timeout", "ai_processing_retry_timeout_s", default=None, callback=_duration,
              help=f"How long an AI request looks for an orchestrator that serves it, a Go duration "
                   f"(-aiProcessingRetryTimeout) ({_GW} 2s).")
@click.option("--max-price-per-capability", default=None,
              help="The most the gateway pays per AI pipeline and model, wei per unit: JSON "
                   "{\"capabilities_prices\": [{\"pipeline\", \"model_id\", \"price_per_unit\", \"pixels_per_unit\"}]} "
                   "or a JSON file's path (-maxPricePerCapability).")
@click.option("--local-verify/--no-local-verify", default=None,
              help="Check rendition pixel counts and signatures (-localVerify; default: on chain on, offchain off).")
@click.option("--auth-webhook-url", default=None,
              help="The gateway POSTs each new stream's URL here; a non-200 answer refuses it (-authWebhookUrl).")
@click.option("--monitor/--no-monitor", default=None,
              help="The gateway's Prometheus /metrics on its management port (-monitor); the orchestrator always "
                   "serves /metrics.")
@click.option("--ai-service-registry/--no-ai-service-registry", default=None,
              help="On chain, the gateway finds AI orchestrators at the URIs in the AI ServiceRegistry "
                   "(-aiServiceRegistry).")
@click.option("--metrics-per-stream/--no-metrics-per-stream", default=None,
              help="A manifestID label on the gateway's metrics (-metricsPerStream).")
@click.option("--http-ingest/--no-http-ingest", default=None,
              help="HTTP push to /live/<id>/<seq>.ts (-httpIngest; default: on while the HTTP address is loopback "
                   "or an auth webhook is set).")
@click.option("--current-manifest/--no-current-manifest", default=None,
              help="Also serve the newest stream as /stream/current.m3u8 (-currentManifest).")
@click.option("-v", "--verbose", count=True, help="More logging (-v debug; go-livepeer's -v 4 to 6 too).")
@pass_ctx
def node(ctx: CliContext, orchestrator: bool, transcoder: bool, gateway: bool, show_config: bool,
         go_network: str | None, node_data_dir: str | None, eth_url: str | None, offchain: bool | None,
         service_addr: str | None, http_addr: str | None, cli_addr: str | None, max_sessions: str | None,
         price_per_unit: str | None, pixels_per_unit: str | None, price_feed: str | None,
         price_feed_poll: float | None, encoder: str | None, x264_preset: str | None, encoder_threads: int | None,
         max_ladder_pixels: int | None, idle_timeout_s: float | None, gateway_session_share: float | None,
         account: str | None, dev_account: int | None, ticket_ev: str | None, max_face_value: str | None,
         max_gas_price: str | None, auto_adjust_price: bool | None, reward: bool | None, reward_for: str | None,
         initialize_round: bool | None, block_polling_interval: float | None, verbose: int,
         ai_worker: bool | None = None, ai_models: str | None = None, ai_models_dir: str | None = None,
         **gateway_flags) -> None:
    """Run the Livepeer orchestrator+transcoder node, a gateway, or both, headless (for servers and systemd).

    It is the console's node: settings.toml `[node]`/`[gateway]` and LPC_NODE__*/LPC_GATEWAY__* configure
    it, a flag beats both. go-livepeer's flags work as go-livepeer spells them (-orchAddr x,
    -monitor=false, -discoveryTimeout 2s), so a go-livepeer command line can be pasted after `lpc node`.
    On chain (--onchain, or node.offchain = false) it signs with the keyring key of --account /
    settings.account, hands gateways ticket parameters, validates and stores their tickets, redeems the
    winning ones and calls reward every round."""
    norm = click.get_current_context().meta.get("lpc.go_flags")
    inert = {i.name: i.value for i in norm.inert} if norm is not None else {}
    runs_node = orchestrator or transcoder
    if transcoder and not orchestrator:
        raise click.UsageError("only the combined orchestrator+transcoder is built: pass --orchestrator --transcoder")
    if orchestrator and not transcoder and ai_worker is False:
        raise click.UsageError("an orchestrator needs something to do: pass --transcoder (-transcoder), "
                               "--ai-worker (-aiWorker), or both")
    if not runs_node and not gateway:
        raise click.UsageError("nothing to run: pass --orchestrator --transcoder (-orchestrator -transcoder), "
                               "--gateway (-gateway), or both")
    offchain = _network(ctx, go_network, offchain, node_data_dir, eth_url)
    gateway_alone = gateway and not runs_node
    if gateway_alone:  # go-livepeer: -httpAddr, -cliAddr and -maxSessions are the gateway's
        for name, value in (("gateway_http_addr", http_addr), ("gateway_cli_addr", cli_addr)):
            if value is not None:
                gateway_flags[name] = value
        if max_sessions is not None:
            gateway_flags["gateway_max_sessions"] = _gateway_streams(max_sessions)
        http_addr = cli_addr = max_sessions = None
    node_only = {"--ai-worker": ai_worker, "--ai-models": ai_models, "--ai-models-dir": ai_models_dir,
                 "--service-addr": service_addr, "--price-per-unit": price_per_unit, "--encoder": encoder,
                 "--x264-preset": x264_preset, "--encoder-threads": encoder_threads,
                 "--max-ladder-pixels": max_ladder_pixels, "--idle-timeout": idle_timeout_s,
                 "--gateway-session-share": gateway_session_share, "--ticket-ev": ticket_ev,
                 "--max-face-value": max_face_value, "--reward-for": reward_for, "--reward": reward,
                 "--initialize-round": initialize_round, "--auto-adjust-price": auto_adjust_price}
    if not runs_node and any(v is not None for v in node_only.values()):
        given = ", ".join(k for k, v in node_only.items() if v is not None)
        click.echo(f"warning: {given}: only for the orchestrator (-orchestrator -transcoder), which this "
                   "command does not run", err=True)
    # not in this list: -monitor (lpc's orchestrator always serves /metrics, which is what it asks for) and
    # -authWebhookUrl (an orchestrator's gateway allow-list in go-livepeer, said below)
    gateway_given = [k for k, v in gateway_flags.items() if v is not None and k not in ("monitor", "auth_webhook_url")]
    if not gateway and gateway_given:
        names = {p.name: p.opts[0] for p in click.get_current_context().command.params}
        click.echo(f"warning: {', '.join(names.get(k, k) for k in gateway_given)}: only for the gateway "
                   "(-gateway), which this command does not run", err=True)
    if not gateway and gateway_flags.get("auth_webhook_url") is not None:
        click.echo("warning: -authWebhookUrl on an orchestrator (go-livepeer's gateway allow-list) is accepted "
                   "and has no effect yet", err=True)
    settings = ctx.settings
    config = gw_config = None
    overrides: dict = {}
    if runs_node:
        from core.node.config import node_config, split_host_port

        overrides = _node_overrides(offchain, service_addr, http_addr, cli_addr, max_sessions, price_per_unit,
                                    pixels_per_unit, encoder, x264_preset, encoder_threads, max_ladder_pixels,
                                    idle_timeout_s=idle_timeout_s, gateway_session_share=gateway_session_share,
                                    ai_worker=ai_worker, ai_models=ai_models, ai_models_dir=ai_models_dir,
                                    transcoding=transcoder)
        try:
            config = node_config(settings, overrides)
            split_host_port(config.service_addr, 8935)
        except ValueError as exc:
            raise click.UsageError(f"{exc} (from the flags, LPC_NODE__* or settings.toml [node])") from None
        if not config.transcoding and not config.ai_worker:
            raise click.UsageError("an orchestrator needs something to do: pass --transcoder (-transcoder), "
                                   "--ai-worker (-aiWorker), or both")
        if config.ai_worker:
            from core.composition import AIModelsProblem, check_ai_models

            try:
                check_ai_models(config)
            except AIModelsProblem as exc:
                raise click.UsageError(str(exc)) from None
        if isinstance(config.price_per_unit, str) and config.offchain:
            from core.payments.pricing import parse_price

            currency = parse_price(config.price_per_unit).currency
            raise click.BadParameter(f"{config.price_per_unit}: an offchain node has no price feed to convert "
                                     f"{currency} to wei; give wei, or run on chain (--onchain)",
                                     param_hint="--price-per-unit")
    gw_overrides: dict = {}
    if gateway:
        gw_overrides = _gateway_overrides(offchain, pixels_per_unit, inert, **gateway_flags)
        from core.gateway.config import gateway_config

        try:
            gw_config = gateway_config(settings, gw_overrides)
        except ValueError as exc:
            raise click.UsageError(f"{exc} (from the flags, LPC_GATEWAY__* or settings.toml [gateway])") from None
    signs = (config is not None and not config.offchain) or (gw_config is not None and not gw_config.offchain)
    if not signs and (account is not None or dev_account is not None):
        raise click.UsageError("--account (-ethAcctAddr) and --dev-account sign on chain, but this node runs "
                               "offchain (node.offchain): pass --onchain")
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
    if show_config:
        from console.commands.show_config import config_text

        click.echo(config_text(settings, config, payment if runs_node else None, gw_config, inert,
                               account=None if dev_account is not None else account,
                               ladder=_ladder(gw_config) if gw_config is not None else None))
        return
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose + 1, 2), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gw = None
    if gateway:
        from core.composition import GatewayUnavailable, assemble_gateway

        try:
            gw = assemble_gateway(settings, gw_overrides,
                                  signer=lambda: _signer(ctx, account, dev_account, "a gateway (its tickets)"))
        except GatewayUnavailable as exc:
            click.echo(f"Error: {exc}", err=True)
            click.get_current_context().exit(2)
    if not runs_node:
        _run_gateway(gw, gw_config)
        return
    _run_node(ctx, settings, config, overrides, payment, account, dev_account, gw, gw_config)


def _network(ctx: CliContext, go_network: str | None, offchain: bool | None, data_dir: str | None,
             eth_url: str | None) -> bool | None:
    """go-livepeer's -network, -dataDir and -ethUrl onto lpc's --offchain/--onchain and the installation's
    network, data dir and RPC URL (before the settings are read). Returns the offchain override."""
    if data_dir is not None:
        ctx.data_dir = data_dir
    if eth_url is not None:
        ctx.rpc_url = eth_url
    if go_network is not None:
        wanted = go_network == "offchain"
        if offchain is not None and offchain != wanted:
            raise click.UsageError(f"-network {go_network} contradicts --{'offchain' if offchain else 'onchain'}: "
                                   "give one of them")
        offchain = wanted
        if not wanted:
            ctx.network = "devnet" if go_network == "devnet" else "arbitrum-one"
    if data_dir is not None or eth_url is not None or (go_network not in (None, "offchain")):
        ctx._settings = None  # read them again with the node's own data dir / network / RPC
    return offchain


def _ladder(gw_config) -> tuple[str, ...]:
    """The gateway's ladder in words, one line per rendition, read the way the gateway will read it
    (preset names or a JSON file); a ladder it would refuse is a usage error saying why."""
    from core.gateway.transcoding_options import TranscodingOptionsError, parse

    try:
        profiles = parse(gw_config.transcoding_options)
    except TranscodingOptionsError as exc:
        raise click.BadParameter(str(exc), param_hint="-transcodingOptions") from None
    return tuple(f"{p.name} {p.width}x{p.height} {p.bitrate // 1000} kb/s "
                 + (f"{p.fps / (p.fps_den or 1):g} fps" if p.fps else "source fps") for p in profiles)


def _gateway_streams(value: str) -> int:
    if value == "auto":
        raise click.BadParameter("'auto' is only for an orchestrator; a gateway takes a number of streams",
                                 param_hint="--max-sessions")
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a whole number of streams", param_hint="--max-sessions") from None
    if n < 1:
        raise click.BadParameter("must be at least 1", param_hint="--max-sessions")
    return n


def _gateway_overrides(offchain, pixels_per_unit, inert: dict, *, rtmp_addr=None, gateway_http_addr=None,
                       gateway_cli_addr=None, gateway_max_sessions=None, orch_addr=None, orch_webhook_url=None,
                       orch_blocklist=None, transcoding_options=None, max_attempts=None, max_price_per_unit=None,
                       ignore_max_price_if_needed=None, max_ticket_ev=None, max_total_ev=None, deposit_multiplier=None, select_stake_weight=None, select_price_weight=None,
                       select_rand_freq=None, select_price_exp_factor=None, discovery_timeout_s=None,
                       local_verify=None, auth_webhook_url=None, monitor=None, metrics_per_stream=None,
                       http_ingest=None, current_manifest=None, ai_processing_retry_timeout_s=None,
                       max_price_per_capability=None, ai_service_registry=None) -> dict:
    """The GatewayConfig fields the user gave as flags (None = not given); the settings model checks them."""
    given: dict = {"offchain": offchain, "rtmp_addr": rtmp_addr, "http_addr": gateway_http_addr,
                   "cli_addr": gateway_cli_addr, "max_sessions": gateway_max_sessions, "orch_addrs": orch_addr,
                   "orch_webhook_url": orch_webhook_url, "orch_blocklist": orch_blocklist,
                   "transcoding_options": transcoding_options, "max_attempts": max_attempts,
                   "max_price_per_unit": max_price_per_unit, "ignore_max_price_if_needed": ignore_max_price_if_needed,
                   "max_ticket_ev": _wei(max_ticket_ev, "--max-ticket-ev"),
                   "max_total_ev": _wei(max_total_ev, "--max-total-ev"), "deposit_multiplier": deposit_multiplier,
                   "select_stake_weight": select_stake_weight, "select_price_weight": select_price_weight,
                   "select_rand_freq": select_rand_freq, "select_price_exp_factor": select_price_exp_factor,
                   "discovery_timeout_s": discovery_timeout_s, "local_verify": local_verify,
                   "auth_webhook_url": auth_webhook_url, "monitor": monitor, "metrics_per_stream": metrics_per_stream,
                   "http_ingest": http_ingest, "current_manifest": current_manifest,
                   "ai_processing_retry_timeout_s": ai_processing_retry_timeout_s,
                   "max_price_per_capability": max_price_per_capability,
                   "ai_service_registry": ai_service_registry,
                   "extra": dict(inert) or None}
    if pixels_per_unit is not None:
        from core.payments.pricing import PriceError, parse_pixels

        try:
            given["pixels_per_unit"] = parse_pixels(pixels_per_unit)
        except PriceError as exc:
            raise click.BadParameter(str(exc), param_hint="--pixels-per-unit") from None
    return given


def _run_gateway(gw, gw_config) -> None:
    """Start the gateway alone and run until SIGINT/SIGTERM (or until it stops by itself, said in words)."""
    try:
        st = gw.start()
    except Exception as exc:  # the gateway's own start errors say what is wrong (a port in use …)
        raise click.ClickException(f"the gateway did not start: {exc}") from None
    click.echo(_gateway_banner(gw_config, st), err=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    error = None
    try:
        while not stopping.wait(0.5):
            now = gw.status()
            if not getattr(now, "running", True):
                error = getattr(now, "error", None) or "the gateway stopped"
                break
    finally:
        gw.stop()
    if error:
        raise click.ClickException(error)


def _gateway_banner(gw_config, st=None) -> str:
    """One line: where to publish, where to watch, where the management API is (the bound addresses when
    the gateway reports them, else the configured ones)."""
    rtmp = getattr(st, "rtmp", gw_config.rtmp_addr)
    http = getattr(st, "http", None) or gw_config.http_addr
    cli = getattr(st, "cli", gw_config.cli_addr)
    parts = [f"gateway up ({'offchain' if gw_config.offchain else 'on chain'}):"]
    if rtmp:
        parts.append(f"publish rtmp://{rtmp}/live/<stream>,")
    parts.append(f"watch http://{http}/stream/<stream>.m3u8")
    if getattr(st, "push", False):
        parts.append(f"(push http://{http}/live/<stream>/<seq>.ts)")
    if cli:
        parts.append(f", management http://{cli}")
    return " ".join(parts).replace(" ,", ",")


def _run_node(ctx, settings, config, overrides, payment, account, dev_account, gw=None, gw_config=None) -> None:
    """Start the orchestrator (and the gateway beside it, when given) and run until SIGINT/SIGTERM."""
    import os

    from core.composition import NodeUnavailable, assemble_node, gpu_monitor
    from core.node.node import NodeStartError

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
        f"node up ({'offchain' if config.offchain else settings.network.value}): {st.service_uri} (bound {st.listening}), "
        + (f"encoder {st.encoder}, max sessions {st.max_sessions}" if config.transcoding else "AI only (no -transcoder)")
        + (f", metrics http://{st.management}/metrics" if st.management else ""),
        err=True,
    )
    for m in st.ai_models:  # the AI models and what each is doing (warm ones load in the background)
        if m.model_id:
            click.echo(f"  AI {m.pipeline} {m.model_id}: {m.state}" + (f" ({m.reason})" if m.state == "unavailable" else ""),
                       err=True)
    if gw is not None:
        try:
            gst = gw.start()
        except Exception as exc:
            n.stop()
            monitor.close()
            built.close()
            raise click.ClickException(f"the gateway did not start: {exc}") from None
        click.echo(_gateway_banner(gw_config, gst), err=True)
    stopping = threading.Event()

    def _stop(*_):
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping.is_set() and not n.wait(0.5):
        pass
    if gw is not None:
        gw.stop()
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
                    idle_timeout_s=None, gateway_session_share=None, ai_worker=None, ai_models=None,
                    ai_models_dir=None, transcoding=None) -> dict:
    """The NodeConfig fields the user gave as flags (checked here so the error names the flag)."""
    from core.node.config import split_host_port
    from core.payments.pricing import PriceError, parse_pixels, parse_price

    # cli_addr 'none' turns the management port off (the settings model reads it so; None is "not given")
    given: dict = {"offchain": offchain, "service_addr": service_addr, "http_addr": http_addr, "cli_addr": cli_addr,
                   "encoder": encoder, "x264_preset": x264_preset, "encoder_threads": encoder_threads,
                   "max_ladder_pixels": max_ladder_pixels, "idle_timeout_s": idle_timeout_s,
                   "gateway_session_share": gateway_session_share, "ai_worker": ai_worker, "ai_models": ai_models,
                   "ai_models_dir": ai_models_dir, "transcoding": transcoding}
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


def _signer(ctx: CliContext, account: str | None, dev_account: int | None, role: str = "an orchestrator"):
    """The on-chain node's (or gateway's) signer: a devnet development key, or the keyring key of the account."""
    from core.settings import Network

    settings = ctx.settings
    if dev_account is not None:
        if settings.network is not Network.DEVNET:
            raise click.UsageError("--dev-account signs with a public development key: devnet only")
        from chain.devnet.accounts import dev_account as dev_key

        return dev_key(dev_account)
    address = account or settings.account
    if not address:
        raise click.UsageError(f"on chain the node signs as {role}: pass --account (-ethAcctAddr) or set one with "
                               "`lpc wallet use ADDRESS` (or --offchain)")
    from console.commands.chain_cmds import open_signer

    return open_signer(ctx, address)
