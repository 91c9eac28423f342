"""`POST /subscriber/app-trigger`: an installed mini-app fires one of its declared triggers for a
subscriber, which starts every flow of the key's bot listening for it, with the context's keys
as the runs' variables; an undeclared or ambiguous trigger and an unknown subscriber change
nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from miniapps_support import install
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_subscriber, make_tenant
from konversation.db import session_scope
from konversation.flows import service as flows
from konversation.flows.format import FlowDefinition
from konversation.keys.models import Permission
from konversation.runtime.models import Delivery, Run
from runtime.engine_helpers import doc, say


def listening(app_ns: str, trigger_name: str, text: str) -> dict[str, Any]:
    """A flow that says `text` when `app_ns` fires `trigger_name`."""
    triggers = [{"app_ns": app_ns, "trigger_name": trigger_name}]
    return doc(say("hello", text), triggers=triggers)


async def make_flow(sessions: Sessions, bot_id: int, name: str, definition: dict[str, Any]) -> int:
    async with session_scope(sessions) as session:
        made = await flows.create_flow(session, bot_id, name=name, definition=definition)
        return made.id


async def user_ns(session: AsyncSession, tenant: Tenant, **columns: Any) -> str:
    subscriber = await make_subscriber(session, tenant.bot_id, **columns)
    return f"f{tenant.bot_id}u{subscriber.number}"


async def texts(session: AsyncSession) -> list[str]:
    bodies = await session.scalars(select(Delivery.body).order_by(Delivery.id))
    return [body["text"] for body in bodies]


async def fire(api: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await api.post("/subscriber/app-trigger", json=body)


async def test_the_trigger_starts_the_flows_listening_with_the_context_as_variables(
    api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant
) -> None:
    await install(api)
    await install(api, app_ns="other_app")
    paid = await make_flow(
        sessions, tenant.bot_id, "Paid", listening("acme_crm", "paid", "Paid for {{product_name}}")
    )
    also = await make_flow(
        sessions, tenant.bot_id, "Thanks", listening("acme_crm", "paid", "Thanks {{first_name}}")
    )
    await make_flow(sessions, tenant.bot_id, "Theirs", listening("other_app", "paid", "Wrong"))
    await make_flow(sessions, tenant.bot_id, "Plain", doc(say("hi", "Not triggered")))
    sam = await user_ns(session, tenant)
    context = {"product_name": "apple", "product_id": "123"}

    response = await fire(api, user_ns=sam, trigger_name="acme_crm:paid", context=context)

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "started": 2}
    runs = (await session.scalars(select(Run).order_by(Run.id))).all()
    assert [(r.flow_id, r.origin, r.variables) for r in runs] == [
        (paid, "app", context),
        (also, "app", context),
    ]
    assert await texts(session) == ["Paid for apple", "Thanks Sam"]


async def test_a_trigger_one_app_declares_may_be_named_alone(
    api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant
) -> None:
    await install(api)
    await make_flow(sessions, tenant.bot_id, "Paid", listening("acme_crm", "paid", "Paid"))
    sam = await user_ns(session, tenant)

    response = await fire(api, user_ns=sam, trigger_name="paid")

    assert response.json() == {"status": "ok", "started": 1}
    assert await texts(session) == ["Paid"]


async def test_a_declared_trigger_no_flow_listens_for_starts_nothing(
    api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
) -> None:
    await install(api)
    sam = await user_ns(session, tenant)
    response = await fire(api, user_ns=sam, trigger_name="acme_crm:paid", context="")
    assert response.json() == {"status": "ok", "started": 0}


async def test_a_bare_name_two_apps_declare_must_say_which(
    api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant
) -> None:
    await install(api)
    await install(api, app_ns="billing")
    await make_flow(sessions, tenant.bot_id, "Paid", listening("billing", "paid", "Billed"))
    sam = await user_ns(session, tenant)

    response = await fire(api, user_ns=sam, trigger_name="paid")

    assert response.status_code == 422
    [message] = response.json()["errors"]["trigger_name"]
    assert "acme_crm:paid, billing:paid" in message
    assert (await fire(api, user_ns=sam, trigger_name="billing:paid")).json()["started"] == 1


@pytest.mark.parametrize(
    "trigger_name",
    ["refunded", "acme_crm:refunded", "stranger_app:paid", "other:acme_crm:paid", "acme_crm:"],
)
async def test_a_trigger_no_installed_app_declares_is_refused(
    api: httpx.AsyncClient,
    client_for: ClientFor,
    session: AsyncSession,
    sessions: Sessions,
    server_secret: bytes,
    tenant: Tenant,
    trigger_name: str,
) -> None:
    await install(api)
    stranger = await make_tenant(sessions, server_secret)
    await install(client_for(stranger.token), app_ns="stranger_app")  # another workspace's
    await make_flow(sessions, tenant.bot_id, "Theirs", listening("stranger_app", "paid", "No"))
    sam = await user_ns(session, tenant)

    response = await fire(api, user_ns=sam, trigger_name=trigger_name)

    assert response.status_code == 422
    assert "trigger_name" in response.json()["errors"]
    assert await session.scalar(select(Run.id)) is None


async def test_an_unknown_subscriber_is_not_found(
    api: httpx.AsyncClient, sessions: Sessions, server_secret: bytes, session: AsyncSession
) -> None:
    await install(api)
    stranger = await make_tenant(sessions, server_secret)
    their_ns = await user_ns(session, stranger)
    for unknown in (f"f{stranger.bot_id}u999", their_ns):
        response = await fire(api, user_ns=unknown, trigger_name="acme_crm:paid")
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}


async def test_no_flow_starts_for_a_subscriber_who_unsubscribed(
    api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant
) -> None:
    await install(api)
    await make_flow(sessions, tenant.bot_id, "Paid", listening("acme_crm", "paid", "Paid"))
    gone = await user_ns(session, tenant, is_subscribed=False)

    response = await fire(api, user_ns=gone, trigger_name="acme_crm:paid")

    assert response.status_code == 422
    assert "user_ns" in response.json()["errors"]
    assert await session.scalar(select(Run.id)) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trigger_name": "acme_crm:paid"}, "user_ns"),
        ({"user_ns": "f1u1"}, "trigger_name"),
        ({"user_ns": "f1u1", "trigger_name": " "}, "trigger_name"),
        ({"user_ns": "f1u1", "trigger_name": "acme_crm:paid", "context": [1]}, "context"),
        ({"user_ns": "f1u1", "trigger_name": "acme_crm:paid", "context": "{nope"}, "context"),
    ],
    ids=["no user_ns", "no trigger_name", "blank trigger_name", "list context", "bad JSON"],
)
async def test_a_malformed_body_is_refused(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await fire(api, **body)
    assert response.status_code == 422
    assert field in response.json()["errors"]


async def test_firing_needs_a_key_with_manage_flow(
    client_for: ClientFor, session: AsyncSession, server_secret: bytes, tenant: Tenant
) -> None:
    team_only = await make_key(
        session, server_secret, tenant, permissions=[Permission.MANAGE_TEAM.value]
    )
    body = {"user_ns": await user_ns(session, tenant), "trigger_name": "acme_crm:paid"}
    for token, status in [("kv_not-a-key", 401), (team_only, 403)]:
        response = await client_for(token).post("/subscriber/app-trigger", json=body)
        assert response.status_code == status


@pytest.mark.parametrize(
    "trigger",
    [
        {"app_ns": "acme_crm"},
        {"app_ns": "acme crm", "trigger_name": "paid"},
        {"app_ns": "acme_crm", "trigger_name": "a:b"},
        {"app_ns": "acme_crm", "trigger_name": "x" * 36},
    ],
    ids=["no trigger_name", "app_ns with a space", "colon in the name", "name too long"],
)
def test_the_flow_format_refuses_a_malformed_app_trigger(trigger: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FlowDefinition.model_validate(doc(say("a", "x"), triggers=[trigger]))


async def test_the_longest_names_an_app_may_declare_fire_its_flows(
    api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant
) -> None:
    app_ns, trigger = "a" * 64, "t" * 35
    await install(api, app_ns=app_ns, triggers=[{"name": trigger}])
    await make_flow(sessions, tenant.bot_id, "Long", listening(app_ns, trigger, "Long"))
    sam = await user_ns(session, tenant)

    response = await fire(api, user_ns=sam, trigger_name=f"{app_ns}:{trigger}")

    assert response.json() == {"status": "ok", "started": 1}
