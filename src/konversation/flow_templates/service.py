"""Templates of a workspace: made from one of its bots, listed, deleted, and installed into any
bot through a one-time link.

A template is a snapshot of its bot's flow document (`konversation.flows.export`), taken when
it is made. Installing imports that document into the target bot with the import service (all
of it or nothing) and records the install in `TemplateInstall`, in the same unit of work as the
claim of the link, so a refused import leaves the link unused and nothing written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, fetch_page, utcnow
from konversation.errors import Conflict, Invalid, NotFound
from konversation.flow_templates.models import FlowTemplate, TemplateLink, TemplateScope
from konversation.flows import export
from konversation.flows.models import TemplateInstall
from konversation.workspaces.items import WorkspaceItems
from konversation.workspaces.models import Bot
from konversation.workspaces.service import get_bot

NOT_FOUND: Final = "Template not found"
LINK_NOT_FOUND: Final = "Install link not found"
LINK_USED: Final = "This install link has already been used."
DEFAULT_DAYS: Final = 30
MAX_DAYS: Final = 365
DEFAULT_VERSION: Final = "1.0"
_NS_PREFIX: Final = "tpl"


# Templates


TEMPLATES: Final = WorkspaceItems(FlowTemplate, FlowTemplate.template_ns, NOT_FOUND)


async def list_templates(
    session: AsyncSession, workspace_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[FlowTemplate], int]:
    return await TEMPLATES.page(session, workspace_id, name=name, window=window)


async def get_template(session: AsyncSession, workspace_id: int, template_ns: str) -> FlowTemplate:
    return await TEMPLATES.get(session, workspace_id, template_ns)


async def create_template(
    session: AsyncSession,
    workspace_id: int,
    *,
    bot_id: int,
    name: str,
    description: str = "",
    version: str | None = None,
    image: str = "",
    price: int = 0,
) -> FlowTemplate:
    """A template of `bot_id`'s flows as they are now; later changes to the bot stay out of it."""
    name = name.strip()
    if not name:
        raise Invalid.field("name", "The name field is required.")
    bot = await get_bot(session, bot_id)
    if bot.workspace_id != workspace_id:
        raise NotFound("Flow not found")
    document = await export.export_flow(session, bot.id)
    template = FlowTemplate(
        workspace_id=workspace_id,
        template_ns=_NS_PREFIX + secrets.token_hex(6),
        name=name,
        description=description.strip(),
        image=image.strip(),
        price=price,
        flow_type=bot.channel,
        scope=TemplateScope.BOT.value,
        version=(version or "").strip() or DEFAULT_VERSION,
        source_bot_id=bot.id,
        document=document.model_dump(mode="json"),
    )
    session.add(template)
    await session.flush()
    return template


async def delete_template(session: AsyncSession, workspace_id: int, template_ns: str) -> None:
    """Delete a template and its links; the bots it was installed into keep their flows, and
    its installs stay listed for them."""
    await session.delete(await get_template(session, workspace_id, template_ns))
    await session.flush()


# Installs


@dataclass(frozen=True)
class InstallEntry:
    install: TemplateInstall
    workspace_id: int


async def list_installs(
    session: AsyncSession, workspace_id: int, template_ns: str, *, window: PageRequest
) -> tuple[list[InstallEntry], int]:
    """Where a template of the workspace was installed, newest first, with each bot's
    workspace."""
    template = await get_template(session, workspace_id, template_ns)
    installs, total = await fetch_page(
        session,
        select(TemplateInstall)
        .where(TemplateInstall.template_ns == template.template_ns)
        .order_by(TemplateInstall.id.desc()),
        window,
    )
    bot_ids = {install.bot_id for install in installs}
    workspaces = dict(
        (await session.execute(select(Bot.id, Bot.workspace_id).where(Bot.id.in_(bot_ids)))).all()
    )
    return [InstallEntry(i, workspaces[i.bot_id]) for i in installs], total


async def _record_install(
    session: AsyncSession, bot_id: int, template: FlowTemplate, now: dt.datetime
) -> TemplateInstall:
    """The bot's install of the template: a reinstall updates the current one."""
    install = await session.scalar(
        select(TemplateInstall)
        .where(
            TemplateInstall.bot_id == bot_id,
            TemplateInstall.template_ns == template.template_ns,
            TemplateInstall.uninstalled_at.is_(None),
        )
        .order_by(TemplateInstall.id.desc())
        .limit(1)
    )
    if install is None:
        install = TemplateInstall(
            bot_id=bot_id, template_ns=template.template_ns, scope=template.scope
        )
        session.add(install)
    install.version = template.version
    install.updated_at = now
    await session.flush()
    return install


# One-time links


@dataclass(frozen=True)
class IssuedLink:
    link: TemplateLink
    token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(
    session: AsyncSession,
    workspace_id: int,
    template_ns: str,
    *,
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
) -> IssuedLink:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid.field("days", f"The days field must be between 1 and {MAX_DAYS}.")
    template = await get_template(session, workspace_id, template_ns)
    token = secrets.token_urlsafe(32)
    link = TemplateLink(
        template_id=template.id,
        token_digest=_digest(token),
        expires_at=(now or utcnow()) + dt.timedelta(days=days),
    )
    session.add(link)
    await session.flush()
    return IssuedLink(link, token)


@dataclass(frozen=True)
class OpenLink:
    link: TemplateLink
    template: FlowTemplate


async def open_link(
    session: AsyncSession, token: str, *, now: dt.datetime | None = None
) -> OpenLink:
    """The link of `token` and its template, while the link can still install; NotFound for an
    unknown token, Conflict for a used or expired link."""
    found = await _find_link(session, token)
    if (refused := _refusal(found.link, now or utcnow())) is not None:
        raise refused
    return found


async def _find_link(session: AsyncSession, token: str) -> OpenLink:
    row = (
        await session.execute(
            select(TemplateLink, FlowTemplate)
            .join(FlowTemplate, FlowTemplate.id == TemplateLink.template_id)
            .where(TemplateLink.token_digest == _digest(token.strip()))
        )
    ).first()
    if row is None:
        raise NotFound(LINK_NOT_FOUND)
    return OpenLink(*row)


def _refusal(link: TemplateLink, now: dt.datetime) -> Conflict | None:
    """Why the link can no longer install, if it cannot."""
    if link.used_at is not None:
        return Conflict(LINK_USED)
    if link.expires_at <= now:
        return Conflict(f"This install link expired at {link.expires_at:%Y-%m-%d %H:%M:%S} UTC.")
    return None


@dataclass(frozen=True)
class Installed:
    template: FlowTemplate
    install: TemplateInstall
    counts: export.ImportCounts


async def install_by_link(
    session: AsyncSession, token: str, bot_id: int, *, now: dt.datetime | None = None
) -> Installed:
    """Install the link's template into `bot_id` and use the link up, all or nothing.

    The link is claimed by one conditional UPDATE before anything else is written: of two
    uses at the same time, the second waits for the first's row lock (or SQLite's write lock)
    and then finds the link used, so a template is installed at most once per link.
    """
    now = now or utcnow()
    found = await _find_link(session, token)
    claimed = await session.scalar(
        update(TemplateLink)
        .where(
            TemplateLink.id == found.link.id,
            TemplateLink.used_at.is_(None),
            TemplateLink.expires_at > now,
        )
        .values(used_at=now, used_by_bot_id=bot_id)
        .returning(TemplateLink.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        # Used (perhaps a moment ago, by a concurrent use) or expired: the row says which.
        await session.refresh(found.link)
        raise _refusal(found.link, now) or Conflict(LINK_USED)
    template = found.template
    counts = await export.import_flow(
        session, bot_id, _document_of(template), published_by=f"template {template.name}"
    )
    install = await _record_install(session, bot_id, template, now)
    return Installed(template, install, counts)


def _document_of(template: FlowTemplate) -> export.FlowDocument:
    try:
        return export.FlowDocument.model_validate(template.document)
    except ValidationError:
        # Only a template stored by an older release could fail here.
        raise Invalid.field(
            "template", "The template's flow document can no longer be read."
        ) from None
