"""The feedback store's tables (SQLAlchemy 2 ORM). Changes go through Alembic migrations
in `copilot/feedback/migrations`; the ORM and the migrations are checked against each
other by a test."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class SuggestionRow(Base):
    """One suggestion shown to an operator."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    operator: Mapped[str] = mapped_column(String(100), index=True)
    conversation: Mapped[dict] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(8), index=True)
    intent: Mapped[str] = mapped_column(String(100))
    prompt: Mapped[str] = mapped_column(String(100), index=True)
    model: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(20))
    draft: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[dict] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    unsupported: Mapped[int] = mapped_column(Integer, default=0)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    handoff_reasons: Mapped[str] = mapped_column(String(400), default="")
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)

    actions: Mapped[list["ActionRow"]] = relationship(back_populates="suggestion", order_by="ActionRow.id")
    reviews: Mapped[list["ReviewRow"]] = relationship(back_populates="suggestion", order_by="ReviewRow.id")


class ActionRow(Base):
    """What the operator did with a suggestion."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operator: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20), index=True)  # sent | rejected | regenerated
    final_text: Mapped[str] = mapped_column(Text, default="")
    edit_distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    suggestion: Mapped[SuggestionRow] = relationship(back_populates="actions")


class ReviewRow(Base):
    """A supervisor's rating of a suggestion."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    supervisor: Mapped[str] = mapped_column(String(100))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    eval_case_id: Mapped[str | None] = mapped_column(String(100), nullable=True)

    suggestion: Mapped[SuggestionRow] = relationship(back_populates="reviews")


class MinedResolutionRow(Base):
    """A resolution mined from a past ticket, waiting for a supervisor."""

    __tablename__ = "mined_resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    tags: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|approved|rejected
    reviewer: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    article_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # how it was judged against the articles: closest passage, similarity, key terms (mining.Coverage)
    coverage: Mapped[dict | None] = mapped_column(JSON, nullable=True)
