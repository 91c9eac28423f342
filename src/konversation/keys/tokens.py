"""The token format: `kv_<prefix>_<secret>`, and its keyed digest."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_TOKEN = re.compile(r"^kv_([0-9a-f]{16})_([A-Za-z0-9_\-]{43})$")


@dataclass(frozen=True)
class Token:
    prefix: str
    secret: str

    def __str__(self) -> str:
        return f"kv_{self.prefix}_{self.secret}"


def new_token() -> Token:
    return Token(prefix=secrets.token_hex(8), secret=secrets.token_urlsafe(32))


def parse_token(value: str) -> Token | None:
    match = _TOKEN.match(value)
    return Token(match.group(1), match.group(2)) if match else None


def digest(token: Token, server_secret: bytes) -> str:
    return hmac.new(server_secret, str(token).encode(), hashlib.sha256).hexdigest()


def matches(token: Token, stored_digest: str, server_secret: bytes) -> bool:
    return hmac.compare_digest(digest(token, server_secret), stored_digest)
