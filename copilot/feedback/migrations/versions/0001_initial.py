"""The feedback store: suggestions, operator actions, supervisor reviews, mined resolutions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("conversation", sa.JSON, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("intent", sa.String(100), nullable=False),
        sa.Column("prompt", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("draft", sa.Text, nullable=False),
        sa.Column("suggestion", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("unsupported", sa.Integer, nullable=False),
        sa.Column("handoff", sa.Boolean, nullable=False),
        sa.Column("handoff_reasons", sa.String(400), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("tokens", sa.Integer, nullable=False),
    )
    for col in ("created_at", "operator", "language", "prompt", "handoff"):
        op.create_index(f"ix_suggestions_{col}", "suggestions", [col])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.Integer, sa.ForeignKey("suggestions.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("final_text", sa.Text, nullable=False),
        sa.Column("edit_distance", sa.Float, nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_actions_suggestion_id", "actions", ["suggestion_id"])
    op.create_index("ix_actions_action", "actions", ["action"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.Integer, sa.ForeignKey("suggestions.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supervisor", sa.String(100), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("eval_case_id", sa.String(100), nullable=True),
    )
    op.create_index("ix_reviews_suggestion_id", "reviews", ["suggestion_id"])
    op.create_table(
        "mined_resolutions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(100), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("article_id", sa.String(200), nullable=True),
    )
    op.create_index("ix_mined_resolutions_status", "mined_resolutions", ["status"])


def downgrade() -> None:
    op.drop_table("mined_resolutions")
    op.drop_table("reviews")
    op.drop_table("actions")
    op.drop_table("suggestions")
