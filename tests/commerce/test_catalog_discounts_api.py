"""Discount codes: percentage, fixed amount or free shipping, within a window, by id or code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.commerce.models import DiscountCode
from konversation.db import session_scope
from konversation.keys.models import Permission
from konversation.workspaces.models import Workspace

TEN_OFF = {
    "code": "XMAS10",
    "type": "percentage",
    "discount_percentage": 10,
    "start_time": "2026-12-25 00:00:00",
    "end_time": "2026-12-27 00:00:00",
}

FIVE_OFF = {
    "code": "FIVER",
    "type": "amount",
    "discount_amount": 5.05,
    "once_per_order": 1,
    "min_require": "price",
    "min_price": "50",
    "has_usage_limit": 1,
    "max_usage_count": 100,
    "one_per_customer": 1,
    "start_time": "2026-01-01 09:30:00",
    "end_time": "2026-02-01 00:00:00",
}


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/shop/discount-codes/create", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def refused(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, list[str]]:
    response = await api.post("/shop/discount-codes/create", json=body)
    assert response.status_code == 422, response.text
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


async def set_workspace(sessions: Sessions, tenant: Tenant, **values: str) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            update(Workspace).where(Workspace.id == tenant.workspace_id).values(**values)
        )


class TestCreate:
    async def test_a_percentage_code(self, api: httpx.AsyncClient) -> None:
        code = await create(api, TEN_OFF)
        assert code == {
            "id": code["id"],
            "code": "XMAS10",
            "type": "percentage",
            "discount_percentage": 10,
            "discount_amount": 0.0,
            "once_per_order": 0,
            "min_require": "none",
            "min_price": 0.0,
            "min_qty": 0,
            "has_usage_limit": 0,
            "max_usage_count": 0,
            "usage_count": 0,
            "one_per_customer": 0,
            "start_time": "2026-12-25 00:00:00",
            "end_time": "2026-12-27 00:00:00",
            "summary": "10% off the order; valid from 2026-12-25 00:00:00 to 2026-12-27 00:00:00",
        }

    async def test_an_amount_code_with_every_condition(self, api: httpx.AsyncClient) -> None:
        code = await create(api, FIVE_OFF)
        assert code["discount_amount"] == 5.05
        assert (code["min_require"], code["min_price"]) == ("price", 50.0)
        assert (code["has_usage_limit"], code["max_usage_count"]) == (1, 100)
        assert (code["once_per_order"], code["one_per_customer"]) == (1, 1)
        assert code["summary"] == (
            "5.05 USD off the order; minimum purchase of 50.00 USD; limited to 100 uses; "
            "one use per customer; valid from 2026-01-01 09:30:00 to 2026-02-01 00:00:00"
        )

    async def test_a_free_shipping_code_with_a_minimum_quantity(
        self, api: httpx.AsyncClient
    ) -> None:
        body = TEN_OFF | {"code": "SHIPFREE", "type": "free_shipping", "min_require": "qty"}
        code = await create(api, body | {"min_qty": 3})
        assert (code["type"], code["discount_percentage"], code["min_qty"]) == (
            "free_shipping",
            0,
            3,
        )
        assert code["summary"].startswith("free shipping; minimum of 3 items; valid from")

    async def test_stores_minor_units(self, api: httpx.AsyncClient, session: AsyncSession) -> None:
        code = await create(api, FIVE_OFF)
        stored = await session.get(DiscountCode, code["id"])
        assert stored is not None
        assert (stored.discount_amount_minor, stored.min_price_minor) == (505, 5000)

    async def test_times_are_read_in_the_workspace_timezone(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, session: AsyncSession
    ) -> None:
        await set_workspace(sessions, tenant, timezone="Australia/Sydney")
        code = await create(api, TEN_OFF | {"start_time": "2026-01-01 00:00:00"})
        assert code["start_time"] == "2026-01-01 00:00:00"
        stored = await session.get(DiscountCode, code["id"])
        assert stored is not None
        assert stored.start_time == dt.datetime(2025, 12, 31, 13, 0, tzinfo=dt.UTC)

    async def test_amounts_follow_the_workspace_currency(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
    ) -> None:
        await set_workspace(sessions, tenant, currency="JPY")
        code = await create(api, FIVE_OFF | {"discount_amount": 500, "min_price": 3000})
        assert code["summary"].startswith("500 JPY off the order; minimum purchase of 3000 JPY")

    async def test_a_code_in_use_answers_422(self, api: httpx.AsyncClient) -> None:
        await create(api, TEN_OFF)
        assert await refused(api, TEN_OFF) == {"code": ["The code has already been taken."]}

    async def test_another_workspace_may_use_the_same_code(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await create(client_for(other.token), TEN_OFF)
        await create(api, TEN_OFF)

    async def test_required_fields(self, api: httpx.AsyncClient) -> None:
        assert await refused(api, {}) == {
            "code": ["The code field is required."],
            "type": ["The type field is required."],
            "start_time": ["The start_time field is required."],
            "end_time": ["The end_time field is required."],
        }

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            ({"code": "  "}, {"code": ["The code field is required."]}),
            ({"type": "bogo"}, {"type": ["The selected type is invalid."]}),
            (
                {"discount_percentage": None},
                {"discount_percentage": [
                    "The discount_percentage field is required when type is percentage."
                ]},
            ),
            (
                {"discount_percentage": 101},
                {"discount_percentage": ["The discount_percentage field must be at most 100."]},
            ),
            (
                {"type": "amount"},
                {"discount_amount": ["The discount_amount field is required when type is amount."]},
            ),
            (
                {"min_require": "price"},
                {"min_price": ["The min_price field is required when min_require is price."]},
            ),
            (
                {"min_require": "qty", "min_qty": 0},
                {"min_qty": ["The min_qty field is required when min_require is qty."]},
            ),
            (
                {"min_require": "some"},
                {"min_require": ["The selected min_require is invalid."]},
            ),
            (
                {"has_usage_limit": 1},
                {"max_usage_count": [
                    "The max_usage_count field is required when has_usage_limit is 1."
                ]},
            ),
            (
                {"start_time": "25/12/2026"},
                {"start_time": ["The start_time field must match the format Y-m-d H:i:s."]},
            ),
            (
                {"end_time": "2026-12-24 23:59:59"},
                {"end_time": ["The end_time field must be a date after start_time."]},
            ),
            (
                {"discount_amount": -5, "type": "amount"},
                {"discount_amount": ["The discount_amount field must be at least 0."]},
            ),
        ],
        ids=["blank code", "unknown type", "no percentage", "over 100%", "no amount",
             "no min price", "no min qty", "unknown min_require", "no max usage", "bad time",
             "ends before it starts", "negative amount"],
    )  # fmt: skip
    async def test_refuses_a_code_that_does_not_hold_together(
        self, api: httpx.AsyncClient, change: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        assert await refused(api, TEN_OFF | change) == errors

    async def test_the_iso_t_separator_is_accepted(self, api: httpx.AsyncClient) -> None:
        code = await create(api, TEN_OFF | {"start_time": "2026-12-25T08:00:00"})
        assert code["start_time"] == "2026-12-25 08:00:00"


class TestList:
    async def test_lists_codes_with_meta_and_filters_by_code(self, api: httpx.AsyncClient) -> None:
        first = await create(api, TEN_OFF)
        second = await create(api, FIVE_OFF)
        body = (await api.get("/shop/discount-codes")).json()
        assert body["data"] == [first, second]
        assert body["meta"] == {
            "current_page": 1, "last_page": 1, "per_page": 10, "total": 2, "from": 1, "to": 2
        }  # fmt: skip
        filtered = (await api.get("/shop/discount-codes", params={"code": "mas"})).json()
        assert [c["code"] for c in filtered["data"]] == ["XMAS10"]

    async def test_honours_limit_and_page(self, api: httpx.AsyncClient) -> None:
        for n in range(3):
            await create(api, TEN_OFF | {"code": f"C{n}"})
        body = (await api.get("/shop/discount-codes", params={"limit": 1, "page": 3})).json()
        assert [c["code"] for c in body["data"]] == ["C2"]
        assert body["meta"]["last_page"] == 3

    async def test_shows_only_the_keys_workspace(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await create(client_for(other.token), TEN_OFF)
        assert (await api.get("/shop/discount-codes")).json()["data"] == []

    async def test_a_key_without_manage_team_answers_403(
        self, session: AsyncSession, server_secret: bytes, tenant: Tenant, client_for: ClientFor
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        client = client_for(token)
        for response in (
            await client.get("/shop/discount-codes"),
            await client.post("/shop/discount-codes/create", json=TEN_OFF),
            await client.get("/shop/discount-codes/get-info-by-code", params={"code": "X"}),
            await client.delete("/shop/discount-codes/delete-by-code", params={"code": "X"}),
        ):
            assert response.status_code == 403


class TestGetInfo:
    async def test_by_id_and_by_code(self, api: httpx.AsyncClient) -> None:
        code = await create(api, TEN_OFF)
        by_id = await api.get(f"/shop/discount-codes/{code['id']}/get-info")
        assert by_id.status_code == 200
        assert by_id.json() == {"status": "ok", "data": code}
        by_code = await api.get("/shop/discount-codes/get-info-by-code", params={"code": "XMAS10"})
        assert by_code.json() == {"status": "ok", "data": code}

    async def test_unknown_codes_answer_404(self, api: httpx.AsyncClient) -> None:
        await create(api, TEN_OFF)
        for response in (
            await api.get("/shop/discount-codes/999999/get-info"),
            await api.get("/shop/discount-codes/get-info-by-code", params={"code": "xmas10"}),
        ):
            assert response.status_code == 404
            assert response.json() == {"message": "Discount code not found"}

    async def test_by_code_needs_the_code(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/shop/discount-codes/get-info-by-code")
        assert response.status_code == 422
        assert response.json()["errors"] == {"code": ["The code field is required."]}

    async def test_another_workspaces_code_answers_404(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await create(client_for(other.token), TEN_OFF)
        assert (await api.get(f"/shop/discount-codes/{theirs['id']}/get-info")).status_code == 404
        response = await api.get("/shop/discount-codes/get-info-by-code", params={"code": "XMAS10"})
        assert response.status_code == 404


class TestUpdate:
    async def test_changes_only_the_fields_sent(self, api: httpx.AsyncClient) -> None:
        code = await create(api, FIVE_OFF)
        response = await api.put(
            f"/shop/discount-codes/{code['id']}/update",
            json={"discount_amount": "7.50", "end_time": "2026-03-01 00:00:00"},
        )
        assert response.status_code == 200, response.text
        changed = response.json()["data"]
        assert (changed["discount_amount"], changed["end_time"]) == (7.5, "2026-03-01 00:00:00")
        same = {k: v for k, v in changed.items() if k not in {"discount_amount", "end_time"}}
        assert same == {k: v for k, v in code.items() if k in same} | {"summary": same["summary"]}
        assert changed["max_usage_count"] == 100

    async def test_changing_the_type_needs_the_new_types_setting(
        self, api: httpx.AsyncClient
    ) -> None:
        code = await create(api, TEN_OFF)
        url = f"/shop/discount-codes/{code['id']}/update"
        refused = await api.put(url, json={"type": "amount"})
        assert refused.status_code == 422
        assert list(refused.json()["errors"]) == ["discount_amount"]
        changed = (await api.put(url, json={"type": "amount", "discount_amount": 3})).json()
        assert (changed["data"]["discount_amount"], changed["data"]["discount_percentage"]) == (
            3.0,
            0,
        )

    async def test_renaming_to_a_code_in_use_answers_422(self, api: httpx.AsyncClient) -> None:
        await create(api, TEN_OFF)
        code = await create(api, FIVE_OFF)
        url = f"/shop/discount-codes/{code['id']}/update"
        response = await api.put(url, json={"code": "XMAS10"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"code": ["The code has already been taken."]}
        assert (await api.put(url, json={"code": "FIVER"})).status_code == 200

    async def test_the_window_must_stay_in_order(self, api: httpx.AsyncClient) -> None:
        code = await create(api, TEN_OFF)
        response = await api.put(
            f"/shop/discount-codes/{code['id']}/update", json={"start_time": "2027-01-01 00:00:00"}
        )
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["end_time"]

    async def test_an_unknown_code_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.put("/shop/discount-codes/999999/update", json={"code": "X"})
        assert response.status_code == 404


class TestDelete:
    async def test_by_id(self, api: httpx.AsyncClient) -> None:
        code = await create(api, TEN_OFF)
        kept = await create(api, FIVE_OFF)
        response = await api.delete(f"/shop/discount-codes/{code['id']}/delete")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert (await api.get("/shop/discount-codes")).json()["data"] == [kept]

    async def test_by_code(self, api: httpx.AsyncClient) -> None:
        await create(api, TEN_OFF)
        response = await api.delete(
            "/shop/discount-codes/delete-by-code", params={"code": "XMAS10"}
        )
        assert response.status_code == 200
        assert (await api.get("/shop/discount-codes")).json()["data"] == []

    async def test_by_code_through_the_method_override(self, api: httpx.AsyncClient) -> None:
        await create(api, TEN_OFF)
        response = await api.post(
            "/shop/discount-codes/delete-by-code?code=XMAS10",
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.status_code == 200
        assert (await api.get("/shop/discount-codes")).json()["data"] == []

    async def test_unknown_codes_answer_404(self, api: httpx.AsyncClient) -> None:
        for response in (
            await api.delete("/shop/discount-codes/999999/delete"),
            await api.delete("/shop/discount-codes/delete-by-code", params={"code": "NOPE"}),
        ):
            assert response.status_code == 404
            assert response.json() == {"message": "Discount code not found"}

    async def test_by_code_needs_the_code(self, api: httpx.AsyncClient) -> None:
        response = await api.delete("/shop/discount-codes/delete-by-code")
        assert response.status_code == 422
