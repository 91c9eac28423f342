"""A send retried with the same `Idempotency-Key` goes out once, and is answered as before."""

from __future__ import annotations

import httpx
from sending_support import delivered, ns, reachable
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant
from fake_webhook import FakeWebhook
from konversation.jobs.runtime import Runtime


async def test_a_retried_send_goes_out_once(
    api: httpx.AsyncClient,
    session: AsyncSession,
    tenant: Tenant,
    webhook: FakeWebhook,
    runtime: Runtime,
) -> None:
    sam = await reachable(session, tenant)
    send = {"user_ns": ns(sam), "content": "Your order shipped."}
    once = {"Idempotency-Key": "order-77-shipped"}
    answers = [await api.post("/subscriber/send-text", json=send, headers=once) for _ in range(3)]
    await runtime.settle()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json() for a in answers] == [{"status": "ok"}] * 3
    assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None, "true", "true"]
    assert [text for _, message in delivered(webhook) for text in [message["text"]]] == [
        "Your order shipped."
    ]


async def test_without_a_key_every_send_goes_out(
    api: httpx.AsyncClient,
    session: AsyncSession,
    tenant: Tenant,
    webhook: FakeWebhook,
    runtime: Runtime,
) -> None:
    sam = await reachable(session, tenant)
    for _ in range(2):
        await api.post("/subscriber/send-text", json={"user_ns": ns(sam), "content": "Hi"})
    await runtime.settle()
    assert len(delivered(webhook)) == 2
