"""Integration secrets at rest: sealed under the server secret, unreadable under another one,
and masked for every reader."""

from __future__ import annotations

import pytest

from konversation.integrations.secrets import UnreadableSecret, mask, seal, unseal

SERVER_SECRET = b"one server secret of enough length to derive a key"


def test_a_sealed_secret_opens_with_the_same_server_secret() -> None:
    token = seal(SERVER_SECRET, "sk-live-abc")
    assert "sk-live-abc" not in token
    assert unseal(SERVER_SECRET, token) == "sk-live-abc"


def test_sealing_twice_gives_different_tokens() -> None:
    assert seal(SERVER_SECRET, "same") != seal(SERVER_SECRET, "same")


def test_another_server_secret_or_a_changed_token_cannot_open_it() -> None:
    token = seal(SERVER_SECRET, "sk-live-abc")
    with pytest.raises(UnreadableSecret):
        unseal(b"another server secret entirely", token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(UnreadableSecret):
        unseal(SERVER_SECRET, tampered)
    with pytest.raises(UnreadableSecret):
        unseal(SERVER_SECRET, "plain text")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("sk-0123456789abcdef", "••••cdef"), ("short", "••••"), ("", "")],
)
def test_a_mask_shows_at_most_the_end_of_a_long_secret(value: str, shown: str) -> None:
    assert mask(value) == shown
