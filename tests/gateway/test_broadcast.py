"""The gateway's broadcaster offchain, against real lpc orchestrators on 127.0.0.1: discovery from an
-orchAddr list, segments over HTTP/2 /segment, renditions downloaded and decoded at the ladder's size,
stickiness, failover from a stopped orchestrator, suspension of broken ones, max attempts, the
blocklist, verification of reported pixels, and bad input that touches no orchestrator."""

from __future__ import annotations

import threading

import pytest

from chain.devnet.anvil import free_port
from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.ports import SourceSegment, TranscodeError
from tests.gateway.conftest import LADDER, gateway_config
from tests.node.gateway import probe
from tests.waiting import wait_for


class Recorder:
    """A BroadcastObserver that keeps what it is told."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events: list[tuple] = []

    def _add(self, *event):
        with self.lock:
            self.events.append(event)

    def discovered(self, manifest_id, pool):
        self._add("discovered", manifest_id, pool)

    def discovery_error(self, uri, message):
        self._add("discovery_error", uri, message)

    def attempt_failed(self, manifest_id, seq, uri, error, attempt):
        self._add("attempt_failed", seq, uri, error.kind, attempt, str(error))

    def swapped(self, manifest_id, old_uri, new_uri):
        self._add("swapped", old_uri, new_uri)

    def transcoded(self, manifest_id, segment):
        self._add("transcoded", segment.seq, segment.orchestrator)

    def paid(self, manifest_id, uri, tickets, ev_wei):
        self._add("paid", uri, tickets, ev_wei)

    def of(self, kind):
        with self.lock:
            return [e[1:] for e in self.events if e[0] == kind]


def seg(clip: bytes, seq: int, mid: str = "abc") -> SourceSegment:
    return SourceSegment(manifest_id=mid, seq=seq, data=clip, duration_s=1.0)


def uri_of(addr: str) -> str:
    return f"https://{addr}"


def test_segments_go_to_one_orchestrator_and_every_rendition_decodes_at_the_ladder_size(two_orchestrators, clip, tmp_path):
    (_, a), (_, b) = two_orchestrators
    rec = Recorder()
    # a blocklist naming some other address blocks nothing of ours (offchain lpc sends 20 zero bytes)
    cfg = gateway_config(tmp_path, [a, b], orch_blocklist=("0x" + "ab" * 20,))
    bc = NetworkBroadcaster(cfg, observer=rec)
    try:
        stream = bc.open("abc", LADDER)
        results = [stream.transcode(seg(clip, n)) for n in range(3)]
        for r, n in zip(results, range(3)):
            assert r.seq == n and r.attempts == 1 and r.paid_wei == 0
            assert [x.profile for x in r.renditions] == ["P144p30fps16x9", "P240p30fps16x9"]
            sizes = [probe(x.data) for x in r.renditions]
            assert [(w, h) for _, w, h, _ in sizes] == [(256, 144), (426, 240)]
            assert all(frames == 30 for frames, *_ in sizes)
            assert [x.pixels for x in r.renditions] == [30 * 256 * 144, 30 * 426 * 240]
        used = {r.orchestrator for r in results}
        assert len(used) == 1 and used <= {uri_of(a), uri_of(b)}  # sticky: faster than real time
        view = stream.view()
        assert view.swaps == 0 and view.in_use == results[0].orchestrator
        states = {o.uri: o.state for o in view.orchestrators}
        assert states == {uri_of(a): "in use" if uri_of(a) in used else "ready",
                          uri_of(b): "in use" if uri_of(b) in used else "ready"}
        assert all(o.address == "0x" + "0" * 40 for o in view.orchestrators)
        assert [e[0] for e in rec.of("transcoded")] == [0, 1, 2]
        assert rec.of("attempt_failed") == [] and rec.of("swapped") == []
        assert bc.view("abc") == stream.view()
    finally:
        bc.close()


def test_a_stopped_orchestrator_mid_stream_sends_the_next_segment_to_the_other(orch_factory, clip, tmp_path):
    nodes = dict((uri_of(addr), node) for node, addr in (orch_factory(), orch_factory()))
    rec = Recorder()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [u.removeprefix("https://") for u in nodes]), observer=rec)
    try:
        stream = bc.open("live", LADDER)
        first = stream.transcode(seg(clip, 0, "live"))
        nodes[first.orchestrator].stop()
        second = stream.transcode(seg(clip, 1, "live"))
        (other,) = set(nodes) - {first.orchestrator}
        assert second.orchestrator == other
        assert 1 <= second.attempts <= bc.config.max_attempts
        assert [probe(x.data)[1:3] for x in second.renditions] == [(256, 144), (426, 240)]
        states = {o.uri: (o.state, o.note) for o in stream.view().orchestrators}
        assert states[first.orchestrator][0] == "suspended" and states[first.orchestrator][1]
        assert states[other][0] == "in use"
        assert stream.view().swaps == 1 and rec.of("swapped") == [(first.orchestrator, other)]
        assert [(s, u, n) for s, u, _, n, _ in rec.of("attempt_failed")] == [(1, first.orchestrator, 1)]
        third = stream.transcode(seg(clip, 2, "live"))  # the dead one is not tried again
        assert third.orchestrator == other and third.attempts == 1
    finally:
        bc.close()


def test_orchestrators_answering_500_or_garbage_are_suspended_and_the_segment_succeeds_elsewhere(
        faulty_factory, orch_factory, clip, tmp_path):
    broken = [faulty_factory("500"), faulty_factory("garbage")]
    port = free_port()
    good = f"127.0.0.1:{port}"
    rec = Recorder()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [f.addr for f in broken] + [good], discovery_timeout_s=1.0),
                            observer=rec)
    try:
        stream = bc.open("s", LADDER)
        # the good one is not running yet: the first discovery finds only the broken two
        wait_for(lambda: {o.state for o in stream.view().orchestrators} == {"ready", "unreachable"},
                 what=lambda: f"first discovery: {stream.view()}")
        orch_factory(service_addr=good, http_addr=good)
        done = stream.transcode(seg(clip, 0, "s"))
        assert done.orchestrator == uri_of(good) and done.attempts == 3
        assert [probe(x.data)[1:3] for x in done.renditions] == [(256, 144), (426, 240)]
        assert [f.posts for f in broken] == [1, 1]
        failed = {u: (kind, said) for _, u, kind, _, said in rec.of("attempt_failed")}
        assert len(failed) == 2 and {kind for kind, _ in failed.values()} == {"Transcode"}
        said = sorted(m for _, m in failed.values())
        assert said[0].startswith("HTTP 500 from /segment") and "is not a TranscodeResult" in said[1]
        assert stream.view().swaps == 2
        again = stream.transcode(seg(clip, 1, "s"))
        assert again.orchestrator == uri_of(good) and again.attempts == 1 and [f.posts for f in broken] == [1, 1]
    finally:
        bc.close()


def test_max_attempts_exhausted_is_a_maxattempts_error(faulty_factory, clip, tmp_path):
    broken = [faulty_factory("500"), faulty_factory("500")]
    bc = NetworkBroadcaster(gateway_config(tmp_path, [f.addr for f in broken], max_attempts=2))
    try:
        with pytest.raises(TranscodeError) as err:
            bc.open("m", LADDER).transcode(seg(clip, 0, "m"))
        assert err.value.kind == "MaxAttempts" and err.value.retryable
        assert "max transcode attempts (2)" in str(err.value) and "HTTP 500" in str(err.value)
        assert [f.posts for f in broken] == [1, 1]
    finally:
        bc.close()


def test_blocklist_of_our_zero_address_leaves_no_orchestrator_and_an_empty_one_blocks_nothing(
        two_orchestrators, clip, tmp_path):
    (_, a), _ = two_orchestrators
    bc = NetworkBroadcaster(gateway_config(tmp_path, [a], orch_blocklist=("0x" + "00" * 20,)))
    try:
        with pytest.raises(TranscodeError) as err:
            bc.open("b", LADDER).transcode(seg(clip, 0, "b"))
        assert err.value.kind == "NoOrchestrators" and "orchBlocklist" in str(err.value)
    finally:
        bc.close()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [a], orch_blocklist=("", " ")))  # empty entries: none
    try:
        assert bc.open("b", LADDER).transcode(seg(clip, 0, "b")).orchestrator == uri_of(a)
    finally:
        bc.close()


def test_no_reachable_orchestrator_is_a_nooorchestrators_error_in_words(clip, tmp_path):
    closed = f"127.0.0.1:{free_port()}"
    bc = NetworkBroadcaster(gateway_config(tmp_path, [closed], discovery_timeout_s=0.2))
    try:
        with pytest.raises(TranscodeError) as err:
            bc.open("n", LADDER).transcode(seg(clip, 0, "n"))
        assert err.value.kind == "NoOrchestrators" and uri_of(closed) in str(err.value)
    finally:
        bc.close()
    bc = NetworkBroadcaster(gateway_config(tmp_path, []))
    try:
        with pytest.raises(TranscodeError, match="-orchAddr") as err:
            bc.open("n", LADDER).transcode(seg(clip, 0, "n"))
        assert err.value.kind == "NoOrchestrators"
    finally:
        bc.close()


@pytest.mark.parametrize("data", [b"", b"\x47" + b"\x00" * 187 * 3, b"not video at all" * 100])
def test_bad_input_touches_no_orchestrator_and_suspends_nobody(faulty_factory, data, tmp_path):
    f = faulty_factory("500")
    bc = NetworkBroadcaster(gateway_config(tmp_path, [f.addr]))
    try:
        stream = bc.open("x", LADDER)
        with pytest.raises(TranscodeError) as err:
            stream.transcode(SourceSegment("x", 0, data, 1.0))
        assert err.value.kind == "BadInput" and not err.value.retryable
        assert f.posts == 0
        assert "suspended" not in {o.state for o in stream.view().orchestrators}
    finally:
        bc.close()


def test_verification_catches_misreported_pixels_and_the_honest_orchestrator_passes(
        faulty_factory, orch_factory, clip, tmp_path):
    liar = faulty_factory("lying")
    good = f"127.0.0.1:{free_port()}"
    rec = Recorder()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [liar.addr, good], local_verify=True, discovery_timeout_s=1.0),
                            observer=rec)
    try:
        stream = bc.open("v", LADDER)
        wait_for(lambda: {o.state for o in stream.view().orchestrators} == {"ready", "unreachable"},
                 what=lambda: f"first discovery: {stream.view()}")
        orch_factory(service_addr=good, http_addr=good)
        done = stream.transcode(seg(clip, 0, "v"))
        assert done.orchestrator == uri_of(good) and done.attempts == 2
        assert [(kind, n) for _, _, kind, n, _ in rec.of("attempt_failed")] == [("Verification", 1)]
        (note,) = [o.note for o in stream.view().orchestrators if o.state == "suspended"]
        assert "PixelMismatch" in note and f"{2 * 30 * 256 * 144:,} reported" in note
    finally:
        bc.close()


def test_concurrent_segments_of_one_stream_all_come_back(two_orchestrators, clip, tmp_path):
    (_, a), (_, b) = two_orchestrators
    bc = NetworkBroadcaster(gateway_config(tmp_path, [a, b]))
    try:
        stream = bc.open("c", LADDER)
        out: dict[int, object] = {}

        def run(n):
            out[n] = stream.transcode(seg(clip, n, "c"))

        threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(out) == [0, 1, 2, 3]
        assert all(len(r.renditions) == 2 and r.renditions[1].pixels == 30 * 426 * 240 for r in out.values())
    finally:
        bc.close()


def test_closing_a_stream_frees_its_slot_on_the_orchestrator_at_once(orch_factory, clip, tmp_path):
    node, addr = orch_factory()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [addr]))
    try:
        stream = bc.open("e", LADDER)
        stream.transcode(seg(clip, 0, "e"))
        assert node.status().sessions_used == 1
        stream.close()
        wait_for(lambda: node.status().sessions_used == 0, timeout=10,
                 what=lambda: f"the session ended (still {node.status().sessions_used})")  # not after 70 s idle
    finally:
        bc.close()


def _as_mp4(ts: bytes) -> bytes:
    import io

    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(ts), format="mpegts") as src, av.open(out, "w", format="mp4") as dst:
        v = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(video=0):
            if packet.dts is not None:
                packet.stream = v
                dst.mux(packet)
    return out.getvalue()


def test_an_mp4_segment_is_remuxed_and_transcoded(two_orchestrators, clip, tmp_path):
    (_, a), _ = two_orchestrators
    mp4 = _as_mp4(clip)
    assert mp4[4:8] == b"ftyp"
    bc = NetworkBroadcaster(gateway_config(tmp_path, [a]))
    try:
        done = bc.open("p", LADDER).transcode(SourceSegment("p", 7, mp4, 1.0, container="mp4"))
        assert done.seq == 7 and [probe(x.data)[:3] for x in done.renditions] == [(30, 256, 144), (30, 426, 240)]
    finally:
        bc.close()


def test_an_orchestrator_above_max_price_is_filtered_out_in_words(orch_factory, clip, tmp_path):
    _, addr = orch_factory(price_per_unit=1200, pixels_per_unit=3)  # 400 wei per pixel
    bc = NetworkBroadcaster(gateway_config(tmp_path, [addr], max_price_per_unit=1000, pixels_per_unit=4))
    try:
        with pytest.raises(TranscodeError) as err:
            bc.open("$", LADDER).transcode(seg(clip, 0, "$"))
        assert err.value.kind == "NoOrchestrators" and "above -maxPricePerUnit 1000 per 4 pixels" in str(err.value)
    finally:
        bc.close()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [addr], max_price_per_unit=400, pixels_per_unit=1))
    try:
        assert bc.open("$", LADDER).transcode(seg(clip, 0, "$")).orchestrator == uri_of(addr)  # at the limit: fine
        bc.set_max_price(399)  # /setBroadcastConfig: new streams see the new limit
        with pytest.raises(TranscodeError, match="above -maxPricePerUnit 399"):
            bc.open("$$", LADDER).transcode(seg(clip, 0, "$$"))
        with pytest.raises(ValueError, match="price feed"):
            bc.set_max_price("1USD")
        assert bc.max_price() == 399  # a refused change changes nothing
    finally:
        bc.close()
    with pytest.raises(ValueError, match="price feed"):
        NetworkBroadcaster(gateway_config(tmp_path, [addr], max_price_per_unit="0.5USD"))


def test_an_orchestrator_that_never_answers_the_upload_is_dropped_at_the_upload_deadline(
        faulty_factory, orch_factory, clip, tmp_path):
    hung = faulty_factory("hang")
    good = f"127.0.0.1:{free_port()}"
    rec = Recorder()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [hung.addr, good], discovery_timeout_s=1.0), observer=rec)
    try:
        stream = bc.open("h", LADDER)
        wait_for(lambda: {o.state for o in stream.view().orchestrators} == {"ready", "unreachable"},
                 what=lambda: f"first discovery: {stream.view()}")
        orch_factory(service_addr=good, http_addr=good)
        done = stream.transcode(seg(clip, 0, "h"))  # 1 s segment: upload deadline max(2 s, 0.5 s) = 2 s
        assert done.orchestrator == uri_of(good) and done.attempts == 2 and hung.posts == 1
        ((_, _, kind, _, said),) = rec.of("attempt_failed")
        assert kind == "Transcode" and "within 2 s (upload deadline)" in said
    finally:
        bc.close()


def test_a_failing_observer_loses_no_segment(two_orchestrators, clip, tmp_path):
    (_, a), _ = two_orchestrators

    class Broken(Recorder):
        def transcoded(self, manifest_id, segment):
            raise RuntimeError("metrics are down")

    bc = NetworkBroadcaster(gateway_config(tmp_path, [a]), observer=Broken())
    try:
        assert bc.open("o", LADDER).transcode(seg(clip, 0, "o")).renditions[1].pixels == 30 * 426 * 240
    finally:
        bc.close()


def test_with_nobody_else_left_the_best_unverified_result_is_taken(faulty_factory, clip, tmp_path):
    liar = faulty_factory("lying")
    rec = Recorder()
    bc = NetworkBroadcaster(gateway_config(tmp_path, [liar.addr], local_verify=True), observer=rec)
    try:
        done = bc.open("u", LADDER).transcode(seg(clip, 0, "u"))
        assert [probe(x.data)[1:3] for x in done.renditions] == [(256, 144), (426, 240)]  # as go-livepeer
        assert [kind for _, _, kind, _, _ in rec.of("attempt_failed")] == ["Verification"]
    finally:
        bc.close()
