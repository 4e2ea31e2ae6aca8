"""The O–T messages encode with go-livepeer's field numbers (docs/fleet.md), checked against bytes
built by hand from the protobuf wire format, not against our own encoder."""

from core.proto import lp_rpc_pb2 as pb


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def test_register_request_wire_bytes():
    raw = _key(1, 2) + _varint(6) + b"s3cr3t" + _key(2, 0) + _varint(4)
    msg = pb.RegisterRequest.FromString(raw)
    assert (msg.secret, msg.capacity) == ("s3cr3t", 4)
    assert pb.RegisterRequest(secret="s3cr3t", capacity=4).SerializeToString() == raw


def test_notify_segment_wire_bytes():
    seg = pb.SegData(manifestId=b"mid", seq=7).SerializeToString()
    raw = (
        _key(1, 2) + _varint(len("http://o/seg/1")) + b"http://o/seg/1"
        + _key(3, 2) + _varint(len(seg)) + seg
        + _key(16, 0) + _varint(300)
        + _key(17, 2) + _varint(7) + b"invalid"
    )
    msg = pb.NotifySegment.FromString(raw)
    assert msg.url == "http://o/seg/1"
    assert (msg.segData.manifestId, msg.segData.seq) == (b"mid", 7)
    assert msg.taskId == 300
    assert msg.profiles == b"invalid"


def test_transcoder_service_method_path():
    svc = pb.DESCRIPTOR.services_by_name["Transcoder"]
    m = svc.methods_by_name["RegisterTranscoder"]
    assert f"/{svc.full_name}/{m.name}" == "/net.Transcoder/RegisterTranscoder"
    assert m.input_type.name == "RegisterRequest" and m.output_type.name == "NotifySegment"
    assert m.server_streaming and not m.client_streaming
