"""A bot owner manages the bot's event webhooks through the Connect API: the secret is shown
whole once, URLs into private networks are refused, and every change is checked first."""

from __future__ import annotations

import httpx
import pytest

from builders import ClientFor, Sessions, make_tenant
from konversation.webhooks.addresses import Refused, check_reachable, networks
from konversation.webhooks.service import MAX_ENDPOINTS_PER_BOT

SINK = "http://127.0.0.1:9/hooks/crm"


async def create(api: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await api.post(
        "/event-webhook/create", json={"url": SINK, "events": ["subscriber.created"]} | body
    )


async def test_a_new_webhook_shows_its_whole_secret_once_and_only_its_start_after(
    api: httpx.AsyncClient,
) -> None:
    made = await create(
        api, events=["subscriber.tag_added", "subscriber.created"], description="CRM"
    )
    assert made.status_code == 200, made.text
    webhook = made.json()["data"]
    assert webhook["secret"].startswith("whsec_")
    assert len(webhook["secret"]) > 40
    assert webhook["events"] == ["subscriber.created", "subscriber.tag_added"]
    assert (webhook["url"], webhook["description"], webhook["active"]) == (SINK, "CRM", True)

    listed = (await api.get("/event-webhooks")).json()
    [shown] = listed["data"]
    assert listed["meta"]["total"] == 1
    assert shown["id"] == webhook["id"]
    assert shown["secret"] == webhook["secret"][:10] + "…"


async def test_an_update_changes_only_what_it_names(api: httpx.AsyncClient) -> None:
    webhook = (await create(api, description="CRM")).json()["data"]
    changed = await api.put(
        "/event-webhook/update",
        json={"id": webhook["id"], "events": ["order.status_changed"], "active": False},
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert (data["events"], data["active"]) == (["order.status_changed"], False)
    assert (data["url"], data["description"]) == (SINK, "CRM")


async def test_a_deleted_webhook_is_gone(api: httpx.AsyncClient) -> None:
    webhook = (await create(api)).json()["data"]
    deleted = await api.request("DELETE", "/event-webhook/delete", json={"id": webhook["id"]})
    assert deleted.json() == {"status": "ok"}
    assert (await api.get("/event-webhooks")).json()["data"] == []
    again = await api.request("DELETE", "/event-webhook/delete", json={"id": webhook["id"]})
    assert again.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",  # a private network
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",  # a private address written as IPv6
        "http://0.0.0.0/hook",
        "ftp://127.0.0.1/hook",
        "not a url",
        "https://q\u00b6\u0084G/hook",  # no host name can be spelled so (IDNA refuses it)
    ],
)
async def test_urls_into_private_networks_are_refused(api: httpx.AsyncClient, url: str) -> None:
    refused = await create(api, url=url)
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["url"]
    assert (await api.get("/event-webhooks")).json()["data"] == []


async def test_loopback_is_refused_unless_the_configuration_allows_it() -> None:
    for url in ("http://127.0.0.1:8000/hook", "http://localhost/hook", "http://[::1]/hook"):
        with pytest.raises(Refused, match="private or reserved"):
            await check_reachable(url, [])
        await check_reachable(url, networks(["127.0.0.0/8", "::1/128"]))
    await check_reachable("https://93.184.215.14/hook", [])  # a public address


async def test_unknown_event_types_and_empty_lists_are_refused(api: httpx.AsyncClient) -> None:
    for events in (["subscriber.deleted"], []):
        refused = await create(api, events=events)
        assert refused.status_code == 422, events
        assert [path.split(".")[0] for path in refused.json()["errors"]] == ["events"]


async def test_a_refused_update_changes_nothing(api: httpx.AsyncClient) -> None:
    webhook = (await create(api)).json()["data"]
    refused = await api.put(
        "/event-webhook/update",
        json={"id": webhook["id"], "url": "http://10.0.0.1/", "events": ["message.received"]},
    )
    assert refused.status_code == 422
    [kept] = (await api.get("/event-webhooks")).json()["data"]
    assert (kept["url"], kept["events"]) == (SINK, ["subscriber.created"])


async def test_a_bot_has_a_bounded_number_of_webhooks(api: httpx.AsyncClient) -> None:
    for _ in range(MAX_ENDPOINTS_PER_BOT):
        assert (await create(api)).status_code == 200
    refused = await create(api)
    assert refused.status_code == 422
    assert f"at most {MAX_ENDPOINTS_PER_BOT}" in refused.json()["errors"]["url"][0]


async def test_another_bots_webhooks_are_out_of_reach(
    api: httpx.AsyncClient, sessions: Sessions, server_secret: bytes, client_for: ClientFor
) -> None:
    theirs = (await create(api)).json()["data"]
    stranger = await make_tenant(sessions, server_secret, email="stranger@example.com")
    other = client_for(stranger.token)
    assert (await other.get("/event-webhooks")).json()["data"] == []
    changed = await other.put("/event-webhook/update", json={"id": theirs["id"], "active": False})
    assert changed.status_code == 404
    deleted = await other.request("DELETE", "/event-webhook/delete", json={"id": theirs["id"]})
    assert deleted.status_code == 404
    [kept] = (await api.get("/event-webhooks")).json()["data"]
    assert kept["active"] is True
