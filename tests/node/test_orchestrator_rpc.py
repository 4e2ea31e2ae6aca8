"""GetOrchestrator, Ping and EndTranscodingSession over TLS with grpcio, as a go-livepeer gateway calls them."""

import time

import grpc
import pytest

from core.node.capabilities import Capability, bits_of
from core.proto import net


def test_get_orchestrator_offers_tls_service_token_price_and_capabilities(node_and_gateway):
    node, gw = node_and_gateway
    info = gw.get_orchestrator(ignore_capacity=False)
    assert info.transcoder == f"https://127.0.0.1:{gw.port}"
    assert info.auth_token.token and info.auth_token.session_id
    assert abs(info.auth_token.expiration - (time.time() + 1800)) < 60
    assert (info.price_info.pricePerUnit, info.price_info.pixelsPerUnit) == (1200, 3)
    assert not info.HasField("ticket_params")  # offchain: no tickets
    # 20 zero bytes, not b"": a default go-livepeer gateway blocklists an empty address
    assert info.address == bytes(20)
    offered = bits_of(info.capabilities.bitstring)
    for cap in (Capability.H264, Capability.MPEGTS, Capability.PROFILE_H264_CONSTRAINED_HIGH, Capability.GOP,
                Capability.AUTH_TOKEN):
        assert cap in offered
    assert Capability.MP4 not in offered
    assert info.hardware and info.hardware[0].model_id == "libx264"


def test_each_call_gets_its_own_session(node_and_gateway):
    _, gw = node_and_gateway
    a, b = gw.get_orchestrator(), gw.get_orchestrator()
    assert a.auth_token.session_id != b.auth_token.session_id


def test_ping_answers_offchain_with_an_empty_signature(node_and_gateway):
    _, gw = node_and_gateway
    assert gw.ping(b"hello").value == b""  # offchain go-livepeer signs nothing


def test_end_session_refuses_a_forged_token(node_and_gateway):
    _, gw = node_and_gateway
    token = gw.get_orchestrator().auth_token
    gw.end_session(token)  # a valid token that has no live session: fine
    forged = net.AuthToken(token=b"x" * 32, session_id=token.session_id, expiration=token.expiration)
    with pytest.raises(grpc.RpcError) as err:
        gw.end_session(forged)
    assert "Invalid auth token" in err.value.details()


def test_unknown_method_is_unimplemented(node_and_gateway):
    _, gw = node_and_gateway
    call = gw.channel.unary_unary("/net.Orchestrator/Nope", request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=net.PingPong.FromString)
    with pytest.raises(grpc.RpcError) as err:
        call(net.PingPong(), timeout=5)
    assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
