"""The Ticket List group: boards with typed columns, items tied to subscribers, filtered lists
and the change log, for keys with Manage Team; another workspace's lists stay out of reach."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import (
    ClientFor,
    Sessions,
    Tenant,
    make_bot,
    make_member,
    make_subscriber,
    make_tenant,
)
from konversation.tickets.models import Ticket, TicketChange
from konversation.workspaces.models import Role

COLUMNS = [
    {"name": "Status", "type": "select", "options": [{"name": "Open"}, {"name": "Closed"}]},
    {"name": "Order", "type": "text"},
    {"name": "Due", "type": "date"},
    {"name": "Follow up", "type": "datetime"},
    {"name": "Amount", "type": "number"},
    {"name": "Score", "type": "rating"},
    {"name": "Agent", "type": "assignee"},
]


async def _board(api: httpx.AsyncClient, name: str = "Support") -> dict[str, Any]:
    response = await api.post("/team/ticket-lists/create", json={"name": name, "columns": COLUMNS})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _user_ns(session: AsyncSession, bot_id: int, name: str = "Sam Subscriber") -> str:
    subscriber = await make_subscriber(session, bot_id, name=name)
    return f"f{bot_id}u{subscriber.number}"


async def _open(api: httpx.AsyncClient, list_id: int, **body: Any) -> httpx.Response:
    return await api.post(f"/team/ticket-lists/{list_id}/create", json=body)


async def _count(session: AsyncSession, model: type[Ticket] | type[TicketChange]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestBoards:
    async def test_a_board_gets_typed_columns_in_the_next_free_keys(
        self, api: httpx.AsyncClient
    ) -> None:
        board = await _board(api)
        assert [(c["key"], c["name"], c["type"]) for c in board["columns"]] == [
            ("select1", "Status", "select"),
            ("text1", "Order", "text"),
            ("date1", "Due", "date"),
            ("datetime1", "Follow up", "datetime"),
            ("number1", "Amount", "number"),
            ("rating1", "Score", "rating"),
            ("assignee", "Agent", "assignee"),
        ]
        assert board["columns"][0]["options"] == [
            {"option_key": 1, "option_code": "open", "name": "Open"},
            {"option_key": 2, "option_code": "closed", "name": "Closed"},
        ]
        listed = (await api.get("/team/ticket-lists", params={"name": "supp"})).json()
        assert [(b["id"], b["name"], b["is_live"]) for b in listed["data"]] == [
            (board["id"], "Support", 1)
        ]
        assert listed["meta"]["total"] == 1
        fields = (await api.get(f"/team/ticket-lists/{board['id']}/fields")).json()["data"]
        assert [f["key"] for f in fields] == [
            "title", "description", "select1", "text1", "date1", "datetime1", "number1",
            "rating1", "assignee",
        ]  # fmt: skip

    @pytest.mark.parametrize(
        ("columns", "field"),
        [
            ([{"name": "Status", "type": "select"}], "columns.0.options"),
            ([{"name": "A", "type": "date"}, {"name": "a", "type": "text"}], "columns.1.name"),
            ([{"name": f"D{n}", "type": "date"} for n in range(3)], "columns.2.type"),
        ],
        ids=["select without options", "same name twice", "too many dates"],
    )
    async def test_a_board_that_cannot_be_made_is_refused_whole(
        self, api: httpx.AsyncClient, columns: list[dict[str, Any]], field: str
    ) -> None:
        response = await api.post(
            "/team/ticket-lists/create", json={"name": "Bad", "columns": columns}
        )
        assert response.status_code == 422
        assert field in response.json()["errors"]
        assert (await api.get("/team/ticket-lists")).json()["data"] == []

    async def test_a_name_in_use_is_refused(self, api: httpx.AsyncClient) -> None:
        await _board(api)
        response = await api.post("/team/ticket-lists/create", json={"name": "Support"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": ["The name has already been taken."]}

    async def test_deleting_a_board_takes_its_items(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        assert (await _open(api, board["id"], title="T", user_ns=user_ns)).status_code == 200
        assert (await api.delete(f"/team/ticket-lists/{board['id']}/delete")).status_code == 200
        assert (await api.get(f"/team/ticket-lists/{board['id']}/items")).status_code == 404
        assert await _count(session, Ticket) == 0


class TestItems:
    async def test_an_item_is_opened_with_typed_values_and_listed(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        response = await _open(
            api,
            board["id"],
            title="Parcel missing",
            user_ns=user_ns,
            description="Not arrived",
            select1="open",
            text1="1001",
            date1="2024-10-15",
            datetime1="2024-10-15T09:30:00Z",
            number1=42,
            rating1=4,
            assignee=tenant.owner_id,
        )
        assert response.status_code == 200, response.text
        item = response.json()["data"]
        assert item["values"] == {
            "select1": "open",
            "text1": "1001",
            "date1": "2024-10-15",
            "datetime1": "2024-10-15T09:30:00+00:00",
            "number1": 42,
            "rating1": 4,
            "assignee": tenant.owner_id,
        }
        assert (item["user_ns"], item["flow_ns"], item["title"]) == (
            user_ns,
            tenant.flow_ns,
            "Parcel missing",
        )
        listed = (await api.get(f"/team/ticket-lists/{board['id']}/items")).json()
        assert [i["id"] for i in listed["data"]] == [item["id"]]

    async def test_the_list_filters_by_title_bot_and_subscriber(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        board = await _board(api)
        other_bot = await make_bot(session, tenant.workspace_id, name="Second")
        sam = await _user_ns(session, tenant.bot_id)
        kim = await _user_ns(session, other_bot, name="Kim Other")
        for title, user_ns in (("Refund", sam), ("Parcel", sam), ("Refund late", kim)):
            assert (await _open(api, board["id"], title=title, user_ns=user_ns)).status_code == 200

        async def titles(**params: str) -> list[str]:
            url = f"/team/ticket-lists/{board['id']}/items"
            return [i["title"] for i in (await api.get(url, params=params)).json()["data"]]

        assert await titles() == ["Refund late", "Parcel", "Refund"]
        assert await titles(title="refund") == ["Refund late", "Refund"]
        assert await titles(flow_ns=f"f{other_bot}") == ["Refund late"]
        assert await titles(user_ns=sam) == ["Parcel", "Refund"]
        assert await titles(user_ns="nobody") == []

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"date1": "15/10/2024"}, "date1"),
            ({"datetime1": "soon"}, "datetime1"),
            ({"select1": "pending"}, "select1"),
            ({"rating1": 9}, "rating1"),
            ({"assignee": 999_999}, "assignee"),
            ({"text3": "no such column"}, "text3"),
            ({"title": ""}, "title"),
        ],
    )
    async def test_a_value_that_does_not_fit_its_column_writes_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        values: dict[str, Any],
        field: str,
    ) -> None:
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        body = {"title": "T", "user_ns": user_ns, "text1": "kept?", **values}
        response = await _open(api, board["id"], **body)
        assert response.status_code == 422, response.text
        assert list(response.json()["errors"]) == [field]
        assert isinstance(response.json()["message"], str)
        assert (await _count(session, Ticket), await _count(session, TicketChange)) == (0, 0)

    async def test_an_assignee_of_another_workspace_is_refused(
        self, api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant,
        server_secret: bytes,
    ) -> None:  # fmt: skip
        stranger = await make_tenant(sessions, server_secret)
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        response = await _open(api, board["id"], title="T", user_ns=user_ns)
        item_id = response.json()["data"]["id"]
        url = f"/team/ticket-lists/{board['id']}/update/{item_id}"
        refused = await api.put(url, json={"assignee": stranger.owner_id})
        assert refused.status_code == 422
        assert refused.json()["errors"] == {
            "assignee": ["The assignee field must be the id of a member of the workspace."]
        }
        member = await make_member(session, tenant, name="Ann Agent", role=Role.AGENT)
        accepted = await api.put(url, json={"assignee": member})
        assert accepted.json()["data"]["values"]["assignee"] == member

    async def test_an_update_changes_only_what_is_sent_and_a_delete_removes(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        opened = await _open(api, board["id"], title="T", user_ns=user_ns, text1="a", select1=1)
        item_id = opened.json()["data"]["id"]
        url = f"/team/ticket-lists/{board['id']}/update/{item_id}"
        changed = await api.put(url, json={"select1": "closed", "text1": None})
        assert changed.status_code == 200
        assert changed.json()["data"]["values"]["select1"] == "closed"
        assert changed.json()["data"]["values"]["text1"] is None
        assert changed.json()["data"]["title"] == "T"
        gone = await api.delete(f"/team/ticket-lists/{board['id']}/delete/{item_id}")
        assert gone.json() == {"status": "ok"}
        again = await api.delete(f"/team/ticket-lists/{board['id']}/delete/{item_id}")
        assert again.status_code == 404

    async def test_a_subscriber_of_another_workspace_is_not_found(
        self, api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions,
        server_secret: bytes,
    ) -> None:  # fmt: skip
        stranger = await make_tenant(sessions, server_secret)
        board = await _board(api)
        their_ns = await _user_ns(session, stranger.bot_id)
        response = await _open(api, board["id"], title="T", user_ns=their_ns)
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}


class TestChangeLog:
    async def test_every_column_change_is_logged_with_who_when_old_and_new(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        opened = await _open(api, board["id"], title="T", user_ns=user_ns, select1="open")
        item_id = opened.json()["data"]["id"]
        url = f"/team/ticket-lists/{board['id']}/update/{item_id}"
        await api.put(url, json={"select1": "closed", "title": "T"})  # the title is unchanged
        log = f"/team/ticket-lists/{board['id']}/log-data"

        rows = (await api.get(log)).json()["data"]
        assert [(r["action"], r["column_name"], r["old_value"], r["value"]) for r in rows] == [
            ("update", "select1", 1, 2),
            ("create", "select1", None, 1),
            ("create", "title", None, "T"),
        ]
        assert {(r["actor_type"], r["actor"], r["user_ns"], r["list_item_id"]) for r in rows} == {
            ("api_key", "test key", user_ns, item_id)
        }
        assert all(r["created_at"] for r in rows)

        async def columns(**params: Any) -> list[str | None]:
            return [r["column_name"] for r in (await api.get(log, params=params)).json()["data"]]

        assert await columns(column_name="title") == ["title"]
        assert await columns(limit=1) == ["select1"]
        assert await columns(list_item_id=item_id + 1) == []
        assert await columns(user_ns="f1u999999") == []
        assert await columns(flow_ns=tenant.flow_ns, start_time=0) == [
            "select1", "select1", "title"
        ]  # fmt: skip
        assert await columns(end_time=0) == []
        refused = await api.get(log, params={"start_time": 10, "end_time": 5})
        assert refused.status_code == 422

    async def test_the_log_outlives_a_deleted_item(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        board = await _board(api)
        user_ns = await _user_ns(session, tenant.bot_id)
        opened = await _open(api, board["id"], title="T", user_ns=user_ns)
        item_id = opened.json()["data"]["id"]
        await api.delete(f"/team/ticket-lists/{board['id']}/delete/{item_id}")
        rows = (await api.get(f"/team/ticket-lists/{board['id']}/log-data")).json()["data"]
        assert [(r["action"], r["column_name"]) for r in rows] == [
            ("delete", None),
            ("create", "title"),
        ]


async def test_another_workspaces_lists_and_items_answer_404(
    api: httpx.AsyncClient,
    client_for: ClientFor,
    session: AsyncSession,
    sessions: Sessions,
    server_secret: bytes,
) -> None:
    stranger = await make_tenant(sessions, server_secret)
    theirs = client_for(stranger.token)
    board = await _board(theirs, name="Their board")
    user_ns = await _user_ns(session, stranger.bot_id)
    item_id = (await _open(theirs, board["id"], title="Secret", user_ns=user_ns)).json()["data"]
    base = f"/team/ticket-lists/{board['id']}"
    calls = [
        api.get(f"{base}/fields"),
        api.get(f"{base}/items"),
        api.get(f"{base}/log-data"),
        api.post(f"{base}/create", json={"title": "Mine", "user_ns": user_ns}),
        api.put(f"{base}/update/{item_id['id']}", json={"title": "Changed"}),
        api.delete(f"{base}/delete/{item_id['id']}"),
        api.delete(f"{base}/delete"),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
    assert (await api.get("/team/ticket-lists")).json()["data"] == []
    items = (await theirs.get(f"{base}/items")).json()["data"]
    assert [i["title"] for i in items] == ["Secret"]
