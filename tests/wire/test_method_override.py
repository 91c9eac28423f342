"""DELETE as clients really send it: with a JSON body, as a POST override, or in the query."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_tag
from konversation.wire.override import nest_query


async def _tag_names(api: httpx.AsyncClient) -> list[str]:
    return [t["name"] for t in (await api.get("/flow/tags")).json()["data"]]


class TestDeleteThreeWays:
    async def test_a_real_delete_with_a_json_body(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_tag(session, tenant.bot_id, "VIP")
        response = await api.request("DELETE", "/flow/delete-tag-by-name", json={"name": "VIP"})
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api) == []

    async def test_a_post_with_the_method_override_header(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_tag(session, tenant.bot_id, "VIP")
        response = await api.post(
            "/flow/delete-tag-by-name",
            json={"name": "VIP"},
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api) == []

    async def test_a_delete_with_the_fields_in_the_query_string(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        tag_ns = await make_tag(session, tenant.bot_id, "VIP")
        response = await api.delete("/flow/delete-tag", params={"tag_ns": tag_ns})
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api) == []

    async def test_a_body_wins_over_the_query_string(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_tag(session, tenant.bot_id, "Keep")
        await make_tag(session, tenant.bot_id, "Drop")
        response = await api.request(
            "DELETE", "/flow/delete-tag-by-name", params={"name": "Keep"}, json={"name": "Drop"}
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api) == ["Keep"]

    async def test_a_post_override_to_put_reaches_the_put_route(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/flow/set-bot-field-by-name",
            json={"name": "nope", "value": 1},
            headers={"X-HTTP-Method-Override": "PUT"},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Bot field not found"}

    async def test_a_delete_with_no_fields_at_all_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.delete("/flow/delete-tag")
        assert response.status_code == 422
        assert response.json()["message"]


class TestNestQuery:
    @pytest.mark.parametrize(
        ("query", "nested"),
        [
            ("a=1", {"a": "1"}),
            ("tags[]=x&tags[]=y", {"tags": ["x", "y"]}),
            ("tags%5B%5D=x", {"tags": ["x"]}),
            (
                "data[0][tag_ns]=f1t1&data[1][tag_ns]=f1t2",
                {"data": [{"tag_ns": "f1t1"}, {"tag_ns": "f1t2"}]},
            ),
            ("user[name]=Sam&user[age]=3", {"user": {"name": "Sam", "age": "3"}}),
        ],
    )
    def test_reads_php_style_keys(self, query: str, nested: dict[str, object]) -> None:
        assert nest_query(query) == nested
