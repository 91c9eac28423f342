"""Where and when the shop serves: locations and weekly business hours."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.keys.models import Permission

CITY = {
    "name": "City store",
    "address": "1 George St, Sydney NSW 2000",
    "note": "Pickup at the back door",
    "lat": -33.8688,
    "lng": 151.2093,
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def create_location(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/shop/locations/create", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class TestLocations:
    async def test_creates_and_answers_the_location(self, api: httpx.AsyncClient) -> None:
        made = await create_location(api, CITY)
        assert made == CITY | {"id": made["id"]}
        response = await api.get(f"/shop/locations/{made['id']}/get-info")
        assert response.json() == {"status": "ok", "data": made}

    async def test_the_note_is_optional(self, api: httpx.AsyncClient) -> None:
        made = await create_location(api, {k: v for k, v in CITY.items() if k != "note"})
        assert made["note"] is None

    async def test_required_fields(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/shop/locations/create", json={"note": "x"})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "name": ["The name field is required."],
            "address": ["The address field is required."],
            "lat": ["The lat field is required."],
            "lng": ["The lng field is required."],
        }

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            ({"lat": 91}, {"lat": ["The lat field must be between -90 and 90."]}),
            ({"lng": -180.5}, {"lng": ["The lng field must be between -180 and 180."]}),
            ({"lat": "north"}, {"lat": ["The lat field must be a number."]}),
            ({"name": " "}, {"name": ["The name field is required."]}),
        ],
    )
    async def test_refuses_bad_fields(
        self, api: httpx.AsyncClient, change: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        response = await api.post("/shop/locations/create", json=CITY | change)
        assert response.status_code == 422
        assert response.json()["errors"] == errors

    async def test_lists_with_meta_paging_and_name_filter(self, api: httpx.AsyncClient) -> None:
        city = await create_location(api, CITY)
        beach = await create_location(api, CITY | {"name": "Beach kiosk"})
        await create_location(api, CITY | {"name": "Airport store"})
        body = (await api.get("/shop/locations", params={"limit": 2})).json()
        assert body["data"] == [city, beach]
        assert body["meta"] == {
            "current_page": 1, "last_page": 2, "per_page": 2, "total": 3, "from": 1, "to": 2
        }  # fmt: skip
        stores = (await api.get("/shop/locations", params={"name": "store"})).json()["data"]
        assert [s["name"] for s in stores] == ["City store", "Airport store"]

    async def test_updates_only_the_fields_sent(self, api: httpx.AsyncClient) -> None:
        made = await create_location(api, CITY)
        url = f"/shop/locations/{made['id']}/update"
        response = await api.put(url, json={"address": "2 George St", "lat": -33.87})
        assert response.status_code == 200
        assert response.json()["data"] == made | {"address": "2 George St", "lat": -33.87}
        blank = await api.put(url, json={"address": ""})
        assert blank.status_code == 422

    async def test_deletes(self, api: httpx.AsyncClient) -> None:
        made = await create_location(api, CITY)
        response = await api.delete(f"/shop/locations/{made['id']}/delete")
        assert response.json() == {"status": "ok"}
        assert (await api.get("/shop/locations")).json()["data"] == []

    async def test_unknown_and_foreign_locations_answer_404(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await create_location(client_for(other.token), CITY)
        for location_id in (999999, theirs["id"]):
            for response in (
                await api.get(f"/shop/locations/{location_id}/get-info"),
                await api.put(f"/shop/locations/{location_id}/update", json={"name": "x"}),
                await api.delete(f"/shop/locations/{location_id}/delete"),
            ):
                assert response.status_code == 404
                assert response.json() == {"message": "Location not found"}
        assert (await api.get("/shop/locations")).json()["data"] == []

    async def test_a_key_without_manage_team_answers_403(
        self, session: AsyncSession, server_secret: bytes, tenant: Tenant, client_for: ClientFor
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        client = client_for(token)
        assert (await client.get("/shop/locations")).status_code == 403
        assert (await client.post("/shop/locations/create", json=CITY)).status_code == 403


class TestBusinessHours:
    async def test_a_new_shop_is_open_all_day_every_day(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/shop/business-hours/info")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "data": [
                {"id": str(n), "name": name, "option": "open", "start": None, "end": None,
                 "start_2": None, "end_2": None}
                for n, name in enumerate(DAYS, start=1)
            ],
        }  # fmt: skip

    async def test_changes_the_days_named_and_keeps_the_others(
        self, api: httpx.AsyncClient
    ) -> None:
        body = {
            "data": [
                {"id": "1", "name": "Monday", "option": "open_2", "start": "09:00",
                 "end": "12:30", "start_2": "13:30", "end_2": "17:00"},
                {"name": "sunday", "option": "close"},
                {"id": 6, "option": "open_1", "start": "10:00", "end": "24:00"},
            ]
        }  # fmt: skip
        response = await api.put("/shop/business-hours/update", json=body)
        assert response.status_code == 200, response.text
        days = response.json()["data"]
        assert days == (await api.get("/shop/business-hours/info")).json()["data"]
        assert days[0] == {
            "id": "1", "name": "Monday", "option": "open_2", "start": "09:00", "end": "12:30",
            "start_2": "13:30", "end_2": "17:00",
        }  # fmt: skip
        assert [d["option"] for d in days] == [
            "open_2", "open", "open", "open", "open", "open_1", "close"
        ]  # fmt: skip
        assert (days[5]["start"], days[5]["end"]) == ("10:00", "24:00")

    async def test_fields_not_sent_keep_their_values(self, api: httpx.AsyncClient) -> None:
        first = {"id": "2", "option": "open_1", "start": "08:00", "end": "16:00"}
        await api.put("/shop/business-hours/update", json={"data": [first]})
        response = await api.put(
            "/shop/business-hours/update", json={"data": [{"id": "2", "end": "18:15"}]}
        )
        tuesday = response.json()["data"][1]
        assert (tuesday["option"], tuesday["start"], tuesday["end"]) == ("open_1", "08:00", "18:15")

    async def test_each_workspace_has_its_own_hours(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await client_for(other.token).put(
            "/shop/business-hours/update", json={"data": [{"id": "1", "option": "close"}]}
        )
        days = (await api.get("/shop/business-hours/info")).json()["data"]
        assert days[0]["option"] == "open"

    @pytest.mark.parametrize(
        ("day", "errors"),
        [
            ({"option": "close"}, {"data.0.id": [
                "The data.0.id field is required when data.0.name is not present."]}),
            ({"id": "8", "option": "close"}, {"data.0.id": ["The selected data.0.id is invalid."]}),
            ({"name": "Funday"}, {"data.0.name": ["The selected data.0.name is invalid."]}),
            ({"id": "1", "name": "Tuesday"}, {"data.0.name": [
                "The data.0.name field does not match data.0.id."]}),
            ({"id": "1", "option": "sometimes"}, {"data.0.option": [
                "The selected data.0.option is invalid."]}),
            ({"id": "1", "option": "open_1", "start": "09:00"}, {"data.0.end": [
                "The data.0.end field is required when data.0.option is open_1."]}),
            ({"id": "1", "option": "open_1", "start": "09:10", "end": "10:00"}, {"data.0.start": [
                "The data.0.start field must be a time from 00:00 to 23:45 in 15-minute steps."]}),
            ({"id": "1", "option": "open_1", "start": "24:00", "end": "24:00"}, {"data.0.start": [
                "The data.0.start field must be a time from 00:00 to 23:45 in 15-minute steps."]}),
            ({"id": "1", "option": "open_1", "start": "09:00", "end": "9pm"}, {"data.0.end": [
                "The data.0.end field must be a time from 00:00 to 24:00 in 15-minute steps."]}),
            ({"id": "1", "option": "open_1", "start": "10:00", "end": "10:00"}, {"data.0.end": [
                "The data.0.end field must be a time after data.0.start."]}),
            ({"id": "1", "option": "open_2", "start": "09:00", "end": "12:00", "start_2": "11:00",
              "end_2": "17:00"}, {"data.0.start_2": [
                "The data.0.start_2 field must be a time after data.0.end."]}),
        ],
        ids=["no day", "day 8", "unknown name", "id and name disagree", "unknown option",
             "no end", "off the quarter hour", "start at midnight's end", "not a time",
             "empty span", "overlapping spans"],
    )  # fmt: skip
    async def test_refuses_hours_that_do_not_hold_together(
        self, api: httpx.AsyncClient, day: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        response = await api.put("/shop/business-hours/update", json={"data": [day]})
        assert response.status_code == 422
        assert response.json()["errors"] == errors
        days = (await api.get("/shop/business-hours/info")).json()["data"]
        assert {d["option"] for d in days} == {"open"}

    async def test_a_second_span_may_start_where_the_first_ends(
        self, api: httpx.AsyncClient
    ) -> None:
        day = {"id": "3", "option": "open_2", "start": "09:00", "end": "12:00"}
        day |= {"start_2": "12:00", "end_2": "13:00"}
        response = await api.put("/shop/business-hours/update", json={"data": [day]})
        assert response.status_code == 200

    async def test_the_same_day_twice_is_refused(self, api: httpx.AsyncClient) -> None:
        body = {"data": [{"id": "1", "option": "close"}, {"name": "Monday", "option": "open"}]}
        response = await api.put("/shop/business-hours/update", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {"data.1": ["The data.1 field repeats data.0's day."]}

    @pytest.mark.parametrize(
        ("body", "status"),
        [({}, 422), ({"data": []}, 422), ({"data": [{"id": str(n)} for n in range(8)]}, 422)],
        ids=["no data", "empty data", "eight days"],
    )
    async def test_data_holds_one_to_seven_days(
        self, api: httpx.AsyncClient, body: dict[str, Any], status: int
    ) -> None:
        response = await api.put("/shop/business-hours/update", json=body)
        assert response.status_code == status
        assert list(response.json()["errors"]) == ["data"]

    async def test_a_key_without_manage_team_answers_403(
        self, session: AsyncSession, server_secret: bytes, tenant: Tenant, client_for: ClientFor
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        client = client_for(token)
        assert (await client.get("/shop/business-hours/info")).status_code == 403
        body = {"data": [{"id": "1", "option": "close"}]}
        assert (await client.put("/shop/business-hours/update", json=body)).status_code == 403
