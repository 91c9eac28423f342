"""The flow engine's user_input node: each input type's valid and invalid answers, retries and
the invalid branch, choices, the answer kept in a field, and the timeout path."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine_helpers import Bench, bench_fixture, doc, payload_of, say, start_flow  # noqa: F401

from konversation.db import session_scope, utcnow
from konversation.flows import service as flows
from konversation.runtime.models import RunStatus, WaitKind


def ask(
    var_ns: str | None = None,
    *,
    question: Any = "Your answer?",
    next: str | None = "ok",
    **extra: Any,
) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "ask", "type": "user_input", "question": question, "next": next}
    if var_ns is not None:
        node["var_ns"] = var_ns
    return {**node, **extra}


# (input type, field type, invalid answer, valid answer, value kept in the field)
INPUT_CASES: list[tuple[str, str, str, str, Any]] = [
    ("text", "text", "   ", "  Main street 1 ", "Main street 1"),
    ("number", "number", "many", "1,5", 1.5),
    ("number", "number", "ten", "12", 12),
    ("email", "text", "ada-at-example.com", "ada@example.com", "ada@example.com"),
    ("phone", "text", "call me", "+1 (555) 010-0123", "+15550100123"),
    ("date", "date", "31/01/2030", "2030-01-31", "2030-01-31"),
    ("datetime", "datetime", "tomorrow", "2030-01-31T09:30:00+01:00", "2030-01-31T09:30:00+01:00"),
    ("choice", "text", "maybe", "yes", "Yes"),
]


async def test_each_input_type_refuses_invalid_answers_and_keeps_valid_ones(bench: Bench) -> None:
    kept: list[tuple[str, list[str], Any]] = []
    for index, (input_type, var_type, invalid, valid, _value) in enumerate(INPUT_CASES):
        field = await bench.field(f"Answer {index}", var_type)
        extra: dict[str, Any] = {"input_type": input_type, "retry_message": "Try again"}
        if input_type == "choice":
            extra["choices"] = ["Yes", "No"]
        flow = await bench.flow(
            doc(ask(field, invalid="bad", **extra), say("ok", "Got it"), say("bad", "Giving up"))
        )
        user = f"user-{index}"
        sub = await bench.inbound("hello", user=user)
        await bench.start(sub, flow)
        await bench.inbound(invalid, user=user)
        await bench.inbound(valid, user=user)
        fields = await bench.fields_of(sub)
        kept.append((input_type, (await bench.texts(sub))[1:], fields.get(field)))

    assert kept == [
        (input_type, ["Try again", "Got it"], value) for input_type, _, _, _, value in INPUT_CASES
    ]


async def test_the_question_waits_in_its_run_and_the_answer_goes_on_in_it(bench: Bench) -> None:
    city = await bench.field("City")
    survey = await bench.flow(
        doc(
            ask(city, question="Where do you live, {{first_name|friend}}?"),
            say("ok", "{{city}} is nice"),
        )
    )
    await bench.main(doc(start_flow("survey", survey, next="thanks"), say("thanks", "Thanks")))

    sub = await bench.inbound("hi")
    [waiting] = await bench.runs(sub)
    assert (waiting.status, waiting.wait, waiting.node_id, waiting.due_at) == (
        RunStatus.WAITING,
        WaitKind.INPUT,
        "ask",
        None,
    )
    await bench.inbound("Zürich")

    assert await bench.texts(sub) == ["Where do you live, friend?", "Zürich is nice", "Thanks"]
    assert await bench.fields_of(sub) == {city: "Zürich"}
    [run] = await bench.runs(sub)
    assert (run.id, run.status, run.stack) == (waiting.id, RunStatus.DONE, [])


async def test_after_its_retries_the_question_goes_on_at_invalid(bench: Bench) -> None:
    age = await bench.field("Age", "number")
    flow = await bench.flow(
        doc(
            ask(age, question="Age?", input_type="number", retries=2, invalid="bad"),
            say("ok", "Thanks"),
            say("bad", "Never mind"),
        )
    )
    sub = await bench.inbound("hello")
    run = await bench.start(sub, flow)

    for answer in ["old", "very old", "ancient"]:
        await bench.inbound(answer)

    # Without a retry message the question is asked again.
    assert await bench.texts(sub) == ["Age?", "Age?", "Age?", "Never mind"]
    assert (await bench.run(run)).status == RunStatus.DONE
    assert await bench.fields_of(sub) == {}


async def test_the_retry_message_is_a_template_and_no_retries_go_straight_to_invalid(
    bench: Bench,
) -> None:
    email = await bench.field("Email")
    retrying = await bench.flow(
        doc(
            ask(
                email,
                input_type="email",
                retries=1,
                retry_message="{{last_input}} is no email address",
                invalid="bad",
            ),
            say("ok", "Thanks"),
            say("bad", "Never mind"),
        )
    )
    strict = await bench.flow(
        doc(
            ask(email, input_type="email", retries=0, invalid="bad", next=None),
            say("bad", "No retries"),
        )
    )
    sub = await bench.inbound("hello")

    await bench.start(sub, retrying)
    await bench.inbound("nope")
    await bench.inbound("still nope")
    await bench.start(sub, strict)
    await bench.inbound("nope")

    assert await bench.texts(sub) == [
        "Your answer?",
        "nope is no email address",
        "Never mind",
        "Your answer?",
        "No retries",
    ]


async def test_an_answer_the_field_refuses_counts_as_invalid(bench: Bench) -> None:
    count = await bench.field("Count", "number")
    flow = await bench.flow(
        doc(
            ask(count, input_type="text", retry_message="A number, please"),
            say("ok", "Count {{count}}"),
        )
    )
    sub = await bench.inbound("hello")
    await bench.start(sub, flow)

    await bench.inbound("a few")
    await bench.inbound("3")

    assert await bench.texts(sub) == ["Your answer?", "A number, please", "Count 3"]


async def test_choices_are_offered_as_quick_replies_and_a_press_answers(bench: Bench) -> None:
    plan = await bench.field("Plan")
    flow = await bench.flow(
        doc(
            ask(plan, question="Which plan?", input_type="choice", choices=["Basic", "Pro"]),
            say("ok", "{{plan}} it is"),
        )
    )
    sub = await bench.inbound("hello")
    await bench.start(sub, flow)
    body = await bench.last_body(sub)
    assert body["quick_replies"] == [
        {"title": "Basic", "payload": "Basic"},
        {"title": "Pro", "payload": "Pro"},
    ]

    await bench.inbound("Pro", payload=payload_of(body, "Pro"))

    assert await bench.texts(sub) == ["Which plan?", "Pro it is"]
    assert await bench.fields_of(sub) == {plan: "Pro"}


async def test_a_question_of_messages_with_buttons_can_be_answered_by_a_button(
    bench: Bench,
) -> None:
    question = [
        {
            "type": "text",
            "text": "Your email, or skip?",
            "buttons": [
                {"id": "skip", "title": "Skip", "action": {"type": "go_to", "node": "skipped"}}
            ],
        }
    ]
    flow = await bench.flow(
        doc(
            ask(question=question, input_type="email"),
            say("ok", "Thanks"),
            say("skipped", "Skipped"),
        )
    )
    sub = await bench.inbound("hello")
    run = await bench.start(sub, flow)

    await bench.inbound(payload=payload_of(await bench.last_body(sub), "Skip"))

    assert await bench.texts(sub) == ["Your email, or skip?", "Skipped"]
    assert (await bench.run(run)).status == RunStatus.DONE


async def test_an_unanswered_question_times_out_when_resume_due_passes_its_time(
    bench: Bench,
) -> None:
    flow = await bench.flow(
        doc(
            ask(timeout_minutes=10, timeout="late"),
            say("ok", "Thanks"),
            say("late", "Too slow"),
        )
    )
    sub = await bench.inbound("hello")
    before = utcnow()
    run = await bench.start(sub, flow)
    waiting = await bench.run(run)
    assert waiting.due_at is not None
    assert (
        before + dt.timedelta(minutes=10) <= waiting.due_at <= utcnow() + dt.timedelta(minutes=10)
    )

    assert await bench.resume_due(now=utcnow() + dt.timedelta(minutes=5)) == 0
    assert await bench.resume_due(now=utcnow() + dt.timedelta(minutes=11)) == 1
    await bench.inbound("my late answer")  # nothing waits for it now

    assert await bench.texts(sub) == ["Your answer?", "Too slow"]
    assert (await bench.run(run)).status == RunStatus.DONE


async def test_a_question_without_timeout_waits_for_ever(bench: Bench) -> None:
    flow = await bench.flow(doc(ask(), say("ok", "Thanks")))
    sub = await bench.inbound("hello")
    run = await bench.start(sub, flow)

    assert await bench.resume_due(now=utcnow() + dt.timedelta(days=365)) == 0
    await bench.inbound("here I am")

    assert await bench.texts(sub) == ["Your answer?", "Thanks"]
    assert (await bench.run(run)).status == RunStatus.DONE


async def test_a_newer_question_supersedes_the_one_left_unanswered(bench: Bench) -> None:
    name, city = await bench.field("Name"), await bench.field("City")
    first = await bench.flow(doc(ask(name, question="Name?"), say("ok", "Hi {{name}}")))
    second = await bench.flow(doc(ask(city, question="City?"), say("ok", "{{city}}!")))
    sub = await bench.inbound("hello")
    run_one = await bench.start(sub, first)
    run_two = await bench.start(sub, second)

    await bench.inbound("Paris")

    assert await bench.texts(sub) == ["Name?", "City?", "Paris!"]
    assert (await bench.run(run_one)).status == RunStatus.SUPERSEDED
    assert (await bench.run(run_two)).status == RunStatus.DONE
    assert await bench.fields_of(sub) == {city: "Paris"}


async def test_a_question_whose_field_was_deleted_still_goes_on_with_a_valid_answer(
    bench: Bench,
) -> None:
    gone = await bench.field("Gone")
    flow = await bench.flow(doc(ask(gone, invalid="bad"), say("ok", "Thanks"), say("bad", "Bad")))
    sub = await bench.inbound("hello")
    await bench.start(sub, flow)
    async with session_scope(bench.sessions) as session:
        await flows.delete(session, await flows.USER_FIELDS.by_ns(session, bench.bot_id, gone))

    await bench.inbound("my answer")

    assert await bench.texts(sub) == ["Your answer?", "Thanks"]
