"""The flow engine: runs flows for subscribers, one node after another, until they wait or end.

A run's state lives in its `Run` row and every message goes through the outbox, both in the
caller's transaction: a turn that fails leaves nothing behind, and a turn that commits has its
messages delivered. Waiting is a row with a due time (delays, questions with a timeout), which
`resume_due` picks up, in whichever process, after any restart.

An inbound message is routed in this order: a pressed button or quick reply of ours; the answer
to the question the subscriber was asked; a quick reply typed by its title; a keyword trigger;
and otherwise the bot's default start flow (its start sub flow, or the main flow).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import random
import re
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from sqlalchemy import Text, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.channels import base as out
from konversation.channels.base import InboundMessage, chosen_payload
from konversation.channels.models import ChannelType
from konversation.conversations.models import Direction, Message
from konversation.conversations.service import record_message
from konversation.db import insert_rows, session_scope, table_of, utcnow
from konversation.errors import KonversationError, NotFound
from konversation.flows import format as fmt
from konversation.flows import index
from konversation.flows.models import MAIN_FLOW_NUMBER, Flow
from konversation.flows.service import SUB_FLOWS
from konversation.ids import Kind, format_ns
from konversation.integrations import media
from konversation.knowledge.answers import Answerer, NothingKnown
from konversation.runtime import shop, trace
from konversation.runtime.actions import ActionContext, render_value, run_action
from konversation.runtime.conditions import Facts, branch_taken
from konversation.runtime.lookups import Lookups, parse_node, raw_node
from konversation.runtime.messages import (
    Press,
    channel_messages,
    find_button,
    find_quick_reply,
    node_payload,
    read_payload,
)
from konversation.runtime.models import Run, RunStatus, WaitKind
from konversation.runtime.outbox import Outbox, OutboxBatch
from konversation.runtime.templates import render
from konversation.runtime.variables import variables_for
from konversation.subscribers import attributes
from konversation.subscribers import service as subscribers
from konversation.subscribers.attributes import Pick
from konversation.subscribers.models import Subscriber
from konversation.webhooks import service as webhooks
from konversation.webhooks.models import EventType
from konversation.whatsapp.service import TemplateSend, template_message
from konversation.workspaces.models import Bot, Workspace

log = logging.getLogger(__name__)

# Nodes one turn may run without waiting: a flow that jumps around for longer loops forever.
MAX_STEPS = 100
# Sub flows started inside each other before the run is stopped.
MAX_DEPTH = 10
RESUME_BATCH = 100

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]{3,20}$")


def refusal(subscriber: Subscriber, *, now: dt.datetime | None = None) -> str | None:
    """Why no flow may run for the subscriber now, or None."""
    if not subscriber.is_subscribed:
        return "The subscriber has unsubscribed from the bot."
    paused = subscriber.paused_until
    if paused is not None and paused > (now or utcnow()):
        return f"The bot is paused for the subscriber until {paused.isoformat()}."
    return None


class Engine:
    """Runs flows. `http` serves the flows' HTTP requests, calls of mini-apps and webhook
    notifications; `server_secret` opens the mini-apps' sealed keys."""

    def __init__(
        self, http: httpx.AsyncClient, *, answerer: Answerer, server_secret: bytes
    ) -> None:
        self.http = http
        self.answerer = answerer
        self.server_secret = server_secret

    async def start(
        self,
        session: AsyncSession,
        subscriber: Subscriber,
        flow: Flow,
        *,
        node_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        origin: str = "api",
        channel: str | None = None,
    ) -> Run:
        """Run `flow` for the subscriber from its start, or from `node_id`, until it waits or
        ends."""
        if node_id is not None and raw_node(flow, node_id) is None:
            raise NotFound(index.NODE_NOT_FOUND)
        run = Run(**_new_run(subscriber, flow, node_id, variables, origin))
        session.add(run)
        await session.flush()
        await _Turn(self, session, subscriber, run, channel).go()
        return run

    async def start_many(
        self,
        session: AsyncSession,
        subscribers: Sequence[Subscriber],
        flow: Flow,
        *,
        origin: str,
        key: str,
    ) -> None:
        """Run `flow` for each of `subscribers` from its start, as `start` does, reading and
        writing in bulk: a few statements for the lot. `key` is unique to this batch (each
        subscriber's messages are keyed by it). Any failure raises, leaving the caller to roll
        back and start the flows one by one."""
        lookups = Lookups(session)
        await lookups.prefetch(subscribers)
        batch = OutboxBatch(session, lookups)
        # The runs stay out of the session: their rows are written once, when all are done.
        runs = [Run(**_new_run(s, flow, None, None, origin)) for s in subscribers]
        for subscriber, run in zip(subscribers, runs, strict=True):
            steps = f"{key}:{subscriber.id}"
            await _Turn(self, session, subscriber, run, None, outbox=batch, key=steps).go()
        await batch.flush()
        await insert_rows(session, RUNS, [_run_row(run) for run in runs])

    async def send(
        self,
        session: AsyncSession,
        subscriber: Subscriber,
        messages: Sequence[out.Outbound],
        *,
        origin: str,
        channel: str | None = None,
    ) -> None:
        """Queue messages outside any flow."""
        batch = uuid.uuid4().hex
        queue = Outbox(session, Lookups(session))
        for position, message in enumerate(messages):
            await queue.queue(
                subscriber, message, key=f"{origin}:{batch}:{position}", channel=channel
            )

    async def receive(
        self,
        session: AsyncSession,
        bot_id: int,
        channel: str,
        event: InboundMessage,
        *,
        unanswered: Flow | None = None,
    ) -> Subscriber:
        """Log what a subscriber said on `channel` and answer it (see the module's routing).

        A message that answers nothing starts `unanswered` when given, instead of a keyword's
        flow or the default one. The same channel message delivered twice is logged and
        answered once.
        """
        subscriber = await subscribers.find_on_channel(session, bot_id, channel, event.user_id)
        if subscriber is None:
            subscriber = await subscribers.create_on_channel(
                session,
                bot_id,
                channel=channel,
                user_id=event.user_id,
                first_name=event.profile.first_name,
                last_name=event.profile.last_name,
                language=event.profile.language,
            )
        mid = _inbound_mid(bot_id, channel, event.message_id)
        if await session.scalar(select(Message.id).where(Message.mid == mid)) is not None:
            return subscriber
        subscriber.last_channel = channel
        _update_profile(subscriber, event)
        await _log_inbound(session, subscriber, event, mid)
        if refusal(subscriber) is None:
            await self._route(session, subscriber, channel, event, unanswered)
        return subscriber

    async def _route(
        self,
        session: AsyncSession,
        subscriber: Subscriber,
        channel: str,
        event: InboundMessage,
        unanswered: Flow | None,
    ) -> None:
        press = read_payload(event.payload)
        if press is not None and await _was_offered(session, subscriber, str(event.payload)):
            await self._press(session, subscriber, press, channel)
            return
        waiting = await _waiting_for_answer(session, subscriber)
        if waiting is not None and waiting.wait == WaitKind.INPUT:
            answer = event.payload or event.text or ""
            await _Turn(self, session, subscriber, waiting, channel).answer(answer)
            return
        if waiting is not None:
            offered = [out.QuickReply(r["title"], r["payload"]) for r in waiting.offered]
            chosen = read_payload(chosen_payload(event, offered))
            if chosen is not None:
                await self._press(session, subscriber, chosen, channel)
                return
        if unanswered is not None:
            await self.start(session, subscriber, unanswered, origin="inbound", channel=channel)
            return
        if event.text:
            flow_id = await index.keyword_flow(session, subscriber.bot_id, event.text)
            if flow_id is not None:
                triggered = await session.get_one(Flow, flow_id)
                await self.start(session, subscriber, triggered, origin="keyword", channel=channel)
                return
        default = await _default_flow(session, subscriber.bot_id, channel)
        if default is not None:
            await self.start(session, subscriber, default, origin="inbound", channel=channel)

    async def _press(
        self, session: AsyncSession, subscriber: Subscriber, press: Press, channel: str
    ) -> None:
        """Follow a pressed button or quick reply to where it leads now."""
        found = await _node_numbered(session, subscriber.bot_id, press.number)
        if found is None:
            log.info(
                "A press on node %s of bot %s leads nowhere now", press.number, subscriber.bot_id
            )
            return
        flow, node = found
        if press.item is None and press.digest is None:
            await self.start(session, subscriber, flow, node_id=node.id, channel=channel)
            return
        if isinstance(node, fmt.ProductsNode):
            target = await self._add_to_cart(session, subscriber, node, press, channel)
        elif isinstance(node, fmt.CartNode):
            target = {"checkout": node.checkout, "more": node.more}.get(press.item or "")
        else:
            reply = find_quick_reply(node, press)
            button = find_button(node, press) if reply is None else None
            if button is not None and isinstance(button.action, fmt.SubFlowButtonAction):
                await self._start_sub_flow(session, subscriber, button.action.sub_flow_ns, channel)
                return
            if reply is not None:
                target = reply.next
            elif button is not None and isinstance(button.action, fmt.GoToButtonAction):
                target = button.action.node
            else:
                return
        waiting = await _waiting_for_answer(session, subscriber)
        if waiting is not None and waiting.flow_id == flow.id and waiting.node_id == node.id:
            # The run that offered the choice goes on, keeping the flows that called it.
            await _Turn(self, session, subscriber, waiting, channel).go_on(target)
        elif target is not None:
            await self.start(session, subscriber, flow, node_id=target, channel=channel)

    async def _add_to_cart(
        self,
        session: AsyncSession,
        subscriber: Subscriber,
        node: fmt.ProductsNode,
        press: Press,
        channel: str,
    ) -> str | None:
        """Put the pressed card's variant in the cart; answers where the flow goes on."""
        variant_id = shop.variant_of_item(press.item)
        if variant_id is None:
            return None
        refused = await shop.add(session, subscriber, variant_id)
        if refused is not None:
            await self.send(
                session, subscriber, [out.Text(refused)], origin="shop", channel=channel
            )
            return None
        return node.added

    async def order_status_changed(
        self, session: AsyncSession, subscriber: Subscriber, order: Any, status: str
    ) -> None:
        """Start the flows an order's new status triggers for its subscriber."""
        if refusal(subscriber) is not None:
            return
        variables = shop.order_variables(order)
        for flow in await index.order_status_flows(session, subscriber.bot_id, status):
            await self.start(session, subscriber, flow, variables=variables, origin="order")

    async def _start_sub_flow(
        self, session: AsyncSession, subscriber: Subscriber, sub_flow_ns: str, channel: str
    ) -> None:
        flow = await _sub_flow(session, subscriber.bot_id, sub_flow_ns)
        if flow is not None:
            await self.start(session, subscriber, flow, channel=channel)

    async def resume_due(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        now: dt.datetime | None = None,
        limit: int = RESUME_BATCH,
    ) -> int:
        """Go on with the runs whose delay ended or whose question timed out; answers how many."""
        now = now or utcnow()
        async with session_scope(sessions) as session:
            due = (
                await session.scalars(
                    select(Run.id)
                    .where(Run.status == RunStatus.WAITING, Run.due_at <= now)
                    .order_by(Run.due_at)
                    .limit(limit)
                )
            ).all()
        resumed = 0
        for run_id in due:
            try:
                async with session_scope(sessions) as session:
                    resumed += await self._resume(session, run_id, now)
            except Exception as broken:
                # One broken run must not hold up every run due after it, round after round.
                log.exception("Run %s could not go on", run_id)
                async with session_scope(sessions) as session:
                    await session.execute(
                        update(Run)
                        .where(Run.id == run_id)
                        .values(status=RunStatus.FAILED, error=f"{type(broken).__name__}: {broken}")
                    )
        return resumed

    async def _resume(self, session: AsyncSession, run_id: int, now: dt.datetime) -> int:
        run = await session.scalar(
            select(Run)
            .where(Run.id == run_id, Run.status == RunStatus.WAITING, Run.due_at <= now)
            .with_for_update(skip_locked=True)
        )
        if run is None:  # another worker took it, or it was answered meanwhile
            return 0
        subscriber = await session.get_one(Subscriber, run.subscriber_id)
        if not subscriber.is_subscribed:
            # Whoever unsubscribed while a drip waited gets none of the rest of it.
            run.status = RunStatus.FAILED
            run.error = refusal(subscriber, now=now)
            return 0
        if subscriber.paused_until is not None and subscriber.paused_until > now:
            run.due_at = subscriber.paused_until
            return 0
        await _Turn(self, session, subscriber, run, None).time_up()
        return 1


class _Turn:
    """One stretch of a run, from where it stands until it waits or ends."""

    def __init__(
        self,
        engine: Engine,
        session: AsyncSession,
        subscriber: Subscriber,
        run: Run,
        channel: str | None,
        *,
        outbox: Outbox | None = None,
        key: str | None = None,
    ) -> None:
        self.engine = engine
        self.session = session
        self.subscriber = subscriber
        self.run = run
        self.channel = channel
        self.outbox = outbox or Outbox(session, Lookups(session))
        self.lookups = self.outbox.lookups
        # What the keys of the run's messages start with: unique to the run.
        self.key = key or f"run:{run.id}"
        self.steps = 0
        self._variables: dict[str, Any] | None = None
        self._flows: dict[int, Flow] = {}

    # Entering the turn

    async def go(self) -> None:
        run = self.run
        while run.status == RunStatus.RUNNING:
            if self.steps >= MAX_STEPS:
                self._fail(f"Stopped after {MAX_STEPS} steps without waiting: the flow loops.")
                return
            if run.node_id is None:
                await self._end_flow(None, None)
                continue
            flow = await self._flow(run.flow_id)
            node = self.lookups.node(flow, run.node_id)
            if node is None:
                self._fail(f'The node "{run.node_id}" is not in the flow "{flow.name}".')
                return
            self.steps += 1
            run.steps += 1
            trace.ran(flow.id, node.id)
            await self._execute(flow, node)

    async def go_on(self, node_id: str | None) -> None:
        """Leave the wait and carry on at `node_id`."""
        self._resume_at(node_id)
        await self.go()

    async def time_up(self) -> None:
        """The delay ended, or the question was not answered in time."""
        node = self.lookups.node(await self._flow(self.run.flow_id), str(self.run.node_id))
        if isinstance(node, fmt.DelayNode):
            await self.go_on(node.next)
        elif isinstance(node, fmt.UserInputNode):
            await self.go_on(node.timeout)
        else:
            self._fail("The run waited on a node that cannot wait.")

    async def answer(self, text: str) -> None:
        """The subscriber's reply to the question the run waits on."""
        node = self.lookups.node(await self._flow(self.run.flow_id), str(self.run.node_id))
        if not isinstance(node, fmt.UserInputNode):
            self._fail("The run waited for an answer on a node that asks nothing.")
            return
        value = accepted_answer(node, text)
        if value is not None and await self._keep_answer(node, value):
            await self.go_on(node.next)
            return
        self.run.attempts += 1
        if self.run.attempts > node.retries:
            await self.go_on(node.invalid)
            return
        self.run.steps += 1
        if node.retry_message:
            await self._queue([out.Text(render(node.retry_message, await self._vars()))])
        else:
            await self._ask(node)

    # Nodes

    async def _execute(self, flow: Flow, node: fmt.NodeBase) -> None:
        match node:
            case fmt.SendMessageNode():
                await self._send_message(flow, node)
            case fmt.ActionNode():
                await self._actions(node)
            case fmt.ConditionNode():
                await self._condition(node)
            case fmt.UserInputNode():
                await self._ask(node)
                await self._wait(WaitKind.INPUT, due=_minutes_from_now(node.timeout_minutes))
            case fmt.RandomizerNode():
                branch = random.choices(node.branches, [b.weight for b in node.branches])[0]
                self.run.node_id = branch.next
            case fmt.DelayNode():
                await self._delay(node)
            case fmt.GoToNode():
                self.run.node_id = node.node
            case fmt.StartFlowNode():
                await self._start_flow(flow, node)
            case fmt.ReturnNode():
                value = render_value(node.value, await self._vars())
                await self._end_flow(node.output, value)
            case fmt.ProductsNode():
                await self._products(flow, node)
            case fmt.CartNode():
                await self._cart(flow, node)
            case fmt.CheckoutNode():
                await self._checkout(node)
            case fmt.WhatsAppTemplateNode():
                await self._whatsapp_template(node)
            case fmt.KnowledgeAnswerNode():
                await self._knowledge_answer(node)
            case _:
                self._fail(f'The runtime cannot run a node of type "{node.type}".')

    async def _send_message(self, flow: Flow, node: fmt.SendMessageNode) -> None:
        number = await self._node_number(flow, node.id)
        replies = [
            out.QuickReply(render(r.title, await self._vars()), node_payload(number, r.id))
            for r in node.quick_replies
        ]
        await self._queue(
            channel_messages(
                node.messages,
                variables=await self._vars(),
                node_number=number,
                quick_replies=replies,
            )
        )
        if replies:
            await self._wait(WaitKind.CHOICE, offered=replies)
        else:
            self.run.node_id = node.next

    async def _actions(self, node: fmt.ActionNode) -> None:
        for action in node.actions:
            context = ActionContext(
                self.session,
                self.subscriber,
                await self._vars(),
                self.engine.http,
                self.engine.server_secret,
            )
            done = await run_action(action, context)
            self.lookups.forget(self.subscriber)  # whatever the action changed is read anew
            if done.changed:
                self._variables = None
            if done.jump is not None:
                self.run.node_id = done.jump
                return
        self.run.node_id = node.next

    async def _products(self, flow: Flow, node: fmt.ProductsNode) -> None:
        number = await self._node_number(flow, node.id)
        cards = await shop.gallery(self.session, self.subscriber, node, number)
        if cards is None:
            self.run.node_id = node.empty
            return
        await self._queue([cards])
        # Its buttons lead on whenever they are pressed: nothing here waits for them.
        self.run.node_id = None

    async def _cart(self, flow: Flow, node: fmt.CartNode) -> None:
        number = await self._node_number(flow, node.id)
        message = await shop.cart_message(self.session, self.subscriber, node, number)
        if message is None:
            self.run.node_id = node.empty
            return
        await self._queue([message])
        await self._wait(WaitKind.CHOICE, offered=message.quick_replies)

    async def _checkout(self, node: fmt.CheckoutNode) -> None:
        placed = await shop.place_order(self.session, self.subscriber, node)
        self.run.variables = {**self.run.variables, **placed.variables}
        self._variables = None
        self.run.node_id = node.next if placed.ok else node.failed

    async def _whatsapp_template(self, node: fmt.WhatsAppTemplateNode) -> None:
        send = TemplateSend(node.template_name, node.language, node.params)
        try:
            message = await template_message(
                self.session, self.subscriber, send, await self._vars()
            )
        except KonversationError as refused:
            self._fail(f"The WhatsApp template {node.template_name} was not sent: {refused}")
            return
        await self._queue([message])
        self.run.node_id = node.next

    async def _knowledge_answer(self, node: fmt.KnowledgeAnswerNode) -> None:
        question = render(node.question, await self._vars()).strip()
        try:
            if not question:
                raise NothingKnown("There is no question to answer.")
            answer = await self.engine.answerer.answer(
                self.session,
                await _workspace_of(self.session, self.subscriber.bot_id),
                question,
                top_k=node.top_k,
                min_score=node.min_score,
                instructions=node.instructions,
            )
        except KonversationError as failed:
            log.info("No knowledge answer for subscriber %s: %s", self.subscriber.id, failed)
            self.run.variables = {**self.run.variables, "knowledge_error": str(failed)}
            self._variables = None
            self.run.node_id = node.no_answer or node.next
            return
        sources = [dataclasses.asdict(source) for source in answer.sources]
        await self._queue([out.Text(answer.text)], note={"knowledge_sources": sources})
        if node.var_ns is not None:
            await self._keep_in_field(node.var_ns, answer.text)
        self.run.node_id = node.next

    async def _condition(self, node: fmt.ConditionNode) -> None:
        facts = Facts(
            self.session,
            self.subscriber,
            await self._vars(),
            now=utcnow(),
            timezone=await _time_zone(self.session, self.subscriber.bot_id),
        )
        for branch in node.branches:
            if await branch_taken(branch, facts):
                self.run.node_id = branch.next
                return
        self.run.node_id = node.else_

    async def _ask(self, node: fmt.UserInputNode) -> None:
        variables = await self._vars()
        replies = [out.QuickReply(choice, choice) for choice in node.choices or ()]
        if isinstance(node.question, str):
            messages: list[out.FreeForm] = [
                out.Text(render(node.question, variables), (), tuple(replies))
            ]
        else:
            number = await self._node_number(await self._flow(self.run.flow_id), node.id)
            messages = channel_messages(
                node.question, variables=variables, node_number=number, quick_replies=replies
            )
        await self._queue(messages)

    async def _delay(self, node: fmt.DelayNode) -> None:
        due: dt.datetime | None
        if node.minutes is not None:
            due = utcnow() + dt.timedelta(minutes=node.minutes)
        else:
            due = await self._moment(render(str(node.until), await self._vars()))
        if due is None or due <= utcnow():
            self.run.node_id = node.next
        else:
            await self._wait(WaitKind.DELAY, due=due)

    async def _moment(self, text: str) -> dt.datetime | None:
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            log.warning("Delay until %r is not a date and time: going on at once", text)
            return None
        if moment.tzinfo is None:
            zone = await _time_zone(self.session, self.subscriber.bot_id)
            moment = moment.replace(tzinfo=_zone(zone))
        return moment

    async def _start_flow(self, flow: Flow, node: fmt.StartFlowNode) -> None:
        sub = await _sub_flow(self.session, self.subscriber.bot_id, node.sub_flow_ns)
        if sub is None:
            log.warning("Sub flow %s is gone: %s goes on without it", node.sub_flow_ns, node.id)
            self.run.node_id = node.next
            return
        if len(self.run.stack) >= MAX_DEPTH:
            self._fail(f"Stopped after starting {MAX_DEPTH} sub flows inside each other.")
            return
        self.run.stack = [*self.run.stack, {"flow_id": flow.id, "node_id": node.id}]
        self._flows[sub.id] = sub
        self.run.flow_id = sub.id
        self.run.node_id = sub.definition.get("start")

    async def _end_flow(self, output: str | None, value: Any) -> None:
        """The current flow ended: back to the flow that started it, or the run is done."""
        run = self.run
        if value is not None:
            run.variables = {**run.variables, "output": value}
            self._variables = None  # the caller's templates see the new {{output}}
        if not run.stack:
            run.status = RunStatus.DONE
            run.node_id = None
            return
        *rest, frame = run.stack
        run.stack = rest
        caller = self._flows.get(frame["flow_id"]) or await self.session.get(Flow, frame["flow_id"])
        if caller is None:
            # The flow that started this one was deleted while the run waited: it ends here.
            log.warning("Run %s ends: the flow that started its sub flow is gone", run.id)
            run.stack, run.status, run.node_id = [], RunStatus.DONE, None
            return
        node = self.lookups.node(caller, frame["node_id"])
        run.flow_id = caller.id
        if not isinstance(node, fmt.StartFlowNode):
            run.node_id = None
        elif output is not None and output in node.outputs:
            run.node_id = node.outputs[output]
        else:
            run.node_id = node.next

    # Waiting and ending

    async def _wait(
        self,
        kind: WaitKind,
        *,
        due: dt.datetime | None = None,
        offered: Sequence[out.QuickReply] = (),
    ) -> None:
        run = self.run
        run.status = RunStatus.WAITING
        run.wait = kind
        run.due_at = due
        run.attempts = 0
        run.offered = [{"title": r.title, "payload": r.payload} for r in offered]
        if kind != WaitKind.DELAY:
            # The subscriber answers only the latest question or choice.
            others = [
                Run.subscriber_id == run.subscriber_id,
                Run.status == RunStatus.WAITING,
                Run.wait.in_([WaitKind.INPUT, WaitKind.CHOICE]),
            ]
            if run.id is not None:  # a run of start_many has no row yet
                others.append(Run.id != run.id)
            await self.session.execute(
                update(Run).where(*others).values(status=RunStatus.SUPERSEDED)
            )

    def _resume_at(self, node_id: str | None) -> None:
        run = self.run
        run.status = RunStatus.RUNNING
        run.wait = None
        run.due_at = None
        run.offered = []
        run.node_id = node_id

    def _fail(self, reason: str) -> None:
        log.warning("Run %s of subscriber %s failed: %s", self.run.id, self.subscriber.id, reason)
        self.run.status = RunStatus.FAILED
        self.run.error = reason

    # Helpers

    async def _queue(
        self, messages: Sequence[out.Outbound], *, note: Mapping[str, Any] | None = None
    ) -> None:
        """Queue the messages; `note` goes into each one's log entry only."""
        for position, message in enumerate(messages):
            key = f"{self.key}:{self.run.steps}:{position}"
            await self.outbox.queue(
                self.subscriber, message, key=key, channel=self.channel, note=note
            )

    async def _vars(self) -> dict[str, Any]:
        if self._variables is None:
            self._variables = await variables_for(self.lookups, self.subscriber, self.run.variables)
        return self._variables

    async def _flow(self, flow_id: int) -> Flow:
        if flow_id not in self._flows:
            self._flows[flow_id] = await self.session.get_one(Flow, flow_id)
        return self._flows[flow_id]

    async def _node_number(self, flow: Flow, node_id: str) -> int:
        return await self.lookups.node_number(flow, node_id)

    async def _keep_answer(self, node: fmt.UserInputNode, value: Any) -> bool:
        """Store the accepted answer in the node's field; False when the field refuses it."""
        if node.var_ns is None:
            return True
        return await self._keep_in_field(node.var_ns, value)

    async def _keep_in_field(self, var_ns: str, value: Any) -> bool:
        """Store `value` in a user field; False when the field refuses it."""
        user_ns = format_ns(self.subscriber.bot_id, Kind.SUBSCRIBER, self.subscriber.number)
        try:
            await attributes.set_fields(
                self.session,
                self.subscriber.bot_id,
                user_ns=user_ns,
                fields=Pick.one("var_ns", var_ns),
                values=[value],
            )
        except NotFound:
            # A field deleted since the flow was saved is skipped, as actions skip it.
            log.warning("The answer of %s is not kept: %s is gone", user_ns, var_ns)
            return True
        except KonversationError as refused:
            log.info("The answer of %s does not fit %s: %s", user_ns, var_ns, refused)
            return False
        self.lookups.forget(self.subscriber)
        self._variables = None
        return True


# Answers


def accepted_answer(node: fmt.UserInputNode, text: str) -> Any:
    """The answer as the value kept for the question's input type, or None when it is not one."""
    answer = text.strip()
    if not answer:
        return None
    match node.input_type:
        case "text":
            return answer
        case "number":
            return _number(answer)
        case "email":
            return answer if _EMAIL.match(answer) else None
        case "phone":
            digits = re.sub(r"[\s().-]", "", answer)
            return digits if _PHONE.match(digits) else None
        case "date":
            return _iso(answer, dt.date.fromisoformat)
        case "datetime":
            return _iso(answer, dt.datetime.fromisoformat)
        case "choice":
            folded = answer.casefold()
            return next((c for c in node.choices or () if c.casefold() == folded), None)
    return None


def _number(text: str) -> int | float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() else value


def _iso(text: str, parse: Any) -> str | None:
    try:
        return str(parse(text).isoformat())
    except ValueError:
        return None


# Lookups


def _new_run(
    subscriber: Subscriber,
    flow: Flow,
    node_id: str | None,
    variables: Mapping[str, Any] | None,
    origin: str,
) -> dict[str, Any]:
    """The columns of a run of `flow` about to start at `node_id` (None: the flow's start)."""
    now = utcnow()
    return {
        "bot_id": subscriber.bot_id,
        "subscriber_id": subscriber.id,
        "flow_id": flow.id,
        "node_id": node_id if node_id is not None else flow.definition.get("start"),
        "stack": [],
        "variables": dict(variables or {}),
        "status": RunStatus.RUNNING,
        "wait": None,
        "due_at": None,
        "attempts": 0,
        "offered": [],
        "steps": 0,
        "origin": origin,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }


RUNS = table_of(Run)
_RUN_COLUMNS = tuple(c.key for c in RUNS.columns if c.key != "id")


def _run_row(run: Run) -> dict[str, Any]:
    """The row of a run that has none yet, as it stands now."""
    return {column: getattr(run, column) for column in _RUN_COLUMNS} | {"updated_at": utcnow()}


async def _node_numbered(
    session: AsyncSession, bot_id: int, number: int
) -> tuple[Flow, fmt.NodeBase] | None:
    try:
        flow, node_id = await index.node_by_ns(
            session, bot_id, index.node_ns(bot_id, number), in_previews=True
        )
    except NotFound:
        return None
    node = parse_node(flow, node_id)
    return None if node is None else (flow, node)


async def _sub_flow(session: AsyncSession, bot_id: int, sub_flow_ns: str) -> Flow | None:
    try:
        return await SUB_FLOWS.by_ns(session, bot_id, sub_flow_ns)
    except NotFound:
        return None


async def _default_flow(session: AsyncSession, bot_id: int, channel: str) -> Flow | None:
    bot = await session.get_one(Bot, bot_id)
    number = bot.start_sub_flow
    if channel == ChannelType.WEB and bot.web_chat_start_sub_flow is not None:
        number = bot.web_chat_start_sub_flow
    for wanted in (number, MAIN_FLOW_NUMBER):
        if wanted is None:
            continue
        flow = await session.scalar(
            select(Flow).where(Flow.bot_id == bot_id, Flow.number == wanted)
        )
        if flow is not None and flow.definition.get("start") is not None:
            return flow
    return None


async def _was_offered(session: AsyncSession, subscriber: Subscriber, payload: str) -> bool:
    """Whether the bot sent the subscriber a button or quick reply with `payload`: a payload of
    ours is taken only from someone who was shown it, so nobody jumps to a node at will."""
    sent = await session.scalar(
        select(Message.id)
        .where(
            Message.subscriber_id == subscriber.id,
            Message.direction == Direction.OUT,
            cast(Message.payload, Text).contains(json.dumps(payload)),
        )
        .limit(1)
    )
    return sent is not None


async def _waiting_for_answer(session: AsyncSession, subscriber: Subscriber) -> Run | None:
    return await session.scalar(
        select(Run)
        .where(
            Run.subscriber_id == subscriber.id,
            Run.status == RunStatus.WAITING,
            Run.wait.in_([WaitKind.INPUT, WaitKind.CHOICE]),
        )
        .order_by(Run.updated_at.desc(), Run.id.desc())
        .limit(1)
    )


async def _workspace_of(session: AsyncSession, bot_id: int) -> int:
    return await session.scalar(select(Bot.workspace_id).where(Bot.id == bot_id)) or 0


async def _time_zone(session: AsyncSession, bot_id: int) -> str:
    zone = await session.scalar(
        select(Workspace.timezone)
        .join(Bot, Bot.workspace_id == Workspace.id)
        .where(Bot.id == bot_id)
    )
    return zone or "UTC"


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _minutes_from_now(minutes: int | None) -> dt.datetime | None:
    return None if minutes is None else utcnow() + dt.timedelta(minutes=minutes)


# Inbound messages


def _inbound_mid(bot_id: int, channel: str, message_id: str) -> str:
    """The log id of a channel's message: the same message delivered twice has the same one."""
    digest = hashlib.sha256(f"{bot_id}:{channel}:{message_id}".encode()).hexdigest()
    return f"in-{digest[:40]}"


def _update_profile(subscriber: Subscriber, event: InboundMessage) -> None:
    profile = event.profile
    if profile.first_name and not subscriber.first_name:
        subscriber.first_name = profile.first_name
    if profile.last_name and not subscriber.last_name:
        subscriber.last_name = profile.last_name
    if not subscriber.name and (subscriber.first_name or subscriber.last_name):
        subscriber.name = f"{subscriber.first_name} {subscriber.last_name}".strip()
    if profile.language and not subscriber.language:
        subscriber.language = profile.language


async def _log_inbound(
    session: AsyncSession, subscriber: Subscriber, event: InboundMessage, mid: str
) -> None:
    attachments = [{"type": a.kind, "url": a.url} for a in event.attachments]
    if event.text:
        msg_type, content = "text", event.text
    elif event.payload:
        msg_type, content = "postback", event.payload
    else:
        msg_type = attachments[0]["type"] if attachments else "text"
        content = attachments[0]["url"] if attachments else ""
    payload: dict[str, Any] = {"channel_message_id": event.message_id}
    if event.text:
        payload["text"] = event.text
    if event.payload:
        payload["payload"] = event.payload
    if attachments:
        payload["attachments"] = attachments
    await record_message(
        session,
        subscriber,
        direction=Direction.IN,
        msg_type=msg_type,
        content=content,
        payload=payload,
        at=event.sent_at,
        mid=mid,
    )
    await media.attachments_received(session, subscriber.bot_id, mid, event.attachments)
    user_ns = format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)
    data = {
        "subscriber": {"user_ns": user_ns, "user_id": event.user_id},
        "channel": subscriber.last_channel,
        "message": {"type": msg_type} | payload,
        "sent_at": event.sent_at.isoformat(),
    }
    await webhooks.emit(session, subscriber.bot_id, EventType.MESSAGE_RECEIVED, data)
