"""Shared resources for the pages: created once per server process by cache_resource
factories and put into the session only when absent, so tests can pre-seed them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from copilot.auth import Auth
from copilot.config import Settings, get_settings
from copilot.desk import Desk, resolve_desk
from copilot.feedback.store import FeedbackStore
from copilot.ui.labels import labeler, language as known_language
from copilot.ui.session import Sessions


def settings() -> Settings:
    if "settings" not in st.session_state:
        st.session_state.settings = get_settings()
    return st.session_state.settings


@st.cache_resource(show_spinner="Opening the knowledge base and the model…")
def _copilot(_settings: Settings):
    from copilot.engine import new_copilot
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    index = KnowledgeIndex(_settings)
    if index.docstore.count_documents() == 0:  # first run: the demo desk
        Ingestor(index).run([_settings.demo_kb])
    return new_copilot(_settings, index=index)


@st.cache_resource
def _store(_settings: Settings) -> FeedbackStore:
    return FeedbackStore(_settings.feedback, _settings.data_dir, keep_ids=_desk(_settings).contract_pattern())


@st.cache_resource
def _desk(_settings: Settings) -> Desk:
    """The desk served, read without loading the embedder (supervisor pages need no model)."""
    from knowledge_base.docstore import DocStore

    assert _settings.index_dir is not None
    docstore = DocStore(_settings.index_dir / "docstore.sqlite")
    try:
        return resolve_desk(_settings.desk, _settings.desk_file, docstore.desk_config())
    finally:
        docstore.close()


@st.cache_resource
def _auth(_settings: Settings) -> Auth:
    return Auth(_settings)


@st.cache_resource
def _sessions(_settings: Settings) -> Sessions:
    return Sessions(_settings)


def copilot():
    if "copilot" not in st.session_state:
        st.session_state.copilot = _copilot(settings())
    return st.session_state.copilot


def store() -> FeedbackStore:
    if "store" not in st.session_state:
        st.session_state.store = _store(settings())
    return st.session_state.store


def auth() -> Auth:
    if "auth" not in st.session_state:
        st.session_state.auth = _auth(settings())
    return st.session_state.auth


def desk() -> Desk:
    return _desk(settings())


def sessions() -> Sessions:
    if "sessions" not in st.session_state:
        st.session_state.sessions = _sessions(settings())
    return st.session_state.sessions


def user():
    return st.session_state.get("user")


def restore_user():
    """The account of a valid session token in the page address (a refresh, a new tab), if any."""
    token = st.query_params.get("session")
    claims = sessions().verify(token)
    account = auth().users.get(claims.username) if claims else None
    if account is not None:
        st.session_state.user, st.session_state.session_token = account, token
    return account


def start_session(account) -> None:
    """After sign-in: the signed token goes into the address, so a refresh keeps the session."""
    token = sessions().issue(account.username)
    st.session_state.user, st.session_state.session_token = account, token
    st.query_params["session"] = token


def end_session() -> None:
    """Sign-out: the token is revoked, the panel's saved state forgotten, the address cleared."""
    from copilot.ui.session import forget_panel

    current = user()
    sessions().revoke(st.session_state.get("session_token"))
    if current is not None:
        forget_panel(settings(), current.username)
    for key in list(st.session_state):
        if key not in ("settings", "copilot", "store", "auth", "sessions"):
            del st.session_state[key]
    if "session" in st.query_params:
        del st.query_params["session"]


def require_role(role: str) -> None:
    """Stop the page for anyone without the role (pages are also hidden from them)."""
    current = user()
    if current is None or current.role != role:
        L = labeler(language())
        st.error(L("account.page_for_role", role=L(f"account.role_{role}"),
                   current=L(f"account.role_{current.role if current else 'nobody'}")))
        st.stop()


def language() -> str:
    """The label language the operator chose (on the sign-in form, then in the account bar)."""
    return known_language(st.session_state.get("ui_lang"))


@st.cache_data(ttl=300)
def _model_note(model: str, enabled: bool, path: str, threshold: float) -> str | None:
    from copilot.model_record import load, rarely_usable

    return rarely_usable(model, load(Path(path)), threshold) if enabled else None


def model_note() -> str | None:
    """The plain-words note when the configured model's drafts are rarely usable."""
    s = settings()
    return _model_note(s.llm.model, s.llm.enabled, str(s.model_acceptance_file), s.llm.usable_acceptance)
