"""The flow editor: its page, and the JSON endpoints its script calls (draft, publish, versions,
diff, rollback, preview) under /dashboard/api/flows/{ref}.

The endpoints share the pages' session and CSRF token (sent in the `X-CSRF-Token` header) but
answer every refusal as JSON, `{"message": ...}` (and `problems` when a publish is refused), so
that the script can show it where it belongs.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.channels.webchat_service import Said
from konversation.dashboard import csrf
from konversation.dashboard.pages_common import Builder, selected_bot
from konversation.dashboard.pages_flows import find_flow, flow_ref
from konversation.dashboard.problems import LoginRequired, PageForbidden
from konversation.dashboard.routing import SECURITY_HEADERS, Handler
from konversation.dashboard.web import DbSession, Viewer, page_router, render
from konversation.errors import BadRequest, KonversationError
from konversation.flows import service as flows
from konversation.flows import versions
from konversation.flows.format import NODE_TYPES
from konversation.flows.models import Flow, FlowKind, FlowVersion
from konversation.ids import Kind, format_ns
from konversation.runtime import preview
from konversation.wire.errors import status_for
from konversation.workspaces.models import Bot

API: Final = "/dashboard/api/flows/{ref}"
DRAFT: Final = "draft"


class EditorApiRoute(APIRoute):
    """A dashboard route that answers JSON, refusals included."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def editor_api_handler(request: Request) -> Response:
            response = await _answer(handler, request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return editor_api_handler


async def _answer(handler: Handler, request: Request) -> Response:
    try:
        await csrf.verify(request)
        return await handler(request)
    except LoginRequired:
        return _refusal(401, "You are signed out: sign in again, then retry.")
    except PageForbidden as refused:
        return _refusal(403, refused.message)
    except versions.Unpublishable as refused:
        return _refusal(422, refused.message, problems=_problems(refused.problems))
    except KonversationError as failed:
        return _refusal(status_for(failed), failed.message)
    except RequestValidationError:
        return _refusal(400, "The request is missing fields or has malformed ones.")


def _refusal(status: int, message: str, **more: Any) -> JSONResponse:
    return JSONResponse({"message": message, **more}, status_code=status)


api = APIRouter(route_class=EditorApiRoute, include_in_schema=False)
router = page_router()


# The page


@router.get("/dashboard/flows/{ref}/edit")
async def flow_editor(request: Request, viewer: Builder, session: DbSession, ref: str) -> Response:
    flow = await find_flow(session, selected_bot(viewer), ref)
    return render(
        request,
        "flow_editor.html",
        {"flow": flow, "ref": flow_ref(flow), "api": API.format(ref=flow_ref(flow))},
    )


# The endpoints


class DraftIn(BaseModel):
    revision: int
    definition: Any


class PublishIn(BaseModel):
    revision: int
    note: str = ""


class RollbackIn(BaseModel):
    version: int


class PreviewMessageIn(BaseModel):
    """What the owner says in the preview: text, or a pressed button's payload and title."""

    text: str | None = None
    payload: str | None = None
    title: str | None = None


@api.get(f"{API}/editor")
async def editor_state(viewer: Builder, session: DbSession, ref: str) -> JSONResponse:
    """Everything the editor starts with: the draft, what the validator says of it, and the
    names a node may refer to."""
    bot = selected_bot(viewer)
    flow = await find_flow(session, bot, ref)
    draft = versions.draft_of(flow)
    all_flows = await flows.bot_flows(session, bot.id)
    return JSONResponse(
        {
            "flow": _flow_out(flow),
            "draft": draft,
            "revision": flow.draft_revision,
            "published_version": flow.published_version,
            "problems": _problems(versions.problems_of(draft, FlowKind(flow.kind))),
            "catalog": await _catalog(session, bot),
            "flows": [_flow_out(each) for each in all_flows],
        }
    )


@api.put(f"{API}/draft")
async def save_draft(viewer: Builder, session: DbSession, ref: str, body: DraftIn) -> JSONResponse:
    flow = await find_flow(session, selected_bot(viewer), ref)
    problems = await versions.save_draft(session, flow, body.definition, revision=body.revision)
    return JSONResponse({"revision": flow.draft_revision, "problems": _problems(problems)})


@api.post(f"{API}/publish")
async def publish(viewer: Builder, session: DbSession, ref: str, body: PublishIn) -> JSONResponse:
    flow = await find_flow(session, selected_bot(viewer), ref)
    version = await versions.publish(
        session, flow, revision=body.revision, published_by=viewer.user.name, note=body.note
    )
    return JSONResponse({"version": version.number})


@api.get(f"{API}/versions")
async def list_versions(viewer: Builder, session: DbSession, ref: str) -> JSONResponse:
    flow = await find_flow(session, selected_bot(viewer), ref)
    found = await versions.list_versions(session, flow)
    return JSONResponse({"versions": [_version_out(version) for version in found]})


@api.get(f"{API}/diff")
async def diff(
    viewer: Builder,
    session: DbSession,
    ref: str,
    before: Annotated[str, Query(alias="from")],
    after: Annotated[str, Query(alias="to")] = DRAFT,
) -> JSONResponse:
    """What changed from version `from` to version `to` (or to the draft)."""
    flow = await find_flow(session, selected_bot(viewer), ref)
    found = versions.diff(
        await _document(session, flow, before), await _document(session, flow, after)
    )
    return JSONResponse(dataclasses.asdict(found))


@api.post(f"{API}/rollback")
async def rollback(viewer: Builder, session: DbSession, ref: str, body: RollbackIn) -> JSONResponse:
    flow = await find_flow(session, selected_bot(viewer), ref)
    version = await versions.rollback(session, flow, body.version, published_by=viewer.user.name)
    return JSONResponse({"version": version.number})


@api.get(f"{API}/preview")
async def preview_state(viewer: Builder, session: DbSession, ref: str) -> JSONResponse:
    flow = await find_flow(session, selected_bot(viewer), ref)
    return _preview_out(await preview.state(session, flow, _tester(viewer)))


@api.post(f"{API}/preview")
async def preview_restart(
    request: Request, viewer: Builder, session: DbSession, ref: str
) -> JSONResponse:
    flow = await find_flow(session, selected_bot(viewer), ref)
    engine = request.app.state.runtime.engine
    return _preview_out(await preview.restart(session, engine, flow, _tester(viewer)))


@api.post(f"{API}/preview/messages")
async def preview_say(
    request: Request, viewer: Builder, session: DbSession, ref: str, body: PreviewMessageIn
) -> JSONResponse:
    said = Said.read(body.text, body.payload, body.title)
    flow = await find_flow(session, selected_bot(viewer), ref)
    engine = request.app.state.runtime.engine
    return _preview_out(await preview.say(session, engine, flow, _tester(viewer), said))


router.include_router(api)


# What the endpoints answer


def _flow_out(flow: Flow) -> dict[str, str]:
    return {"ref": flow_ref(flow), "name": flow.name, "kind": flow.kind}


def _problems(problems: list[versions.Problem]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(problem) for problem in problems]


def _version_out(version: FlowVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "published_at": version.published_at.isoformat(),
        "published_by": version.published_by,
        "note": version.note,
    }


def _tester(viewer: Viewer) -> preview.Tester:
    return preview.Tester(viewer.user.id, viewer.user.name)


def _preview_out(state: preview.PreviewState) -> JSONResponse:
    return JSONResponse(dataclasses.asdict(state))


async def _document(session: AsyncSession, flow: Flow, reference: str) -> dict[str, Any]:
    """The draft (`draft`) or a version's document (its number)."""
    if reference == DRAFT:
        return versions.draft_of(flow)
    if not reference.isdigit():
        raise BadRequest(f'"{reference}" is neither a version number nor "{DRAFT}".')
    return (await versions.get_version(session, flow, int(reference))).definition


async def _catalog(session: AsyncSession, bot: Bot) -> dict[str, Any]:
    def var(item: Any) -> dict[str, str]:
        return {
            "var_ns": format_ns(bot.id, Kind.FIELD, item.number),
            "name": item.name,
            "var_type": item.var_type,
        }

    return {
        "tags": [
            {"tag_ns": format_ns(bot.id, Kind.TAG, tag.number), "name": tag.name}
            for tag in await flows.TAGS.all(session, bot.id)
        ],
        "user_fields": [var(field) for field in await flows.USER_FIELDS.all(session, bot.id)],
        "bot_fields": [var(field) for field in await flows.BOT_FIELDS.all(session, bot.id)],
        "sub_flows": [
            {"sub_flow_ns": flow_ref(sub), "name": sub.name}
            for sub in await flows.SUB_FLOWS.all(session, bot.id)
        ],
        "node_types": node_schemas(),
    }


@functools.cache
def node_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each node type, which never changes while the server runs."""
    return {name: model.model_json_schema() for name, model in NODE_TYPES.items()}
