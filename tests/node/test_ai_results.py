"""The AI result store: a result is downloadable for 10 minutes (go-livepeer's aiWorkerResultsTimeout), the
store holds at most its byte bound (oldest results go first), and its paths are not a rendition's."""

from __future__ import annotations

from core.node.ai_results import RESULT_TTL_S, AIResultStore


def test_a_result_is_kept_ten_minutes_then_gone():
    now = [0.0]
    store = AIResultStore(clock=lambda: now[0])
    rid = store.new_request_id()
    path = store.put(rid, 0, b"png bytes", "image/png", ".png")
    assert path == f"/stream/{rid}/0.png"
    item = store.get(path)
    assert item is not None and item.data == b"png bytes" and item.content_type == "image/png"
    now[0] = RESULT_TTL_S - 1
    assert store.get(path) is not None
    now[0] = RESULT_TTL_S + 1
    assert store.get(path) is None
    store.purge()
    assert len(store) == 0 and store.bytes_held == 0


def test_the_byte_bound_drops_the_oldest_first():
    store = AIResultStore(max_bytes=250)
    paths = [store.put(store.new_request_id(), 0, bytes(100), "audio/wav", ".wav") for _ in range(3)]
    assert store.get(paths[0]) is None  # 300 bytes > 250: the oldest went
    assert store.get(paths[1]) is not None and store.get(paths[2]) is not None
    assert store.bytes_held == 200


def test_request_ids_are_unguessable_and_paths_distinct_from_renditions():
    ids = {AIResultStore.new_request_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 24 for i in ids)
    rid = AIResultStore.new_request_id()
    assert AIResultStore.is_result_path(f"/stream/{rid}/3.mp4")
    assert not AIResultStore.is_result_path("/stream/0123abcd/9f8e7d6c5b4a/12_0.ts")  # a transcoded rendition
    assert not AIResultStore.is_result_path(f"/stream/{rid}/../../etc/passwd")
