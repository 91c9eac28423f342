"""The Flow User Field and Flow Bot Field groups: field definitions, and bot field values."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_field
from konversation.flows.fieldtypes import LONGTEXT_LIMIT, TEXT_LIMIT
from konversation.flows.models import FieldScope


class TestUserFields:
    async def test_create_answers_the_definition_and_lists_it(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/flow/create-user-field",
            json={"name": "Age", "var_type": "number", "description": "Years"},
        )
        assert response.status_code == 200
        expected = {
            "name": "Age",
            "var_ns": f"f{tenant.bot_id}v1",
            "var_type": "number",
            "description": "Years",
        }
        assert response.json()["data"] == expected
        assert (await api.get("/flow/user-fields")).json()["data"] == [expected]

    async def test_unknown_type_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-user-field", json={"name": "X", "var_type": "blob"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"var_type": ["The selected var_type is invalid."]}

    async def test_missing_type_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-user-field", json={"name": "X"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"var_type": ["The var_type field is required."]}

    async def test_user_and_bot_fields_share_one_numbering(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "Hours", scope=FieldScope.BOT, value="9-5")
        data = (
            await api.post("/flow/create-user-field", json={"name": "Age", "var_type": "number"})
        ).json()["data"]
        assert data["var_ns"] == f"f{tenant.bot_id}v2"
        assert [f["name"] for f in (await api.get("/flow/user-fields")).json()["data"]] == ["Age"]

    async def test_filters_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("Phone number", "Email", "Work phone"):
            await make_field(session, tenant.bot_id, name)
        body = (await api.get("/flow/user-fields", params={"name": "phone"})).json()
        assert [f["name"] for f in body["data"]] == ["Phone number", "Work phone"]

    async def test_delete_by_var_ns_and_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        age = await make_field(session, tenant.bot_id, "Age", var_type="number")
        await make_field(session, tenant.bot_id, "City")
        await make_field(session, tenant.bot_id, "Zip")
        assert (
            await api.request("DELETE", "/flow/delete-user-field", json={"var_ns": age})
        ).json() == {"status": "ok"}
        assert (
            await api.request("DELETE", "/flow/delete-user-field-by-name", json={"name": "City"})
        ).json() == {"status": "ok"}
        assert [f["name"] for f in (await api.get("/flow/user-fields")).json()["data"]] == ["Zip"]

    async def test_a_bot_field_is_not_a_user_field(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        hours = await make_field(session, tenant.bot_id, "Hours", scope=FieldScope.BOT, value="x")
        response = await api.request("DELETE", "/flow/delete-user-field", json={"var_ns": hours})
        assert response.status_code == 404
        assert response.json() == {"message": "User field not found"}
        assert (await api.get("/flow/bot-fields")).json()["meta"]["total"] == 1


class TestCreateBotField:
    async def test_answers_the_field_with_its_typed_value(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/flow/create-bot-field",
            json={"name": "discount", "var_type": "number", "value": "12.50"},
        )
        assert response.status_code == 200
        assert response.json()["data"] == {
            "name": "discount",
            "var_ns": f"f{tenant.bot_id}v1",
            "var_type": "number",
            "description": "",
            "value": 12.5,
            "is_template_field": False,
        }

    @pytest.mark.parametrize("missing", ["var_type", "value"])
    async def test_missing_type_or_value_answers_422(
        self, api: httpx.AsyncClient, missing: str
    ) -> None:
        body = {"name": "x", "var_type": "text", "value": "y"}
        del body[missing]
        response = await api.post("/flow/create-bot-field", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {missing: [f"The {missing} field is required."]}

    async def test_value_of_the_wrong_type_answers_422_and_stores_nothing(
        self, api: httpx.AsyncClient
    ) -> None:
        response = await api.post(
            "/flow/create-bot-field", json={"name": "n", "var_type": "number", "value": "ten"}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"value": ["The value field must be a number."]}
        assert (await api.get("/flow/bot-fields")).json()["data"] == []


class TestListBotFields:
    async def test_defaults_to_ten_per_page_and_honours_limit(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(12):
            await make_field(session, tenant.bot_id, f"f{n}", scope=FieldScope.BOT, value=n)
        default = (await api.get("/flow/bot-fields")).json()
        assert len(default["data"]) == 10
        assert default["meta"]["total"] == 12
        limited = (await api.get("/flow/bot-fields", params={"limit": 5, "page": 3})).json()
        assert [f["value"] for f in limited["data"]] == ["10", "11"]


class TestSetBotField:
    @pytest.mark.parametrize(
        ("var_type", "sent", "stored"),
        [
            ("text", 42, "42"),
            ("number", "7", 7),
            ("number", 2.5, 2.5),
            ("boolean", "yes", True),
            ("boolean", 0, False),
            ("date", "2026-01-31", "2026-01-31"),
            ("datetime", "2026-01-31 10:00:00", "2026-01-31T10:00:00+00:00"),
            ("datetime", "2026-01-31T10:00:00+02:00", "2026-01-31T10:00:00+02:00"),
            ("array", ["a", 1], ["a", 1]),
            ("array", '["x"]', ["x"]),
        ],
    )
    async def test_reads_the_value_by_the_fields_type(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        var_type: str,
        sent: object,
        stored: object,
    ) -> None:
        var_ns = await make_field(
            session, tenant.bot_id, "f", scope=FieldScope.BOT, var_type=var_type
        )
        response = await api.put("/flow/set-bot-field", json={"var_ns": var_ns, "value": sent})
        assert response.status_code == 200
        assert response.json()["data"]["value"] == stored
        listed = (await api.get("/flow/bot-fields")).json()["data"]
        assert listed[0]["value"] == stored

    @pytest.mark.parametrize(
        ("var_type", "sent", "message"),
        [
            ("number", "many", "The value field must be a number."),
            ("boolean", "maybe", "The value field must be true or false."),
            ("date", "31/01/2026", "The value field must be a date (YYYY-MM-DD)."),
            ("datetime", "soon", "The value field must be a date and time (ISO 8601)."),
            ("array", "a,b", "The value field must be an array."),
        ],
    )
    async def test_refuses_a_value_of_the_wrong_type_and_keeps_the_old_one(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        var_type: str,
        sent: str,
        message: str,
    ) -> None:
        var_ns = await make_field(
            session, tenant.bot_id, "f", scope=FieldScope.BOT, var_type=var_type
        )
        response = await api.put("/flow/set-bot-field", json={"var_ns": var_ns, "value": sent})
        assert response.status_code == 422
        assert response.json() == {"message": message, "errors": {"value": [message]}}
        assert (await api.get("/flow/bot-fields")).json()["data"][0]["value"] is None

    async def test_an_object_value_answers_422_with_one_message(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        var_ns = await make_field(session, tenant.bot_id, "t", scope=FieldScope.BOT)
        response = await api.put("/flow/set-bot-field", json={"var_ns": var_ns, "value": {"a": 1}})
        assert response.status_code == 422
        message = "The value field must be a string, number, boolean or array."
        assert response.json() == {"message": message, "errors": {"value": [message]}}

    async def test_cuts_over_long_text_and_still_answers_200(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        text_ns = await make_field(session, tenant.bot_id, "t", scope=FieldScope.BOT)
        long_ns = await make_field(
            session, tenant.bot_id, "l", scope=FieldScope.BOT, var_type="longtext"
        )
        await api.put("/flow/set-bot-field", json={"var_ns": text_ns, "value": "x" * 25_000})
        await api.put("/flow/set-bot-field", json={"var_ns": long_ns, "value": "y" * 600_000})
        fields = {f["name"]: f["value"] for f in (await api.get("/flow/bot-fields")).json()["data"]}
        assert len(fields["t"]) == TEXT_LIMIT
        assert len(fields["l"]) == LONGTEXT_LIMIT

    async def test_empty_value_clears_the_field(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        var_ns = await make_field(session, tenant.bot_id, "t", scope=FieldScope.BOT, value="x")
        await api.put("/flow/set-bot-field", json={"var_ns": var_ns, "value": ""})
        assert (await api.get("/flow/bot-fields")).json()["data"][0]["value"] is None

    async def test_unknown_field_answers_404(self, api: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await api.put(
            "/flow/set-bot-field", json={"var_ns": f"f{tenant.bot_id}v9", "value": "x"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Bot field not found"}

    async def test_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "hours", scope=FieldScope.BOT, value="9-5")
        response = await api.put(
            "/flow/set-bot-field-by-name", json={"name": "hours", "value": "closed"}
        )
        assert response.json()["data"]["value"] == "closed"
        missing = await api.put("/flow/set-bot-field-by-name", json={"name": "nope", "value": 1})
        assert missing.status_code == 404


class TestSetBotFields:
    async def test_sets_several_by_var_ns(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        a = await make_field(session, tenant.bot_id, "a", scope=FieldScope.BOT)
        b = await make_field(session, tenant.bot_id, "b", scope=FieldScope.BOT, var_type="number")
        response = await api.put(
            "/flow/set-bot-fields",
            json={"data": [{"var_ns": a, "value": "A"}, {"var_ns": b, "value": 2}]},
        )
        assert response.json() == {"status": "ok"}
        values = {f["name"]: f["value"] for f in (await api.get("/flow/bot-fields")).json()["data"]}
        assert values == {"a": "A", "b": 2}

    async def test_sets_several_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "a", scope=FieldScope.BOT)
        await make_field(session, tenant.bot_id, "b", scope=FieldScope.BOT, var_type="boolean")
        response = await api.put(
            "/flow/set-bot-fields-by-name",
            json={"data": [{"name": "a", "value": "A"}, {"name": "b", "value": "true"}]},
        )
        assert response.json() == {"status": "ok"}
        values = {f["name"]: f["value"] for f in (await api.get("/flow/bot-fields")).json()["data"]}
        assert values == {"a": "A", "b": True}

    async def test_one_bad_item_changes_nothing(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "a", scope=FieldScope.BOT, value="old")
        await make_field(session, tenant.bot_id, "n", scope=FieldScope.BOT, var_type="number")
        response = await api.put(
            "/flow/set-bot-fields-by-name",
            json={
                "data": [
                    {"name": "a", "value": "new"},
                    {"name": "n", "value": "NaN-ish"},
                    {"name": "ghost", "value": 1},
                ]
            },
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.1.value": ["The data.1.value field must be a number."],
            "data.2.name": ["The selected data.2.name is invalid."],
        }
        values = {f["name"]: f["value"] for f in (await api.get("/flow/bot-fields")).json()["data"]}
        assert values == {"a": "old", "n": None}

    async def test_more_than_twenty_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "a", scope=FieldScope.BOT)
        items = [{"name": "a", "value": str(n)} for n in range(21)]
        response = await api.put("/flow/set-bot-fields-by-name", json={"data": items})
        assert response.status_code == 422
        assert response.json()["message"] == "The data field must not have more than 20 items."

    async def test_a_wrong_top_level_key_answers_400(self, api: httpx.AsyncClient) -> None:
        response = await api.put(
            "/flow/set-bot-fields-by-name", json={"bot_fields": [{"name": "a", "value": 1}]}
        )
        assert response.status_code == 400
        assert response.json() == {"message": "The data field is required."}

    async def test_item_without_name_answers_422_naming_it(self, api: httpx.AsyncClient) -> None:
        response = await api.put("/flow/set-bot-fields-by-name", json={"data": [{"value": 1}]})
        assert response.status_code == 422
        assert response.json()["errors"] == {"data.0.name": ["The data.0.name field is required."]}


class TestDeleteBotField:
    async def test_by_var_ns_and_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        a = await make_field(session, tenant.bot_id, "a", scope=FieldScope.BOT)
        await make_field(session, tenant.bot_id, "b", scope=FieldScope.BOT)
        await make_field(session, tenant.bot_id, "c", scope=FieldScope.BOT)
        assert (
            await api.request("DELETE", "/flow/delete-bot-field", json={"var_ns": a})
        ).json() == {"status": "ok"}
        assert (
            await api.request("DELETE", "/flow/delete-bot-field-by-name", json={"name": "b"})
        ).json() == {"status": "ok"}
        assert [f["name"] for f in (await api.get("/flow/bot-fields")).json()["data"]] == ["c"]

    async def test_unknown_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.request("DELETE", "/flow/delete-bot-field-by-name", json={"name": "x"})
        assert response.status_code == 404
        assert response.json() == {"message": "Bot field not found"}
