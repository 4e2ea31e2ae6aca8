"""ticket receipts: tickets received per gateway and round (count, EV, winners), kept across restarts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_receipts",
        sa.Column("sender", sa.String(42), primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True),
        sa.Column("tickets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ev_wei", sa.String(80), nullable=False, server_default="0"),
        sa.Column("winners", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("ticket_receipts")
