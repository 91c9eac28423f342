"""The flow engine's delay node: a waiting run is a row with a due time, so another process
started later (a restart) goes on with it; a paused subscriber postpones it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine_helpers import Bench, bench_fixture, doc, say, start_flow  # noqa: F401

from konversation.app import create_app
from konversation.channels.base import Profile
from konversation.db import session_scope, utcnow
from konversation.flows import service as flows
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import DeliveryStatus, RunStatus, WaitKind
from konversation.settings import Settings


def delay(next: str | None = "after", **wait: Any) -> dict[str, Any]:
    return {"id": "wait", "type": "delay", "next": next, **wait}


async def test_a_delay_survives_a_restart_and_goes_on_in_the_new_process(
    bench: Bench, settings: Settings
) -> None:
    drip = await bench.flow(
        doc(say("hi", "Hi", next="wait"), delay(minutes=30), say("after", "Later, {{first_name}}"))
    )
    await bench.main(doc(start_flow("drip", drip, next="end"), say("end", "Back in main")))
    before = utcnow()
    sub = await bench.inbound("hello", profile=Profile(first_name="Ada"))
    await bench.runtime.settle()

    [waiting] = await bench.runs(sub)
    assert (waiting.status, waiting.wait, waiting.node_id, len(waiting.stack)) == (
        RunStatus.WAITING,
        WaitKind.DELAY,
        "wait",
        1,
    )
    half_hour = dt.timedelta(minutes=30)
    assert waiting.due_at is not None
    assert before + half_hour <= waiting.due_at <= utcnow() + half_hour
    assert await bench.resume_due(now=utcnow() + dt.timedelta(minutes=10)) == 0

    restarted = create_app(settings)
    runtime: Runtime = restarted.state.runtime
    try:
        later = utcnow() + dt.timedelta(minutes=31)
        assert await runtime.engine.resume_due(runtime.sessions, now=later) == 1
        await runtime.settle()
    finally:
        await runtime.http.aclose()
        await restarted.state.engine.dispose()

    delivered = await bench.deliveries(sub)
    assert [d.body["text"] for d in delivered] == ["Hi", "Later, Ada", "Back in main"]
    assert [d.status for d in delivered] == [DeliveryStatus.SENT] * 3
    [run] = await bench.runs(sub)
    assert (run.id, run.status, run.wait, run.due_at, run.stack) == (
        waiting.id,
        RunStatus.DONE,
        None,
        None,
        [],
    )


async def test_a_delay_until_a_moment_with_an_offset_waits_until_then(bench: Bench) -> None:
    flow = await bench.flow(
        doc(delay(until="2030-01-31T09:00:00+01:00"), say("after", "It is time"))
    )
    sub = await bench.inbound("hello")

    run = await bench.start(sub, flow)

    assert (await bench.run(run)).due_at == dt.datetime(2030, 1, 31, 8, 0, tzinfo=dt.UTC)
    assert await bench.resume_due(now=dt.datetime(2030, 1, 31, 7, 59, tzinfo=dt.UTC)) == 0
    assert await bench.resume_due(now=dt.datetime(2030, 1, 31, 8, 0, tzinfo=dt.UTC)) == 1
    assert await bench.texts(sub) == ["It is time"]


async def test_a_delay_until_without_an_offset_is_read_in_the_bots_time_zone(
    bench: Bench,
) -> None:
    await bench.set_time_zone("America/New_York")
    flow = await bench.flow(doc(delay(until="2030-07-01T09:00:00"), say("after", "Morning")))
    sub = await bench.inbound("hello")

    run = await bench.start(sub, flow)

    assert (await bench.run(run)).due_at == dt.datetime(2030, 7, 1, 13, 0, tzinfo=dt.UTC)


async def test_a_delay_until_may_come_from_a_field_and_a_past_moment_goes_on_at_once(
    bench: Bench,
) -> None:
    appointment = await bench.field("Appointment", "datetime")
    flow = await bench.flow(
        doc(delay(until="{{appointment}}"), say("after", "Your appointment is now"))
    )
    sub = await bench.inbound("hello")
    await bench.set_field(sub, appointment, "2031-05-04T10:00:00+00:00")

    first = await bench.start(sub, flow)
    await bench.set_field(sub, appointment, "2001-05-04T10:00:00+00:00")
    second = await bench.start(sub, flow)

    assert (await bench.run(first)).due_at == dt.datetime(2031, 5, 4, 10, 0, tzinfo=dt.UTC)
    assert (await bench.run(second)).status == RunStatus.DONE
    assert await bench.texts(sub) == ["Your appointment is now"]


async def test_a_paused_subscriber_postpones_a_due_delay(bench: Bench) -> None:
    flow = await bench.flow(doc(delay(minutes=10), say("after", "Ping")))
    sub = await bench.inbound("hello")
    run = await bench.start(sub, flow)
    paused_until = utcnow() + dt.timedelta(hours=2)
    await bench.update_subscriber(sub, paused_until=paused_until)

    assert await bench.resume_due(now=utcnow() + dt.timedelta(minutes=11)) == 0
    postponed = await bench.run(run)
    assert (postponed.status, postponed.due_at) == (RunStatus.WAITING, paused_until)
    assert await bench.texts(sub) == []

    assert await bench.resume_due(now=paused_until + dt.timedelta(seconds=1)) == 1
    assert await bench.texts(sub) == ["Ping"]


async def test_a_delay_ending_after_the_subscriber_unsubscribed_sends_nothing(
    bench: Bench,
) -> None:
    flow = await bench.flow(doc(delay(minutes=10), say("after", "Special offer!")))
    sub = await bench.inbound("hello")
    run = await bench.start(sub, flow)
    await bench.update_subscriber(sub, is_subscribed=False)

    await bench.resume_due(now=utcnow() + dt.timedelta(minutes=11))

    assert await bench.texts(sub) == []
    ended = await bench.run(run)
    assert ended.status == RunStatus.FAILED
    assert ended.error == "The subscriber has unsubscribed from the bot."
    # Ended for good: later rounds do not pick it up again.
    assert await bench.resume_due(now=utcnow() + dt.timedelta(days=1)) == 0


async def test_a_waiting_delay_is_not_superseded_by_a_conversation_meanwhile(
    bench: Bench,
) -> None:
    drip = await bench.flow(doc(delay(minutes=10), say("after", "Drip")))
    await bench.main(
        doc({"id": "ask", "type": "user_input", "question": "Name?", "next": "hi"}, say("hi", "Hi"))
    )
    sub = await bench.inbound("hello")  # the main flow asks
    delayed = await bench.start(sub, drip)
    await bench.inbound("Ada")  # answers the question, not the delay

    assert (await bench.run(delayed)).status == RunStatus.WAITING
    assert await bench.resume_due(now=utcnow() + dt.timedelta(minutes=11)) == 1
    assert await bench.texts(sub) == ["Name?", "Hi", "Drip"]


async def test_a_delay_whose_calling_flow_was_deleted_ends_without_blocking_others(
    bench: Bench,
) -> None:
    drip = await bench.flow(doc(delay(minutes=10), say("after", "Drip")), name="Drip")
    caller = await bench.flow(doc(start_flow("drip", drip, next="end"), say("end", "End")))
    other = await bench.flow(doc(delay(minutes=20), say("after", "Other")), name="Other")
    sub = await bench.inbound("hello")
    orphan = await bench.start(sub, caller)
    await bench.start(sub, other)
    async with session_scope(bench.sessions) as session:
        await flows.delete_sub_flow(session, bench.bot_id, sub_flow_ns=caller)

    assert await bench.resume_due(now=utcnow() + dt.timedelta(minutes=21)) == 2

    assert await bench.texts(sub) == ["Drip", "Other"]
    assert (await bench.run(orphan)).status == RunStatus.DONE
