"""The flow engine's action node: tags, typed fields, bot fields, subscribing, pausing the bot,
custom events, HTTP requests to a service on loopback (rendered, answers kept in fields, errors
branching off) and webhook notifications."""

from __future__ import annotations

import datetime as dt

from engine_helpers import (  # noqa: F401
    Bench,
    HttpSink,
    actions,
    bench_fixture,
    doc,
    http_sink_fixture,
    http_sink_server_fixture,
    say,
)
from sqlalchemy import select

from konversation.channels.base import Profile
from konversation.db import session_scope, utcnow
from konversation.events.models import CustomEvent, CustomEventLog
from konversation.flows.models import FieldScope
from konversation.runtime.models import RunStatus
from loopback import closed_port_url

ADA = Profile(first_name="Ada", last_name="Lovelace")


async def test_tags_are_added_and_removed(bench: Bench) -> None:
    vip, lead = await bench.tag("VIP"), await bench.tag("Lead")
    sub = await bench.inbound("hello")
    await bench.add_tag(sub, lead)
    flow = await bench.flow(
        doc(
            actions(
                "tag",
                {"type": "add_tag", "tag_ns": vip},
                {"type": "remove_tag", "tag_ns": lead},
                {"type": "add_tag", "tag_ns": f"f{bench.bot_id}t999"},  # gone: skipped
            )
        )
    )

    run = await bench.start(sub, flow)

    assert await bench.tags_of(sub) == {vip}
    assert (await bench.run(run)).status == RunStatus.DONE


async def test_fields_are_set_by_their_type_from_templates_and_cleared(bench: Bench) -> None:
    age = await bench.field("Age", "number")
    member = await bench.field("Member", "boolean")
    birthday = await bench.field("Birthday", "date")
    colours = await bench.field("Colours", "array")
    note = await bench.field("Note")
    sub = await bench.inbound("hello", profile=ADA)
    await bench.set_field(sub, note, "old note")
    flow = await bench.flow(
        doc(
            actions(
                "set",
                {"type": "set_field", "var_ns": note, "value": "{{age|41}}"},
                {"type": "set_field", "var_ns": age, "value": "{{note}}"},
                {"type": "set_field", "var_ns": member, "value": "yes"},
                {"type": "set_field", "var_ns": birthday, "value": "1815-12-10"},
                {"type": "set_field", "var_ns": colours, "value": ["red", "{{first_name}}"]},
                {"type": "set_field", "var_ns": age, "value": "not a number"},  # refused: skipped
                next="show",
            ),
            say("show", "{{age}} {{member}} {{birthday}} {{colours}}", next="clear"),
            actions("clear", {"type": "clear_field", "var_ns": note}, next="after"),
            say("after", "note: {{note|none}}"),
        )
    )

    await bench.start(sub, flow)

    assert await bench.fields_of(sub) == {
        age: 41,
        member: True,
        birthday: "1815-12-10",
        colours: ["red", "Ada"],
    }
    assert await bench.texts(sub) == ["41 true 1815-12-10 red, Ada", "note: none"]


async def test_a_bot_field_is_set_for_every_subscriber(bench: Bench) -> None:
    hours = await bench.field("Opening hours", scope=FieldScope.BOT, value="9 to 5")
    count = await bench.field("Visitors", "number", scope=FieldScope.BOT, value=1)
    first = await bench.inbound("hello", user="v1", profile=ADA)
    second = await bench.inbound("hello", user="v2")
    flow = await bench.flow(
        doc(
            actions(
                "set",
                {"type": "set_bot_field", "var_ns": hours, "value": "{{first_name}} knows"},
                {"type": "set_bot_field", "var_ns": count, "value": "7"},
                next="show",
            ),
            say("show", "{{bot.opening_hours}} / {{bot.visitors}}"),
        )
    )
    await bench.start(first, flow)
    await bench.start(second, flow, node_id="show")

    assert await bench.bot_field(hours) == "Ada knows"
    assert await bench.bot_field(count) == 7
    assert await bench.texts() == ["Ada knows / 7", "Ada knows / 7"]


async def test_unsubscribe_stops_automation_and_subscribe_brings_it_back(bench: Bench) -> None:
    stop = await bench.flow(
        doc(actions("off", {"type": "unsubscribe"}, next="bye"), say("bye", "Unsubscribed")),
        name="Stop",
    )
    await bench.save(
        stop,
        doc(
            actions("off", {"type": "unsubscribe"}, next="bye"),
            say("bye", "Unsubscribed"),
            triggers=[{"keywords": ["stop"]}],
        ),
    )
    start = await bench.flow(doc(actions("on", {"type": "subscribe"})), name="Start")
    await bench.main(doc(say("hi", "Hi")))

    sub = await bench.inbound("hello")
    await bench.inbound("stop")
    assert (await bench.subscriber(sub)).is_subscribed is False
    await bench.inbound("hello again")
    assert await bench.texts(sub) == ["Hi", "Unsubscribed"]

    await bench.start(sub, start)
    assert (await bench.subscriber(sub)).is_subscribed is True
    await bench.inbound("hello once more")
    assert await bench.texts(sub) == ["Hi", "Unsubscribed", "Hi"]


async def test_pause_bot_stops_automated_answers_for_its_minutes(bench: Bench) -> None:
    await bench.main(
        doc(
            actions("pause", {"type": "pause_bot", "minutes": 30}, next="ok"),
            say("ok", "An agent will answer"),
        )
    )
    before = utcnow()

    sub = await bench.inbound("human please")
    await bench.inbound("hello?")

    paused = (await bench.subscriber(sub)).paused_until
    assert paused is not None
    assert before + dt.timedelta(minutes=30) <= paused <= utcnow() + dt.timedelta(minutes=30)
    assert await bench.texts(sub) == ["An agent will answer"]
    assert await bench.log(sub) == [
        ("in", "human please"),
        ("out", "An agent will answer"),
        ("in", "hello?"),
    ]
    # Once the pause is over, the bot answers again.
    await bench.update_subscriber(sub, paused_until=utcnow() - dt.timedelta(seconds=1))
    await bench.inbound("still there?")
    assert await bench.texts(sub) == ["An agent will answer"] * 2


async def test_log_event_records_rendered_values(bench: Bench) -> None:
    qty = await bench.field("Quantity", "number")
    sub = await bench.inbound("hello", profile=ADA)
    await bench.set_field(sub, qty, 3)
    flow = await bench.flow(
        doc(
            actions(
                "log",
                {
                    "type": "log_event",
                    "event_name": "purchase",
                    "text_value": "{{first_name}} bought",
                    "number_value": "{{quantity}}",
                    "price_value": 19.9,
                },
            )
        )
    )

    await bench.start(sub, flow)

    async with session_scope(bench.sessions) as session:
        row = (
            await session.execute(
                select(CustomEvent.name, CustomEventLog)
                .join(CustomEventLog, CustomEventLog.event_id == CustomEvent.id)
                .where(CustomEventLog.subscriber_id == sub)
            )
        ).one()
    name, logged = row
    assert (name, logged.text_value, logged.number_value, logged.price_value) == (
        "purchase",
        "Ada bought",
        "3",
        "19.9",
    )


async def test_http_get_sends_rendered_url_and_headers_and_keeps_the_answer(
    bench: Bench, http_sink: HttpSink
) -> None:
    await bench.field("Api key", scope=FieldScope.BOT, value="k-123")
    customer = await bench.field("Customer id", "number")
    tags = await bench.field("Remote tags", "array")
    profile = await bench.field("Profile")
    active = await bench.field("Active", "boolean")
    missing = await bench.field("Missing")
    sub = await bench.inbound("hello", profile=ADA)
    await bench.set_field(sub, missing, "was set")
    http_sink.answer(
        "/lookup",
        body={"data": {"id": 7, "tags": ["a", "b"], "profile": {"city": "Zürich"}}, "ok": True},
    )
    request = {
        "type": "http_request",
        "method": "GET",
        "url": http_sink.url + "/lookup?name={{first_name}}&user={{user_ns}}",
        "headers": {"X-Api-Key": "{{bot.api_key}}", "Accept": "application/json"},
        "save": [
            {"path": "data.id", "var_ns": customer},
            {"path": "data.tags", "var_ns": tags},
            {"path": "data.profile", "var_ns": profile},
            {"path": "ok", "var_ns": active},
            {"path": "data.nothing.here", "var_ns": missing},
        ],
    }
    flow = await bench.flow(
        doc(actions("call", request, next="show"), say("show", "Customer {{customer_id}}"))
    )

    await bench.start(sub, flow)

    [call] = http_sink.calls
    user_ns = bench.user_ns(await bench.subscriber(sub))
    assert (call.method, call.path, call.query) == ("GET", "/lookup", f"name=Ada&user={user_ns}")
    assert call.headers["x-api-key"] == "k-123"
    assert call.body == b""
    assert await bench.fields_of(sub) == {
        customer: 7,
        tags: ["a", "b"],
        profile: '{"city": "Zürich"}',
        active: True,
    }
    assert await bench.texts(sub) == ["Customer 7"]


async def test_http_post_sends_a_rendered_json_or_text_body(
    bench: Bench, http_sink: HttpSink
) -> None:
    sub = await bench.inbound("hello", profile=ADA)
    post_json = {
        "type": "http_request",
        "method": "POST",
        "url": http_sink.url + "/orders",
        "body": {
            "name": "{{first_name}}",
            "items": ["{{last_name}}", 2, True],
            "n": {"x": "{{first_name}}"},
        },
    }
    post_text = {
        "type": "http_request",
        "method": "PUT",
        "url": http_sink.url + "/notes",
        "headers": {"Content-Type": "text/plain"},
        "body": "Note for {{first_name}}",
    }
    flow = await bench.flow(doc(actions("call", post_json, post_text)))

    run = await bench.start(sub, flow)

    first, second = http_sink.calls
    assert (first.method, first.path, first.headers["content-type"]) == (
        "POST",
        "/orders",
        "application/json",
    )
    assert first.json == {"name": "Ada", "items": ["Lovelace", 2, True], "n": {"x": "Ada"}}
    assert (second.method, second.path, second.body) == ("PUT", "/notes", b"Note for Ada")
    assert (await bench.run(run)).status == RunStatus.DONE


async def test_a_failed_http_request_goes_on_at_its_error_node(
    bench: Bench, http_sink: HttpSink
) -> None:
    vip = await bench.tag("VIP")
    kept = await bench.field("Kept")
    sub = await bench.inbound("hello")

    def flow_calling(url: str, *, save: bool = False) -> dict[str, object]:
        request: dict[str, object] = {
            "type": "http_request",
            "method": "GET",
            "url": url,
            "on_error": "sorry",
        }
        if save:
            request["save"] = [{"path": "id", "var_ns": kept}]
        return doc(
            actions("call", request, {"type": "add_tag", "tag_ns": vip}, next="ok"),
            say("ok", "Done"),
            say("sorry", "Sorry"),
        )

    http_sink.answer("/broken", status=500, body={"error": "boom"})
    http_sink.answer("/text", body="not json")
    for url, save in [
        (http_sink.url + "/broken", False),
        (closed_port_url(), False),
        (http_sink.url + "/text", True),
    ]:
        await bench.start(sub, await bench.flow(flow_calling(url, save=save)))

    assert await bench.texts(sub) == ["Sorry", "Sorry", "Sorry"]
    assert await bench.tags_of(sub) == set()  # the actions after the failed request did not run
    assert await bench.fields_of(sub) == {}
    assert [c.path for c in http_sink.calls] == ["/broken", "/text"]


async def test_a_failed_http_request_without_error_node_carries_on(
    bench: Bench, http_sink: HttpSink
) -> None:
    vip = await bench.tag("VIP")
    sub = await bench.inbound("hello")
    http_sink.answer("/broken", status=500)
    request = {"type": "http_request", "method": "DELETE", "url": http_sink.url + "/broken"}
    flow = await bench.flow(
        doc(
            actions("call", request, {"type": "add_tag", "tag_ns": vip}, next="ok"),
            say("ok", "Done"),
        )
    )

    await bench.start(sub, flow)

    assert await bench.texts(sub) == ["Done"]
    assert await bench.tags_of(sub) == {vip}
    assert [c.method for c in http_sink.calls] == ["DELETE"]


async def test_notify_webhook_posts_the_subscriber_and_the_rendered_payload(
    bench: Bench, http_sink: HttpSink
) -> None:
    sub = await bench.inbound("hello", user="visitor-9", profile=ADA)
    http_sink.answer("/notify", status=500)  # a failing receiver does not stop the flow
    notify = {
        "type": "notify_webhook",
        "url": http_sink.url + "/notify",
        "payload": {"order": "{{webhook.order}}", "items": ["{{first_name}}", 1]},
    }
    flow = await bench.flow(doc(actions("tell", notify, next="ok"), say("ok", "Noted")))

    await bench.start(sub, flow, variables={"webhook.order": "#42"})

    [call] = http_sink.calls
    assert (call.method, call.path) == ("POST", "/notify")
    assert call.json == {
        "event": "flow_notification",
        "user_ns": bench.user_ns(await bench.subscriber(sub)),
        "user_id": "visitor-9",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": None,
        "phone": None,
        "payload": {"order": "#42", "items": ["Ada", 1]},
    }
    assert await bench.texts(sub) == ["Noted"]
