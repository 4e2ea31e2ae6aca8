"""Open (and migrate) the database of one data dir."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# SQLAlchemy and Alembic load where a database is opened, not here: `lpc` checks StoreError (and the
# console paints) without them.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DB_NAME = "lpc.sqlite3"
SQLITE_HEADER = b"SQLite format 3\x00"
# One open (check + migration) at a time in this process: screens' workers open the store from their
# threads, and two first opens of a new data dir both ran the migrations ("table alembic_version already
# exists", which read as a corrupt database) or one found the file locked by the other's migration
# ("database is locked"); Alembic's command API is not thread-safe either.
_OPENING = threading.Lock()


class StoreError(RuntimeError):
    """The data dir's database cannot be used; the message says what is wrong and what to do. Nothing
    was written: a corrupt database is never overwritten, migrated or repaired here."""


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
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _make_data_dir(data_dir: Path, create: bool) -> None:
    if data_dir.is_dir():
        return
    if data_dir.exists():
        raise StoreError(f"the data dir {data_dir} is a file, not a folder: move it aside or pick another "
                         "with --data-dir")
    if not create:
        raise StoreError(f"there is no data dir at {data_dir} (nothing recorded there yet): check --data-dir / "
                         "LPC_DATA_DIR")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data dir {data_dir}: {exc.strerror or exc}; pick a writable folder "
                         "with --data-dir") from None


def _check_database_file(path: Path) -> None:
    """Refuse what is plainly not a SQLite database before SQLite or a migration touches it."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"{path} is a folder, not a database: move it aside (lpc then starts a new database)") \
            from None
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc.strerror or exc}") from None
    if head and head != SQLITE_HEADER:
        raise StoreError(_corrupt(path, "it does not start with SQLite's header"))


_CORRUPT_ADVICE = (" It was left as it is: move it aside (lpc then starts a new one) or restore it from a backup; "
                   "`lpc doctor` checks it")


def _corrupt(path: Path, why: str) -> str:
    return f"{path} is not a usable SQLite database ({why}: corrupt or truncated).{_CORRUPT_ADVICE}"


@contextmanager
def _query_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that cannot write; SQLite's errors become StoreError. Opened read-write (but
    query-only) on purpose: a read-only connection to a WAL database leaves -wal and -shm files behind,
    the last close of this one removes them."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
        try:
            conn.execute("PRAGMA query_only=ON")
            yield conn
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "unable to open" in str(exc) or "readonly" in str(exc):
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        raise StoreError(_corrupt(path, str(exc))) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(_corrupt(path, str(exc))) from None


def _page_check(conn: sqlite3.Connection, path: Path, pragma: str) -> None:
    problems = [row[0] for row in conn.execute(f"PRAGMA {pragma}(20)")]
    if problems != ["ok"]:
        raise StoreError(_corrupt(path, f"SQLite's check says: {'; '.join(map(str, problems[:3]))}"))


def verify_database(data_dir: Path) -> None:
    """Raise StoreError when the database of `data_dir` exists and is not usable (not SQLite, or SQLite's
    quick_check finds damage). Cheap and read-only: for a start-up that should fail before it begins."""
    path = Path(data_dir) / DB_NAME
    if not path.exists():
        return
    _check_database_file(path)
    with _query_only(path) as conn:
        _page_check(conn, path, "quick_check")
        revision = _revision(conn)
    if revision is not None and revision not in _revision_ids_on_disk() and revision not in _known_revisions():
        raise StoreError(_newer(path, revision))


def _revision(conn: sqlite3.Connection) -> str | None:
    """The schema revision alembic recorded, None when it never ran here."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone():
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _newer(path: Path, revision: str) -> str:
    return (f"{path} is at schema {revision}, which this lpc does not know (a newer lpc wrote it); it was left as "
            "it is: run that lpc, or restore a backup made with this version")


def open_store(data_dir: Path, *, migrate: bool = True, create: bool = True) -> Store:
    """The store of `data_dir`, upgraded to the newest schema. With `create=False` (read-only commands) a
    missing data dir is a StoreError instead of being made."""
    _make_data_dir(data_dir, create)
    path = data_dir / DB_NAME
    if not create and not path.exists():
        raise StoreError(f"there is no database in {data_dir} yet (nothing recorded there): check --data-dir")
    _check_database_file(path)
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import DatabaseError, OperationalError
    from sqlalchemy.orm import sessionmaker

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with _OPENING:
            with engine.connect() as conn:  # reads every page: a truncated file fails here, before any write
                problems = conn.exec_driver_sql("PRAGMA quick_check").scalars().all()
            if problems != ["ok"]:
                raise StoreError(_corrupt(path, f"SQLite's check says: {'; '.join(map(str, problems[:3]))}"))
            if migrate:
                cfg = alembic_config(url)
                with engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
    except StoreError:
        engine.dispose()
        raise
    except CommandError:  # the database is at a revision these migrations do not have
        try:
            with engine.connect() as conn:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        finally:
            engine.dispose()
        raise StoreError(_newer(path, str(revision))) from None
    except OperationalError as exc:
        engine.dispose()
        if "locked" in str(exc) or "readonly" in str(exc) or "unable to open" in str(exc):
            raise StoreError(f"cannot open the database {path}: {exc.orig}") from None
        raise StoreError(_corrupt(path, str(exc.orig))) from None
    except DatabaseError as exc:
        engine.dispose()
        raise StoreError(_corrupt(path, str(exc.orig))) from None
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), path=path)


@dataclass(frozen=True)
class DatabaseReport:
    """A data dir's database as `inspect_database` found it (nothing was written to find out)."""

    path: Path
    exists: bool
    problem: str | None  # why it cannot be used (not SQLite, integrity check failed), None when sound
    revision: str | None  # the schema revision it is at (None: no database, or never migrated)
    head: str  # the newest revision this lpc knows
    known_revision: bool  # the revision is one this lpc knows (False: written by a newer lpc)


def inspect_database(data_dir: Path) -> DatabaseReport:
    """Check the database of `data_dir` without changing it: SQLite's header, a full PRAGMA
    integrity_check on a query-only connection, and its schema revision against the code's."""
    path = Path(data_dir) / DB_NAME
    head = head_revision()
    if not path.exists():
        return DatabaseReport(path, False, None, None, head, True)
    try:
        _check_database_file(path)
        with _query_only(path) as conn:
            _page_check(conn, path, "integrity_check")
            revision = _revision(conn)
    except StoreError as exc:  # what was found; the caller says what to do
        return DatabaseReport(path, True, str(exc).removesuffix(_CORRUPT_ADVICE), None, head, True)
    known = revision is None or revision in _known_revisions()
    return DatabaseReport(path, True, None, revision, head, known)


def _revision_ids_on_disk() -> set[str]:
    """The `revision = "…"` of each migration file, read as text: lpc's start-up check passes a database at
    a known revision without loading Alembic and SQLAlchemy (Alembic still decides any other answer)."""
    pattern = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)
    return {m.group(1) for f in (MIGRATIONS / "versions").glob("*.py") for m in pattern.finditer(f.read_text())}


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def schema_revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
