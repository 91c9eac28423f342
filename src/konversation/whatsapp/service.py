"""WhatsApp message templates: created, synced and deleted at Meta and here, and sent.

Templates live in the bot's WhatsApp Business Account (`/{waba-id}/message_templates`); the
stored copy serves the list and tells a send which parameters the template takes:

- `HEADER_{{n}}` for a text header's variables, `HEADER_IMAGE`, `HEADER_VIDEO` or
  `HEADER_DOCUMENT` (a link) for a media header;
- `BODY_{{n}}` for the body's variables (`BODY_{{name}}` for named ones);
- `URL_n` for the variable part of the n-th URL button;
- `QUICK_REPLY_n` (optional) for the n-th quick reply button: a sub flow (`f1s2`) that starts
  when it is pressed.

Parameter values may use the subscriber's variables (`{{first_name}}`, a field's id). Templates
are the one kind of message WhatsApp lets through outside the 24-hour service window.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.base import DeliveryFailed, Template
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import get_channel
from konversation.channels.whatsapp import WhatsAppChannel, template_body
from konversation.conversations.models import Direction
from konversation.conversations.service import record_message
from konversation.db import PageRequest, contains_text, fetch_page, utcnow
from konversation.errors import BadRequest, Invalid, NotFound
from konversation.flows import format as fmt
from konversation.flows import index
from konversation.flows.models import Flow
from konversation.flows.service import SUB_FLOWS
from konversation.runtime.lookups import Lookups, parse_node
from konversation.runtime.messages import node_payload
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.runtime.templates import render
from konversation.runtime.variables import variables_for
from konversation.subscribers.models import Subscriber, SubscriberChannel
from konversation.whatsapp.models import TemplateStatus, WhatsAppTemplate

NOT_FOUND = "Template not found"
NOT_CONNECTED = "The bot is not connected to WhatsApp: connect a business number first."
PAGE_SIZE = "100"
_NAME = re.compile(r"[a-z0-9_]{1,512}")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
_FIELDS = "id,name,language,category,components,status,rejected_reason"


@dataclass(frozen=True)
class GraphAccess:
    """Where Meta's Graph API is and the client to reach it with (owned by the caller)."""

    http: httpx.AsyncClient
    base_url: str


@dataclass(frozen=True)
class _Account:
    channel: BotChannel
    api: WhatsAppChannel

    @property
    def templates_path(self) -> str:
        return f"{self.channel.config['waba_id']}/message_templates"


async def _account(session: AsyncSession, bot_id: int, graph: GraphAccess) -> _Account:
    channel = await get_channel(session, bot_id, ChannelType.WHATSAPP)
    if channel is None or not channel.enabled or not channel.config.get("token"):
        raise BadRequest(NOT_CONNECTED)
    api = WhatsAppChannel(
        str(channel.config["phone_number_id"]),
        str(channel.config["token"]),
        client=graph.http,
        base_url=graph.base_url,
    )
    return _Account(channel, api)


async def _meta(call: Any, what: str) -> Any:
    """Meta's answer, or its refusal as a 400 that says what Meta said."""
    try:
        return await call
    except DeliveryFailed as failed:
        raise BadRequest(f"WhatsApp refused to {what}: {failed.message}") from None


# The templates


async def list_templates(
    session: AsyncSession, bot_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[WhatsAppTemplate], int]:
    query = (
        select(WhatsAppTemplate)
        .where(WhatsAppTemplate.bot_id == bot_id)
        .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
    )
    if name:
        query = query.where(contains_text(WhatsAppTemplate.name, name))
    return await fetch_page(session, query, window)


async def create_template(
    session: AsyncSession,
    bot_id: int,
    graph: GraphAccess,
    *,
    name: str,
    language: str,
    category: str,
    components: list[dict[str, Any]],
) -> WhatsAppTemplate:
    """Submit a template to Meta for review and keep it with the status Meta gave."""
    name, language, category = name.strip(), language.strip(), category.strip().upper()
    if not _NAME.fullmatch(name):
        raise Invalid.field("name", "The name may hold lowercase letters, digits and _ only.")
    if not any(str(c.get("type", "")).upper() == "BODY" for c in components):
        raise Invalid.field("components", "A template needs a BODY component.")
    if await _stored(session, bot_id, name, language) is not None:
        raise Invalid.field("name", f"The template {name} ({language}) exists already.")
    account = await _account(session, bot_id, graph)
    body = {"name": name, "language": language, "category": category, "components": components}
    answer = await _meta(
        account.api.call("POST", account.templates_path, json=body), "create the template"
    )
    template = WhatsAppTemplate(
        bot_id=bot_id,
        name=name,
        language=language,
        category=str(answer.get("category") or category),
        components=components,
        status=str(answer.get("status") or TemplateStatus.PENDING),
        meta_id=str(answer.get("id")) if answer.get("id") else None,
    )
    session.add(template)
    await session.flush()
    return template


async def delete_template(
    session: AsyncSession, bot_id: int, graph: GraphAccess, *, name: str
) -> None:
    """Delete the template `name` in every language, at Meta and here."""
    name = name.strip()
    found = await session.scalar(
        select(WhatsAppTemplate.id).where(
            WhatsAppTemplate.bot_id == bot_id, WhatsAppTemplate.name == name
        )
    )
    if found is None:
        raise NotFound(NOT_FOUND)
    account = await _account(session, bot_id, graph)
    await _meta(
        account.api.call("DELETE", account.templates_path, params={"name": name}),
        "delete the template",
    )
    await session.execute(
        delete(WhatsAppTemplate).where(
            WhatsAppTemplate.bot_id == bot_id, WhatsAppTemplate.name == name
        )
    )


async def sync_templates(session: AsyncSession, bot_id: int, graph: GraphAccess) -> int:
    """Read every template of the business account (page by page), store them with their
    statuses, and forget those Meta no longer has; answers how many there are."""
    account = await _account(session, bot_id, graph)
    params = {"fields": _FIELDS, "limit": PAGE_SIZE}
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    while True:
        answer = await _meta(
            account.api.call("GET", account.templates_path, params=params), "list the templates"
        )
        for item in answer.get("data", []):
            found[(str(item["name"]), str(item["language"]))] = item
        after = answer.get("paging", {}).get("cursors", {}).get("after")
        if not answer.get("paging", {}).get("next") or not after:
            break
        params = params | {"after": str(after)}
    stored = {
        (t.name, t.language): t
        for t in await session.scalars(
            select(WhatsAppTemplate).where(WhatsAppTemplate.bot_id == bot_id)
        )
    }
    for key, template in stored.items():
        if key not in found:
            await session.delete(template)
    for (name, language), item in found.items():
        template = stored.get((name, language)) or WhatsAppTemplate(
            bot_id=bot_id, name=name, language=language
        )
        template.category = str(item.get("category", ""))
        template.components = list(item.get("components", []))
        template.status = str(item.get("status", TemplateStatus.PENDING))
        template.meta_id = str(item["id"]) if item.get("id") else None
        template.rejected_reason = item.get("rejected_reason")
        template.updated_at = utcnow()
        session.add(template)
    await session.flush()
    return len(found)


async def _stored(
    session: AsyncSession, bot_id: int, name: str, language: str
) -> WhatsAppTemplate | None:
    return await session.scalar(
        select(WhatsAppTemplate).where(
            WhatsAppTemplate.bot_id == bot_id,
            WhatsAppTemplate.name == name,
            WhatsAppTemplate.language == language,
        )
    )


# Parameters


def parameter_names(components: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a send fills in for the template, by the names the API takes them under."""
    names: list[str] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and component.get("format") in _MEDIA_FORMATS:
            names.append(f"HEADER_{component['format']}")
        elif kind in ("HEADER", "BODY"):
            names += [f"{kind}_{{{{{v}}}}}" for v in _VARIABLE.findall(component.get("text", ""))]
        elif kind == "BUTTONS":
            names += _button_names(component.get("buttons", []))
    return names


def _button_names(buttons: Sequence[Mapping[str, Any]]) -> list[str]:
    names, urls, replies = [], 0, 0
    for button in buttons:
        if button.get("type") == "URL":
            urls += 1
            if _VARIABLE.search(str(button.get("url", ""))):
                names.append(f"URL_{urls}")
        elif button.get("type") == "QUICK_REPLY":
            replies += 1
            names.append(f"QUICK_REPLY_{replies}")
    return names


async def _components(
    session: AsyncSession,
    template: WhatsAppTemplate,
    params: Mapping[str, str],
    variables: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The send's components, each parameter filled in; Invalid naming every missing one."""
    values = {name: render(value, variables) for name, value in params.items()}
    missing = [
        name
        for name in parameter_names(template.components)
        if not name.startswith("QUICK_REPLY_") and not values.get(name, "").strip()
    ]
    if missing:
        raise Invalid(
            {f"content.params.{name}": [f"The {name} parameter is required."] for name in missing}
        )
    sent: list[dict[str, Any]] = []
    for component in template.components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and component.get("format") in _MEDIA_FORMATS:
            media = str(component["format"]).lower()
            link = values[f"HEADER_{component['format']}"]
            sent.append({"type": "header", "parameters": [{"type": media, media: {"link": link}}]})
        elif kind in ("HEADER", "BODY"):
            found = _VARIABLE.findall(component.get("text", ""))
            if found:
                sent.append(
                    {
                        "type": kind.lower(),
                        "parameters": [
                            _text_parameter(v, values[f"{kind}_{{{{{v}}}}}"]) for v in found
                        ],
                    }
                )
        elif kind == "BUTTONS":
            sent += await _button_components(session, template.bot_id, component, values)
    return sent


def _text_parameter(variable: str, value: str) -> dict[str, str]:
    parameter = {"type": "text", "text": value}
    if not variable.isdigit():
        parameter["parameter_name"] = variable
    return parameter


async def _button_components(
    session: AsyncSession, bot_id: int, component: Mapping[str, Any], values: Mapping[str, str]
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    urls = replies = 0
    for position, button in enumerate(component.get("buttons", [])):
        item = {"type": "button", "index": str(position)}
        if button.get("type") == "URL":
            urls += 1
            value = values.get(f"URL_{urls}")
            if value and _VARIABLE.search(str(button.get("url", ""))):
                sent.append(
                    item | {"sub_type": "url", "parameters": [{"type": "text", "text": value}]}
                )
        elif button.get("type") == "QUICK_REPLY":
            replies += 1
            sub_flow_ns = values.get(f"QUICK_REPLY_{replies}", "").strip()
            if sub_flow_ns:
                payload = await _sub_flow_payload(session, bot_id, sub_flow_ns)
                parameter = {"type": "payload", "payload": payload}
                sent.append(item | {"sub_type": "quick_reply", "parameters": [parameter]})
    return sent


async def _sub_flow_payload(session: AsyncSession, bot_id: int, sub_flow_ns: str) -> str:
    """What pressing the button sends back: the sub flow's first node, which the engine starts
    like any button of ours (the payload is in the logged message, so it counts as offered)."""
    flow = await SUB_FLOWS.by_ns(session, bot_id, sub_flow_ns)
    start = flow.definition.get("start")
    numbers = await index.node_numbers(session, flow)
    if start not in numbers:
        raise Invalid.field("content.params", f"The sub flow {sub_flow_ns} has no first node.")
    return node_payload(numbers[start])


# Sending


def opening_template(flow: Flow, node_id: str | None = None) -> fmt.WhatsAppTemplateNode | None:
    """The template node, when the first message the flow sends from `node_id` (or its start)
    is a WhatsApp template: only action nodes, which send nothing, may come before it. Such a
    flow may start for a subscriber outside the 24-hour window."""
    seen: set[str] = set()
    current = node_id if node_id is not None else flow.definition.get("start")
    while isinstance(current, str) and current not in seen:
        seen.add(current)
        node = parse_node(flow, current)
        if isinstance(node, fmt.WhatsAppTemplateNode):
            return node
        if not isinstance(node, fmt.ActionNode):
            return None
        current = node.next
    return None


@dataclass(frozen=True)
class TemplateSend:
    name: str
    lang: str
    params: Mapping[str, str]


async def send_template(
    session: AsyncSession,
    bot_id: int,
    graph: GraphAccess,
    subscriber: Subscriber,
    send: TemplateSend,
) -> str:
    """Send an approved template to the subscriber's WhatsApp number, now, and log it; answers
    WhatsApp's message id. Allowed outside the 24-hour window."""
    if not subscriber.is_subscribed:
        raise Invalid.field("user_ns", "The subscriber has unsubscribed from the bot.")
    variables = await variables_for(Lookups(session), subscriber, {})
    message = await template_message(session, subscriber, send, variables)
    recipient = await _whatsapp_number(session, subscriber)
    account = await _account(session, bot_id, graph)
    body = template_body(message)
    wamid = await _meta(account.api.send_body(recipient, body), "send the template")
    await _log(session, subscriber, message, body, recipient, wamid)
    return str(wamid)


async def template_message(
    session: AsyncSession,
    subscriber: Subscriber,
    send: TemplateSend,
    variables: Mapping[str, Any],
) -> Template:
    """The approved template filled in for the subscriber, `variables` rendered into its
    parameters; NotFound or Invalid when it cannot be sent."""
    template = await approved_template(session, subscriber.bot_id, send.name, send.lang)
    components = await _components(session, template, send.params, variables)
    return Template(
        template.name,
        template.language,
        tuple(components),
        _body_text(template, send.params, variables),
    )


async def approved_template(
    session: AsyncSession, bot_id: int, name: str, language: str
) -> WhatsAppTemplate:
    """The stored template, if Meta approved it; NotFound or Invalid otherwise."""
    template = await _stored(session, bot_id, name.strip(), language.strip())
    if template is None:
        raise NotFound(NOT_FOUND)
    if template.status != TemplateStatus.APPROVED:
        raise Invalid.field(
            "content.name",
            f"The template {template.name} is {template.status}: only approved ones are sent.",
        )
    return template


def _body_text(
    template: WhatsAppTemplate, params: Mapping[str, str], variables: Mapping[str, Any]
) -> str:
    """The body as the subscriber reads it (the template's name when it has none)."""
    text = next(
        (str(c.get("text", "")) for c in template.components if c.get("type") == "BODY"), ""
    )
    for name, value in params.items():
        if name.startswith("BODY_"):
            text = text.replace(name.removeprefix("BODY_"), render(value, variables))
    return text or template.name


async def _whatsapp_number(session: AsyncSession, subscriber: Subscriber) -> str:
    found = await session.scalar(
        select(SubscriberChannel.user_id).where(
            SubscriberChannel.subscriber_id == subscriber.id,
            SubscriberChannel.type == ChannelType.WHATSAPP,
        )
    )
    number = found or (subscriber.phone or "").lstrip("+")
    if not number.isdigit():
        raise Invalid.field("user_ns", "The subscriber has no WhatsApp number.")
    return number


async def _log(
    session: AsyncSession,
    subscriber: Subscriber,
    message: Template,
    body: dict[str, Any],
    recipient: str,
    wamid: str,
) -> None:
    """The template in the message log, and as a sent outbox row that status reports update."""
    logged = await record_message(
        session,
        subscriber,
        direction=Direction.OUT,
        msg_type="template",
        content=message.text,
        payload={"text": message.text} | body,
    )
    now = utcnow()
    session.add(
        Delivery(
            key=f"whatsapp-template:{uuid.uuid4().hex}",
            bot_id=subscriber.bot_id,
            subscriber_id=subscriber.id,
            message_id=logged.id,
            channel=ChannelType.WHATSAPP,
            recipient=recipient,
            body=body,
            status=DeliveryStatus.SENT,
            attempts=1,
            due_at=now,
            created_at=now,
            sent_at=now,
            external_id=wamid,
        )
    )
    await session.flush()
