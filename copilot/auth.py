"""Sign-in for operators and supervisors.

Accounts come from configuration (`auth.users`, bcrypt hashes only). Without configured
accounts, demo accounts are created on first run in <data_dir>/users.json with random
passwords that are printed once and stored only as hashes.
"""

from __future__ import annotations

import json
import secrets
import sys

import bcrypt

from copilot.config import Settings, UserAccount
from copilot.errors import ConfigError

DEMO_USERS = (("operator", "operator"), ("supervisor", "supervisor"))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # not a bcrypt hash
        return False


class Auth:
    def __init__(self, settings: Settings, announce=None):
        self.users_file = settings.data_dir / "users.json"
        self.announce = announce or (lambda text: print(text, file=sys.stdout, flush=True))
        if settings.auth.users:
            self.users = {u.username: u for u in settings.auth.users}
        else:
            self.users = self._file_users()

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

    def authenticate(self, username: str, password: str) -> UserAccount | None:
        user = self.users.get(username.strip())
        if user is None:
            check_password(password, hash_password("timing"))  # same work for unknown names
            return None
        return user if check_password(password, user.password_hash) else None


def users_json(entries: list[tuple[str, str, str]]) -> str:
    """COPILOT_AUTH__USERS value for (username, role, password) entries."""
    return json.dumps([{"username": u, "role": r, "password_hash": hash_password(p)} for u, r, p in entries])
