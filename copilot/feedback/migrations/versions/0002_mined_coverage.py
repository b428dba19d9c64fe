"""Mined resolutions keep how they were judged against the knowledge base (the closest
article passage, similarity and key-term overlap), shown to the supervisor on the card.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mined_resolutions") as batch:
        batch.add_column(sa.Column("coverage", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mined_resolutions") as batch:
        batch.drop_column("coverage")
