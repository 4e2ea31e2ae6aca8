"""initial schema: transaction journal and key/value state

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tx_journal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("network", sa.String(32), nullable=False),
        sa.Column("chain_id", sa.Integer, nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("to", sa.String(42), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("value_wei", sa.String(80), nullable=False, server_default="0"),
        sa.Column("gas_estimate", sa.Integer),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("block_number", sa.Integer),
        sa.Column("gas_used", sa.Integer),
        sa.Column("fee_wei", sa.String(80)),
        sa.Column("error", sa.Text),
        sa.Column("events_json", sa.Text),
    )
    op.create_index("ix_tx_journal_sender", "tx_journal", ["sender"])
    op.create_index("ix_tx_journal_tx_hash", "tx_journal", ["tx_hash"])
    op.create_table(
        "kv",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kv")
    op.drop_index("ix_tx_journal_tx_hash", "tx_journal")
    op.drop_index("ix_tx_journal_sender", "tx_journal")
    op.drop_table("tx_journal")
