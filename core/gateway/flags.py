"""go-livepeer's command-line flags, as a table, and the rule that turns a pasted go-livepeer command line
into `lpc node`'s own options.

The table (`GO_FLAGS`) has one row per flag of go-livepeer's `livepeer` binary (cmd/livepeer/starter/
flags.go and cmd/livepeer/livepeer.go, master 176aa415c, VERSION 0.9.1): its Go type and what lpc does
with it. A row is one of
- **mapped**: `option` names the `lpc node` option it becomes (`-orchAddr` → `--orch-addr`);
- **accepted, no effect yet**: `option` is None. The flag is parsed (its value must be what Go would
  accept) and the user gets one warning line naming it — never a silent ignore;
- **refused**: `refused` says why in words. Secret-bearing flags (`-ethPassword`, `-kafkaPassword`, …) are
  refused because a command line is readable by every user of the machine (`ps`); their value is never
  shown in an error, a warning or a log. lpc keeps keys in the OS keyring.

The rule (`normalise`) follows Go's `flag` package: a flag is written with one or two dashes, its value
as `-name=value` or `-name value`; a bool flag is `-name`, `-name=true` or `-name=false` and never takes
a separate value (Go stops reading flags at `-name false`; lpc says so instead); durations are Go's
(`500ms`, `2s`, `1m30s`). Names are case-sensitive, as in Go. lpc's own kebab-case options pass through
untouched (a bool option also takes `--monitor=false`), so the two spellings can be mixed. A flag known to
neither is an `UnknownFlag` carrying the closest known spellings.

Where lpc deliberately differs from go-livepeer:
- `-config FILE` (go-livepeer's plain `key value` file) is refused, not ignored: ignoring it would run the
  node without every setting in the file (prices, addresses); lpc's own file is settings.toml.
- `-ethController` is refused, not ignored: ignoring it would sign against another deployment than the
  one the operator named.
- `-network` takes `offchain`, `arbitrum-one-mainnet` (also lpc's `arbitrum-one`) and lpc's `devnet`;
  go-livepeer's retired testnets are refused by the `lpc node --network` option.
This module holds no click: console/commands/node.py applies it before click parses. It lives in
core.gateway (whose package imports nothing) rather than core.node so that reading a command line does not
import the node's servers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """The Go type of a flag, which decides how its value is written and checked."""

    STRING = "string"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    DURATION = "duration"


@dataclass(frozen=True)
class GoFlag:
    name: str  # as go-livepeer spells it, without dashes
    kind: Kind
    option: str | None = None  # the lpc node option it becomes; None = accepted, no effect yet
    off: str | None = None  # bool flags: the lpc option for false; None = false is the default, nothing to pass
    fixed: str | None = None  # the value passed to `option` whatever was given (-nvidia -> --encoder=nvenc)
    refused: str | None = None  # why lpc refuses it (the value is never shown)
    secret: bool = False  # the value is a secret: never echoed
    deprecated: str | None = None  # the current go-livepeer spelling when this one is deprecated
    note: str = ""  # a line printed when the flag is given (what lpc does instead)


_NO_KEYS = ("lpc keeps keys in the OS keyring and never reads a keystore password: import the key once with "
            "`lpc wallet import --keystore FILE` (it asks for the password) and pass -ethAcctAddr")
_PS = "a command line is readable by every user of this machine (ps), so a secret there is already exposed"


def _secret(name: str, what: str) -> GoFlag:
    return GoFlag(name, Kind.STRING, refused=f"its value is a secret and {_PS}; {what}", secret=True)


def _inert(name: str, kind: Kind = Kind.STRING, **kw) -> GoFlag:
    return GoFlag(name, kind, **kw)


S, B, I, F, D = Kind.STRING, Kind.BOOL, Kind.INT, Kind.FLOAT, Kind.DURATION
_NOT_IN_LPC = "lpc does not have this feature yet: drop the flag"

_TABLE: tuple[GoFlag, ...] = (
    # Network & addresses
    GoFlag("network", S, "--network"),
    GoFlag("rtmpAddr", S, "--rtmp-addr"),
    GoFlag("cliAddr", S, "--cli-addr"),
    GoFlag("httpAddr", S, "--http-addr"),
    GoFlag("serviceAddr", S, "--service-addr"),
    _inert("nodes"),
    _inert("verifierUrl"),
    _inert("verifierPath"),
    GoFlag("localVerify", B, "--local-verify", off="--no-local-verify"),
    GoFlag("httpIngest", B, "--http-ingest", off="--no-http-ingest"),
    # The gateway's selection
    GoFlag("orchAddr", S, "--orch-addr"),
    GoFlag("orchWebhookUrl", S, "--orch-webhook-url"),
    _inert("extraNodes", I),
    GoFlag("orchBlocklist", S, "--orch-blocklist"),
    _inert("orchMinLivepeerVersion"),
    GoFlag("selectRandFreq", F, "--select-rand-freq"),
    GoFlag("selectStakeWeight", F, "--select-stake-weight"),
    GoFlag("selectPriceWeight", F, "--select-price-weight"),
    GoFlag("selectPriceExpFactor", F, "--select-price-exp-factor"),
    _inert("orchPerfStatsUrl"),
    _inert("region"),
    GoFlag("maxPricePerUnit", S, "--max-price-per-unit"),
    GoFlag("maxPricePerCapability", S, "--max-price-per-capability"),
    GoFlag("ignoreMaxPriceIfNeeded", B, "--ignore-max-price-if-needed", off="--no-ignore-max-price-if-needed"),
    _inert("minPerfScore", F),
    GoFlag("discoveryTimeout", D, "--discovery-timeout"),
    _inert("gatewayHost"),
    # Transcoding
    GoFlag("orchestrator", B, "--orchestrator"),
    GoFlag("transcoder", B, "--transcoder"),
    GoFlag("gateway", B, "--gateway"),
    GoFlag("broadcaster", B, "--gateway", deprecated="gateway"),
    _secret("orchSecret", "lpc runs the orchestrator and its transcoder in one process, so there is no "
                          "remote transcoder to share it with: drop -orchSecret"),
    GoFlag("transcodingOptions", S, "--transcoding-options"),
    GoFlag("maxAttempts", I, "--max-attempts"),
    GoFlag("maxSessions", S, "--max-sessions"),
    GoFlag("currentManifest", B, "--current-manifest", off="--no-current-manifest"),
    GoFlag("nvidia", S, "--encoder", fixed="nvenc",
           note="-nvidia: lpc encodes with NVENC (--encoder nvenc); which GPUs it uses is not chosen by the "
                "device list yet"),
    _inert("netint"),
    _inert("testTranscoder", B),
    _inert("hevcDecoding", B),
    # AI
    GoFlag("aiWorker", B, "--ai-worker", off="--no-ai-worker"),
    GoFlag("aiModels", S, "--ai-models"),
    GoFlag("aiModelsDir", S, "--ai-models-dir"),
    GoFlag("aiServiceRegistry", B, "--ai-service-registry", off="--no-ai-service-registry"),
    *(_inert(n, B) for n in ("aiServerless", "useLiveRunners", "aiVerboseLogs")),
    *(_inert(n) for n in ("liveRunnerConfig", "liveRunnerProxyUrl", "aiRunnerImageOverrides", "aiMinRunnerVersion")),
    _inert("aiRunnerImage", deprecated="aiRunnerImageOverrides"),
    GoFlag("aiProcessingRetryTimeout", D, "--ai-processing-retry-timeout"),
    _inert("aiRunnerContainersPerGPU", I),
    # Live AI
    _secret("mediaMTXApiPassword", _NOT_IN_LPC),
    _inert("liveRunnerAddr"),
    _inert("liveAITrickleHostForRunner"),
    _secret("liveAIAuthApiKey", _NOT_IN_LPC),
    _inert("liveAIHeartbeatURL"),
    _secret("liveAIHeartbeatHeaders", _NOT_IN_LPC),
    _inert("liveAIHeartbeatInterval", D),
    _inert("liveAIAuthWebhookUrl"),
    _inert("livePaymentInterval", D),
    _inert("liveOutSegmentTimeout", D),
    _inert("liveAISaveNSegments", I),
    _inert("liveAICapRefreshModels", deprecated="liveAICapReportInterval"),
    _inert("liveAICapReportInterval", D),
    # On chain
    GoFlag("ethAcctAddr", S, "--account"),
    GoFlag("ethPassword", S, refused=f"{_NO_KEYS}; {_PS}", secret=True),
    GoFlag("ethKeystorePath", S, refused=_NO_KEYS),
    _inert("ethOrchAddr"),
    GoFlag("ethUrl", S, "--eth-url"),
    _inert("transactionTimeout", D),
    _inert("maxTransactionReplacements", I),
    _inert("gasLimit", I),
    _inert("minGasPrice", I),
    GoFlag("maxGasPrice", I, "--max-gas-price"),
    GoFlag("ethController", S, refused="lpc reads the protocol's contracts from the Controller of the network it "
                                       "runs on (-network arbitrum-one-mainnet, or its devnet); another Controller "
                                       "would be another deployment, which lpc does not run against: drop the flag"),
    GoFlag("initializeRound", B, "--initialize-round", off="--no-initialize-round"),
    _inert("initializeRoundMaxDelay", D),
    GoFlag("ticketEV", S, "--ticket-ev"),
    GoFlag("maxFaceValue", S, "--max-face-value"),
    GoFlag("maxTicketEV", S, "--max-ticket-ev"),
    GoFlag("maxTotalEV", S, "--max-total-ev"),
    GoFlag("depositMultiplier", I, "--deposit-multiplier"),
    GoFlag("pricePerUnit", S, "--price-per-unit"),
    GoFlag("pixelsPerUnit", S, "--pixels-per-unit"),
    GoFlag("priceFeedAddr", S, "--price-feed"),
    GoFlag("autoAdjustPrice", B, "--auto-adjust-price", off="--no-auto-adjust-price"),
    _inert("pricePerGateway"),
    _inert("pricePerBroadcaster", deprecated="pricePerGateway"),
    GoFlag("blockPollingInterval", I, "--block-polling-interval"),
    _inert("redeemer", B),
    _inert("redeemerAddr"),
    GoFlag("reward", B, "--reward", off="--no-reward"),
    # Metrics & logging
    GoFlag("monitor", B, "--monitor", off="--no-monitor"),
    GoFlag("metricsPerStream", B, "--metrics-per-stream", off="--no-metrics-per-stream"),
    _inert("metricsClientIP", B),
    _inert("metadataQueueUri"),
    _inert("metadataAmqpExchange"),
    _inert("metadataPublishTimeout", D),
    # Storage
    GoFlag("dataDir", S, "--data-dir"),
    GoFlag("datadir", S, "--data-dir", deprecated="dataDir"),
    _inert("objectStore"),
    _inert("recordStore"),
    _inert("FVfailGsbucket"),
    _secret("FVfailGskey", _NOT_IN_LPC),
    # API
    GoFlag("authWebhookUrl", S, "--auth-webhook-url"),
    _inert("startupAvailabilityCheck", B),
    _inert("remoteSigner", B),
    _inert("remoteSignerUrl"),
    _secret("remoteSignerHeaders", _NOT_IN_LPC),
    _inert("remoteSignerWebhookUrl"),
    _secret("remoteSignerWebhookHeaders", _NOT_IN_LPC),
    _inert("remoteSignerAllowNoAuth", B),
    _inert("remoteDiscovery", B),
    _inert("kafkaBootstrapServers"),
    _inert("kafkaUser"),
    _secret("kafkaPassword", _NOT_IN_LPC),
    _inert("kafkaGatewayTopic"),
    # cmd/livepeer/livepeer.go
    GoFlag("v", S, "-v"),  # glog verbosity: 3 is go-livepeer's default, 4-6 more (see _verbosity)
    _inert("j", B, note="-j: lpc prints no application info as JSON; `lpc --version` prints its version"),
    _inert("version", B, note="-version: `lpc --version` prints lpc's version"),
    GoFlag("config", S, refused="go-livepeer's 'key value' config files are not read by lpc, and running without "
                                "the settings in it would be wrong: put the flags on the command line, or the "
                                "settings in settings.toml ([node], [gateway])"),
    GoFlag("help", B, "--help"),
    GoFlag("h", B, "--help"),
)

GO_FLAGS: Mapping[str, GoFlag] = {f.name: f for f in _TABLE}
_BY_OPTION: Mapping[str, GoFlag] = {f.option: f for f in _TABLE if f.option and f.deprecated is None}

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # Go's strconv.ParseBool
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})

_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class GoFlagError(ValueError):
    """A go-livepeer flag that cannot be taken as written; the message names the flag and what to do, and
    never holds a secret's value."""

    def __init__(self, flag: str, message: str):
        super().__init__(message)
        self.flag = flag


class UnknownFlag(GoFlagError):
    """A flag neither go-livepeer nor lpc has; `close` holds the nearest spellings that exist."""

    def __init__(self, flag: str, close: tuple[str, ...]):
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        super().__init__(flag, f"no such option: {flag}{hint}")
        self.close = close


@dataclass(frozen=True)
class Inert:
    """A go-livepeer flag that was given, is accepted and has no effect yet."""

    name: str
    value: str


@dataclass(frozen=True)
class Normalised:
    argv: tuple[str, ...]  # lpc's own options only, ready for click
    inert: tuple[Inert, ...] = ()  # accepted, no effect yet (in the order given)
    notes: tuple[str, ...] = ()  # one line each: deprecated spellings, what lpc does instead

    def warnings(self) -> tuple[str, ...]:
        """The lines to show the user: every note, then one per accepted flag with no effect."""
        return self.notes + tuple(f"-{i.name} is accepted and has no effect yet" for i in self.inert)


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string ("500ms", "2s", "1m30s", "-1.5h"; "0" alone needs no unit), as Go's
    time.ParseDuration reads it. ValueError otherwise (a bare number other than 0 has no unit)."""
    s = text.strip()
    sign = 1.0
    if s[:1] in "+-" and s:
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit, e.g. 500ms or 2s")
    total, pos = 0.0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            raise ValueError(f"{text!r} is not a duration: write a number and a unit (ns, us, ms, s, m, h), "
                             "e.g. 500ms or 2s")
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return sign * total


def parse_go_bool(text: str) -> bool:
    """A Go bool value (strconv.ParseBool): 1, t, true, TRUE, True and their false forms."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true or false")


def _check_value(flag: GoFlag, written: str, value: str) -> None:
    shown = "the value" if flag.secret else repr(value)
    try:
        if flag.kind is Kind.INT:
            int(value, 0)
        elif flag.kind is Kind.FLOAT:
            float(value)
        elif flag.kind is Kind.DURATION:
            parse_go_duration(value)
        elif flag.kind is Kind.BOOL:
            parse_go_bool(value)
    except ValueError:
        what = {Kind.INT: "a whole number", Kind.FLOAT: "a number", Kind.BOOL: "true or false",
                Kind.DURATION: "a Go duration such as 500ms, 2s or 1m30s"}[flag.kind]
        raise GoFlagError(written, f"{written}: {shown} is not {what}") from None


def _verbosity(value: str, written: str) -> list[str]:
    """go-livepeer's `-v N` (glog verbosity, 3 by default, 4-6 more) as lpc's -v count: 4 and above is
    lpc's debug logging (-v), 3 and below its default."""
    try:
        level = int(value)
    except ValueError:
        raise GoFlagError(written, f"{written}: {value!r} is not a verbosity level (3 is the default, 4-6 more)") from None
    return ["-v"] if level >= 4 else []


def close_matches(name: str, options: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """The known spellings nearest to `name`, nearest first: a go-livepeer flag with lpc's option beside it
    ("-orchAddr (--orch-addr)"), or an lpc-only option. Case is ignored, so -orchaddr finds -orchAddr."""
    candidates: dict[str, tuple[str, str]] = {}  # compared text -> (label, what it stands for)
    for go, flag in GO_FLAGS.items():
        label = f"-{go} ({flag.option})" if flag.option and flag.option.startswith("--") else f"-{go}"
        candidates.setdefault(go.lower(), (label, flag.option or go))
    for opt in options:
        if opt.startswith("--"):
            mapped = _BY_OPTION.get(opt)
            label = f"-{mapped.name} ({opt})" if mapped else opt
            candidates.setdefault(opt[2:].lower(), (label, opt))
    bare = name.lstrip("-").split("=", 1)[0].lower()
    seen: dict[str, str] = {}
    for key in difflib.get_close_matches(bare, list(candidates), n=2 * n, cutoff=0.6):
        label, target = candidates[key]
        seen.setdefault(target, label)
    return tuple(seen.values())[:n]


_COUNT_CLUSTER = re.compile(r"-v+")


def normalise(argv: Sequence[str], *, options: Iterable[str], value_options: Iterable[str]) -> Normalised:
    """`argv` with every go-livepeer flag turned into lpc's option (see the module doc). `options` are all of
    lpc's option spellings (`--orch-addr`, `--no-monitor`, `-v`, `--help`); `value_options` those that take
    a value (so a value that starts with a dash is not read as a flag). Raises GoFlagError / UnknownFlag."""
    known = frozenset(options)
    takes_value = frozenset(value_options)
    out: list[str] = []
    inert: list[Inert] = []
    notes: list[str] = []
    i, n = 0, len(argv)
    while i < n:
        token = argv[i]
        i += 1
        if token == "--":
            out.extend(argv[i - 1:])
            break
        if not token.startswith("-") or token == "-":
            if out and out[-1] in _BOOL_TOKENS and token in _TRUE | _FALSE:
                go = _BOOL_TOKENS[out[-1]]
                raise GoFlagError(go, f"-{go} is a Go bool flag: write -{go}={token} (a separate {token!r} is not "
                                      "read as its value; go-livepeer would stop reading flags there)")
            out.append(token)
            continue
        name, eq, value = token.partition("=")
        if name in known:
            if name == "-v" and (eq or (i < n and argv[i].isdigit())):  # go-livepeer's `-v 6` / `-v=6`
                if not eq:
                    value = argv[i]
                    i += 1
                out.extend(_verbosity(value, "-v"))
                continue
            if not eq:
                out.append(token)
                if name in takes_value and i < n:
                    out.append(argv[i])
                    i += 1
                continue
            if name in takes_value:
                out.append(token)
                continue
            flag = _BY_OPTION.get(name)
            if flag is not None and flag.kind is Kind.BOOL:  # --monitor=false
                _check_value(flag, name, value)
                out.extend(_bool_tokens(flag, parse_go_bool(value)))
                continue
            raise GoFlagError(name, f"{name} takes no value (it is given alone)")
        if _COUNT_CLUSTER.fullmatch(token):
            out.append(token)
            continue
        bare = name[2:] if name.startswith("--") else name[1:]
        flag = GO_FLAGS.get(bare)
        if flag is None:
            raise UnknownFlag(name, close_matches(name, known))
        written = f"-{bare}"
        if flag.refused:
            raise GoFlagError(written, f"{written} is refused" + (" (its value is not shown)" if flag.secret else "")
                              + f": {flag.refused}")
        if flag.kind is Kind.BOOL:
            if eq:
                _check_value(flag, written, value)
                on = parse_go_bool(value)
            else:
                on = True
            given = value if eq else "true"
        else:
            if not eq:
                if i >= n:
                    raise GoFlagError(written, f"{written} needs a value ({written}=VALUE or {written} VALUE)")
                value = argv[i]
                i += 1
            _check_value(flag, written, value)
            given = value
        if flag.deprecated:
            notes.append(f"-{bare} is deprecated in go-livepeer; use -{flag.deprecated}")
        if flag.note:
            notes.append(flag.note)
        if flag.option is None:
            inert.append(Inert(bare, given))
            continue
        if flag.name == "v":
            out.extend(_verbosity(value, written))
        elif flag.option == "--help":
            out.append("--help")
        elif flag.kind is Kind.BOOL:
            out.extend(_bool_tokens(flag, on))
        else:
            out.append(f"{flag.option}={flag.fixed if flag.fixed is not None else value}")
    return Normalised(tuple(out), tuple(inert), tuple(dict.fromkeys(notes)))


def _bool_tokens(flag: GoFlag, on: bool) -> list[str]:
    if on:
        return [flag.option] if flag.option else []
    return [flag.off] if flag.off else []


# A bool option just written out, by its go-livepeer name: `-monitor false` is caught on the next token.
_BOOL_TOKENS: Mapping[str, str] = {
    **{f.option: f.name for f in _TABLE if f.kind is Kind.BOOL and f.option and f.option != "--help"},
    **{f.off: f.name for f in _TABLE if f.kind is Kind.BOOL and f.off},
}
