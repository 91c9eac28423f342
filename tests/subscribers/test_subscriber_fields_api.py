"""A subscriber's user field values: set and cleared by id or name, one or up to twenty at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_field, make_subscriber, make_tenant
from konversation.flows.fieldtypes import TEXT_LIMIT
from konversation.flows.models import FieldScope
from konversation.subscribers.models import (
    VALUE_KEY_LENGTH,
    Subscriber,
    SubscriberFieldValue,
    value_key,
)


def _ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


async def _values(api: httpx.AsyncClient, user_ns: str) -> dict[str, Any]:
    """Each user field's value, by name, as get-info shows it."""
    response = await api.get("/subscriber/get-info", params={"user_ns": user_ns})
    return {f["name"]: f["value"] for f in response.json()["data"]["user_fields"]}


async def _stored(sessions: Sessions) -> list[tuple[Any, str | None]]:
    """Every stored (value, value_key), read afresh."""
    async with sessions() as fresh:
        rows = await fresh.execute(
            select(SubscriberFieldValue.value, SubscriberFieldValue.value_key)
        )
        return [tuple(row) for row in rows.all()]


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return _ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))


@pytest.fixture
async def fields(session: AsyncSession, tenant: Tenant) -> dict[str, str]:
    """var_ns of a text field `City`, a number field `Age` and a boolean field `Member`."""
    return {
        "City": await make_field(session, tenant.bot_id, "City"),
        "Age": await make_field(session, tenant.bot_id, "Age", var_type="number"),
        "Member": await make_field(session, tenant.bot_id, "Member", var_type="boolean"),
    }


class TestSetUserField:
    @pytest.mark.parametrize(
        ("var_type", "sent", "shown", "key"),
        [
            ("text", "Lyon", "Lyon", "Lyon"),
            ("text", 42, "42", "42"),
            ("number", "12", 12, "12"),
            ("number", 2.5, 2.5, "2.5"),
            ("boolean", "yes", True, "true"),
            ("boolean", 0, False, "false"),
            ("date", "2026-01-31", "2026-01-31", "2026-01-31"),
            (
                "datetime",
                "2026-01-31 10:00",
                "2026-01-31T10:00:00+00:00",
                "2026-01-31T10:00:00+00:00",
            ),
            ("array", ["a", 1], ["a", 1], '["a", 1]'),
            ("longtext", "long story", "long story", "long story"),
        ],
    )
    async def test_stores_the_value_typed_by_the_field(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        var_type: str,
        sent: Any,
        shown: Any,
        key: str,
    ) -> None:
        var_ns = await make_field(session, tenant.bot_id, "Answer", var_type=var_type)
        response = await api.put(
            "/subscriber/set-user-field", json={"user_ns": sam, "var_ns": var_ns, "value": sent}
        )
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert await _values(api, sam) == {"Answer": shown}
        assert await _stored(sessions) == [(shown, key)]

    async def test_setting_again_replaces_the_value(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, fields: dict[str, str]
    ) -> None:
        for value in ("Lyon", "Paris"):
            body = {"user_ns": sam, "var_ns": fields["City"], "value": value}
            await api.put("/subscriber/set-user-field", json=body)
        assert (await _values(api, sam))["City"] == "Paris"
        assert await _stored(sessions) == [("Paris", "Paris")]

    async def test_over_long_text_is_cut_and_still_answers_200(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": sam, "var_ns": fields["City"], "value": "x" * (TEXT_LIMIT + 10)}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.json() == {"status": "ok"}
        assert (await _values(api, sam))["City"] == "x" * TEXT_LIMIT
        [(_, key)] = await _stored(sessions)
        assert key == "x" * VALUE_KEY_LENGTH

    async def test_a_value_of_the_wrong_type_answers_422_and_stores_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": sam, "var_ns": fields["Age"], "value": "old"}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 422
        assert response.json() == {
            "message": "The value field must be a number.",
            "errors": {"value": ["The value field must be a number."]},
        }
        assert await _stored(sessions) == []

    async def test_an_object_value_answers_422(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": sam, "var_ns": fields["City"], "value": {"a": 1}}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["value"]

    async def test_a_missing_value_answers_422(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": sam, "var_ns": fields["City"]}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {"value": ["The value field is required."]}

    @pytest.mark.parametrize("empty", [None, ""])
    async def test_an_empty_value_clears_the_field(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        sam: str,
        fields: dict[str, str],
        empty: str | None,
    ) -> None:
        for value in ("Lyon", empty):
            body = {"user_ns": sam, "var_ns": fields["City"], "value": value}
            assert (await api.put("/subscriber/set-user-field", json=body)).status_code == 200
        assert (await _values(api, sam))["City"] is None
        assert await _stored(sessions) == []

    async def test_an_unknown_field_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, sam: str
    ) -> None:
        body = {"user_ns": sam, "var_ns": f"f{tenant.bot_id}v9", "value": "x"}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "User field not found"}

    async def test_a_bot_field_is_not_a_user_field(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        hours = await make_field(session, tenant.bot_id, "Hours", scope=FieldScope.BOT, value="9")
        body = {"user_ns": sam, "var_ns": hours, "value": "10"}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "User field not found"}

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": f"f{tenant.bot_id}u5", "var_ns": fields["City"], "value": "x"}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_a_subscriber_of_another_bot_is_not_found_and_untouched(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = _ns(await make_subscriber(session, other.bot_id))
        city = await make_field(session, other.bot_id, "City")
        body = {"user_ns": theirs, "var_ns": city, "value": "Lyon"}
        response = await api.put("/subscriber/set-user-field", json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert await _values(client_for(other.token), theirs) == {"City": None}


class TestSetUserFieldByName:
    async def test_sets_the_named_field(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": sam, "field_name": "Age", "value": "33"}
        response = await api.put("/subscriber/set-user-field-by-name", json=body)
        assert response.json() == {"status": "ok"}
        assert (await _values(api, sam))["Age"] == 33

    async def test_an_unknown_name_answers_404(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        body = {"user_ns": sam, "field_name": "Shoe size", "value": "9"}
        response = await api.put("/subscriber/set-user-field-by-name", json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "User field not found"}


class TestSetUserFields:
    async def test_sets_every_field_given(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        data = [
            {"var_ns": fields["City"], "value": "Lyon"},
            {"var_ns": fields["Age"], "value": 33},
            {"var_ns": fields["Member"], "value": "true"},
        ]
        response = await api.put("/subscriber/set-user-fields", json={"user_ns": sam, "data": data})
        assert response.json() == {"status": "ok"}
        assert await _values(api, sam) == {"City": "Lyon", "Age": 33, "Member": True}

    async def test_a_wrong_type_answers_422_naming_the_item_and_changes_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, fields: dict[str, str]
    ) -> None:
        data = [
            {"var_ns": fields["City"], "value": "Lyon"},
            {"var_ns": fields["Age"], "value": "thirty"},
        ]
        response = await api.put("/subscriber/set-user-fields", json={"user_ns": sam, "data": data})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.1.value": ["The data.1.value field must be a number."]
        }
        assert await _stored(sessions) == []

    async def test_an_unknown_field_answers_422_naming_the_item(
        self, api: httpx.AsyncClient, tenant: Tenant, sam: str, fields: dict[str, str]
    ) -> None:
        data = [
            {"var_ns": fields["City"], "value": "Lyon"},
            {"var_ns": f"f{tenant.bot_id}v99", "value": "x"},
        ]
        response = await api.put("/subscriber/set-user-fields", json={"user_ns": sam, "data": data})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.1.var_ns": ["The selected data.1.var_ns is invalid."]
        }
        assert (await _values(api, sam))["City"] is None

    async def test_a_field_named_twice_takes_the_last_value(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        data = [{"var_ns": fields["City"], "value": v} for v in ("Lyon", "Paris")]
        response = await api.put("/subscriber/set-user-fields", json={"user_ns": sam, "data": data})
        assert response.json() == {"status": "ok"}
        assert (await _values(api, sam))["City"] == "Paris"

    async def test_an_item_without_value_answers_422(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        data = [{"var_ns": fields["City"]}]
        response = await api.put("/subscriber/set-user-fields", json={"user_ns": sam, "data": data})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.0.value": ["The data.0.value field is required."]
        }

    async def test_twenty_one_items_answer_422_and_change_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, fields: dict[str, str]
    ) -> None:
        data = [{"var_ns": fields["City"], "value": str(n)} for n in range(21)]
        response = await api.put("/subscriber/set-user-fields", json={"user_ns": sam, "data": data})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data": ["The data field must not have more than 20 items."]
        }
        assert await _stored(sessions) == []

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, fields: dict[str, str]
    ) -> None:
        data = [{"var_ns": fields["City"], "value": "Lyon"}]
        response = await api.put(
            "/subscriber/set-user-fields", json={"user_ns": f"f{tenant.bot_id}u8", "data": data}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}


class TestSetUserFieldsByName:
    async def test_names_each_field_with_name(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        data = [{"name": "City", "value": "Lyon"}, {"name": "Member", "value": False}]
        response = await api.put(
            "/subscriber/set-user-fields-by-name", json={"user_ns": sam, "data": data}
        )
        assert response.json() == {"status": "ok"}
        assert await _values(api, sam) == {"City": "Lyon", "Age": None, "Member": False}

    async def test_an_item_keyed_field_name_answers_422(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        data = [{"field_name": "City", "value": "Lyon"}]
        response = await api.put(
            "/subscriber/set-user-fields-by-name", json={"user_ns": sam, "data": data}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"data.0.name": ["The data.0.name field is required."]}

    async def test_an_unknown_name_answers_422_and_changes_nothing(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        data = [{"name": "City", "value": "Lyon"}, {"name": "Shoe size", "value": 9}]
        response = await api.put(
            "/subscriber/set-user-fields-by-name", json={"user_ns": sam, "data": data}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.1.name": ["The selected data.1.name is invalid."]
        }
        assert (await _values(api, sam))["City"] is None


async def _set(api: httpx.AsyncClient, user_ns: str, **values: Any) -> None:
    data = [{"name": name, "value": value} for name, value in values.items()]
    response = await api.put(
        "/subscriber/set-user-fields-by-name", json={"user_ns": user_ns, "data": data}
    )
    assert response.json() == {"status": "ok"}


class TestClearUserField:
    async def test_clears_the_value_and_its_row(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon", Age=33)
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-field",
            json={"user_ns": sam, "var_ns": fields["City"]},
        )
        assert response.json() == {"status": "ok"}
        assert await _values(api, sam) == {"City": None, "Age": 33, "Member": None}
        assert await _stored(sessions) == [(33, "33")]

    async def test_clearing_an_empty_field_is_fine(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        response = await api.request(
            "DELETE", "/subscriber/clear-user-field", json={"user_ns": sam, "var_ns": fields["Age"]}
        )
        assert response.json() == {"status": "ok"}

    async def test_works_with_the_fields_in_the_query_string(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon")
        response = await api.delete(
            "/subscriber/clear-user-field", params={"user_ns": sam, "var_ns": fields["City"]}
        )
        assert response.json() == {"status": "ok"}
        assert (await _values(api, sam))["City"] is None

    async def test_an_unknown_field_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, sam: str
    ) -> None:
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-field",
            json={"user_ns": sam, "var_ns": f"f{tenant.bot_id}v3"},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "User field not found"}

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, fields: dict[str, str]
    ) -> None:
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-field",
            json={"user_ns": f"f{tenant.bot_id}u3", "var_ns": fields["City"]},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}


class TestClearUserFieldByName:
    async def test_clears_the_named_field_as_a_post_with_the_method_override(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon")
        response = await api.post(
            "/subscriber/clear-user-field-by-name",
            json={"user_ns": sam, "field_name": "City"},
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.json() == {"status": "ok"}
        assert (await _values(api, sam))["City"] is None

    async def test_an_unknown_name_answers_404(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-field-by-name",
            json={"user_ns": sam, "field_name": "Nope"},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "User field not found"}


class TestClearUserFields:
    async def test_clears_each_field_given_as_objects_or_plain_strings(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon", Age=33, Member=True)
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-fields",
            json={"user_ns": sam, "data": [{"var_ns": fields["City"]}, fields["Age"]]},
        )
        assert response.json() == {"status": "ok"}
        assert await _values(api, sam) == {"City": None, "Age": None, "Member": True}

    async def test_an_unknown_field_answers_422_and_clears_nothing(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon")
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-fields",
            json={"user_ns": sam, "data": [fields["City"], "f999v1"]},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.1.var_ns": ["The selected data.1.var_ns is invalid."]
        }
        assert (await _values(api, sam))["City"] == "Lyon"

    async def test_twenty_one_items_answer_422(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-fields",
            json={"user_ns": sam, "data": [fields["City"]] * 21},
        )
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["data"]


class TestClearUserFieldsByName:
    async def test_clears_the_fields_named_with_name(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon", Age=33)
        response = await api.request(
            "DELETE",
            "/subscriber/clear-user-fields-by-name",
            json={"user_ns": sam, "data": [{"name": "City"}, {"name": "Age"}]},
        )
        assert response.json() == {"status": "ok"}
        assert await _values(api, sam) == {"City": None, "Age": None, "Member": None}

    async def test_works_with_the_items_in_the_query_string(
        self, api: httpx.AsyncClient, sam: str, fields: dict[str, str]
    ) -> None:
        await _set(api, sam, City="Lyon")
        response = await api.delete(
            "/subscriber/clear-user-fields-by-name",
            params={"user_ns": sam, "data[0][name]": "City"},
        )
        assert response.json() == {"status": "ok"}
        assert (await _values(api, sam))["City"] is None


class TestValueKey:
    """The one text form of a value, shared with the `user_field_value` filter."""

    @pytest.mark.parametrize(
        ("value", "key"),
        [
            ("Lyon", "Lyon"),
            ("", ""),
            (12, "12"),
            (2.5, "2.5"),
            (True, "true"),
            (False, "false"),
            (["a", 1], '["a", 1]'),
            (["é"], '["é"]'),
            (None, None),
        ],
    )
    def test_writes_each_type_as_text(self, value: Any, key: str | None) -> None:
        assert value_key(value) == key

    def test_cuts_long_text_to_an_indexable_length(self) -> None:
        assert value_key("y" * 500) == "y" * VALUE_KEY_LENGTH
