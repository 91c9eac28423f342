"""The flows pages: the list, the export download, imports (uploaded or pasted) with every
refusal named, and the diagram of a flow."""

from __future__ import annotations

import json

from dashboard_browsing import DashboardClient
from pages_support import (  # noqa: F401
    flashes,
    owner_fixture,
    survey_document,
    text_of,
)
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.demo import DemoSecrets
from konversation.flows import export
from konversation.flows.service import SUB_FLOWS, TAGS


async def test_the_list_shows_the_main_flow_and_the_sub_flows(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    page = await owner.http.get("/dashboard/flows")
    assert page.status_code == 200
    text = text_of(page)
    assert "main Main flow main 7" in text
    for name in ("Welcome", "Shop", "Order shipped", "Opening hours"):
        assert name in text
    assert f'href="/dashboard/flows/f{demo.bot_id}s1"' in page.text


async def test_a_new_sub_flow_is_empty_and_opens_in_the_editor(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    answer = await owner.post("/dashboard/flows/new", {"name": "Survey"})

    flow = await SUB_FLOWS.find_by_name(session, demo.bot_id, "Survey")
    assert flow is not None
    assert (flow.definition["nodes"], flow.published_version) == ([], 1)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dashboard/flows/f{demo.bot_id}s{flow.number}/edit"


async def test_a_new_sub_flow_needs_a_name(owner: DashboardClient) -> None:
    answer = await owner.post("/dashboard/flows/new", {"name": "  "})

    assert answer.status_code == 422
    assert "The name field is required." in text_of(answer)


async def test_the_export_is_a_download_of_the_bots_flow_document(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    answer = await owner.http.get("/dashboard/flows/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    disposition = answer.headers["content-disposition"]
    assert disposition == f'attachment; filename="demo-bot-f{demo.bot_id}-flow.json"'
    document = export.FlowDocument.model_validate(answer.json())
    assert document.bot.flow_ns == f"f{demo.bot_id}"
    assert document.flows[0].name == "Main flow"
    assert {tag.name for tag in document.tags} == {"VIP", "Lead", "Customer"}


async def test_an_uploaded_document_is_imported_and_its_flow_drawn(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    upload = json.dumps(survey_document()).encode()
    answer = await owner.http.post(
        "/dashboard/flows/import",
        data={"csrf_token": owner.csrf_token},
        files={"file": ("survey.json", upload, "application/json")},
    )
    assert answer.status_code == 303, answer.text
    page = await owner.http.get(answer.headers["location"])
    assert flashes(page) == [
        ("success", "Imported: flows 1 created, 0 updated; tags 1 created, 0 updated.")
    ]
    survey = await SUB_FLOWS.by_name(session, demo.bot_id, "Survey")
    assert await TAGS.find_by_name(session, demo.bot_id, "Surveyed") is not None

    diagram = await owner.http.get(f"/dashboard/flows/f{demo.bot_id}s{survey.number}")
    assert diagram.status_code == 200
    assert 'class="kv-diagram"' in diagram.text
    for shown in ("Ask for a rating", "Say thanks", "Apologise", "Loved it", "Could be better"):
        assert f">{shown}<" in diagram.text  # drawn in the picture
    assert "Survey sub flow" in text_of(diagram)


async def test_a_pasted_api_answer_is_imported_too(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    pasted = json.dumps({"data": survey_document()})
    answer = await owner.post("/dashboard/flows/import", {"document": pasted})
    assert answer.status_code == 303, answer.text
    assert await SUB_FLOWS.find_by_name(session, demo.bot_id, "Survey") is not None


async def test_a_refused_import_names_the_node_and_changes_nothing(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    pasted = json.dumps(survey_document(broken=True))
    answer = await owner.post("/dashboard/flows/import", {"document": pasted})
    assert answer.status_code == 422
    assert (
        'Node "ask" (send_message): the next of quick reply 2 points to node "nowhere", '
        "which does not exist." in text_of(answer)
    )
    assert "nowhere" in answer.text.split("</textarea>")[0].rsplit(">", 1)[1]  # kept to fix
    assert await SUB_FLOWS.find_by_name(session, demo.bot_id, "Survey") is None
    assert await TAGS.find_by_name(session, demo.bot_id, "Surveyed") is None


async def test_documents_that_are_no_flow_documents_are_refused(owner: DashboardClient) -> None:
    cases = {
        "{not json": "The document is not valid JSON: Expecting property name enclosed in "
        "double quotes at line 1, column 2.",
        "[1, 2]": "The document must be a JSON object.",
        "": "Choose a file or paste a flow document.",
        '{"format": "konversation.flow", "version": 2}': "The version field must be 1.",
    }
    for pasted, message in cases.items():
        answer = await owner.post("/dashboard/flows/import", {"document": pasted})
        assert answer.status_code == 422, pasted
        assert message in text_of(answer), text_of(answer)


async def test_an_unknown_flow_has_no_diagram(owner: DashboardClient, demo: DemoSecrets) -> None:
    for ref in (f"f{demo.bot_id}s99", "f999s1", "nonsense"):
        answer = await owner.http.get(f"/dashboard/flows/{ref}")
        assert answer.status_code == 404
        assert "Sub flow not found" in answer.text


async def test_names_in_a_diagram_are_text_never_markup(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    document = survey_document()
    document["flows"][0]["name"] = "<b>Survey</b>"
    ask = document["flows"][0]["definition"]["nodes"][0]
    ask["name"] = "<script>alert(1)</script>"
    ask["quick_replies"][0]["title"] = '"><img src=x>'
    answer = await owner.post("/dashboard/flows/import", {"document": json.dumps(document)})
    assert answer.status_code == 303, answer.text
    survey = await SUB_FLOWS.by_name(session, demo.bot_id, "<b>Survey</b>")
    page = await owner.http.get(f"/dashboard/flows/f{demo.bot_id}s{survey.number}")
    assert "<script>alert" not in page.text
    assert "<img src=x>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;Survey&lt;/b&gt;" in page.text
