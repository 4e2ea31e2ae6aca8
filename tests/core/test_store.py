"""The local database: SQLite in WAL mode, schema from versioned migrations, built on demand."""

import sqlite3

from sqlalchemy import select

from core.store.db import head_revision, open_store, schema_revision
from core.store.models import TxJournal


def test_store_is_migrated_to_head_in_wal_mode(tmp_path):
    store = open_store(tmp_path)
    assert schema_revision(store) == head_revision()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tx_journal", "kv", "alembic_version"} <= tables
    store.close()


def test_reopening_keeps_rows_and_big_wei_values(tmp_path):
    store = open_store(tmp_path)
    big = 2**200 + 12345
    with store.sessions.begin() as s:
        s.add(TxJournal(network="devnet", chain_id=42161, sender="0x" + "a" * 40, to="0x" + "b" * 40,
                        action="bond", summary="bond 1 LPT", data="0x", value_wei=str(big)))
    store.close()
    again = open_store(tmp_path)
    with again.sessions() as s:
        row = s.scalars(select(TxJournal)).one()
    assert int(row.value_wei) == big and row.status == "pending"
    again.close()


def test_importing_the_store_creates_no_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import importlib

    import core.store

    importlib.reload(core.store)
    assert list(tmp_path.iterdir()) == []
