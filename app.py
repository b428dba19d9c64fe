"""The support copilot in Streamlit: the operator side panel, and for supervisors the
review queue, metrics and mined resolutions. Run with `make run`."""

import streamlit as st

from copilot.ui import services

st.set_page_config(page_title="Support copilot", page_icon="💬", layout="centered",
                   initial_sidebar_state="collapsed")


def sign_in() -> None:
    st.title("Support copilot")
    with st.form("sign-in"):
        username = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            # the browser's address: wrong passwords slow and lock it as well as the user name
            attempt = services.auth().sign_in(username, password, client=st.context.ip_address or "")
            if attempt.account is None:
                st.error(attempt.message())
            else:
                st.session_state.user = attempt.account
                st.rerun()
    st.caption("First run: the demo accounts and their passwords are printed once in the terminal running the app.")


user = services.user()
if user is None:
    sign_in()
    st.stop()

pages = [st.Page("copilot/ui/pages/operator.py", title="Operator panel", icon="💬", default=True)]
if user.role == "supervisor":
    pages += [
        st.Page("copilot/ui/pages/review.py", title="Review queue", icon="🔎"),
        st.Page("copilot/ui/pages/metrics.py", title="Metrics", icon="📈"),
        st.Page("copilot/ui/pages/mined.py", title="Mined resolutions", icon="⛏️"),
        st.Page("copilot/ui/pages/proposals.py", title="Derived checks and rules", icon="🧭"),
        st.Page("copilot/ui/pages/instructions.py", title="Instructions in the knowledge base", icon="🛡️"),
    ]
with st.sidebar:
    st.write(f"Signed in as **{user.username}** ({user.role})")
    if st.button("Sign out"):
        for key in ("user", "suggestion", "suggestion_id", "turns", "reply"):
            st.session_state.pop(key, None)
        st.rerun()
st.navigation(pages, position="top").run()
