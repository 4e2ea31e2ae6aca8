"""winning tickets: the round a redemption was mined in (its fees are booked to that round's pool)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("winning_tickets") as batch:
        batch.add_column(sa.Column("redeemed_round", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("winning_tickets") as batch:
        batch.drop_column("redeemed_round")
