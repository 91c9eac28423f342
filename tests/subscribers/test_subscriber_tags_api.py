"""Tagging subscribers: by id or name, one or up to twenty at once, with tag sizes kept exact."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_subscriber, make_tag, make_tenant
from konversation.flows.models import Tag
from konversation.subscribers.models import Subscriber


def _ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


async def _tag_names(api: httpx.AsyncClient, user_ns: str) -> list[str]:
    response = await api.get("/subscriber/get-info", params={"user_ns": user_ns})
    return [t["name"] for t in response.json()["data"]["tags"]]


async def _sizes(sessions: Sessions, bot_id: int) -> dict[str, int]:
    """Each tag's kept subscriber count, read afresh."""
    async with sessions() as fresh:
        rows = await fresh.execute(
            select(Tag.name, Tag.subscriber_count).where(Tag.bot_id == bot_id)
        )
        return dict(rows.all())


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return _ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))


@pytest.fixture
async def vip(session: AsyncSession, tenant: Tenant) -> str:
    return await make_tag(session, tenant.bot_id, "VIP")


class TestAddTag:
    async def test_tags_the_subscriber_and_counts_them(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        response = await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        info = (await api.get("/subscriber/get-info", params={"user_ns": sam})).json()
        assert info["data"]["tags"] == [{"name": "VIP", "tag_ns": vip}]
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1}

    async def test_adding_a_tag_they_have_is_fine_and_counted_once(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        for _ in range(2):
            response = await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
            assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == ["VIP"]
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1}

    async def test_counts_every_subscriber_tagged(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        vip: str,
    ) -> None:
        ann = _ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        for user_ns in (sam, ann):
            await api.post("/subscriber/add-tag", json={"user_ns": user_ns, "tag_ns": vip})
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 2}

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tag", json={"user_ns": f"f{tenant.bot_id}u99", "tag_ns": vip}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_an_unknown_tag_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, sam: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tag", json={"user_ns": sam, "tag_ns": f"f{tenant.bot_id}t99"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}
        assert await _tag_names(api, sam) == []

    async def test_a_tag_of_another_bot_is_not_found_and_not_counted(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        sam: str,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await make_tag(session, other.bot_id, "VIP")
        response = await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": theirs})
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}
        assert await _sizes(sessions, other.bot_id) == {"VIP": 0}

    async def test_a_subscriber_of_another_bot_is_not_found_and_untouched(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
        vip: str,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = _ns(await make_subscriber(session, other.bot_id))
        await make_tag(session, other.bot_id, "VIP")
        response = await api.post("/subscriber/add-tag", json={"user_ns": theirs, "tag_ns": vip})
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert await _tag_names(client_for(other.token), theirs) == []

    async def test_a_missing_tag_ns_answers_422(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.post("/subscriber/add-tag", json={"user_ns": sam})
        assert response.status_code == 422
        assert response.json()["errors"] == {"tag_ns": ["The tag_ns field is required."]}


class TestAddTagByName:
    async def test_tags_the_subscriber_with_the_named_tag(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tag-by-name", json={"user_ns": sam, "tag_name": "VIP"}
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == ["VIP"]
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1}

    async def test_an_unknown_name_answers_404_and_creates_no_tag(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tag-by-name", json={"user_ns": sam, "tag_name": "Lead"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}
        assert [t["name"] for t in (await api.get("/flow/tags")).json()["data"]] == ["VIP"]

    async def test_names_match_exactly(self, api: httpx.AsyncClient, sam: str, vip: str) -> None:
        response = await api.post(
            "/subscriber/add-tag-by-name", json={"user_ns": sam, "tag_name": "vip"}
        )
        assert response.status_code == 404


class TestAddTags:
    async def test_adds_each_tag_and_counts_only_new_ones(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        vip: str,
    ) -> None:
        lead = await make_tag(session, tenant.bot_id, "Lead")
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.post(
            "/subscriber/add-tags",
            json={"user_ns": sam, "data": [{"tag_ns": vip}, {"tag_ns": lead}]},
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == ["VIP", "Lead"]
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1, "Lead": 1}

    async def test_the_same_tag_twice_in_one_call_counts_once(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tags", json={"user_ns": sam, "data": [{"tag_ns": vip}] * 2}
        )
        assert response.json() == {"status": "ok"}
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1}

    async def test_plain_strings_are_read_as_tag_ns(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        response = await api.post("/subscriber/add-tags", json={"user_ns": sam, "data": [vip]})
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == ["VIP"]

    async def test_an_unknown_item_answers_422_naming_it_and_changes_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tags",
            json={"user_ns": sam, "data": [{"tag_ns": vip}, {"tag_ns": f"f{tenant.bot_id}t99"}]},
        )
        assert response.status_code == 422
        assert response.json() == {
            "message": "The selected data.1.tag_ns is invalid.",
            "errors": {"data.1.tag_ns": ["The selected data.1.tag_ns is invalid."]},
        }
        assert await _tag_names(api, sam) == []
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0}

    async def test_an_item_without_tag_ns_answers_422(
        self, api: httpx.AsyncClient, sam: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tags", json={"user_ns": sam, "data": [{"name": "VIP"}]}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.0.tag_ns": ["The data.0.tag_ns field is required."]
        }

    async def test_twenty_one_items_answer_422_and_change_nothing(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tags", json={"user_ns": sam, "data": [{"tag_ns": vip}] * 21}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data": ["The data field must not have more than 20 items."]
        }
        assert await _tag_names(api, sam) == []

    async def test_twenty_items_are_accepted(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        tags = [await make_tag(session, tenant.bot_id, f"t{n}") for n in range(20)]
        response = await api.post("/subscriber/add-tags", json={"user_ns": sam, "data": tags})
        assert response.json() == {"status": "ok"}
        assert len(await _tag_names(api, sam)) == 20

    async def test_an_empty_list_answers_422(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.post("/subscriber/add-tags", json={"user_ns": sam, "data": []})
        assert response.status_code == 422
        assert response.json()["errors"] == {"data": ["The data field is required."]}

    async def test_a_missing_data_answers_422(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.post("/subscriber/add-tags", json={"user_ns": sam})
        assert response.status_code == 422
        assert response.json()["errors"] == {"data": ["The data field is required."]}


class TestAddTagsByName:
    async def test_adds_the_named_tags_objects_or_plain_strings(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        vip: str,
    ) -> None:
        await make_tag(session, tenant.bot_id, "Lead")
        response = await api.post(
            "/subscriber/add-tags-by-name",
            json={"user_ns": sam, "data": [{"tag_name": "Lead"}, "VIP"]},
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == ["VIP", "Lead"]
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1, "Lead": 1}

    async def test_an_unknown_name_answers_422_and_creates_nothing(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tags-by-name",
            json={"user_ns": sam, "data": [{"tag_name": "Nope"}, {"tag_name": "VIP"}]},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.0.tag_name": ["The selected data.0.tag_name is invalid."]
        }
        assert await _tag_names(api, sam) == []
        assert (await api.get("/flow/tags")).json()["meta"]["total"] == 1

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, vip: str
    ) -> None:
        response = await api.post(
            "/subscriber/add-tags-by-name",
            json={"user_ns": f"f{tenant.bot_id}u42", "data": ["VIP"]},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}


class TestRemoveTag:
    async def test_untags_the_subscriber_and_uncounts_them(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.request(
            "DELETE", "/subscriber/remove-tag", json={"user_ns": sam, "tag_ns": vip}
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == []
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0}

    async def test_removing_a_tag_they_lack_is_fine_and_counts_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        vip: str,
    ) -> None:
        ann = _ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        await api.post("/subscriber/add-tag", json={"user_ns": ann, "tag_ns": vip})
        for _ in range(2):
            response = await api.request(
                "DELETE", "/subscriber/remove-tag", json={"user_ns": sam, "tag_ns": vip}
            )
            assert response.json() == {"status": "ok"}
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1}
        assert await _tag_names(api, ann) == ["VIP"]

    async def test_an_unknown_tag_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, sam: str
    ) -> None:
        response = await api.request(
            "DELETE",
            "/subscriber/remove-tag",
            json={"user_ns": sam, "tag_ns": f"f{tenant.bot_id}t7"},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}

    async def test_works_with_the_fields_in_the_query_string(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.delete(
            "/subscriber/remove-tag", params={"user_ns": sam, "tag_ns": vip}
        )
        assert response.json() == {"status": "ok"}
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0}


class TestRemoveTagByName:
    async def test_untags_by_name_as_a_post_with_the_method_override(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.post(
            "/subscriber/remove-tag-by-name",
            json={"user_ns": sam, "tag_name": "VIP"},
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == []
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0}

    async def test_an_unknown_name_answers_404(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.request(
            "DELETE", "/subscriber/remove-tag-by-name", json={"user_ns": sam, "tag_name": "X"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}


class TestRemoveTags:
    async def test_removes_the_tags_they_have_and_ignores_the_others(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        vip: str,
    ) -> None:
        lead = await make_tag(session, tenant.bot_id, "Lead")
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.request(
            "DELETE",
            "/subscriber/remove-tags",
            json={"user_ns": sam, "data": [{"tag_ns": vip}, {"tag_ns": lead}]},
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == []
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0, "Lead": 0}

    async def test_an_unknown_item_answers_422_and_removes_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.request(
            "DELETE",
            "/subscriber/remove-tags",
            json={"user_ns": sam, "data": [vip, "f999t1"]},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.1.tag_ns": ["The selected data.1.tag_ns is invalid."]
        }
        assert await _tag_names(api, sam) == ["VIP"]
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 1}

    async def test_works_with_the_items_in_the_query_string(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.delete(
            "/subscriber/remove-tags", params={"user_ns": sam, "data[0][tag_ns]": vip}
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == []

    async def test_twenty_one_items_answer_422(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        response = await api.request(
            "DELETE", "/subscriber/remove-tags", json={"user_ns": sam, "data": [vip] * 21}
        )
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["data"]


class TestRemoveTagsByName:
    async def test_removes_the_named_tags(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.request(
            "DELETE",
            "/subscriber/remove-tags-by-name",
            json={"user_ns": sam, "data": [{"tag_name": "VIP"}]},
        )
        assert response.json() == {"status": "ok"}
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0}

    async def test_plain_strings_in_the_query_string_work_too(
        self, api: httpx.AsyncClient, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tag", json={"user_ns": sam, "tag_ns": vip})
        response = await api.delete(
            "/subscriber/remove-tags-by-name", params={"user_ns": sam, "data[]": "VIP"}
        )
        assert response.json() == {"status": "ok"}
        assert await _tag_names(api, sam) == []

    async def test_an_unknown_name_answers_422(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.request(
            "DELETE", "/subscriber/remove-tags-by-name", json={"user_ns": sam, "data": ["Nope"]}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.0.tag_name": ["The selected data.0.tag_name is invalid."]
        }


class TestTagSizes:
    async def test_deleting_a_tagged_subscriber_uncounts_them(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, vip: str
    ) -> None:
        await api.post("/subscriber/add-tags-by-name", json={"user_ns": sam, "data": ["VIP"]})
        await api.request("DELETE", "/subscriber/delete", json={"user_ns": sam})
        assert await _sizes(sessions, tenant.bot_id) == {"VIP": 0}
