"""The support copilot in Streamlit: the operator side panel, and for supervisors the
review queue, metrics and mined resolutions. Run with `make run`.

A signed-in browser carries a signed, expiring session token in the address
(`?session=...`, see copilot/ui/session.py), so a refresh keeps the session; sign-out is in
the bar at the top of every page."""

import streamlit as st

from copilot.ui import services
from copilot.ui.labels import LANGUAGES, language as known_language, t
from copilot.ui.session import load_prefs, save_prefs

# the browser tab's title in the chosen language (the account bar's, else the sign-in form's)
st.set_page_config(page_title=t(known_language(st.session_state.get("ui_lang") or st.session_state.get("signin_lang")),
                                "account.app_title"), page_icon="💬", layout="centered",
                   initial_sidebar_state="collapsed")


def sign_in(ended: bool) -> None:
    """The sign-in form, in the language chosen on it (the last one used in this browser
    session, else the default); a choice made here is kept as the operator's after sign-in."""
    if "signin_lang" not in st.session_state:
        st.session_state.signin_lang = known_language(st.session_state.get("ui_lang"))
    lang = known_language(st.session_state.signin_lang)
    title, language = st.columns([4, 2], vertical_alignment="center")
    title.title(t(lang, "account.app_title"))
    language.segmented_control(t(lang, "account.language"), list(LANGUAGES), key="signin_lang",
                               format_func=LANGUAGES.get, required=True, label_visibility="collapsed",
                               on_change=lambda: st.session_state.update(signin_lang_chosen=True))
    if ended:
        st.info(t(lang, "session_ended"))
    with st.form("sign-in"):
        username = st.text_input(t(lang, "account.user_name"))
        password = st.text_input(t(lang, "account.password"), type="password")
        if st.form_submit_button(t(lang, "account.sign_in"), type="primary"):
            # the browser's address: wrong passwords slow and lock it as well as the user name
            attempt = services.auth().sign_in(username, password, client=st.context.ip_address or "")
            if attempt.account is None:
                st.error(attempt.message(lang))
            else:
                services.start_session(attempt.account)
                if st.session_state.pop("signin_lang_chosen", False):  # chosen here: it becomes theirs
                    st.session_state.ui_lang = lang
                    keep_language()
                st.rerun()
    st.caption(t(lang, "account.first_run"))


def keep_language() -> None:
    user = services.user()
    if user is not None:
        prefs = load_prefs(services.settings(), user.username)
        save_prefs(services.settings(), user.username, {**prefs, "ui_lang": st.session_state.ui_lang})


def sign_out() -> None:
    lang = st.session_state.get("ui_lang")
    services.end_session()
    st.session_state.signin_lang = known_language(lang)  # the sign-in form stays in their language


user = services.user() or services.restore_user()
if user is None:
    sign_in(ended="session" in st.query_params)
    st.stop()
if st.query_params.get("session") != st.session_state.get("session_token") and st.session_state.get("session_token"):
    st.query_params["session"] = st.session_state.session_token  # a page switch drops the address's parameters
if "ui_lang" not in st.session_state:
    st.session_state.ui_lang = known_language(load_prefs(services.settings(), user.username).get("ui_lang"))
lang = st.session_state.ui_lang

pages = [st.Page("copilot/ui/pages/operator.py", title=t(lang, "account.page_operator"), icon="💬", default=True)]
if user.role == "supervisor":
    pages += [
        st.Page("copilot/ui/pages/review.py", title=t(lang, "account.page_review"), icon="🔎"),
        st.Page("copilot/ui/pages/metrics.py", title=t(lang, "account.page_metrics"), icon="📈"),
        st.Page("copilot/ui/pages/mined.py", title=t(lang, "account.page_mined"), icon="⛏️"),
        st.Page("copilot/ui/pages/proposals.py", title=t(lang, "account.page_proposals"), icon="🧭"),
        st.Page("copilot/ui/pages/instructions.py", title=t(lang, "account.page_instructions"), icon="🛡️"),
    ]
with st.container(key="account-bar"):  # always visible, never in the collapsed sidebar
    who, language, out = st.columns([3, 2, 1], vertical_alignment="center")
    who.caption(t(lang, "signed_in_as", user=user.username, role=t(lang, f"account.role_{user.role}")))
    language.segmented_control(t(lang, "language"), list(LANGUAGES), key="ui_lang", format_func=LANGUAGES.get,
                               required=True, on_change=keep_language, label_visibility="collapsed")
    out.button(t(lang, "sign_out"), key="sign_out", on_click=sign_out, use_container_width=True)
st.navigation(pages, position="top").run()
