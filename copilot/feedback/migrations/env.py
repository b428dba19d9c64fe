"""Alembic environment: the store passes its own connection (SQLite or PostgreSQL)."""

from alembic import context

from copilot.feedback.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run migrations through copilot.feedback.store.FeedbackStore")
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
