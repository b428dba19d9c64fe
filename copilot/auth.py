"""Sign-in for operators and supervisors.

Accounts come from configuration (`auth.users`, bcrypt hashes only). Without configured
accounts, demo accounts are created on first run in <data_dir>/users.json with random
passwords that are printed once and stored only as hashes.

Guessing is slowed and stopped: after each further wrong password (a single typo is free) the
user name and the client (the browser's address) must wait longer before the next attempt, and after
`auth.max_failures` wrong passwords in a row they are locked for `auth.lockout_s`, the
right password included. An unknown user name costs the same bcrypt check as a known one
and counts failures the same way, so neither the time taken nor a lock tells which names exist.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

import bcrypt

from copilot.config import AuthSettings, Settings, UserAccount
from copilot.errors import ConfigError
from copilot.ui.labels import t

DEMO_USERS = (("operator", "operator"), ("supervisor", "supervisor"))


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def _cost(users) -> int:
    """The bcrypt cost of the configured accounts ("$2b$12$..."), so a check against the
    dummy hash takes as long as a check against a real one."""
    for user in users:
        parts = user.password_hash.split("$")
        if len(parts) > 3 and parts[2].isdigit():
            return int(parts[2])
    return 12


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # not a bcrypt hash
        return False


@dataclass
class SignIn:
    """The outcome of one attempt: the account, or why not."""

    account: UserAccount | None
    wait_s: float = 0.0      # refused unchecked: try again after this many seconds
    locked: bool = False     # ...because of too many wrong passwords

    def message(self, lang: str = "en") -> str:
        """Why the attempt was refused ("" when it was not), in `lang`: the words are the
        sign-in form's (copilot/ui/labels/account.py), written once."""
        if self.account is not None:
            return ""
        if self.locked:
            return t(lang, "account.locked", minutes=f"{self.wait_s / 60:.0f}")
        if self.wait_s:
            return t(lang, "account.wait", seconds=f"{self.wait_s:.0f}")
        return t(lang, "account.wrong_password")


@dataclass
class _Failures:
    count: int = 0
    not_before: float = 0.0   # clock time before which no attempt is checked


class Auth:
    def __init__(self, settings: Settings, announce=None, clock: Callable[[], float] = time.monotonic,
                 check: Callable[[str, str], bool] = check_password):
        self.users_file = settings.data_dir / "users.json"
        self.announce = announce or (lambda text: print(text, file=sys.stdout, flush=True))
        self.limits: AuthSettings = settings.auth
        self.clock, self.check = clock, check
        self._failures: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()
        if settings.auth.users:
            self.users = {u.username: u for u in settings.auth.users}
        else:
            self.users = self._file_users()
        # what an unknown name is checked against: the same bcrypt cost as a real account
        self.dummy_hash = hash_password(secrets.token_urlsafe(12), _cost(self.users.values()))

    def _file_users(self) -> dict[str, UserAccount]:
        if self.users_file.exists():
            try:
                data = json.loads(self.users_file.read_text(encoding="utf-8"))
                return {u["username"]: UserAccount.model_validate(u) for u in data}
            except (ValueError, KeyError) as exc:
                raise ConfigError(f"{self.users_file}: not a valid users file ({exc}); fix or delete it") from None
        return self._create_demo_users()

    def _create_demo_users(self) -> dict[str, UserAccount]:
        users, lines = {}, []
        for username, role in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            users[username] = UserAccount(username=username, role=role, password_hash=hash_password(password))
            lines.append(f"  {username} ({role}): {password}")
        self.users_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.users_file.with_suffix(".tmp")
        tmp.write_text(json.dumps([u.model_dump() for u in users.values()], indent=2), encoding="utf-8")
        tmp.replace(self.users_file)
        self.users_file.chmod(0o600)
        self.announce("Demo accounts created (shown once; only hashes are stored in "
                      f"{self.users_file}):\n" + "\n".join(lines))
        return users

    def authenticate(self, username: str, password: str, client: str = "") -> UserAccount | None:
        return self.sign_in(username, password, client).account

    def sign_in(self, username: str, password: str, client: str = "") -> SignIn:
        """Check a password, unless the user name or the client must wait or is locked."""
        name = username.strip()
        keys = [("user", name.lower())] + ([("client", client)] if client else [])
        now = self.clock()
        with self._lock:
            waits = [f for f in (self._failures.get(k) for k in keys) if f and f.not_before > now]
            if waits:
                worst = max(waits, key=lambda f: f.not_before)
                return SignIn(None, worst.not_before - now, worst.count >= self.limits.max_failures)
        user = self.users.get(name)
        # an unknown name goes through the same check, against a hash no password matches
        ok = self.check(password, user.password_hash if user else self.dummy_hash) and user is not None
        with self._lock:
            if ok:
                for key in keys:
                    self._failures.pop(key, None)
                return SignIn(user)
            for key in keys:
                self._failed(key, now)
            return SignIn(None)

    def _failed(self, key: tuple[str, str], now: float) -> None:
        f = self._failures.setdefault(key, _Failures())
        f.count += 1
        if f.count >= self.limits.max_failures:
            f.not_before = now + self.limits.lockout_s
        elif f.count > 1:  # a single typo costs nothing
            f.not_before = now + min(self.limits.max_delay_s, self.limits.delay_s * 2 ** (f.count - 2))
        if len(self._failures) > 100_000:  # bounded memory under a spray of names: forget the expired
            self._failures = {k: v for k, v in self._failures.items() if v.not_before > now}


def users_json(entries: list[tuple[str, str, str]]) -> str:
    """COPILOT_AUTH__USERS value for (username, role, password) entries."""
    return json.dumps([{"username": u, "role": r, "password_hash": hash_password(p)} for u, r, p in entries])
