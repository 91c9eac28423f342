"""What the section pages (bots, flows, subscribers, tags and fields, shop, members) share: who
may open them, the bot they show, paging, and reading form errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Depends
from starlette.requests import Request

from konversation.dashboard.web import Viewer, require_role
from konversation.db import PageRequest
from konversation.errors import Invalid, KonversationError, NotFound
from konversation.workspaces.models import Bot, Role, Workspace

# Agents handle conversations: they see subscribers, chats and the shop's orders, and nothing
# of the bot's setup (channels, flows, tags and fields, members).
BUILDERS: Final = (Role.OWNER, Role.ADMIN, Role.MEMBER)
EVERYONE: Final = tuple(Role)
PAGE_SIZE: Final = 25
MAX_PAGE: Final = 100_000

Builder = Annotated[Viewer, Depends(require_role(*BUILDERS))]
Member = Annotated[Viewer, Depends(require_role(*EVERYONE))]

NO_BOT: Final = "This workspace has no bots yet."
NO_WORKSPACE: Final = "You are not a member of any workspace yet."


def selected_bot(viewer: Viewer) -> Bot:
    """The bot chosen in the switcher."""
    if viewer.bot is None:
        raise NotFound(NO_BOT)
    return viewer.bot


def selected_workspace(viewer: Viewer) -> Workspace:
    if viewer.workspace is None:
        raise NotFound(NO_WORKSPACE)
    return viewer.workspace


def workspace_bot(viewer: Viewer, bot_id: int) -> Bot:
    """One of the selected workspace's bots; any other is not found."""
    found = next((bot for bot in viewer.bots if bot.id == bot_id), None)
    if found is None:
        raise NotFound("Bot not found")
    return found


def public_base_url(request: Request) -> str:
    """Where the outside world reaches this server: the configured public URL, else the address
    the dashboard itself was opened at."""
    configured = request.app.state.settings.public_url
    return str(configured or request.base_url).rstrip("/")


@dataclass(frozen=True)
class Paging:
    """Which page of a list is shown, and the links around it."""

    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def window(self) -> PageRequest:
        return PageRequest(page=self.page, limit=self.size)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_shown(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last_shown(self) -> int:
        return min(self.total, self.page * self.size)

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything unreadable is the first page."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def messages_of(failed: KonversationError) -> list[str]:
    """Every message of a refusal, for a form to list."""
    if isinstance(failed, Invalid) and failed.errors:
        return [message for messages in failed.errors.values() for message in messages]
    return [failed.message]


def query_string(values: Mapping[str, object]) -> str:
    """The non-empty `values` as a query string, for links that keep a list's filters."""
    kept = {key: str(value) for key, value in values.items() if value not in (None, "")}
    return urlencode(kept)
