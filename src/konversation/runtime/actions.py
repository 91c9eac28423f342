"""What an action node does to the subscriber, the bot and the outside world.

An action that names something since deleted (a tag, a field) is skipped and logged, so that
one stale id does not stop the flow. An HTTP request, or a call of a mini-app, that fails goes
on at its `on_error` node when it has one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import KonversationError
from konversation.events import service as events
from konversation.flows import format as fmt
from konversation.flows import service as flows
from konversation.ids import Kind, format_ns
from konversation.miniapps import service as miniapps
from konversation.runtime.templates import render
from konversation.subscribers import attributes, state
from konversation.subscribers.attributes import Pick
from konversation.subscribers.models import Subscriber
from konversation.tickets import service as tickets

log = logging.getLogger(__name__)


@dataclass
class ActionContext:
    session: AsyncSession
    subscriber: Subscriber
    variables: Mapping[str, Any]
    http: httpx.AsyncClient
    # Opens the sealed keys of the mini-apps flows call.
    server_secret: bytes

    @property
    def user_ns(self) -> str:
        return format_ns(self.subscriber.bot_id, Kind.SUBSCRIBER, self.subscriber.number)

    @property
    def bot_id(self) -> int:
        return self.subscriber.bot_id


@dataclass(frozen=True)
class Done:
    """How an action ended: `jump` to a node instead of the next action, `changed` when the
    subscriber's variables may differ now."""

    jump: str | None = None
    changed: bool = False


async def run_action(action: Any, ctx: ActionContext) -> Done:
    try:
        return await _run(action, ctx)
    except KonversationError as refused:
        log.warning("Skipped the %s action for %s: %s", action.type, ctx.user_ns, refused)
        return Done()


async def _run(action: Any, ctx: ActionContext) -> Done:
    session, bot_id, user_ns = ctx.session, ctx.bot_id, ctx.user_ns
    match action:
        case fmt.AddTagAction():
            await attributes.add_tags(
                session, bot_id, user_ns=user_ns, tags=Pick.one("tag_ns", action.tag_ns)
            )
        case fmt.RemoveTagAction():
            await attributes.remove_tags(
                session, bot_id, user_ns=user_ns, tags=Pick.one("tag_ns", action.tag_ns)
            )
        case fmt.SetFieldAction():
            await attributes.set_fields(
                session,
                bot_id,
                user_ns=user_ns,
                fields=Pick.one("var_ns", action.var_ns),
                values=[render_value(action.value, ctx.variables)],
            )
            return Done(changed=True)
        case fmt.ClearFieldAction():
            await attributes.clear_fields(
                session, bot_id, user_ns=user_ns, fields=Pick.one("var_ns", action.var_ns)
            )
            return Done(changed=True)
        case fmt.SetBotFieldAction():
            value = render_value(action.value, ctx.variables)
            await flows.set_bot_field(session, bot_id, var_ns=action.var_ns, value=value)
            return Done(changed=True)
        case fmt.SubscribeAction() | fmt.UnsubscribeAction():
            subscribed = isinstance(action, fmt.SubscribeAction)
            await state.set_subscribed(session, bot_id, user_ns=user_ns, subscribed=subscribed)
        case fmt.PauseBotAction():
            await state.pause_bot(session, bot_id, user_ns=user_ns, minutes=action.minutes)
        case fmt.LogEventAction():
            await events.log_event(
                session,
                bot_id,
                user_ns=user_ns,
                event_name=render(action.event_name, ctx.variables),
                text_value=render(action.text_value, ctx.variables) if action.text_value else None,
                number_value=render_value(action.number_value, ctx.variables),
                price_value=render_value(action.price_value, ctx.variables),
            )
        case fmt.HttpRequestAction():
            return await _http_request(action, ctx)
        case fmt.CallAppAction():
            return await _call_app(action, ctx)
        case fmt.NotifyWebhookAction():
            await _notify(action, ctx)
        case fmt.OpenTicketAction():
            await tickets.open_for_subscriber(
                session,
                ctx.subscriber,
                list_name=action.list_name,
                title=render(action.title, ctx.variables),
                description=render(action.description, ctx.variables)
                if action.description
                else None,
                values=render_value(action.values, ctx.variables),
            )
    return Done()


def render_value(value: Any, variables: Mapping[str, Any]) -> Any:
    """`value` with the templates in its texts filled in, also inside lists and objects."""
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, list):
        return [render_value(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, variables) for key, item in value.items()}
    return value


async def _http_request(action: fmt.HttpRequestAction, ctx: ActionContext) -> Done:
    body = render_value(action.body, ctx.variables)
    content = body if isinstance(body, str) else None
    request = ctx.http.build_request(
        action.method,
        render(action.url, ctx.variables),
        headers={name: render(value, ctx.variables) for name, value in action.headers.items()},
        json=None if body is None or content is not None else body,
        content=content,
        timeout=action.timeout_seconds,
    )
    return await _exchange(request, action, ctx, what="HTTP request")


async def _call_app(action: fmt.CallAppAction, ctx: ActionContext) -> Done:
    try:
        call = await miniapps.prepare_call(
            ctx.session,
            ctx.server_secret,
            ctx.bot_id,
            app_ns=action.app_ns,
            action_name=action.action,
            params=render_value(action.params, ctx.variables),
        )
    except KonversationError as refused:
        log.warning("Call of %s for %s not made: %s", action.app_ns, ctx.user_ns, refused)
        return Done(jump=action.on_error)
    request = ctx.http.build_request(
        call.method,
        call.url,
        headers=call.headers,
        params=call.query,
        json=call.json,
        timeout=action.timeout_seconds,
    )
    return await _exchange(request, action, ctx, what=f"Call of {action.app_ns}")


async def _exchange(
    request: httpx.Request,
    action: fmt.HttpRequestAction | fmt.CallAppAction,
    ctx: ActionContext,
    *,
    what: str,
) -> Done:
    """Send the request of `action`, keeping what its `save` rules pick of the JSON answer;
    a failure goes on at the action's `on_error`."""
    try:
        response = await ctx.http.send(request)
    except httpx.HTTPError as failed:
        log.warning("%s of %s failed: %s", what, ctx.user_ns, type(failed).__name__)
        return Done(jump=action.on_error)
    if response.status_code >= 400:
        log.warning("%s of %s answered %s", what, ctx.user_ns, response.status_code)
        return Done(jump=action.on_error)
    if not action.save:
        return Done()
    try:
        answer = response.json()
    except ValueError:
        return Done(jump=action.on_error)
    refs = [rule.var_ns for rule in action.save]
    values = [_at_path(answer, rule.path) for rule in action.save]
    await attributes.set_fields(
        ctx.session,
        ctx.bot_id,
        user_ns=ctx.user_ns,
        fields=Pick.many("var_ns", refs),
        values=[_storable(v) for v in values],
    )
    return Done(changed=True)


def _at_path(document: Any, path: str) -> Any:
    """The value at a dotted path such as `data.items.0.id`, or None when it is not there."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _storable(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


async def _notify(action: fmt.NotifyWebhookAction, ctx: ActionContext) -> None:
    subscriber = ctx.subscriber
    body: dict[str, Any] = {
        "event": "flow_notification",
        "user_ns": ctx.user_ns,
        "user_id": subscriber.user_id,
        "first_name": subscriber.first_name,
        "last_name": subscriber.last_name,
        "email": subscriber.email,
        "phone": subscriber.phone,
        "payload": render_value(action.payload, ctx.variables),
    }
    try:
        response = await ctx.http.post(render(action.url, ctx.variables), json=body)
    except httpx.HTTPError as failed:
        log.warning("Webhook notification for %s failed: %s", ctx.user_ns, type(failed).__name__)
        return
    if response.status_code >= 400:
        log.warning("Webhook notification for %s answered %s", ctx.user_ns, response.status_code)
