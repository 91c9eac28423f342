"""Calls to an OpenAI-compatible API on a workspace's behalf: embeddings and chat completions.

The workspace's `openai` integration gives the key, the organization (sent as
`OpenAI-Organization` when set) and optionally a base URL of another OpenAI-compatible server;
without one, the server's `openai_api_base` is used. A base URL an owner saved is checked as
webhook URLs are (no private addresses unless the server allows their network), since the server
calls it with the owner's key. Failures are answered as 400, as the server's other outside
services are: a refused key, an unreachable server or an answer that is not understood.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import BadRequest
from konversation.integrations import service as integrations
from konversation.integrations.kinds import Kind
from konversation.webhooks.addresses import Network, Refused, check_reachable

# Inputs one embeddings request carries at most.
EMBED_BATCH = 100
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
ERROR_CHARS = 200

Vectors = npt.NDArray[np.float32]


class NotConfigured(BadRequest):
    """The workspace has no OpenAI integration."""


class ServiceFailed(BadRequest):
    """The OpenAI-compatible server refused the call, could not be reached or answered nonsense.
    `retryable` when trying again later may help: the server was unreachable, busy or failing."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


NOT_CONFIGURED = "The workspace has no OpenAI integration: save one with POST /integration/openai."


@dataclass(frozen=True)
class Account:
    """Where and as whom a workspace calls the API."""

    base_url: str
    api_key: str
    org_id: str

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if self.org_id:
            headers["OpenAI-Organization"] = self.org_id
        return headers


@dataclass(frozen=True)
class OpenAI:
    """The API as one process reaches it, for any workspace."""

    http: httpx.AsyncClient
    server_secret: bytes
    default_base: str
    embedding_model: str
    chat_model: str
    allowed: Sequence[Network] = ()

    async def account(self, session: AsyncSession, workspace_id: int) -> Account | None:
        """The workspace's account, or None when it has no OpenAI integration."""
        values = await integrations.load(session, self.server_secret, workspace_id, Kind.OPENAI)
        if not values or not values.get("api_key"):
            return None
        own_base = str(values.get("base_url") or "").strip()
        if own_base:
            try:
                await check_reachable(own_base, self.allowed)
            except Refused as refused:
                message = f"The OpenAI integration's base_url is refused: {refused}"
                raise ServiceFailed(message) from None
        return Account(
            base_url=(own_base or self.default_base).rstrip("/"),
            api_key=str(values["api_key"]),
            org_id=str(values.get("org_id") or ""),
        )

    async def required_account(self, session: AsyncSession, workspace_id: int) -> Account:
        account = await self.account(session, workspace_id)
        if account is None:
            raise NotConfigured(NOT_CONFIGURED)
        return account

    async def embed(self, account: Account, texts: Sequence[str]) -> Vectors:
        """One embedding a text, as the rows of a float32 matrix, in batches of `EMBED_BATCH`."""
        batches = [
            await self._embed_batch(account, texts[start : start + EMBED_BATCH])
            for start in range(0, len(texts), EMBED_BATCH)
        ]
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)
        if len({batch.shape[1] for batch in batches}) > 1:
            raise ServiceFailed("The embeddings service answered vectors of different sizes.")
        return np.vstack(batches)

    async def _embed_batch(self, account: Account, texts: Sequence[str]) -> Vectors:
        body = {"model": self.embedding_model, "input": list(texts)}
        answer = await self._post(account, "/embeddings", body)
        try:
            items = sorted(answer["data"], key=lambda item: int(item["index"]))
            vectors = [[float(x) for x in item["embedding"]] for item in items]
        except (KeyError, TypeError, ValueError):
            raise ServiceFailed("The embeddings service's answer was not understood.") from None
        sizes = {len(vector) for vector in vectors}
        if len(vectors) != len(texts) or len(sizes) != 1 or 0 in sizes:
            raise ServiceFailed("The embeddings service did not answer one vector per text.")
        if not all(math.isfinite(x) for vector in vectors for x in vector):
            raise ServiceFailed("The embeddings service answered a vector that is not finite.")
        return np.asarray(vectors, dtype=np.float32)

    async def chat(
        self, account: Account, messages: Sequence[Mapping[str, str]], model: str | None = None
    ) -> str:
        """The model's reply to `messages` (`{"role", "content"}` each)."""
        body = {"model": model or self.chat_model, "messages": list(messages)}
        answer = await self._post(account, "/chat/completions", body)
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ServiceFailed("The chat service's answer was not understood.") from None
        if not isinstance(content, str) or not content.strip():
            raise ServiceFailed("The chat service answered nothing.")
        return content.strip()

    async def _post(self, account: Account, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await self.http.post(
                account.base_url + path, json=body, headers=account.headers(), timeout=TIMEOUT
            )
        except httpx.HTTPError as failure:
            # The URL stays out of the message: it may carry a token.
            raise ServiceFailed(
                f"The OpenAI service could not be reached ({type(failure).__name__}).",
                retryable=True,
            ) from None
        if not response.is_success:
            raise ServiceFailed(
                f"The OpenAI service answered {response.status_code}{_reason(response)}.",
                retryable=response.status_code == 429 or response.is_server_error,
            )
        try:
            return response.json()
        except ValueError:
            raise ServiceFailed("The OpenAI service answered something that is not JSON.") from None


def _reason(response: httpx.Response) -> str:
    """The error message of an OpenAI-style error answer, shortened, or nothing."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    # The message ends the caller's sentence, which has its own full stop.
    return f": {str(message)[:ERROR_CHARS].rstrip('.')}" if message else ""
