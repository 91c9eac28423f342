"""The Template group: the workspace's flow templates, where they were installed, and one-time
install links; plus our own operations to make, delete and install templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from konversation.dashboard.pages_common import public_base_url
from konversation.errors import Invalid
from konversation.flow_templates import service
from konversation.flow_templates.wire import (
    CreateTemplateIn,
    InstalledOut,
    InstallIn,
    OneTimeLinkOut,
    TemplateOut,
)
from konversation.flows.wire import TemplateInstallOut
from konversation.ids import parse_bot_ns
from konversation.keys.service import KeyContext
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow, ManageTeam
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Template"])

LIST = wire_errors(401, 403, 422)
ONE = wire_errors(401, 403, 404, 422)
# A link that was used up or ran out answers 409.
USE_LINK = wire_errors(401, 403, 404, 409, 422)
TemplateNs = Annotated[
    str,
    Path(
        alias="templateNs",
        max_length=64,
        description="The template's `template_ns`.",
        examples=["tpl3f9a0c12be47"],
    ),
]
_SNAPSHOT = (
    "A template is a snapshot of a bot's flow document (as `GET /flow/export` gives it): its "
    "flows, tags, user fields, bot fields and inbound webhooks, as they were when it was made."
)


@router.get(
    "/templates",
    responses=LIST,
    summary="List the workspace's templates",
    description=_SNAPSHOT,
)
async def templates(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    name: Annotated[
        str | None, Query(description="Only templates whose name contains this.")
    ] = None,
) -> PageOut[TemplateOut]:
    found, total = await service.list_templates(session, key.workspace_id, name=name, window=paging)
    return envelope.page([TemplateOut.of(t) for t in found], total=total, window=paging)


@router.get(
    "/template/{templateNs}/installs",
    responses=ONE,
    summary="Where a template was installed",
    description=(
        "Every bot the template was installed into, newest first, with its workspace "
        "(`team_id`). Installing again into the same bot updates its entry (`updated_at`)."
    ),
)
async def template_installs(
    template_ns: TemplateNs, key: ManageTeam, session: Session, paging: PageParams
) -> PageOut[TemplateInstallOut]:
    entries, total = await service.list_installs(
        session, key.workspace_id, template_ns, window=paging
    )
    return envelope.page(
        [TemplateInstallOut.of(e.install, e.workspace_id) for e in entries],
        total=total,
        window=paging,
    )


@router.post(
    "/template/{templateNs}/generate-one-time-link",
    responses=ONE,
    summary="Make a link that installs the template once",
    description=(
        "The link installs the template into one bot, chosen by whoever opens it (signed in "
        "to the dashboard), or by `POST /template/install` with its token; then it stops "
        "working, as it does after `days`. The token is shown only in this answer."
    ),
)
async def template_generate_one_time_link(
    template_ns: TemplateNs,
    key: ManageTeam,
    session: Session,
    request: Request,
    days: Annotated[
        int | None,
        Query(
            ge=1,
            le=service.MAX_DAYS,
            description=(
                f"How many days the link works: 1 to {service.MAX_DAYS}, "
                f"{service.DEFAULT_DAYS} when left out."
            ),
        ),
    ] = None,
) -> DataOut[OneTimeLinkOut]:
    issued = await service.create_link(
        session, key.workspace_id, template_ns, days=days or service.DEFAULT_DAYS
    )
    return envelope.one(OneTimeLinkOut.of(issued, public_base_url(request)))


# Our own operations


@router.post(
    "/template/create",
    responses=ONE,
    summary="Make a template of a bot's flows",
    description=_SNAPSHOT
    + " Later changes to the bot stay out of it. `flow_ns` names one of the workspace's bots; "
    "without it, the key's own bot.",
)
async def template_create(
    body: CreateTemplateIn, key: ManageTeam, session: Session
) -> DataOut[TemplateOut]:
    template = await service.create_template(
        session,
        key.workspace_id,
        bot_id=_source_bot(body.flow_ns, key),
        name=body.name,
        description=body.description,
        version=body.version,
        image=body.image,
        price=body.price,
    )
    return envelope.one(TemplateOut.of(template))


def _source_bot(flow_ns: str | None, key: KeyContext) -> int:
    if flow_ns is None:
        if key.bot_id is None:
            raise Invalid.field("flow_ns", "The flow_ns field is required for a key of no bot.")
        return key.bot_id
    bot_id = parse_bot_ns(flow_ns)
    if bot_id is None:
        raise Invalid.field("flow_ns", "The flow_ns field must be a bot id such as f1.")
    return bot_id


@router.delete(
    "/template/{templateNs}/delete",
    responses=ONE,
    summary="Delete a template",
    description=(
        "Its links stop working. Bots it was installed into keep their flows, and its "
        "installs stay in their logs."
    ),
)
async def template_delete(template_ns: TemplateNs, key: ManageTeam, session: Session) -> OkOut:
    await service.delete_template(session, key.workspace_id, template_ns)
    return envelope.ok()


@router.post(
    "/template/install",
    responses=USE_LINK,
    summary="Install a template into the key's bot with a one-time link's token",
    description=(
        "Imports the template's flow document into the bot as `POST /flow/import` does "
        "(matched by name, all of it or nothing) and uses the link up. A link already used, "
        "or expired, answers 409 and changes nothing; so does a second use at the same moment."
    ),
)
async def template_install(
    body: InstallIn, key: ManageFlow, session: Session
) -> DataOut[InstalledOut]:
    installed = await service.install_by_link(session, body.one_time_token, key.bot_id)
    return envelope.one(InstalledOut.of(installed, key.workspace_id))
