"""The support copilot in Streamlit: the operator side panel, and for supervisors the
review queue, metrics and mined resolutions. Run with `make run`.

A signed-in browser carries a signed, expiring session token in the address
(`?session=...`, see copilot/ui/session.py), so a refresh keeps the session; sign-out is in
the bar at the top of every page."""

import streamlit as st

from copilot.ui import services
from copilot.ui.labels import LANGUAGES, t
from copilot.ui.session import load_prefs, save_prefs

st.set_page_config(page_title="Support copilot", page_icon="💬", layout="centered",
                   initial_sidebar_state="collapsed")


def sign_in(ended: bool) -> None:
    st.title("Support copilot")
    if ended:
        st.info(t("en", "session_ended"))
    with st.form("sign-in"):
        username = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            # the browser's address: wrong passwords slow and lock it as well as the user name
            attempt = services.auth().sign_in(username, password, client=st.context.ip_address or "")
            if attempt.account is None:
                st.error(attempt.message())
            else:
                services.start_session(attempt.account)
                st.rerun()
    st.caption("First run: the demo accounts and their passwords are printed once in the terminal running the app.")


def keep_language() -> None:
    user = services.user()
    if user is not None:
        prefs = load_prefs(services.settings(), user.username)
        save_prefs(services.settings(), user.username, {**prefs, "ui_lang": st.session_state.ui_lang})


def sign_out() -> None:
    services.end_session()


user = services.user() or services.restore_user()
if user is None:
    sign_in(ended="session" in st.query_params)
    st.stop()
if st.query_params.get("session") != st.session_state.get("session_token") and st.session_state.get("session_token"):
    st.query_params["session"] = st.session_state.session_token  # a page switch drops the address's parameters
if "ui_lang" not in st.session_state:
    st.session_state.ui_lang = load_prefs(services.settings(), user.username).get("ui_lang", "en")
lang = st.session_state.ui_lang

pages = [st.Page("copilot/ui/pages/operator.py", title="Operator panel", icon="💬", default=True)]
if user.role == "supervisor":
    pages += [
        st.Page("copilot/ui/pages/review.py", title="Review queue", icon="🔎"),
        st.Page("copilot/ui/pages/metrics.py", title="Metrics", icon="📈"),
        st.Page("copilot/ui/pages/mined.py", title="Mined resolutions", icon="⛏️"),
        st.Page("copilot/ui/pages/proposals.py", title="Derived checks and rules", icon="🧭"),
        st.Page("copilot/ui/pages/instructions.py", title="Instructions in the knowledge base", icon="🛡️"),
    ]
with st.container(key="account-bar"):  # always visible, never in the collapsed sidebar
    who, language, out = st.columns([3, 2, 1], vertical_alignment="center")
    who.caption(t(lang, "signed_in_as", user=user.username, role=user.role))
    language.segmented_control(t(lang, "language"), list(LANGUAGES), key="ui_lang", format_func=LANGUAGES.get,
                               required=True, on_change=keep_language, label_visibility="collapsed")
    out.button(t(lang, "sign_out"), key="sign_out", on_click=sign_out, use_container_width=True)
st.navigation(pages, position="top").run()
