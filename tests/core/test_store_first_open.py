"""A new data dir's database opened by several threads at once (the console's screens open it from their
workers; on a fresh data dir the Dashboard's and the Transactions screen's reads raced): every opener
gets a usable, fully migrated store — none is told the database is corrupt."""

from __future__ import annotations

import threading

from core.store.db import StoreError, head_revision, open_store, schema_revision

OPENERS = 4


def test_concurrent_first_opens_all_succeed(tmp_path):
    for trial in range(10):
        data_dir = tmp_path / f"fresh-{trial}"
        data_dir.mkdir()  # as lpc leaves it before the console opens: settings, no database yet
        start = threading.Barrier(OPENERS)
        revisions: list[str] = []
        errors: list[str] = []

        def open_it() -> None:
            start.wait(timeout=30)
            try:
                store = open_store(data_dir)
            except StoreError as exc:
                errors.append(str(exc))
                return
            revisions.append(schema_revision(store))
            store.close()

        threads = [threading.Thread(target=open_it) for _ in range(OPENERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        assert revisions == [head_revision()] * OPENERS
