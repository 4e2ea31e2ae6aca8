"""Prometheus metrics under go-livepeer's names (namespace `livepeer_`), one registry per node.

Exposition names match go-livepeer's OpenCensus exporter: gauges and sums keep their names
(`livepeer_max_sessions_total`, `livepeer_mil_pixels_processed`), counters end in `_total`.
`lpc_transcode_encoder` is ours (go-livepeer has no such metric): which encoder this node uses.
"""

from __future__ import annotations

import platform
import sys

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

disable_created_metrics()  # go-livepeer exports no *_created series

CONTENT_TYPE = CONTENT_TYPE_LATEST

_TIME_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 10)
_SCORE_BUCKETS = (0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 5, 8, 10, 20)


class NodeMetrics:
    def __init__(self, node_id: str, version: str, encoder: str, hw_decode: bool, ai=None):
        """`ai`: the node's AI worker (AIWorkerPort) whose slots are exported as go-livepeer's
        livepeer_ai_container_in_use / livepeer_ai_container_idle (per pipeline and model) at each scrape."""
        self._ai = ai
        self.registry = r = CollectorRegistry(auto_describe=True)
        labels = {"node_type": "orch", "node_id": node_id}
        self._labels = labels
        names = list(labels)
        self.max_sessions = Gauge("livepeer_max_sessions_total", "Max sessions", names, registry=r).labels(**labels)
        self.current_sessions = Gauge(
            "livepeer_current_sessions_total", "Number of currently transcoded streams", names, registry=r
        ).labels(**labels)
        self.segment_transcoded = Counter(
            "livepeer_segment_transcoded", "SegmentTranscoded", names + ["profiles"], registry=r
        )
        self.segment_failed = Counter(
            "livepeer_segment_transcode_failed", "SegmentTranscodeFailed", names + ["error_code"], registry=r
        )
        self.transcode_time = Histogram(
            "livepeer_transcode_time_seconds", "TranscodeTime, seconds", names + ["profiles"],
            buckets=_TIME_BUCKETS, registry=r,
        )
        self.transcode_score = Histogram(
            "livepeer_transcode_score", "Ratio of source segment duration vs. transcode time",
            names + ["profiles"], buckets=_SCORE_BUCKETS, registry=r,
        )
        self.source_duration = Histogram(
            "livepeer_source_segment_duration_seconds", "Source segment's duration", names,
            buckets=(0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 20, 60), registry=r,
        ).labels(**labels)
        self.success_rate = Gauge(
            "livepeer_success_rate", "Share of segments transcoded successfully", names, registry=r
        ).labels(**labels)
        self.mil_pixels = Gauge(
            "livepeer_mil_pixels_processed", "Million pixels processed", names, registry=r
        ).labels(**labels)
        self.transcoding_price = Gauge(
            "livepeer_transcoding_price", "Transcoding price per pixel, wei", names + ["sender"], registry=r
        )
        Gauge(
            "livepeer_versions", "Versions used by the node", ["livepeer_version", "python_version", "os"],
            registry=r,
        ).labels(version, platform.python_version(), sys.platform).set(1)
        Gauge(
            "lpc_transcode_encoder", "H.264 encoder this node transcodes with (1 = in use)",
            names + ["encoder", "hw_decode"], registry=r,
        ).labels(**labels, encoder=encoder, hw_decode=str(hw_decode).lower()).set(1)
        self.segment_refusals = Counter(
            "lpc_segment_refused", "Segments refused before transcoding, by HTTP status (408: upload too slow)",
            names + ["status"], registry=r,
        )
        self.payment_refusals = Counter(
            "lpc_payment_refused", "Payments or tickets refused, by reason code", names + ["code"], registry=r
        )
        self.ticket_value_recv = Counter(
            "livepeer_ticket_value_recv", "Ticket EV received, wei", names + ["sender"], registry=r
        )
        self.winning_tickets_recv = Counter(
            "livepeer_winning_tickets_recv", "Winning tickets received", names + ["sender"], registry=r
        )
        self.value_redeemed = Counter(
            "livepeer_value_redeemed", "Winning ticket face value redeemed, wei", names + ["sender"], registry=r
        )
        # AI (go-livepeer monitor/census.go names; a "container" here is one slot of an in-process model)
        ai_names = names + ["pipeline", "model_name"]
        self.ai_in_use = Gauge("livepeer_ai_container_in_use", "AI slots running a request", ai_names, registry=r)
        self.ai_idle = Gauge("livepeer_ai_container_idle", "AI slots free", ai_names, registry=r)
        self.ai_requested = Counter("livepeer_ai_models_requested", "AI requests per pipeline and model",
                                    ai_names, registry=r)
        self.ai_errors = Counter("livepeer_ai_request_errors", "AI requests answered with an error, by HTTP status",
                                 ai_names + ["error_code"], registry=r)
        self.ai_latency = Histogram("lpc_ai_request_seconds", "AI request wall time at the orchestrator, seconds",
                                    ai_names, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120), registry=r)
        self._ok = 0
        self._failed = 0

    def segment_refused(self, status: int) -> None:
        self.segment_refusals.labels(**self._labels, status=str(status)).inc()

    def payment_refused(self, code: str) -> None:
        self.payment_refusals.labels(**self._labels, code=code).inc()

    def ticket_value(self, sender: str, wei: float, winners: int) -> None:
        self.ticket_value_recv.labels(**self._labels, sender=sender).inc(wei)
        if winners:
            self.winning_tickets_recv.labels(**self._labels, sender=sender).inc(winners)

    def redeemed(self, sender: str, wei: int) -> None:
        self.value_redeemed.labels(**self._labels, sender=sender).inc(wei)

    def segment_ok(self, profiles: str, wall_s: float, duration_s: float, pixels: int) -> None:
        self._ok += 1
        self.segment_transcoded.labels(**self._labels, profiles=profiles).inc()
        self.transcode_time.labels(**self._labels, profiles=profiles).observe(wall_s)
        if wall_s > 0 and duration_s > 0:
            self.transcode_score.labels(**self._labels, profiles=profiles).observe(duration_s / wall_s)
        if duration_s > 0:
            self.source_duration.observe(duration_s)
        self.mil_pixels.inc(pixels / 1e6)
        self._rate()

    def segment_failed_with(self, code: str) -> None:
        self._failed += 1
        self.segment_failed.labels(**self._labels, error_code=code).inc()
        self._rate()

    def _rate(self) -> None:
        self.success_rate.set(self._ok / (self._ok + self._failed))

    def ai_request(self, pipeline: str, model: str, status: int, seconds: float) -> None:
        labels = {**self._labels, "pipeline": pipeline, "model_name": model}
        self.ai_requested.labels(**labels).inc()
        if status == 200:
            self.ai_latency.labels(**labels).observe(seconds)
        else:
            self.ai_errors.labels(**labels, error_code=str(status)).inc()

    def _ai_slots(self) -> None:
        if self._ai is None:
            return
        try:
            advertised = self._ai.advertised()
        except Exception:  # noqa: BLE001 - a scrape never fails on the worker
            return
        for spec, _warm, capacity, in_use in advertised:
            labels = {**self._labels, "pipeline": spec.pipeline.value, "model_name": spec.model_id}
            self.ai_in_use.labels(**labels).set(in_use)
            self.ai_idle.labels(**labels).set(max(0, capacity - in_use))

    def render(self) -> bytes:
        self._ai_slots()
        return generate_latest(self.registry)
