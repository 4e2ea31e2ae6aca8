"""Open (and migrate) the database of one data dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DB_NAME = "lpc.sqlite3"


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    path: Path

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def open_store(data_dir: Path, *, migrate: bool = True) -> Store:
    """The store of `data_dir`, upgraded to the newest schema."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DB_NAME
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), path=path)


def schema_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
