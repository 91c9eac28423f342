"""Putting the workspace's team labels on subscribers, and taking them off, by name."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_subscriber, make_tenant
from konversation.labels import service as labels
from konversation.subscribers.models import Subscriber
from konversation.subscribers.service import labels_of


async def _label(session: AsyncSession, workspace_id: int, name: str) -> None:
    await labels.create_label(session, workspace_id, name=name)
    await session.commit()


async def _names(sessions: Sessions, subscriber: Subscriber) -> list[str]:
    async with sessions() as fresh:
        return [label.name for label in (await labels_of(fresh, [subscriber.id]))[subscriber.id]]


def _ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> Subscriber:
    return await make_subscriber(session, tenant.bot_id, name="Sam Smith")


@pytest.fixture
async def _labels(session: AsyncSession, tenant: Tenant) -> None:
    for name in ("Priority", "Billing", "Refund"):
        await _label(session, tenant.workspace_id, name)


@pytest.mark.usefixtures("_labels")
class TestAddLabelsByName:
    async def test_puts_the_named_labels_on_the_subscriber(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        response = await api.post(
            "/subscriber/add-labels-by-name",
            json={
                "user_ns": _ns(sam),
                "data": [{"label_name": "Refund"}, {"label_name": "Priority"}],
            },
        )
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert await _names(sessions, sam) == ["Priority", "Refund"]

    async def test_adding_a_label_they_have_is_fine(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        body = {"user_ns": _ns(sam), "data": [{"label_name": "Billing"}] * 2}
        for _ in range(2):
            assert (await api.post("/subscriber/add-labels-by-name", json=body)).json() == {
                "status": "ok"
            }
        assert await _names(sessions, sam) == ["Billing"]

    async def test_plain_strings_are_read_as_label_names(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        response = await api.post(
            "/subscriber/add-labels-by-name", json={"user_ns": _ns(sam), "data": ["Billing"]}
        )
        assert response.json() == {"status": "ok"}
        assert await _names(sessions, sam) == ["Billing"]

    async def test_an_unknown_label_answers_422_and_creates_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        response = await api.post(
            "/subscriber/add-labels-by-name",
            json={"user_ns": _ns(sam), "data": ["Billing", "Urgent"]},
        )
        assert response.status_code == 422
        assert response.json() == {
            "message": "The selected data.1.label_name is invalid.",
            "errors": {"data.1.label_name": ["The selected data.1.label_name is invalid."]},
        }
        assert await _names(sessions, sam) == []
        assert (await api.get("/team/labels")).json()["meta"]["total"] == 3

    async def test_a_label_of_another_workspace_is_not_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        sam: Subscriber,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await _label(session, other.workspace_id, "Theirs")
        response = await api.post(
            "/subscriber/add-labels-by-name", json={"user_ns": _ns(sam), "data": ["Theirs"]}
        )
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["data.0.label_name"]

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/subscriber/add-labels-by-name",
            json={"user_ns": f"f{tenant.bot_id}u9", "data": ["Billing"]},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_a_subscriber_of_another_bot_is_not_found_and_untouched(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await _label(session, other.workspace_id, "Billing")
        theirs = await make_subscriber(session, other.bot_id)
        response = await api.post(
            "/subscriber/add-labels-by-name", json={"user_ns": _ns(theirs), "data": ["Billing"]}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert await _names(sessions, theirs) == []

    async def test_twenty_one_items_answer_422(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        response = await api.post(
            "/subscriber/add-labels-by-name", json={"user_ns": _ns(sam), "data": ["Billing"] * 21}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data": ["The data field must not have more than 20 items."]
        }
        assert await _names(sessions, sam) == []

    async def test_an_item_without_label_name_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        response = await api.post(
            "/subscriber/add-labels-by-name",
            json={"user_ns": _ns(sam), "data": [{"name": "Billing"}]},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.0.label_name": ["The data.0.label_name field is required."]
        }


async def _add(api: httpx.AsyncClient, subscriber: Subscriber, *names: str) -> None:
    response = await api.post(
        "/subscriber/add-labels-by-name", json={"user_ns": _ns(subscriber), "data": list(names)}
    )
    assert response.json() == {"status": "ok"}


@pytest.mark.usefixtures("_labels")
class TestRemoveLabelsByName:
    async def test_takes_the_named_labels_off(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        await _add(api, sam, "Priority", "Billing", "Refund")
        response = await api.request(
            "DELETE",
            "/subscriber/remove-labels-by-name",
            json={
                "user_ns": _ns(sam),
                "data": [{"label_name": "Billing"}, {"label_name": "Refund"}],
            },
        )
        assert response.json() == {"status": "ok"}
        assert await _names(sessions, sam) == ["Priority"]

    async def test_removing_a_label_they_lack_is_fine(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        await _add(api, sam, "Priority")
        response = await api.request(
            "DELETE",
            "/subscriber/remove-labels-by-name",
            json={"user_ns": _ns(sam), "data": ["Billing"]},
        )
        assert response.json() == {"status": "ok"}
        assert await _names(sessions, sam) == ["Priority"]

    async def test_works_with_the_items_in_the_query_string(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        await _add(api, sam, "Priority", "Billing")
        response = await api.delete(
            "/subscriber/remove-labels-by-name",
            params={"user_ns": _ns(sam), "data[0][label_name]": "Billing"},
        )
        assert response.json() == {"status": "ok"}
        assert await _names(sessions, sam) == ["Priority"]

    async def test_works_as_a_post_with_the_method_override(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        await _add(api, sam, "Priority")
        response = await api.post(
            "/subscriber/remove-labels-by-name",
            json={"user_ns": _ns(sam), "data": ["Priority"]},
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.json() == {"status": "ok"}
        assert await _names(sessions, sam) == []

    async def test_an_unknown_label_answers_422_and_removes_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        await _add(api, sam, "Priority")
        response = await api.request(
            "DELETE",
            "/subscriber/remove-labels-by-name",
            json={"user_ns": _ns(sam), "data": ["Priority", "Nope"]},
        )
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["data.1.label_name"]
        assert await _names(sessions, sam) == ["Priority"]


@pytest.mark.usefixtures("_labels")
class TestLabelsOf:
    async def test_answers_every_subscriber_asked_for_even_unlabelled_ones(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: Subscriber,
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann Lee")
        await _add(api, sam, "Refund", "Priority")
        async with sessions() as fresh:
            found = await labels_of(fresh, [sam.id, ann.id])
        assert {k: [label.name for label in v] for k, v in found.items()} == {
            sam.id: ["Priority", "Refund"],
            ann.id: [],
        }
