"""The Subscriber group's core: create, update, delete and read one subscriber."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import (
    ClientFor,
    Sessions,
    Tenant,
    make_field,
    make_subscriber,
    make_tag,
    make_tenant,
)


async def _create(api: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await api.post("/subscriber/create", json=body)


class TestCreate:
    async def test_answers_the_new_subscriber_with_its_user_ns(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await _create(
            api, first_name="Sam", last_name="Smith", phone="+61 400 000 001", gender="female"
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["user_ns"] == f"f{tenant.bot_id}u1"
        assert data["name"] == "Sam Smith"
        assert data["phone"] == "+61400000001"
        assert data["user_id"] == "61400000001"
        assert data["gender"] == "female"
        assert data["status"] == "open"
        assert data["subscribed"] is not None
        assert data["tags"] == []
        assert data["channels"][0]["type"] == "apichat"

    async def test_an_email_alone_is_enough_and_is_stored_lower_case(
        self, api: httpx.AsyncClient
    ) -> None:
        data = (await _create(api, name="Ann", email="Ann@Example.COM")).json()["data"]
        assert data["email"] == "ann@example.com"
        assert data["phone"] is None

    async def test_neither_phone_nor_email_answers_422_naming_both(
        self, api: httpx.AsyncClient
    ) -> None:
        response = await _create(api, name="Nobody")
        assert response.status_code == 422
        assert set(response.json()["errors"]) == {"phone", "email"}

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"phone": "12"}, "phone", "The phone field must be a valid phone number."),
            ({"email": "not-an-email"}, "email", "The email field must be a valid email address."),
            ({"email": "a@b.co", "gender": "other"}, "gender", "The selected gender is invalid."),
        ],
    )
    async def test_invalid_contact_data_answers_422_and_creates_nobody(
        self, api: httpx.AsyncClient, body: dict[str, str], field: str, message: str
    ) -> None:
        response = await _create(api, **body)
        assert response.status_code == 422
        assert response.json()["errors"][field] == [message]
        assert (await api.get("/subscribers")).json()["meta"]["total"] == 0

    async def test_a_phone_already_in_the_bot_answers_422(self, api: httpx.AsyncClient) -> None:
        await _create(api, phone="+61400000001")
        response = await _create(api, phone="61 400 000 001")
        assert response.status_code == 422
        assert response.json()["errors"] == {"phone": ["The phone has already been taken."]}

    async def test_counts_follow_new_subscribers(self, api: httpx.AsyncClient) -> None:
        await _create(api, email="a@example.com")
        await _create(api, email="b@example.com")
        counts = (await api.get("/flow/bot-users-count")).json()["data"]
        assert counts[0] == {"status": "open", "num": 2}


class TestGetInfo:
    async def test_answers_the_subscriber_wrapped_in_data(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        subscriber = await make_subscriber(session, tenant.bot_id, name="Sam Smith")
        user_ns = f"f{tenant.bot_id}u{subscriber.number}"
        body = (await api.get("/subscriber/get-info", params={"user_ns": user_ns})).json()
        assert body["status"] == "ok"
        data = body["data"]
        assert data["user_ns"] == user_ns
        assert data["first_name"] == "Sam"
        for key in (
            "user_id", "name", "last_name", "phone", "email", "gender", "profile_pic",
            "locale", "language", "timezone", "status", "subscribed", "created_at",
            "last_interaction_at", "last_seen", "last_message_at", "last_message_type",
            "last_input_text", "allow_send_message", "is_bot_interacted_in_last_24h",
            "is_last_message_in_last_24h", "opted_in_email", "opted_in_sms", "opted_in_through",
            "tags", "user_fields", "labels", "channels",
        ):  # fmt: skip
            assert key in data

    async def test_lists_every_user_field_with_its_value_or_null(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "Age", var_type="number")
        subscriber = await make_subscriber(session, tenant.bot_id)
        user_ns = f"f{tenant.bot_id}u{subscriber.number}"
        data = (await api.get("/subscriber/get-info", params={"user_ns": user_ns})).json()["data"]
        assert data["user_fields"] == [
            {
                "name": "Age",
                "var_ns": f"f{tenant.bot_id}v1",
                "var_type": "number",
                "value": None,
                "description": "",
            }
        ]

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.get("/subscriber/get-info", params={"user_ns": f"f{tenant.bot_id}u9"})
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_a_subscriber_of_another_bot_is_not_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await make_subscriber(session, other.bot_id)
        user_ns = f"f{other.bot_id}u{theirs.number}"
        response = await api.get("/subscriber/get-info", params={"user_ns": user_ns})
        assert response.status_code == 404

    async def test_missing_user_ns_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/subscriber/get-info")
        assert response.status_code == 422
        assert response.json()["errors"] == {"user_ns": ["The user_ns field is required."]}

    async def test_by_user_id_with_or_without_plus(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        created = (await _create(api, phone="+15550100999")).json()["data"]
        for user_id in ("15550100999", "+15550100999"):
            response = await api.get("/subscriber/get-info-by-user-id", params={"user_id": user_id})
            assert response.json()["data"]["user_ns"] == created["user_ns"]
        missing = await api.get("/subscriber/get-info-by-user-id", params={"user_id": "nobody"})
        assert missing.status_code == 404


class TestUpdate:
    async def test_changes_only_what_is_sent(self, api: httpx.AsyncClient) -> None:
        created = (await _create(api, first_name="Sam", email="sam@example.com")).json()["data"]
        response = await api.put(
            "/subscriber/update", json={"user_ns": created["user_ns"], "last_name": "Stone"}
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["first_name"], data["last_name"], data["name"]) == (
            "Sam",
            "Stone",
            "Sam Stone",
        )
        assert data["email"] == "sam@example.com"

    async def test_a_taken_email_answers_422_and_changes_nothing(
        self, api: httpx.AsyncClient
    ) -> None:
        await _create(api, email="taken@example.com")
        sam = (await _create(api, name="Sam", email="sam@example.com")).json()["data"]
        response = await api.put(
            "/subscriber/update",
            json={"user_ns": sam["user_ns"], "email": "taken@example.com", "name": "Changed"},
        )
        assert response.status_code == 422
        again = await api.get("/subscriber/get-info", params={"user_ns": sam["user_ns"]})
        assert again.json()["data"]["name"] == "Sam"
        assert again.json()["data"]["email"] == "sam@example.com"

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.put(
            "/subscriber/update", json={"user_ns": f"f{tenant.bot_id}u5", "name": "X"}
        )
        assert response.status_code == 404


class TestDelete:
    async def test_removes_the_subscriber_and_their_counts(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        tag_ns = await make_tag(session, tenant.bot_id, "VIP")
        created = (await _create(api, email="gone@example.com")).json()["data"]
        await api.post(
            "/subscriber/add-tag", json={"user_ns": created["user_ns"], "tag_ns": tag_ns}
        )
        response = await api.request(
            "DELETE", "/subscriber/delete", json={"user_ns": created["user_ns"]}
        )
        assert response.json() == {"status": "ok"}
        gone = await api.get("/subscriber/get-info", params={"user_ns": created["user_ns"]})
        assert gone.status_code == 404
        counts = (await api.get("/flow/bot-users-count")).json()["data"]
        assert sum(c["num"] for c in counts) == 0
        tagged = (await api.get("/subscribers", params={"tag_ns": tag_ns})).json()
        assert tagged["meta"]["total"] == 0

    async def test_another_bots_subscriber_survives(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await make_subscriber(session, other.bot_id)
        user_ns = f"f{other.bot_id}u{theirs.number}"
        response = await api.request("DELETE", "/subscriber/delete", json={"user_ns": user_ns})
        assert response.status_code == 404
        still = await client_for(other.token).get(
            "/subscriber/get-info", params={"user_ns": user_ns}
        )
        assert still.status_code == 200


class TestProfileShowsEverythingAttached:
    async def test_tags_fields_and_labels_appear_in_get_info(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        tag_ns = await make_tag(session, tenant.bot_id, "VIP")
        var_ns = await make_field(session, tenant.bot_id, "Age", var_type="number")
        await api.post("/team/create-label", json={"name": "Priority"})
        user_ns = (await _create(api, email="all@example.com")).json()["data"]["user_ns"]
        for path, body in (
            ("/subscriber/add-tag", {"tag_ns": tag_ns}),
            ("/subscriber/add-labels-by-name", {"data": [{"label_name": "Priority"}]}),
        ):
            assert (await api.post(path, json={"user_ns": user_ns, **body})).status_code == 200
        await api.put(
            "/subscriber/set-user-field", json={"user_ns": user_ns, "var_ns": var_ns, "value": "42"}
        )
        data = (await api.get("/subscriber/get-info", params={"user_ns": user_ns})).json()["data"]
        assert data["tags"] == [{"name": "VIP", "tag_ns": tag_ns}]
        assert data["labels"] == [{"name": "Priority"}]
        assert [(f["var_ns"], f["value"]) for f in data["user_fields"]] == [(var_ns, 42)]
