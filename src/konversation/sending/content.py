"""`send-content`: the reference's dynamic content, version 1, as channel messages and actions.

A client sends `{"version": "v1", "content": {...}}` where `content` holds:

- `messages` (up to 10): `{"type": "text", "text", "buttons"?}`, `{"type": "image" | "file" |
  "audio" | "video", "url", "caption"?, "buttons"?}` or `{"type": "cards", "elements": [{"title",
  "subtitle"?, "image_url"?, "buttons"?}]}` (`cards` is read as well as `elements`);
- `actions` (up to 20), done before anything is sent: `{"action": "add_tag" | "remove_tag",
  "tag_name"}`, `{"action": "set_field_value", "field_name", "value"}`, `{"action":
  "unset_field_value", "field_name"}`;
- `quick_replies` (up to 11), offered with the last message: `{"type": "node", "caption",
  "target"}` goes to a node when chosen; `{"type": "url", "caption", "url" or "target"}` has no
  quick reply of its own on any channel, so it becomes a link button of the last message;
- `goto`: a node the subscriber goes on at after the messages.

A button is `{"type": "url", "caption", "url"}`, `{"type": "call", "caption", "phone"}` or
`{"type": "node", "caption", "target"}`. A node `target` is a node id (`f1n3`) or the name of a
node in one of the bot's flows (the main flow is searched first, then sub flows in order), or
else a node's id in its flow document.
Texts are sent as written: content comes ready-made, so `{{...}}` is not filled in.

Tags and fields are named as they are, never created on the way. Everything is looked up before
anything changes, and every problem is reported at once under its path in the request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels import base as out
from konversation.errors import Invalid, NotFound
from konversation.flows import fieldtypes, index
from konversation.flows import format as fmt
from konversation.flows.models import Field as FieldDefinition
from konversation.flows.models import Flow, Tag
from konversation.flows.service import TAGS, USER_FIELDS, bot_flows
from konversation.ids import Kind, format_ns, parse_ns
from konversation.runtime.messages import node_payload
from konversation.subscribers import attributes
from konversation.subscribers.attributes import Pick
from konversation.subscribers.models import Subscriber

MAX_ACTIONS = fmt.MAX_ACTIONS
MAX_CAPTION = 1024
MAX_SUBTITLE = 255
MAX_URL = 2048
MAX_NAME = 255
_URL = re.compile(r"^https?://\S+$")


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _web_address(value: str) -> str:
    if not _URL.match(value):
        raise ValueError("must be a web address starting with https:// or http://")
    return value


Optional = BeforeValidator(_blank_is_none)
Caption = Annotated[str, Field(min_length=1, max_length=80, examples=["Show me"])]
WebAddress = Annotated[str, Optional, Field(max_length=MAX_URL), AfterValidator(_web_address)]
Reference = Annotated[str, Optional, Field(max_length=MAX_NAME)]


class ContentButton(BaseModel):
    """A button under a text, a file or a card."""

    type: Literal["url", "call", "node"] = Field(examples=["url"])
    caption: Caption
    url: WebAddress | None = Field(default=None, examples=["https://example.com"])
    phone: Annotated[str, Optional, Field(max_length=64)] | None = None
    target: Reference | None = Field(
        default=None, description="For node buttons: a node id (f1n3) or a node's name."
    )

    @model_validator(mode="after")
    def _says_what_it_does(self) -> Self:
        if self.type == "url" and self.url is None and self.target is None:
            raise ValueError("needs a url")
        if self.type == "call" and self.phone is None:
            raise ValueError("needs a phone")
        if self.type == "node" and self.target is None:
            raise ValueError("needs a target")
        return self


Buttons = Annotated[list[ContentButton], Field(max_length=fmt.MAX_BUTTONS)]


class ContentCard(BaseModel):
    title: Caption
    subtitle: Annotated[str, Field(max_length=MAX_SUBTITLE)] | None = None
    image_url: WebAddress | None = None
    buttons: Buttons = []


Cards = Annotated[list[ContentCard], Field(min_length=1, max_length=fmt.MAX_CARDS)]


class ContentMessage(BaseModel):
    """One message; which fields it needs depends on its `type`."""

    type: Literal["text", "image", "audio", "video", "file", "cards"] = Field(examples=["text"])
    text: Annotated[str, Field(max_length=4096)] | None = Field(
        default=None, examples=["Your order has shipped."]
    )
    url: WebAddress | None = None
    caption: Annotated[str, Field(max_length=MAX_CAPTION)] | None = None
    buttons: Buttons = []
    elements: Cards | None = Field(default=None, description="The cards of a cards message.")
    cards: Cards | None = Field(default=None, description="Read as `elements`.")

    @model_validator(mode="after")
    def _has_what_its_type_needs(self) -> Self:
        if self.type == "text" and not (self.text and self.text.strip()):
            raise ValueError("needs a text")
        if self.type in {"image", "audio", "video", "file"} and self.url is None:
            raise ValueError("needs a url")
        if self.type == "cards" and not (self.elements or self.cards):
            raise ValueError("needs elements")
        return self

    @property
    def card_key(self) -> str:
        return "elements" if self.elements else "cards"

    @property
    def card_list(self) -> list[ContentCard]:
        return self.elements or self.cards or []


class ContentAction(BaseModel):
    action: Literal["add_tag", "remove_tag", "set_field_value", "unset_field_value"] = Field(
        examples=["add_tag"]
    )
    tag_name: Reference | None = Field(default=None, examples=["VIP"])
    field_name: Reference | None = Field(default=None, examples=["Order number"])
    value: JsonValue = Field(default=None, description="For set_field_value.")

    @model_validator(mode="after")
    def _names_its_item(self) -> Self:
        if self.action in {"add_tag", "remove_tag"} and self.tag_name is None:
            raise ValueError("needs a tag_name")
        if self.action in {"set_field_value", "unset_field_value"} and self.field_name is None:
            raise ValueError("needs a field_name")
        return self


class ContentQuickReply(BaseModel):
    type: Literal["node", "url", "dynamic_block_callback"] = Field(examples=["node"])
    caption: Caption
    target: Reference | None = Field(
        default=None, description="A node id (f1n3) or a node's name; for url, the address."
    )
    url: WebAddress | None = None

    @field_validator("type")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value == "dynamic_block_callback":
            raise ValueError("must be node or url: this server does not call back for content")
        return value

    @model_validator(mode="after")
    def _says_where_it_leads(self) -> Self:
        if self.type == "node" and self.target is None:
            raise ValueError("needs a target")
        if self.type == "url" and self.url is None and self.target is None:
            raise ValueError("needs a url")
        return self


class Content(BaseModel):
    messages: list[ContentMessage] = Field(default=[], max_length=fmt.MAX_MESSAGES)
    actions: list[ContentAction] = Field(default=[], max_length=MAX_ACTIONS)
    quick_replies: list[ContentQuickReply] = Field(default=[], max_length=fmt.MAX_QUICK_REPLIES)
    goto: Reference | None = Field(
        default=None, description="A node id (f1n3) or a node's name to go on at afterwards."
    )

    @model_validator(mode="after")
    def _does_something(self) -> Self:
        if not (self.messages or self.actions or self.goto):
            raise ValueError("needs messages, actions or a goto")
        if self.quick_replies and not self.messages:
            raise ValueError("needs a message to offer its quick_replies with")
        return self


class DynamicContent(BaseModel):
    """What `send-content` sends, in the reference's dynamic content format."""

    version: Literal["v1"] = "v1"
    content: Content


# Looking everything up


@dataclass(frozen=True)
class Node:
    flow: Flow
    node_id: str
    number: int


@dataclass(frozen=True)
class Change:
    """One action, by id: `ref` is a tag_ns for tag actions, a var_ns for field actions."""

    action: str
    ref: str
    value: Any = None


@dataclass
class Prepared:
    """Content checked against the bot, ready to apply."""

    messages: list[out.FreeForm] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    goto: Node | None = None


class _Resolver:
    """Finds what the content names, gathering every problem under its path."""

    def __init__(self, session: AsyncSession, bot_id: int, where: str) -> None:
        self.session = session
        self.bot_id = bot_id
        self.where = where
        self.errors: dict[str, list[str]] = {}
        self._flows: list[Flow] | None = None

    def refuse(self, path: str, message: str | None = None) -> None:
        full = f"{self.where}.{path}"
        self.errors.setdefault(full, []).append(message or f"The selected {full} is invalid.")

    async def node(self, target: str, path: str) -> Node | None:
        found = await self._node(target.strip())
        if found is None:
            self.refuse(path)
        return found

    async def _node(self, target: str) -> Node | None:
        parsed = parse_ns(target, Kind.NODE)
        if parsed is not None:
            if parsed[0] != self.bot_id:
                return None
            try:
                flow, node_id = await index.node_by_ns(self.session, self.bot_id, target)
            except NotFound:
                return None
            return Node(flow, node_id, parsed[1])
        flows = await self._all_flows()
        # Names first, in any flow; a node's own id (unique only in its flow) only then.
        for key in ("name", "id"):
            for flow in flows:
                found = _node_with(flow, key, target)
                if found is not None:
                    return await self._numbered(flow, found)
        return None

    async def _numbered(self, flow: Flow, node_id: str) -> Node:
        numbers = await index.node_numbers(self.session, flow)
        if node_id not in numbers:  # a flow saved before nodes were numbered
            await index.index_flow(self.session, flow)
            numbers = await index.node_numbers(self.session, flow)
        return Node(flow, node_id, numbers[node_id])

    async def _all_flows(self) -> list[Flow]:
        if self._flows is None:
            self._flows = await bot_flows(self.session, self.bot_id)
        return self._flows

    async def tags(self, names: set[str]) -> dict[str, Tag]:
        if not names:
            return {}
        query = TAGS.query(self.bot_id).where(Tag.name.in_(names))
        return {tag.name: tag for tag in await self.session.scalars(query)}

    async def fields(self, names: set[str]) -> dict[str, FieldDefinition]:
        if not names:
            return {}
        query = USER_FIELDS.query(self.bot_id).where(FieldDefinition.name.in_(names))
        return {f.name: f for f in await self.session.scalars(query)}


def _node_with(flow: Flow, key: str, target: str) -> str | None:
    """The id of the flow's first node whose `key` (name or id) is `target`."""
    nodes = flow.definition.get("nodes", [])
    return next((str(n["id"]) for n in nodes if n.get(key) == target), None)


async def prepare(
    session: AsyncSession, bot_id: int, content: DynamicContent, *, where: str = "data.content"
) -> Prepared:
    """The content as channel messages and changes; Invalid names every part that names
    something the bot does not have."""
    resolver = _Resolver(session, bot_id, where)
    body = content.content
    prepared = Prepared()
    await _prepare_actions(resolver, body.actions, prepared)
    messages = [await _message(resolver, m, f"messages.{i}") for i, m in enumerate(body.messages)]
    replies, links = await _quick_replies(resolver, body.quick_replies)
    if body.goto is not None:
        prepared.goto = await resolver.node(body.goto, "goto")
    if messages and (replies or links):
        last = _finish_last(messages[-1], replies, links)
        if last is None:
            resolver.refuse(
                "quick_replies",
                f"The {where}.quick_replies field has url quick replies that do not fit as "
                f"buttons on the last message (at most {fmt.MAX_BUTTONS} buttons).",
            )
        else:
            messages[-1] = last
    if resolver.errors:
        raise Invalid(resolver.errors)
    prepared.messages = messages
    return prepared


async def _prepare_actions(
    resolver: _Resolver, actions: Sequence[ContentAction], prepared: Prepared
) -> None:
    tags = await resolver.tags({a.tag_name for a in actions if a.tag_name and _on_tag(a)})
    fields = await resolver.fields({a.field_name for a in actions if a.field_name and _on_field(a)})
    for position, action in enumerate(actions):
        path = f"actions.{position}"
        if _on_tag(action):
            tag = tags.get(str(action.tag_name))
            if tag is None:
                resolver.refuse(f"{path}.tag_name")
                continue
            tag_ns = format_ns(resolver.bot_id, Kind.TAG, tag.number)
            prepared.changes.append(Change(action.action, tag_ns))
            continue
        definition = fields.get(str(action.field_name))
        if definition is None:
            resolver.refuse(f"{path}.field_name")
            continue
        var_ns = format_ns(resolver.bot_id, Kind.FIELD, definition.number)
        value = action.value if action.action == "set_field_value" else None
        try:
            typed = fieldtypes.normalize(definition.var_type, value)
        except fieldtypes.BadValue as bad:
            resolver.refuse(f"{path}.value", f"The {resolver.where}.{path}.value field {bad}.")
            continue
        prepared.changes.append(Change(action.action, var_ns, typed))


def _on_tag(action: ContentAction) -> bool:
    return action.action in {"add_tag", "remove_tag"}


def _on_field(action: ContentAction) -> bool:
    return not _on_tag(action)


async def _message(resolver: _Resolver, message: ContentMessage, path: str) -> out.FreeForm:
    if message.type == "cards":
        cards = []
        for index_, card in enumerate(message.card_list):
            where = f"{path}.{message.card_key}.{index_}"
            buttons = await _buttons(resolver, card.buttons, where)
            cards.append(out.Card(card.title, card.subtitle, card.image_url, buttons))
        return out.Cards(tuple(cards))
    buttons = await _buttons(resolver, message.buttons, path)
    if message.type == "text":
        return out.Text(str(message.text), buttons)
    return out.Media(message.type, str(message.url), message.caption, buttons)


async def _buttons(
    resolver: _Resolver, buttons: Sequence[ContentButton], path: str
) -> tuple[out.Button, ...]:
    made: list[out.Button] = []
    for position, button in enumerate(buttons):
        if button.type == "url":
            made.append(out.Button(button.caption, url=button.url or button.target))
        elif button.type == "call":
            made.append(out.Button(button.caption, phone=button.phone))
        else:
            where = f"{path}.buttons.{position}.target"
            node = await resolver.node(str(button.target), where)
            if node is not None:
                made.append(out.Button(button.caption, payload=node_payload(node.number)))
    return tuple(made)


async def _quick_replies(
    resolver: _Resolver, replies: Sequence[ContentQuickReply]
) -> tuple[tuple[out.QuickReply, ...], tuple[out.Button, ...]]:
    """The node quick replies, and the url ones as link buttons."""
    chosen: list[out.QuickReply] = []
    links: list[out.Button] = []
    for position, reply in enumerate(replies):
        if reply.type == "url":
            links.append(out.Button(reply.caption, url=reply.url or reply.target))
            continue
        node = await resolver.node(str(reply.target), f"quick_replies.{position}.target")
        if node is not None:
            chosen.append(out.QuickReply(reply.caption, node_payload(node.number)))
    return tuple(chosen), tuple(links)


def _finish_last(
    message: out.FreeForm,
    replies: tuple[out.QuickReply, ...],
    links: tuple[out.Button, ...],
) -> out.FreeForm | None:
    """The last message with the quick replies, and the url ones as extra buttons; None when
    the buttons do not fit."""
    if isinstance(message, out.Cards):
        *first, last = message.cards
        buttons = (*last.buttons, *links)
        if len(buttons) > fmt.MAX_BUTTONS:
            return None
        card = out.Card(last.title, last.subtitle, last.image_url, buttons)
        return out.Cards((*first, card), replies)
    buttons = (*message.buttons, *links)
    if len(buttons) > fmt.MAX_BUTTONS:
        return None
    if isinstance(message, out.Text):
        return out.Text(message.text, buttons, replies)
    return out.Media(message.kind, message.url, message.caption, buttons, replies)


async def apply_changes(session: AsyncSession, subscriber: Subscriber, prepared: Prepared) -> None:
    """Do the content's actions for the subscriber, in their order."""
    bot_id = subscriber.bot_id
    user_ns = format_ns(bot_id, Kind.SUBSCRIBER, subscriber.number)
    for change in prepared.changes:
        if change.action == "add_tag":
            await attributes.add_tags(
                session, bot_id, user_ns=user_ns, tags=Pick.one("tag_ns", change.ref)
            )
        elif change.action == "remove_tag":
            await attributes.remove_tags(
                session, bot_id, user_ns=user_ns, tags=Pick.one("tag_ns", change.ref)
            )
        else:  # a field is set, or cleared with None
            await attributes.set_fields(
                session,
                bot_id,
                user_ns=user_ns,
                fields=Pick.one("var_ns", change.ref),
                values=[change.value],
            )
