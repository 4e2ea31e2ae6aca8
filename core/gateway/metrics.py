"""The gateway's Prometheus metrics under go-livepeer's names (monitor/census.go, gateway-wire.md §7),
labelled node_type="bctr" and node_id, in the gateway's own CollectorRegistry (never the global one, so
an orchestrator and a gateway in one process do not mix their series).

It implements ports.BroadcastObserver (what the broadcaster reports: discovery errors, failed attempts,
swaps, results, tickets) and takes the streams' own events (stream created/ended, source segment
appeared, all renditions in, failures). On chain the deposit poll (sender_api.py) calls `funds()`:
livepeer_gateway_deposit/reserve and the old livepeer_broadcaster_deposit/reserve, in wei as this module's
ticket_value_sent is, with a `sender` label (Prometheus values are float64: exact to the wei for amounts
up to 2^53 wei and for round ones such as 1.25 ETH; /senderInfo is always exact). go-livepeer's
livepeer_gateway_max_float and livepeer_gateway_ticket_face_value are not here: go-livepeer records them on
the orchestrator, per gateway (the max float and face value it computed), so they belong to core/node.

Names: go-livepeer's OpenCensus exporter appends nothing, so a count view that go-livepeer named
without `_total` (`livepeer_orchestrator_swaps`, `livepeer_tickets_sent`, `livepeer_ticket_value_sent`,
`livepeer_transcode_retried`) is exported here under exactly that name, as a counter (`_ExactCounter`);
prometheus_client's Counter would add `_total`. The rest are prometheus_client's Counter (whose
`_total` go-livepeer's view names already carry), Gauge and Histogram.
"""

from __future__ import annotations

import platform
import secrets
import sys
import threading
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.gateway.ports import StreamPoolView, TranscodedSegment, TranscodeError

_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 10, 20)


class _ExactCounter:
    """A counter exported under exactly `name` with `# TYPE <name> counter`, as go-livepeer's count views
    are. (prometheus_client writes a counter's HELP/TYPE lines as `<name>_total`, so these few are
    written here and appended to the registry's text.)"""

    def __init__(self, name: str, doc: str, labels: Iterable[str]):
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(str(labels[k]) for k in self.labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def text(self) -> str:
        with self._lock:
            values = dict(self._values)
        if not values:
            return ""
        lines = [f"# HELP {self.name} {self.doc}", f"# TYPE {self.name} counter"]
        for key, value in values.items():
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(self.labels, key))
            lines.append(f"{self.name}{{{labels}}} {float(value)!r}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class GatewayMetrics:
    """One gateway's metrics; also its BroadcastObserver. Every method is cheap and thread-safe. With
    `per_stream` (-metricsPerStream) the per-segment series carry a `manifestID` label, as go-livepeer's."""

    def __init__(self, node_id: str | None = None, version: str = "0.0.0", *, verify: bool = False,
                 per_stream: bool = False):
        self._verified = "true" if verify else "false"  # results are checked (-localVerify / on chain)
        self._per_stream = per_stream
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.labels = labels = {"node_type": "bctr", "node_id": node_id or secrets.token_hex(4)}
        base = list(labels)
        stream = base + (["manifestID"] if per_stream else [])

        def counter(name: str, doc: str, extra: tuple[str, ...] = (), names: list[str] = base) -> Counter:
            return Counter(name, doc, names + list(extra), registry=r)

        self.stream_created = counter("livepeer_stream_created", "StreamCreated")
        self.stream_started = counter("livepeer_stream_started", "StreamStarted")
        self.stream_ended = counter("livepeer_stream_ended", "StreamEnded")
        self.current_sessions = Gauge("livepeer_current_sessions_total", "Number of streams being transcoded",
                                      base, registry=r).labels(**labels)
        self.max_sessions = Gauge("livepeer_max_sessions_total", "Max sessions", base, registry=r).labels(**labels)
        self.source_appeared = counter("livepeer_segment_source_appeared", "SegmentSourceAppeared",
                                       ("profile", "seg_type"), stream)
        self.source_emerged = counter("livepeer_segment_source_emerged", "SegmentSourceEmerged", (), stream)
        self.source_duration = Histogram(
            "livepeer_source_segment_duration_seconds", "Source segment's duration", stream,
            buckets=(0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 20, 60), registry=r)
        self.segment_transcoded = counter("livepeer_segment_transcoded", "SegmentTranscoded",
                                          ("profiles", "trusted", "verified"), stream)
        self.all_appeared = counter("livepeer_segment_transcoded_all_appeared", "SegmentTranscodedAllAppeared",
                                    ("profiles",), stream)
        self.failed = counter("livepeer_segment_transcode_failed", "SegmentTranscodeFailed", ("error_code",), stream)
        self.overall_latency = Histogram(
            "livepeer_transcode_overall_latency_seconds",
            "Transcoding latency, from source segment emerged from segmenter till all transcoded segment "
            "appeared in manifest", stream + ["profiles"], buckets=_LATENCY_BUCKETS, registry=r)
        self.discovery_errors = counter("livepeer_discovery_errors", "Number of discover errors", ("error_code",))
        self.success_rate = Gauge("livepeer_success_rate", "Success rate", base, registry=r).labels(**labels)
        self.swaps = _ExactCounter("livepeer_orchestrator_swaps", "Number of orchestrator swaps mid-stream", stream)
        self.retried = _ExactCounter("livepeer_transcode_retried", "Number of times segment transcode was retried",
                                     stream + ["try"])
        self.ticket_value_sent = _ExactCounter("livepeer_ticket_value_sent", "Ticket value sent", stream)
        self.tickets_sent = _ExactCounter("livepeer_tickets_sent", "Tickets sent", stream)
        # the sender's TicketBroker funds, wei, set by the on-chain deposit poll (core/gateway/sender_api.py);
        # go-livepeer's names, the old broadcaster_* ones too, with the sender's address as `sender`
        funds = base + ["sender"]
        self.deposit = [Gauge(f"livepeer_{who}_deposit", f"Current remaining deposit for the {who} node, wei", funds,
                              registry=r) for who in ("gateway", "broadcaster")]
        self.reserve = [Gauge(f"livepeer_{who}_reserve", f"Current remaining reserve for the {who} node, wei", funds,
                              registry=r) for who in ("gateway", "broadcaster")]
        # AI (go-livepeer's census names; the latency histogram is lpc's: go-livepeer exports only a
        # latency *score*, seconds per unit of work, which says little across pipelines)
        ai = base + ["pipeline", "model_name"]
        self.ai_models_requested = _ExactCounter("livepeer_ai_models_requested", "Number of AI models requested "
                                                 "over time", ai)
        self.ai_request_errors = _ExactCounter("livepeer_ai_request_errors", "Errors when processing AI requests",
                                               ai + ["error_code", "orchestrator_uri"])
        self.ai_request_price = Gauge("livepeer_ai_request_price", "AI request price per unit, wei",
                                      ai + ["orchestrator_uri"], registry=r)
        self.ai_request_latency = Histogram("livepeer_ai_request_latency_seconds",
                                            "AI request latency through the gateway, request in to answer out",
                                            ai, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60, 120, 300),
                                            registry=r)
        Gauge("livepeer_versions", "Versions used by the node", ["livepeer_version", "python_version", "os"],
              registry=r).labels(version, platform.python_version(), sys.platform).set(1)
        self._ok = 0
        self._bad = 0
        self._lock = threading.Lock()

    def _of(self, manifest_id: str, **extra: str) -> dict[str, str]:
        """The labels of a per-segment series."""
        if self._per_stream:
            return {**self.labels, "manifestID": manifest_id, **extra}
        return {**self.labels, **extra}

    # ---------------------------------------------------------------- streams' events
    def stream_opened(self, live: int) -> None:
        self.stream_created.labels(**self.labels).inc()
        self.stream_started.labels(**self.labels).inc()
        self.current_sessions.set(live)

    def stream_closed(self, live: int) -> None:
        self.stream_ended.labels(**self.labels).inc()
        self.current_sessions.set(live)

    def source_segment(self, manifest_id: str, duration_s: float) -> None:
        self.source_emerged.labels(**self._of(manifest_id)).inc()
        self.source_appeared.labels(**self._of(manifest_id, profile="source", seg_type="regular")).inc()
        if duration_s > 0:
            self.source_duration.labels(**self._of(manifest_id)).observe(duration_s)

    def renditions_in(self, manifest_id: str, profiles: str, latency_s: float) -> None:
        """Every rendition of a segment is in the playlists, `latency_s` after its source appeared."""
        self.all_appeared.labels(**self._of(manifest_id, profiles=profiles)).inc()
        self.overall_latency.labels(**self._of(manifest_id, profiles=profiles)).observe(latency_s)
        self._rate(ok=True)

    def segment_failed(self, manifest_id: str, error_code: str) -> None:
        self.failed.labels(**self._of(manifest_id, error_code=error_code)).inc()
        self._rate(ok=False)

    def _rate(self, *, ok: bool) -> None:
        with self._lock:
            if ok:
                self._ok += 1
            else:
                self._bad += 1
            self.success_rate.set(self._ok / (self._ok + self._bad))

    def funds(self, sender: str, deposit: int, reserve: int) -> None:
        """The sender's deposit and reserve as the chain reports them now (on chain only)."""
        for gauge in self.deposit:
            gauge.labels(**self.labels, sender=sender).set(deposit)
        for gauge in self.reserve:
            gauge.labels(**self.labels, sender=sender).set(reserve)

    # ---------------------------------------------------------------- ports.BroadcastObserver
    def discovered(self, manifest_id: str, pool: StreamPoolView) -> None:
        pass  # the pool is read from the stream (BroadcastStream.view) for /status and the console

    def discovery_error(self, uri: str, message: str) -> None:
        self.discovery_errors.labels(**self.labels, error_code="GetOrchestrator").inc()

    def attempt_failed(self, manifest_id: str, seq: int, uri: str, error: TranscodeError, attempt: int) -> None:
        self.retried.inc(**self._of(manifest_id, **{"try": str(attempt)}))

    def swapped(self, manifest_id: str, old_uri: str | None, new_uri: str) -> None:
        self.swaps.inc(**self._of(manifest_id))

    def transcoded(self, manifest_id: str, segment: TranscodedSegment) -> None:
        profiles = ",".join(r.profile for r in segment.renditions)
        self.segment_transcoded.labels(**self._of(manifest_id, profiles=profiles, trusted="true",
                                                  verified=self._verified)).inc()

    def paid(self, manifest_id: str, uri: str, tickets: int, ev_wei: int) -> None:
        if tickets:
            self.tickets_sent.inc(tickets, **self._of(manifest_id))
        if ev_wei:
            self.ticket_value_sent.inc(ev_wei, **self._of(manifest_id))

    # ---------------------------------------------------------------- the AI API (ai_api.py)
    def ai_requested(self, pipeline: str, model: str) -> None:
        self.ai_models_requested.inc(**self.labels, pipeline=pipeline, model_name=model)

    def ai_failed(self, pipeline: str, model: str, error_code: str, orchestrator: str) -> None:
        """One failure: the client's (orchestrator "") or one orchestrator's attempt; error_code is the
        HTTP status answered or received (0: a network error)."""
        self.ai_request_errors.inc(**self.labels, pipeline=pipeline, model_name=model, error_code=error_code,
                                   orchestrator_uri=orchestrator)

    def ai_done(self, pipeline: str, model: str, latency_s: float, orchestrator: str, price: float) -> None:
        self.ai_request_latency.labels(**self.labels, pipeline=pipeline, model_name=model).observe(latency_s)
        self.ai_request_price.labels(**self.labels, pipeline=pipeline, model_name=model,
                                     orchestrator_uri=orchestrator).set(price)

    # ----------------------------------------------------------------
    def render(self) -> bytes:
        exact = "".join(c.text() for c in (self.swaps, self.retried, self.ticket_value_sent, self.tickets_sent,
                                           self.ai_models_requested, self.ai_request_errors))
        return generate_latest(self.registry) + exact.encode()
