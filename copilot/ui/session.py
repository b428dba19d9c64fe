"""Panel sessions that survive a page refresh, and the panel's state kept per operator.

A signed-in browser carries a session token in the page address (`?session=...`):
`base64url(json{"u": user, "exp": epoch, "n": nonce}) "." base64url(HMAC-SHA256)`, signed
with `auth.session_secret` (or a secret generated once and kept in <data_dir>/session_secret).
Why the address and not a cookie: Streamlit lets Python write query parameters
(`st.query_params`) but only read cookies (`st.context.cookies`); a cookie would have to be
set by script in the page after the run, and would not reach a panel embedded in a helpdesk
(a cross-site frame, where browsers drop SameSite cookies). The token is short-lived
(`auth.session_ttl_s`), names no role (the role is read from the accounts on every use), and
sign-out revokes it at once (its nonce is listed in <data_dir>/sessions_revoked.json until it
would have expired anyway).

The panel's state (conversation turns, the reply box, the suggestion shown, the helpdesk
conversation open) is kept in <data_dir>/panel/<hash of the user name>.json (mode 600), so a
refresh or a new tab restores it; the operator's label language in a `.prefs.json` beside it.
No Streamlit here: tested directly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from copilot.config import Settings

_LOCK = threading.Lock()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _write_private(path: Path, text: str) -> None:
    """Atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)


def session_secret(settings: Settings) -> bytes:
    """The configured secret, else the one kept in the data folder (created on first use)."""
    if settings.auth.session_secret is not None:
        return settings.auth.session_secret.get_secret_value().encode()
    path = settings.data_dir / "session_secret"
    with _LOCK:
        if not path.exists():
            _write_private(path, secrets.token_urlsafe(32))
        return path.read_text(encoding="utf-8").strip().encode()


@dataclass
class SessionClaims:
    username: str
    expires: float
    nonce: str


class Sessions:
    def __init__(self, settings: Settings, clock=time.time):
        self.secret = session_secret(settings)
        self.ttl = settings.auth.session_ttl_s
        self.revoked_file = settings.data_dir / "sessions_revoked.json"
        self.clock = clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, username: str) -> str:
        claims = {"u": username, "exp": int(self.clock() + self.ttl), "n": secrets.token_urlsafe(9)}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str | None) -> SessionClaims | None:
        """The claims of a token signed with our secret, not expired and not signed out; else None."""
        if not token or token.count(".") != 1:
            return None
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), self._sign(payload).encode()):
            return None
        try:
            claims = json.loads(_unb64(payload))
            found = SessionClaims(str(claims["u"]), float(claims["exp"]), str(claims["n"]))
        except (ValueError, KeyError, TypeError):
            return None
        if found.expires <= self.clock() or found.nonce in self._revoked():
            return None
        return found

    def revoke(self, token: str | None) -> None:
        """Sign-out: the token is refused from now on (listed until it would have expired)."""
        claims = self.verify(token)
        if claims is None:
            return
        with _LOCK:
            now = self.clock()
            revoked = {n: exp for n, exp in self._revoked().items() if exp > now}
            revoked[claims.nonce] = claims.expires
            _write_private(self.revoked_file, json.dumps(revoked))

    def _revoked(self) -> dict[str, float]:
        try:
            return json.loads(self.revoked_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


# --- the panel's state per operator -------------------------------------------------------

PANEL_KEYS = ("turns", "reply", "profile", "suggestion", "suggestion_id", "helpdesk_ref")


def _file(settings: Settings, username: str, suffix: str) -> Path:
    name = hashlib.sha256(username.encode()).hexdigest()[:24]
    return settings.data_dir / "panel" / f"{name}{suffix}"


def load_panel(settings: Settings, username: str) -> dict:
    """What the operator's panel held at its last run ({} when nothing, or unreadable)."""
    try:
        data = json.loads(_file(settings, username, ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("username") != username:
        return {}
    out = {k: data[k] for k in PANEL_KEYS if k in data}
    if out.get("suggestion"):
        from copilot.schema import Suggestion

        try:
            out["suggestion"] = Suggestion.model_validate(out["suggestion"])
        except ValueError:  # written by another version: the conversation is what matters
            out["suggestion"], out["suggestion_id"] = None, None
    return out


def save_panel(settings: Settings, username: str, state: dict) -> None:
    data = {"username": username}
    for key in PANEL_KEYS:
        value = state.get(key)
        data[key] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    _write_private(_file(settings, username, ".json"), json.dumps(data, ensure_ascii=False))


def forget_panel(settings: Settings, username: str) -> None:
    _file(settings, username, ".json").unlink(missing_ok=True)


def load_prefs(settings: Settings, username: str) -> dict:
    try:
        data = json.loads(_file(settings, username, ".prefs.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_prefs(settings: Settings, username: str, prefs: dict) -> None:
    _write_private(_file(settings, username, ".prefs.json"), json.dumps(prefs))
