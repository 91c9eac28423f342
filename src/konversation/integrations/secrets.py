"""Secrets at rest: sealed with AES-GCM under a key derived from the server secret.

A token is `v1.` followed by URL-safe base64 of nonce and ciphertext. The version prefix lets a
later key rotation tell old tokens from new ones. The key is derived with HKDF so that the server
secret, which also signs API key digests, is never used as an encryption key directly.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from konversation.errors import KonversationError

VERSION = "v1."
NONCE_BYTES = 12
# What a masked value shows of its end; short values show nothing of themselves.
VISIBLE_TAIL = 4
SHORTEST_WITH_TAIL = 12


class UnreadableSecret(KonversationError):
    """A sealed value that the current server secret cannot open (the secret was changed)."""


@lru_cache(maxsize=8)
def _cipher(server_secret: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"konversation integrations v1"
    ).derive(server_secret)
    return AESGCM(key)


def seal(server_secret: bytes, plaintext: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(server_secret).encrypt(nonce, plaintext.encode(), None)
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(server_secret: bytes, token: str) -> str:
    if not token.startswith(VERSION):
        raise UnreadableSecret("A stored secret is in an unknown format.")
    try:
        raw = base64.urlsafe_b64decode(token.removeprefix(VERSION))
        return _cipher(server_secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
    except (InvalidTag, ValueError):
        raise UnreadableSecret(
            "A stored secret can't be read with this server's secret key; save it again."
        ) from None


def mask(value: str) -> str:
    """What a reader is shown of a secret: enough to recognise it, never enough to use it."""
    if not value:
        return ""
    if len(value) < SHORTEST_WITH_TAIL:
        return "••••"
    return "••••" + value[-VISIBLE_TAIL:]
