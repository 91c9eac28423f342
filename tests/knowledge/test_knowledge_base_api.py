"""The OpenAI group's rows: a workspace keeps its knowledge as headed texts, each embedded as it
is written once OpenAI is connected; a write the service refuses changes nothing, headings are
unique, and imports report what they added, changed and left alone."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from knowledge_support import connect_openai, create, rows
from sqlalchemy import select

from builders import ClientFor, Sessions, make_tenant
from fake_openai import API_KEY, FakeOpenAI, bag_of_words
from konversation.db import session_scope
from konversation.knowledge.models import KnowledgeRow
from konversation.knowledge.search import unpack

HOURS = ("Opening hours", "We are open from 9:00 to 18:00, Monday to Friday.")
RETURNS = ("Returns", "You can return any item within 30 days for a full refund.")


async def _stored(sessions: Sessions) -> list[KnowledgeRow]:
    async with session_scope(sessions) as session:
        return list(await session.scalars(select(KnowledgeRow).order_by(KnowledgeRow.id)))


async def test_rows_are_listed_filtered_and_read_back(api: httpx.AsyncClient) -> None:
    hours = await create(api, *HOURS, type="faq")
    await create(api, *RETURNS)

    assert [r["heading"] for r in await rows(api)] == ["Opening hours", "Returns"]
    assert [r["heading"] for r in await rows(api, heading="HOURS")] == ["Opening hours"]
    assert [r["heading"] for r in await rows(api, text="refund")] == ["Returns"]
    listed = await api.get("/openai-embeddings", params={"limit": 1, "page": 2})
    assert listed.json()["meta"]["total"] == 2
    assert [r["heading"] for r in listed.json()["data"]] == ["Returns"]

    info = await api.get(f"/openai-embeddings/{hours['id']}/get-info")
    assert info.status_code == 200
    assert info.json() == {
        "status": "ok",
        "data": {
            "id": hours["id"],
            "type": "faq",
            "heading": HOURS[0],
            "text": HOURS[1],
            "embedded": False,  # no OpenAI integration: stored, not yet searchable
        },
    }


async def test_a_row_written_once_openai_is_connected_is_embedded_at_once(
    api: httpx.AsyncClient, connected: FakeOpenAI, sessions: Sessions
) -> None:
    made = await create(api, *HOURS)

    assert made["embedded"] is True
    [call] = connected.calls_to("/v1/embeddings")
    assert call.headers["authorization"] == f"Bearer {API_KEY}"
    assert call.body["input"] == [f"{HOURS[0]}\n{HOURS[1]}"]
    [row] = await _stored(sessions)
    assert row.embedding is not None
    assert np.allclose(unpack(row.embedding), bag_of_words(f"{HOURS[0]}\n{HOURS[1]}"))


async def test_a_write_the_service_refuses_answers_400_and_stores_nothing(
    api: httpx.AsyncClient, fake_openai: FakeOpenAI, sessions: Sessions
) -> None:
    await connect_openai(api, fake_openai, api_key="sk-wrong-key-000000")

    refused = await api.post(
        "/openai-embeddings/create", json={"heading": HOURS[0], "text": HOURS[1]}
    )

    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "The OpenAI service answered 401: Incorrect API key provided."
    )
    assert await _stored(sessions) == []


async def test_an_update_changes_what_is_given_and_embeds_new_wording_only(
    api: httpx.AsyncClient, connected: FakeOpenAI, sessions: Sessions
) -> None:
    made = await create(api, *HOURS)
    connected.reset()

    retyped = await api.put(f"/openai-embeddings/{made['id']}/update", json={"type": "hours"})
    assert retyped.json()["data"]["type"] == "hours"
    assert connected.calls_to("/v1/embeddings") == []  # same wording, same embedding

    reworded = await api.put(
        f"/openai-embeddings/{made['id']}/update", json={"text": "Open 8:00 to 20:00 daily."}
    )
    assert reworded.status_code == 200
    assert reworded.json()["data"] == {
        "id": made["id"],
        "type": "hours",
        "heading": HOURS[0],
        "text": "Open 8:00 to 20:00 daily.",
        "embedded": True,
    }
    [call] = connected.calls_to("/v1/embeddings")
    assert call.body["input"] == [f"{HOURS[0]}\nOpen 8:00 to 20:00 daily."]
    [row] = await _stored(sessions)
    assert row.embedding is not None
    assert np.allclose(unpack(row.embedding), bag_of_words(call.body["input"][0]))


async def test_headings_are_unique_in_the_workspace(api: httpx.AsyncClient) -> None:
    await create(api, *HOURS)
    returns = await create(api, *RETURNS)

    again = await api.post("/openai-embeddings/create", json={"heading": HOURS[0], "text": "x"})
    renamed = await api.put(
        f"/openai-embeddings/{returns['id']}/update", json={"heading": HOURS[0]}
    )

    for refused in (again, renamed):
        assert refused.status_code == 422
        assert refused.json()["errors"] == {"heading": ["The heading has already been taken."]}
    assert [r["heading"] for r in await rows(api)] == ["Opening hours", "Returns"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "No heading"}, "heading"),
        ({"heading": "No text"}, "text"),
        ({"heading": "x" * 51, "text": "Heading too long"}, "heading"),
        ({"heading": "Text too long", "text": "x" * 1001}, "text"),
        ({"heading": "   ", "text": "Blank heading"}, "heading"),
    ],
)
async def test_a_row_that_does_not_fit_is_refused(
    api: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    refused = await api.post("/openai-embeddings/create", json=body)

    assert refused.status_code == 422
    assert field in refused.json()["errors"]
    assert await rows(api) == []


async def test_a_deleted_row_is_gone_and_unknown_rows_are_not_found(
    api: httpx.AsyncClient, sessions: Sessions, client_for: ClientFor, server_secret: bytes
) -> None:
    made = await create(api, *HOURS)
    other = await make_tenant(sessions, server_secret, email="other@example.com")
    outsider = client_for(other.token)

    assert (await outsider.get(f"/openai-embeddings/{made['id']}/get-info")).status_code == 404
    assert (await outsider.delete(f"/openai-embeddings/{made['id']}/delete")).status_code == 404
    deleted = await api.delete(f"/openai-embeddings/{made['id']}/delete")
    assert deleted.json() == {"status": "ok"}

    for gone in (
        await api.get(f"/openai-embeddings/{made['id']}/get-info"),
        await api.put(f"/openai-embeddings/{made['id']}/update", json={"text": "x"}),
        await api.delete(f"/openai-embeddings/{made['id']}/delete"),
        await api.get("/openai-embeddings/99999999999/get-info"),
    ):
        assert gone.status_code == 404
        assert gone.json() == {"message": "Embedding not found"}


async def test_an_import_adds_changes_and_skips_and_counts_each_row(
    api: httpx.AsyncClient, connected: FakeOpenAI
) -> None:
    await create(api, *HOURS)
    await create(api, *RETURNS)
    connected.reset()

    imported = await api.post(
        "/openai-embeddings/import",
        json={
            "rows": [
                {"heading": HOURS[0], "text": HOURS[1]},  # as stored: skipped
                {"heading": RETURNS[0], "text": "Returns within 14 days."},  # updated
                {"heading": "Shipping", "text": "We ship in 2 days.", "type": "faq"},  # new
                {"heading": "Shipping", "text": "We ship in 2 days.", "type": "faq"},  # skipped
                {"heading": "Shipping", "text": "We ship next day."},  # updated again
            ]
        },
    )

    assert imported.status_code == 200
    assert imported.json() == {"status": "ok", "inserted": 1, "updated": 2, "skipped": 2}
    assert {r["heading"]: (r["text"], r["type"], r["embedded"]) for r in await rows(api)} == {
        HOURS[0]: (HOURS[1], "", True),
        RETURNS[0]: ("Returns within 14 days.", "", True),
        "Shipping": ("We ship next day.", "", True),
    }
    [call] = connected.calls_to("/v1/embeddings")  # one batch for what changed
    assert sorted(call.body["input"]) == [
        "Returns\nReturns within 14 days.",
        "Shipping\nWe ship next day.",
    ]


async def test_an_import_with_a_bad_row_or_over_100_rows_writes_nothing(
    api: httpx.AsyncClient,
) -> None:
    await create(api, *HOURS)
    good = [{"heading": f"Row {i}", "text": f"Text {i}"} for i in range(100)]

    bad_row = await api.post(
        "/openai-embeddings/import", json={"rows": [*good[:3], {"heading": "", "text": "x"}]}
    )
    too_many = await api.post(
        "/openai-embeddings/import", json={"rows": [*good, {"heading": "One more", "text": "x"}]}
    )

    assert bad_row.status_code == 422
    assert "rows.3.heading" in bad_row.json()["errors"]
    assert too_many.status_code == 422
    assert [r["heading"] for r in await rows(api)] == [HOURS[0]]
    full = await api.post("/openai-embeddings/import", json={"rows": good})
    assert full.json()["inserted"] == 100
