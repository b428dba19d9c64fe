"""API tokens: configured with a role, stored only as sha256 hashes.

A token is 32 random bytes, so a fast hash is enough (nothing to brute-force, unlike a
password) and checking it costs nothing per request. Roles are ranked: a supervisor may do
what an operator may, an admin what a supervisor may.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

from copilot.config import ApiToken

Role = Literal["operator", "supervisor", "admin"]
RANK: dict[str, int] = {"operator": 0, "supervisor": 1, "admin": 2}


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def new_token(name: str, role: Role) -> tuple[str, ApiToken]:
    """A fresh token (shown once) and its configuration entry."""
    token = "cpt_" + secrets.token_urlsafe(32)
    return token, ApiToken(name=name, role=role, token_hash=token_hash(token))


class TokenRegistry:
    def __init__(self, tokens: list[ApiToken]):
        self._by_hash = {t.token_hash: t for t in tokens}

    def __len__(self) -> int:
        return len(self._by_hash)

    def identify(self, token: str) -> ApiToken | None:
        digest = token_hash(token)
        # compare every entry in constant time rather than a dict lookup's early exit
        found = None
        for known, entry in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                found = entry
        return found


def allows(role: str, needed: Role) -> bool:
    return RANK[role] >= RANK[needed]
