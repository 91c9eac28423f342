"""The flow editor's page and its JSON endpoints (/dashboard/api/flows/{ref}/...): the draft,
conflicts between two editors, publishing refused until the problems are fixed, versions,
diffs and rollback, and who may call them."""

from __future__ import annotations

import re
from typing import Any

import httpx
from dashboard_browsing import DashboardClient, make_person
from fastapi import FastAPI
from pages_support import owner_fixture, signed_in, workspace_of  # noqa: F401
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.demo import DemoSecrets
from konversation.workspaces.models import Role

API = "/dashboard/api/flows/main"


def _say(node_id: str, text: str, next: str | None = None) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "send_message",
        "messages": [{"type": "text", "text": text}],
        "next": next,
    }


def _document(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "start": nodes[0]["id"], "nodes": list(nodes)}


async def _editor(owner: DashboardClient) -> dict[str, Any]:
    answer = await owner.http.get(f"{API}/editor")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def _put_draft(
    owner: DashboardClient, definition: dict[str, Any], revision: int
) -> httpx.Response:
    return await owner.http.put(
        f"{API}/draft",
        json={"revision": revision, "definition": definition},
        headers={"X-CSRF-Token": owner.csrf_token},
    )


async def _post(owner: DashboardClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await owner.http.post(
        f"{API}/{path}", json=body, headers={"X-CSRF-Token": owner.csrf_token}
    )


async def test_the_editor_starts_with_the_published_document_and_what_nodes_may_name(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    state = await _editor(owner)

    assert state["flow"] == {"ref": "main", "name": "Main flow", "kind": "main"}
    assert (state["revision"], state["published_version"], state["problems"]) == (0, 1, [])
    assert len(state["draft"]["nodes"]) == 7
    catalog = state["catalog"]
    assert {tag["name"] for tag in catalog["tags"]} == {"VIP", "Lead", "Customer"}
    assert all(tag["tag_ns"].startswith(f"f{demo.bot_id}t") for tag in catalog["tags"])
    assert {"Welcome", "Shop"} <= {sub["name"] for sub in catalog["sub_flows"]}
    assert {"var_ns", "name", "var_type"} == set(catalog["user_fields"][0])
    assert "messages" in catalog["node_types"]["send_message"]["properties"]
    assert state["flows"][0] == state["flow"]
    assert f"f{demo.bot_id}s1" in {flow["ref"] for flow in state["flows"]}


async def test_a_stale_save_gets_a_conflict_and_the_first_save_is_kept(
    owner: DashboardClient,
) -> None:
    first = _document(_say("hi", "From the first editor"))

    saved = await _put_draft(owner, first, revision=0)
    stale = await _put_draft(owner, _document(_say("hi", "From the second")), revision=0)

    assert saved.status_code == 200, saved.text
    assert saved.json() == {"revision": 1, "problems": []}
    assert stale.status_code == 409
    assert "Someone else changed this flow meanwhile" in stale.json()["message"]
    state = await _editor(owner)
    assert (state["draft"], state["revision"]) == (first, 1)


async def test_publishing_is_refused_with_the_problems_on_their_nodes_until_fixed(
    owner: DashboardClient,
) -> None:
    broken = _document(_say("hi", "Hi", next="nowhere"))
    saved = await _put_draft(owner, broken, revision=0)
    assert saved.status_code == 200
    problem = {
        "node_id": "hi",
        "path": "next",
        "message": 'Node "hi" (send_message): the next points to node "nowhere", '
        "which does not exist.",
    }
    assert saved.json()["problems"] == [problem]

    refused = await _post(owner, "publish", {"revision": 1})
    assert refused.status_code == 422
    assert refused.json()["problems"] == [problem]
    assert (await _editor(owner))["published_version"] == 1

    assert (await _put_draft(owner, _document(_say("hi", "Hi")), revision=1)).status_code == 200
    published = await _post(owner, "publish", {"revision": 2})
    assert published.status_code == 200, published.text
    assert published.json() == {"version": 2}
    state = await _editor(owner)
    assert (state["published_version"], state["revision"]) == (2, 2)


async def test_a_draft_that_is_no_flow_document_is_refused(owner: DashboardClient) -> None:
    answer = await _put_draft(owner, {"start": None}, revision=0)  # type: ignore[arg-type]

    assert answer.status_code == 422
    assert answer.json() == {"message": "A draft must be a JSON object with a nodes list."}


async def test_versions_diffs_and_rollback(owner: DashboardClient) -> None:
    original = (await _editor(owner))["draft"]
    await _put_draft(owner, _document(_say("hi", "Hello")), revision=0)
    await _post(owner, "publish", {"revision": 1, "note": "Shorter"})

    versions = (await owner.http.get(f"{API}/versions")).json()["versions"]
    assert [(v["number"], v["published_by"], v["note"]) for v in versions] == [
        (2, "Demo Owner", "Shorter"),
        (1, "import", ""),
    ]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", v["published_at"]) for v in versions)

    await _put_draft(owner, _document(_say("hi", "Hello there")), revision=1)
    diff = (await owner.http.get(f"{API}/diff", params={"from": 2, "to": "draft"})).json()
    assert diff == {
        "changes": [
            {
                "node_id": "hi",
                "change": "changed",
                "details": ['messages.0.text: "Hello" → "Hello there".'],
            }
        ],
        "start": [],
        "triggers": [],
    }
    back = (await owner.http.get(f"{API}/diff", params={"from": 2, "to": 1})).json()
    assert {change["change"] for change in back["changes"]} == {"added", "removed"}

    rolled = await _post(owner, "rollback", {"version": 1})
    assert rolled.status_code == 200, rolled.text
    assert rolled.json() == {"version": 3}
    state = await _editor(owner)
    assert (state["draft"], state["published_version"]) == (original, 3)


async def test_unknown_versions_flows_and_references_are_answered_as_json(
    owner: DashboardClient,
) -> None:
    missing = await owner.http.get(f"{API}/diff", params={"from": 9, "to": "draft"})
    unreadable = await owner.http.get(f"{API}/diff", params={"from": "latest"})
    no_flow = await owner.http.get("/dashboard/api/flows/f999s1/editor")
    no_body = await _post(owner, "rollback", {})

    assert (missing.status_code, missing.json()) == (
        404,
        {"message": "Version 9 of this flow not found"},
    )
    assert unreadable.status_code == 400
    assert no_flow.status_code == 404
    assert "message" in no_flow.json()
    assert no_body.status_code == 400


async def test_a_change_without_the_csrf_token_is_refused(owner: DashboardClient) -> None:
    answer = await owner.http.put(
        f"{API}/draft", json={"revision": 0, "definition": _document(_say("hi", "Hi"))}
    )

    assert answer.status_code == 403
    assert "security token" in answer.json()["message"]
    assert (await _editor(owner))["revision"] == 0


async def test_only_builders_signed_in_may_call_the_endpoints(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: DemoSecrets,
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        signed_out = await stranger.get(f"{API}/editor")
    workspace_id = await workspace_of(session, demo.bot_id)
    person = await make_person(sessions, workspace_id, Role.AGENT)
    agent = await signed_in(app, person.email, person.password)
    try:
        as_agent = await agent.http.get(f"{API}/editor")
    finally:
        await agent.aclose()

    assert (signed_out.status_code, as_agent.status_code) == (401, 403)
    assert "message" in signed_out.json()
    assert "message" in as_agent.json()


async def test_the_editor_page_hosts_the_bundle_and_the_lists_link_to_it(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    page = await owner.http.get("/dashboard/flows/main/edit")

    assert page.status_code == 200
    assert f'<div id="flow-editor" data-api="{API}" data-csrf="{owner.csrf_token}">' in page.text
    assert re.search(r'<script src="/dashboard/static/editor/editor\.js[^"]*" defer>', page.text)
    assert re.search(r'href="/dashboard/static/editor/editor\.css', page.text)
    flows_list = await owner.http.get("/dashboard/flows")
    sub = f"f{demo.bot_id}s1"
    assert f'href="/dashboard/flows/{sub}/edit"' in flows_list.text
    diagram = await owner.http.get(f"/dashboard/flows/{sub}")
    assert f'href="/dashboard/flows/{sub}/edit"' in diagram.text
    sub_page = await owner.http.get(f"/dashboard/flows/{sub}/edit")
    assert f'data-api="/dashboard/api/flows/{sub}"' in sub_page.text
