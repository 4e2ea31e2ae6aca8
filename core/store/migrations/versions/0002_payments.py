"""payments: winning tickets, reward rounds, prices, alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "winning_tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_hash", sa.String(66), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("recipient", sa.String(42), nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("face_value", sa.String(80), nullable=False),
        sa.Column("win_prob", sa.String(80), nullable=False),
        sa.Column("sender_nonce", sa.Integer, nullable=False),
        sa.Column("recipient_rand_hash", sa.String(66), nullable=False),
        sa.Column("creation_round", sa.Integer, nullable=False),
        sa.Column("creation_round_block_hash", sa.String(66), nullable=False),
        sa.Column("params_expiration_block", sa.Integer, nullable=False),
        sa.Column("recipient_rand", sa.String(80), nullable=False),
        sa.Column("sig", sa.String(140), nullable=False),
        sa.Column("manifest_id", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("raw_tx", sa.Text),
        sa.Column("block_number", sa.Integer),
        sa.Column("gas_used", sa.Integer),
        sa.Column("fee_wei", sa.String(80)),
        sa.Column("paid_wei", sa.String(80)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_winning_tickets_recipient", "winning_tickets", ["recipient"])
    op.create_index("ix_winning_tickets_sender", "winning_tickets", ["sender"])
    op.create_index("ix_winning_tickets_status", "winning_tickets", ["status"])
    op.create_table(
        "reward_rounds",
        sa.Column("round", sa.Integer, primary_key=True),
        sa.Column("transcoder", sa.String(42), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("minted_wei", sa.String(80)),
        sa.Column("gas_used", sa.Integer),
        sa.Column("fee_wei", sa.String(80)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.Text),
        sa.Column("initialized_by_us", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "prices",
        sa.Column("sender", sa.String(42), primary_key=True),
        sa.Column("price_per_unit", sa.String(80), nullable=False),
        sa.Column("pixels_per_unit", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("prices")
    op.drop_table("reward_rounds")
    op.drop_index("ix_winning_tickets_status", "winning_tickets")
    op.drop_index("ix_winning_tickets_sender", "winning_tickets")
    op.drop_index("ix_winning_tickets_recipient", "winning_tickets")
    op.drop_table("winning_tickets")
