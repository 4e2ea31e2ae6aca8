"""The operator self-test: "is my node working for gateways?" answered in seconds (issue #11, Console).

A synthetic stream (core.media.synthetic.make_segment, a few 1 s segments) goes through an in-process
gateway — GatewayNode on 127.0.0.1 ephemeral ports, offchain, with a NetworkBroadcaster whose only
`-orchAddr` is the orchestrator under test — and every check is yielded as soon as it passes or fails,
with words, figures, and on a failure what to do:

    reach       TLS + GetOrchestrator answered (latency, price, capacity)
    address     the orchestrator sends an ETH address (go-livepeer gateways drop one that sends none:
                their default `-orchBlocklist` is `[""]`, which matches an empty address)
    price       its price is within what a gateway pays (`max_price`, wei per pixel)
    segment     a pushed segment was accepted (and paid, when the gateway has a chain)
    renditions  every rendition decodes at the ladder's size and frame rate
    hls         the HLS master and media playlists served every rendition of every segment
    realtime    the round trip (push → all renditions back) of the segments after the first against their
                duration (the first also pays for discovery: shown on its own)

`run(...)` is a generator: stopping early (the consumer breaks, Ctrl-C) still stops everything it started
— the gateway's ports and threads — in its `finally`. A check that cannot run because an earlier one
failed is not yielded: the first failure says what to do, the rest would only repeat it.

The price limit: go-livepeer's gateway default `-maxPricePerUnit` is 0 (any price), so there is no one
"typical" cap on the network. DEFAULT_MAX_PRICE_WEI_PER_PIXEL is this project's assumption of a cap many
public gateways set (pass the real one of the gateways you want to serve); it is named in the words of
the check so nobody mistakes it for a protocol figure.
"""

from __future__ import annotations

import io
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

DEFAULT_MAX_PRICE_WEI_PER_PIXEL = Fraction(1200)  # an assumption, see the module docstring
DEFAULT_LADDER = "P144p30fps16x9,P240p30fps16x9"
SEGMENTS = 3
SEGMENT_S = 1.0
SOURCE_SIZE = (320, 180)
TIMEOUT_S = 30.0  # one push may take this long before the test gives up on it

CHECKS = ("reach", "address", "price", "segment", "renditions", "hls", "realtime")
TITLES = {
    "reach": "TLS + GetOrchestrator",
    "address": "ETH address sent",
    "price": "price within a gateway's cap",
    "segment": "segment accepted",
    "renditions": "renditions decode at the ladder",
    "hls": "HLS playlists serve it",
    "realtime": "round trip vs real time",
}


@dataclass(frozen=True)
class Check:
    """One check as it finished. `detail` has the words and figures; `hint` what to do when it failed."""

    key: str  # one of CHECKS
    ok: bool
    detail: str
    hint: str = ""
    seconds: float | None = None  # the figure the check is about, when it is a time

    @property
    def title(self) -> str:
        return TITLES[self.key]

    def as_dict(self) -> dict:
        return {**asdict(self), "title": self.title}


@dataclass(frozen=True)
class Progress:
    """Work under way between two checks (the console shows it as "pushing segment 2 of 3 …")."""

    text: str
    done: int  # of `total` steps
    total: int


def _reach_hint(message: str, uri: str) -> str:
    if "DNS" in message:
        return "the host name does not resolve: check the address, or use the IP of the node"
    if "no TLS answer" in message or "not reachable" in message:
        return (f"nothing answers TLS on {uri}: is the node running and its service port open "
                "(firewall, port forward, -serviceAddr)?")
    if "no answer in time" in message:
        return "the node took too long to answer GetOrchestrator: is it overloaded, or behind a slow link?"
    if "OrchestratorCapped" in message or "capacity" in message.lower():
        return "the node has no free session (capacity 0 or every slot in use): raise -maxSessions, or wait"
    if "signature" in message.lower():
        return "the node refused an unsigned request: it expects an on-chain gateway"
    return "the node refused GetOrchestrator: see its log for why"


def _decode(data: bytes) -> tuple[int, int, int]:
    """(frames, width, height) of the first video stream of an MPEG-TS segment, decoding every frame."""
    import av

    frames = w = h = 0
    with av.open(io.BytesIO(data), format="mpegts") as c:
        for f in c.decode(video=0):
            frames += 1
            w, h = f.width, f.height
    return frames, w, h


def run(orch_addr: str, *, data_dir: Path | None = None, ladder: str = DEFAULT_LADDER, segments: int = SEGMENTS,
        max_price: Fraction | None = DEFAULT_MAX_PRICE_WEI_PER_PIXEL, onchain=None,
        progress: Callable[[Progress], None] | None = None) -> Iterator[Check]:
    """The checks against the orchestrator at `orch_addr` (go-livepeer's -orchAddr form: host[:port] or a
    URL), in order. `onchain`: a core.gateway.onchain.GatewayChain for a paying gateway (None: offchain).
    `progress` is told what is under way between checks."""
    from core.gateway.discovery import orch_uri
    from core.gateway.transcoding_options import TranscodingOptionsError, parse

    def tell(text: str, done: int, total: int) -> None:
        if progress is not None:
            progress(Progress(text, done, total))

    try:
        uri = orch_uri(orch_addr)
    except ValueError as exc:
        yield Check("reach", False, str(exc), "give the orchestrator as host:port, e.g. 127.0.0.1:8935")
        return
    try:
        profiles = parse(ladder)
    except TranscodingOptionsError as exc:
        yield Check("reach", False, f"ladder {ladder!r}: {exc}", "give preset names such as P240p30fps16x9")
        return

    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="lpc-selftest-")
        data_dir = Path(tmp.name)
    try:
        yield from _stream_checks(uri, orch_addr, profiles, ladder, segments, max_price, onchain, data_dir, tell)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _stream_checks(uri, orch_addr, profiles, ladder, segments, max_price, onchain, data_dir, tell):
    import httpx

    from core.gateway.broadcast import NetworkBroadcaster, required_capabilities
    from core.gateway.config import GatewayConfig
    from core.gateway.discovery import Unreachable, get_orchestrator
    from core.gateway.node import GatewayNode, GatewayStartError
    from core.media.profiles import output_size
    from core.media.synthetic import make_segment
    from core.node.capabilities import to_wire
    from core.payments.tickets import ZERO_ADDRESS
    from core.proto import net

    # verification as a gateway does it by default: on when on chain (signature + pixels), off offchain
    config = GatewayConfig(data_dir=data_dir, offchain=onchain is None, rtmp_addr=None, http_addr="127.0.0.1:0",
                           cli_addr=None, http_ingest=True, orch_addrs=(orch_addr,), transcoding_options=ladder,
                           max_sessions=1, discovery_timeout_s=2.0)
    # -- reach, address, price: one GetOrchestrator, as a gateway's discovery asks it (signed on chain)
    tell(f"asking {uri} for its OrchestratorInfo", 0, segments + 2)
    caps = to_wire(required_capabilities(profiles))
    if onchain is not None:
        from core.gateway.onchain import OnchainPayer

        request = OnchainPayer(onchain, config).request(caps)
    else:
        request = net.OrchestratorRequest(address=ZERO_ADDRESS)
        request.capabilities.CopyFrom(caps)
    t0 = time.monotonic()
    try:
        info = get_orchestrator(uri, request, timeout=5.0)
    except Unreachable as exc:
        yield Check("reach", False, f"{uri}: {exc}", _reach_hint(str(exc), uri))
        return
    rtt = time.monotonic() - t0
    p = info.price_info
    price = Fraction(p.pricePerUnit, p.pixelsPerUnit) if p.pixelsPerUnit else None
    capacity = max(info.capabilities.capacities.values(), default=0) if info.HasField("capabilities") else 0
    price_words = "no price" if price is None else f"{float(price):.6g} wei per pixel"
    # a node refuses GetOrchestrator when it is full (OrchestratorCapped); an answer means a free session
    cap_words = "has a free session"
    if not info.transcoder:
        yield Check("reach", False, f"{uri} answered in {rtt * 1000:.0f} ms without a transcoder URI",
                    "the node must advertise its service URI (-serviceAddr)", rtt)
        return
    if info.HasField("capabilities") and info.capabilities.capacities and capacity == 0:
        yield Check("reach", False, f"{uri} answered in {rtt * 1000:.0f} ms with capacity 0",
                    "the node takes no session: raise -maxSessions", rtt)
        return
    yield Check("reach", True, f"answered in {rtt * 1000:.0f} ms · {price_words} · {cap_words} · "
                               f"transcoder {info.transcoder}", seconds=rtt)
    address = bytes(info.address)
    if not address:
        yield Check("address", False, "the orchestrator sent an empty address",
                    "go-livepeer gateways block it (their default -orchBlocklist is [\"\"]): run the node with "
                    "an account (-ethAcctAddr), or offchain with a build that sends 20 zero bytes")
        return
    yield Check("address", True, "offchain (20 zero bytes)" if address == ZERO_ADDRESS else f"0x{address.hex()}")
    if max_price is not None and price is not None and price > max_price:
        yield Check("price", False, f"{float(price):.6g} wei per pixel is above {float(max_price):.6g} "
                                    "(the cap assumed for a typical gateway; go-livepeer's default is any price)",
                    "lower the price (-pricePerUnit / the Pricing screen) or the gateways you want will skip "
                    "this node")
        return
    yield Check("price", True, price_words if max_price is None else
                f"{price_words}, within {float(max_price):.6g} (assumed gateway cap)")

    # -- a stream through an in-process gateway
    node = GatewayNode(config, NetworkBroadcaster(config, onchain=onchain))
    try:
        tell("starting an in-process gateway on 127.0.0.1", 1, segments + 2)
        try:
            status = node.start()
        except GatewayStartError as exc:
            yield Check("segment", False, f"the self-test's gateway did not start: {exc}",
                        "free a loopback port, or check the ladder")
            return
        manifest = f"selftest-{secrets.token_hex(3)}"
        clip = make_segment(*SOURCE_SIZE, SEGMENT_S)
        latencies: list[float] = []
        started = time.monotonic()
        with httpx.Client(base_url=f"http://{status.http}", timeout=TIMEOUT_S) as http:
            for seq in range(segments):
                tell(f"pushing segment {seq + 1} of {segments}", seq + 2, segments + 2)
                t = time.monotonic()
                try:
                    r = http.post(f"/live/{manifest}/{seq}.ts", content=clip,
                                  headers={"Content-Duration": str(round(SEGMENT_S * 1000))})
                except httpx.HTTPError as exc:
                    yield Check("segment", False, f"segment {seq}: the gateway gave no answer ({type(exc).__name__})",
                                "the orchestrator did not transcode in time: is it overloaded?")
                    return
                if r.status_code != 200:
                    yield Check("segment", False, f"segment {seq}: {r.status_code} {r.text.strip()[:200]}",
                                _segment_hint(r.text))
                    return
                latencies.append(time.monotonic() - t)
            elapsed = time.monotonic() - started
            views = [v for v in node.streams_view() if v.manifest_id == manifest]
            records = views[0].recent if views else ()
            paid = sum(rec.paid_wei for rec in records)
            used = next((rec.orchestrator for rec in reversed(records) if rec.orchestrator), info.transcoder)
            accepted = f"{segments} of {segments} segments transcoded by {used}"
            if onchain is not None:
                if not paid:
                    yield Check("segment", False, accepted + ", but no ticket was sent",
                                "the gateway has no deposit or the node sent no ticket parameters")
                    return
                accepted += f" · paid {paid:,} wei (expected value of the tickets sent)"
            else:
                accepted += " · offchain: nothing paid"
            yield Check("segment", True, accepted, seconds=sorted(latencies)[len(latencies) // 2])

            # -- the renditions, read back the way a player does: master → media playlists → segments
            source = (SOURCE_SIZE[0], SOURCE_SIZE[1])
            wrong: list[str] = []
            sizes: list[str] = []
            missing: list[str] = []
            master = http.get(f"/stream/{manifest}.m3u8")
            if master.status_code != 200:
                yield Check("hls", False, f"the master playlist answered {master.status_code}",
                            "the gateway's HLS output is broken: report it (this is not the node's fault)")
                return
            for profile in profiles:
                media = http.get(f"/stream/{manifest}/{profile.name}.m3u8")
                if media.status_code != 200 or profile.name not in master.text:
                    missing.append(f"{profile.name} playlist ({media.status_code})")
                    continue
                for seq in range(segments):
                    if f"/{profile.name}/{seq}.ts" not in media.text:
                        missing.append(f"{profile.name} segment {seq} not listed")
                        continue
                    seg = http.get(f"/stream/{manifest}/{profile.name}/{seq}.ts")
                    if seg.status_code != 200:
                        missing.append(f"{profile.name}/{seq}.ts ({seg.status_code})")
                        continue
                    try:
                        frames, w, h = _decode(seg.content)
                    except Exception as exc:  # noqa: BLE001 - any decoder error is the finding
                        wrong.append(f"{profile.name}/{seq}: does not decode ({type(exc).__name__})")
                        continue
                    want = output_size(profile, *source)
                    fps = profile.fps / (profile.fps_den or 1) if profile.fps else 30.0
                    want_frames = round(fps * SEGMENT_S)
                    if (w, h) != want or abs(frames - want_frames) > 1:
                        wrong.append(f"{profile.name}/{seq}: {w}x{h} {frames} frames, the ladder asks "
                                     f"{want[0]}x{want[1]} {want_frames} frames")
                    elif seq == 0:
                        sizes.append(f"{profile.name} {w}x{h} @{frames / SEGMENT_S:.0f} fps")
            if wrong:
                yield Check("renditions", False, "; ".join(wrong[:4]),
                            "the node's encoder produced the wrong output: check its encoder (the Sessions screen) "
                            "and its log")
                return
            if missing:
                yield Check("renditions", True, "; ".join(sizes) or "none read")
                yield Check("hls", False, "; ".join(missing[:4]), "the gateway's HLS output lost renditions")
                return
            yield Check("renditions", True, "; ".join(sizes))
            yield Check("hls", True, f"master + {len(profiles)} media playlists list every segment "
                                     f"({segments} × {len(profiles)} renditions read back)")
        # the first segment pays for discovery and the session's set-up; a live stream keeps up when the
        # segments after it come back within their own duration
        steady = sorted(latencies[1:] or latencies)
        median = steady[len(steady) // 2]
        ratio = median / SEGMENT_S
        words = (f"first segment {latencies[0] * 1000:.0f} ms (with discovery), then median {median * 1000:.0f} ms "
                 f"per {SEGMENT_S:g} s segment ({ratio:.2f}× real time); {segments} segments in {elapsed:.2f} s")
        if ratio > 1:
            yield Check("realtime", False, words,
                        "slower than real time: a live stream would fall behind — use a faster encoder (GPU), "
                        "fewer sessions, or a smaller ladder", median)
        else:
            yield Check("realtime", True, words, seconds=median)
    finally:
        node.stop()


def _segment_hint(text: str) -> str:
    if "No sessions" in text or "NoOrchestrators" in text:
        return "the gateway found no usable session on the node: is it full, or does it refuse offchain gateways?"
    if "Verification" in text:
        return "the node's renditions failed verification: check its encoder"
    return "the node failed the segment: see its log (the Sessions screen shows the last error)"
