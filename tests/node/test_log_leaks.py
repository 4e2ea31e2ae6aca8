"""Payment and auth material never reaches the logs, even at DEBUG (`lpc node -vv`): the HTTP/2 header
decoder logs every header it decodes at DEBUG, Livepeer-Payment and Livepeer-Segment (with its auth
token) included."""

from __future__ import annotations

import base64
import logging

import httpx

from core.media.profiles import COMMON_LADDER
from core.proto import net
from tests.node.gateway import headers_for, seg_data


def test_payment_and_segment_headers_are_not_logged_at_debug(node_factory, clips, caplog):
    _, gw = node_factory()
    info = gw.get_orchestrator()
    data = clips["180p"]
    seg = seg_data(info, data, COMMON_LADDER[:1])
    # a recognisable payment (an offchain node takes it and ignores it)
    payment = base64.b64encode(net.Payment(sender=bytes(range(7, 27))).SerializeToString()).decode()
    headers = headers_for(seg, payment=payment)
    caplog.set_level(logging.DEBUG)
    with httpx.Client(verify=False, http2=True, timeout=60) as c:
        r = c.post(info.transcoder + "/segment", content=data, headers=headers)
    assert r.status_code == 200
    logged = caplog.text
    assert caplog.records, "nothing was logged at DEBUG: the test would prove nothing"
    assert payment not in logged
    assert headers["Livepeer-Segment"] not in logged
    assert info.auth_token.token.hex() not in logged
