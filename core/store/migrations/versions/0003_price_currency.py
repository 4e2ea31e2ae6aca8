"""prices: the currency a price per unit is in (WEI, or the price feed's quote currency such as USD)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prices") as batch:
        batch.add_column(sa.Column("currency", sa.String(10), nullable=False, server_default="WEI"))


def downgrade() -> None:
    with op.batch_alter_table("prices") as batch:
        batch.drop_column("currency")
