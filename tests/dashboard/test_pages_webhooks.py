"""The bot's event webhooks page: add a webhook (its secret shown once), see what was posted in
the delivery log, send an event again, switch a webhook off and delete it."""

from __future__ import annotations

import re

import httpx
from dashboard_browsing import DashboardClient
from fastapi import FastAPI
from pages_support import flashes, owner_fixture, post_and_follow, text_of  # noqa: F401

from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.demo import DemoSecrets

SECRET_INPUT = re.compile(r'id="webhook-secret" type="text" readonly value="([^"]+)"')


def page_of(demo: DemoSecrets) -> str:
    return f"/dashboard/bots/{demo.bot_id}/webhooks"


async def add(owner: DashboardClient, demo: DemoSecrets, url: str) -> httpx.Response:
    return await owner.post(
        page_of(demo),
        {
            "url": url,
            "events": ["subscriber.created", "subscriber.tag_added"],
            "description": "CRM",
        },
    )


async def test_a_new_webhook_shows_its_secret_once(
    owner: DashboardClient, demo: DemoSecrets, fake_webhook: FakeWebhook
) -> None:
    page = await add(owner, demo, f"{fake_webhook.url}/crm")
    assert page.status_code == 200
    secret = SECRET_INPUT.search(page.text)
    assert secret is not None
    assert secret.group(1).startswith("whsec_")
    again = await owner.http.get(page_of(demo))
    assert SECRET_INPUT.search(again.text) is None
    shown = text_of(again)
    assert f"{fake_webhook.url}/crm CRM subscriber.created subscriber.tag_added On" in shown


async def test_a_refused_url_is_explained_on_the_form(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    page = await add(owner, demo, "http://169.254.169.254/latest")
    assert page.status_code == 422
    assert "The url leads to a private or reserved address" in text_of(page)
    assert "No webhooks yet." in text_of(page)


async def test_the_log_shows_what_was_posted_and_an_event_can_be_sent_again(
    app: FastAPI, owner: DashboardClient, demo: DemoSecrets, fake_webhook: FakeWebhook
) -> None:
    await add(owner, demo, f"{fake_webhook.url}/crm")
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver/api",
        headers={"Authorization": f"Bearer {demo.api_key}"},
    )
    async with api:
        created = await api.post(
            "/subscriber/create", json={"first_name": "Lin", "phone": "+447700900123"}
        )
    assert created.status_code == 200, created.text
    await app.state.runtime.settle()
    page = await owner.http.get(page_of(demo))
    [event_id] = set(re.findall(r"evt_[0-9a-f]{32}", page.text))
    assert "subscriber.created" in text_of(page)
    assert "delivered · 204" in text_of(page)

    delivery = re.search(r'action="[^"]+/deliveries/(\d+)/replay"', page.text)
    assert delivery is not None
    replayed = await post_and_follow(
        owner, f"{page_of(demo)}/deliveries/{delivery.group(1)}/replay", {}
    )
    assert flashes(replayed) == [("success", f"Event {event_id} queued again.")]
    await app.state.runtime.settle()
    assert [r.json["id"] for r in fake_webhook.received] == [event_id, event_id]


async def test_a_webhook_is_switched_off_and_deleted(
    owner: DashboardClient, demo: DemoSecrets, fake_webhook: FakeWebhook
) -> None:
    await add(owner, demo, f"{fake_webhook.url}/crm")
    page = await owner.http.get(page_of(demo))
    webhook = re.search(r'action="[^"]+/webhooks/(\d+)/switch"', page.text)
    assert webhook is not None
    here = f"{page_of(demo)}/{webhook.group(1)}"
    switched = await post_and_follow(owner, f"{here}/switch", {})
    assert flashes(switched) == [("success", "Webhook switched off.")]
    assert "Off Switch on" in text_of(switched)
    deleted = await post_and_follow(owner, f"{here}/delete", {})
    assert flashes(deleted) == [("success", "Webhook deleted.")]
    assert "No webhooks yet." in text_of(deleted)


async def test_another_workspaces_bot_has_no_webhooks_page(owner: DashboardClient) -> None:
    assert (await owner.http.get("/dashboard/bots/999/webhooks")).status_code == 404
