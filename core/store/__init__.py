"""Local state in SQLite (WAL) through SQLAlchemy 2.x, with the schema under Alembic migrations.

The engine is built by the composition root (`open_store`), never at import time.
"""

from core.store.db import DatabaseReport, Store, StoreError, inspect_database, open_store

__all__ = ["DatabaseReport", "Store", "StoreError", "inspect_database", "open_store"]
