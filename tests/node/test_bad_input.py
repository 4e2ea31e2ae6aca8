"""Bad input is refused with go-livepeer's status codes or a clear TranscodeResult error, and the node
keeps serving without leaking a session slot."""

import base64
import contextlib
import socket
import ssl

import pytest

from core.media.profiles import COMMON_LADDER, VideoProfile
from core.media.synthetic import make_segment
from core.node.capabilities import Capability, bitstring
from core.proto import net
from tests.node.gateway import headers_for, post_segment, seg_data, transcode

LADDER = COMMON_LADDER[:1]


@pytest.fixture(scope="module")
def bad_node(node_factory):
    return node_factory(max_sessions=16)


def _refused(info, data, headers):
    r = post_segment(info, data, headers)
    return r.status_code, r.text.strip()


@contextlib.contextmanager
def _partial_upload(gw, headers: dict, data: bytes, sent: int, timeout: float | None = None):
    """A /segment POST over HTTP/1.1 that declares all of `data` but sends only its first `sent` bytes;
    yields the TLS socket (closing it is the gateway going away)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("127.0.0.1", gw.port), timeout=timeout) as raw, ctx.wrap_socket(raw) as tls:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        tls.sendall(f"POST /segment HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n{head}\r\n".encode())
        tls.sendall(data[:sent])
        yield tls


def _result_error(info, data, **kw) -> str:
    result = transcode(info, data, LADDER, **kw)
    assert result.WhichOneof("result") == "error"
    return result.error


def test_payment_header_that_does_not_decode_is_402(bad_node, clips):
    _, gw = bad_node
    info = gw.get_orchestrator()
    data = clips["180p"]
    status, text = _refused(info, data, headers_for(seg_data(info, data, LADDER), payment="%%%not base64"))
    assert status == 402 and "Livepeer-Payment" in text
    status, _ = _refused(info, data, headers_for(seg_data(info, data, LADDER), payment=base64.b64encode(b"\xff\xff").decode()))
    assert status == 402


@pytest.mark.parametrize(
    "header, reason",
    [("", "missing Livepeer-Segment"), ("@@notbase64", "invalid Livepeer-Segment"),
     (base64.b64encode(b"\x0a\xff\xff\xff").decode(), "invalid Livepeer-Segment")],
)
def test_segment_header_that_does_not_decode_is_403(bad_node, clips, header, reason):
    _, gw = bad_node
    info = gw.get_orchestrator()
    status, text = _refused(info, clips["180p"], headers_for(header))
    assert status == 403 and reason in text


def test_missing_or_forged_auth_token_is_403(bad_node, clips):
    _, gw = bad_node
    info = gw.get_orchestrator()
    data = clips["180p"]
    seg = seg_data(info, data, LADDER)
    seg.ClearField("auth_token")
    assert _refused(info, data, headers_for(seg)) == (403, "missing auth token")
    seg = seg_data(info, data, LADDER)
    seg.auth_token.expiration += 3600  # extend the expiry: the HMAC no longer matches
    assert _refused(info, data, headers_for(seg)) == (403, "Invalid auth token")


def test_wrong_hash_is_403_forbidden(bad_node, clips):
    _, gw = bad_node
    info = gw.get_orchestrator()
    seg = seg_data(info, clips["180p"], LADDER)
    seg.hash = b"\x01" * 32
    assert _refused(info, clips["180p"], headers_for(seg)) == (403, "Forbidden")


@pytest.mark.parametrize(
    "profile, reason",
    [
        (net.VideoProfile(name="odd", width=426, height=240, profile=9), "unknown H.264 profile value 9"),
        (net.VideoProfile(name="hevc", width=426, height=240, encoder=net.VideoProfile.H265), "codec H265 is not supported"),
        (net.VideoProfile(name="mp4", width=426, height=240, format=net.VideoProfile.MP4), "MP4 is not supported"),
        (net.VideoProfile(name="8k", width=7680, height=4320), "larger than this node's limit"),
        (net.VideoProfile(name="zero", width=0, height=0), "invalid resolution"),
    ],
)
def test_profiles_this_node_cannot_make_are_403(bad_node, clips, profile, reason):
    _, gw = bad_node
    info = gw.get_orchestrator()
    data = clips["180p"]
    status, text = _refused(info, data, headers_for(seg_data(info, data, [profile])))
    assert status == 403 and reason in text


def test_capabilities_the_node_lacks_are_403(bad_node, clips):
    _, gw = bad_node
    info = gw.get_orchestrator()
    seg = seg_data(info, clips["180p"], LADDER)
    seg.capabilities.bitstring.extend(bitstring([Capability.H264, Capability.MP4]))
    status, text = _refused(info, clips["180p"], headers_for(seg))
    assert status == 403 and "Capabilities incompatible" in text


def test_declared_ten_minute_segment_is_413(bad_node, clips):
    _, gw = bad_node
    info = gw.get_orchestrator()
    seg = seg_data(info, clips["180p"], LADDER, duration_ms=600_000)
    status, text = _refused(info, clips["180p"], headers_for(seg))
    assert status == 413 and "600 s exceeds" in text


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda c: b"", "empty segment (0 bytes)"),
        (lambda c: c[: len(c) // 2 + 100], "truncated MPEG-TS"),
        (lambda c: b"\x00garbage" * 47, "not an MPEG-TS segment"),
        (lambda c: bytes([0x47]) + bytes(range(187)) * 1 + (bytes([0x47]) + b"\x1f\xff\x10" + b"\xff" * 184) * 20,
         "are not MPEG-TS video"),
    ],
    ids=["zero-bytes", "truncated", "garbage", "ts-without-video"],
)
def test_unusable_media_gets_a_clear_transcode_error(bad_node, clips, make, reason):
    node, gw = bad_node
    info = gw.get_orchestrator()
    assert reason in _result_error(info, make(clips["180p"]))


def test_absurd_media_is_refused(bad_node):
    _, gw = bad_node
    info = gw.get_orchestrator()
    eight_k = make_segment(7680, 4320, 1 / 30, bitrate=20_000_000)
    assert "this node takes at most 4096x2160" in _result_error(info, eight_k)
    ten_minutes = make_segment(64, 64, 601, fps=1)  # declared 2 s, really 10 minutes
    assert "longer than 300 s" in _result_error(info, ten_minutes, duration_ms=2000)


def test_client_gone_mid_upload_leaks_nothing_and_node_keeps_serving(node_factory, clips):
    """With one session slot, a gateway that dies mid-upload must not keep the slot: another session
    (a new auth token) is served right after."""
    node, gw = node_factory(max_sessions=1)
    info = gw.get_orchestrator()
    data = clips["180p"]
    with _partial_upload(gw, headers_for(seg_data(info, data, LADDER)), data, len(data) // 3):
        pass  # the gateway dies a third of the way through
    result = transcode(gw.get_orchestrator(), data, LADDER)  # another session gets the only slot
    assert result.WhichOneof("result") == "data", result.error
    node.stop()


def test_oversized_upload_is_413(node_factory, clips):
    node, gw = node_factory(max_segment_bytes=10_000)
    info = gw.get_orchestrator()
    status, text = _refused(info, clips["180p"], headers_for(seg_data(info, clips["180p"], LADDER)))
    assert status == 413 and "byte limit" in text
    node.stop()


def test_profile_message_is_validated_on_the_dataclass_too():
    from core.media.profiles import ProfileError, checked

    with pytest.raises(ProfileError, match="larger than"):
        checked(VideoProfile("8k", 7680, 4320, 1))


def test_refusals_over_http2_leave_the_connection_usable(bad_node, clips):
    """A refusal sent before the body is read must not break the gateway's HTTP/2 connection."""
    import httpx

    _, gw = bad_node
    info = gw.get_orchestrator()
    data = clips["360p"]
    bad = seg_data(info, data, LADDER)
    bad.hash = b"\x02" * 32
    with httpx.Client(verify=False, http2=True, timeout=30) as c:
        statuses = [c.post(info.transcoder + "/segment", content=data, headers=headers_for(s)).status_code
                    for s in (bad, bad, seg_data(info, data, LADDER))]
    assert statuses == [403, 403, 200]


def test_ladder_over_the_rendition_cap_is_413_before_the_body(bad_node, clips):
    """64 renditions once ran 464 threads and 1.8 GB: now refused with words, nothing transcoded."""
    node, gw = bad_node
    info = gw.get_orchestrator()
    done = node.status().segments_done + node.status().segments_failed
    many = [VideoProfile(f"r{i}", 1280, 720, 30) for i in range(64)]
    from core.media.profiles import to_wire

    seg = seg_data(info, clips["180p"], LADDER)
    del seg.fullProfiles3[:]
    seg.fullProfiles3.extend(to_wire(p, net.VideoProfile) for p in many)
    status, text = _refused(info, clips["180p"], headers_for(seg))
    assert status == 413 and "64 renditions" in text and "at most 8" in text
    assert node.status().segments_done + node.status().segments_failed == done


def test_grpc_over_http1_is_a_clear_426(bad_node):
    import httpx

    _, gw = bad_node
    with httpx.Client(verify=False, http2=False, timeout=10) as c:
        r = c.post(f"https://127.0.0.1:{gw.port}/net.Orchestrator/GetOrchestrator", content=b"\0\0\0\0\0",
                   headers={"content-type": "application/grpc"})
    assert r.status_code == 426 and "gRPC needs HTTP/2" in r.text


def test_slow_body_is_cut_at_the_upload_deadline(node_factory, clips):
    """A body trickling in (or shorter than its Content-Length) gets 408 instead of holding a slot forever."""
    node, gw = node_factory(upload_timeout_min_s=1.0, upload_timeout_factor=0.5)
    info = gw.get_orchestrator()
    data = clips["180p"]
    with _partial_upload(gw, headers_for(seg_data(info, data, LADDER)), data, 1000, timeout=20) as tls:
        # and then nothing more
        reply = ""
        while "did not arrive" not in reply and (chunk := tls.recv(4096)):
            reply += chunk.decode(errors="replace")
    assert reply.startswith("HTTP/1.1 408") and "did not arrive within" in reply
    result = transcode(gw.get_orchestrator(), data, LADDER)  # still serving
    assert result.WhichOneof("result") == "data"
    node.stop()
