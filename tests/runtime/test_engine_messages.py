"""The flow engine's send_message node: templates filled in per subscriber, media, cards with
their buttons, and quick replies that wait for a choice and lead on in the same run."""

from __future__ import annotations

from engine_helpers import Bench, bench_fixture, doc, payload_of, say, start_flow  # noqa: F401

from konversation.channels.base import Profile
from konversation.flows.models import FieldScope
from konversation.runtime.models import RunStatus, WaitKind

ADA = Profile(first_name="Ada", last_name="Lovelace")


async def test_text_fills_in_names_fields_and_bot_fields(bench: Bench) -> None:
    colour = await bench.field("Favourite colour")
    await bench.field("Nickname")
    await bench.field("Opening hours", scope=FieldScope.BOT, value="9 to 5")
    sub = await bench.inbound("hello", profile=ADA)  # the main flow does nothing yet
    await bench.set_field(sub, colour, "blue")
    await bench.main(
        doc(
            say(
                "hi",
                "Hi {{first_name}} {{ last_name }}, {{nickname|friend}}: {{favourite_colour}}/"
                f"{{{{{colour}}}}}, open {{{{bot.opening_hours}}}}, {{{{missing}}}}.",
            )
        )
    )

    await bench.start(sub)

    assert await bench.texts(sub) == ["Hi Ada Lovelace, friend: blue/blue, open 9 to 5, ."]
    assert await bench.log(sub) == [
        ("in", "hello"),
        ("out", "Hi Ada Lovelace, friend: blue/blue, open 9 to 5, ."),
    ]


async def test_a_template_never_evaluates_code_nor_renders_a_value_twice(bench: Bench) -> None:
    sneaky = Profile(first_name="{{bot.opening_hours}}")
    await bench.field("Opening hours", scope=FieldScope.BOT, value="secret")
    sub = await bench.inbound("hello", profile=sneaky)
    await bench.main(
        doc(say("hi", "[{{__class__}}][{{first_name.__class__}}][{{first_name}}][{{1+1}}]"))
    )

    await bench.start(sub)

    assert await bench.texts(sub) == ["[][][{{bot.opening_hours}}][{{1+1}}]"]


async def test_run_variables_are_templates_too_and_win_over_details(bench: Bench) -> None:
    sub = await bench.inbound("hello", profile=ADA)
    flow = await bench.flow(doc(say("hi", "{{first_name}} ordered {{webhook.order}}")))

    await bench.start(sub, flow, variables={"webhook.order": "#42", "first_name": "Grace"})

    assert await bench.texts(sub) == ["Grace ordered #42"]


async def test_media_messages_carry_their_rendered_captions(bench: Bench) -> None:
    sub = await bench.inbound("hello", profile=ADA)
    media = [
        {
            "type": kind,
            "url": f"https://cdn.example.com/{kind}",
            "caption": f"{kind} for {{{{first_name}}}}",
        }
        for kind in ("image", "file", "audio", "video")
    ]
    await bench.main(doc({"id": "m", "type": "send_message", "messages": media}))

    await bench.start(sub)

    bodies = [d.body for d in await bench.deliveries(sub)]
    assert [(b["type"], b["url"], b["caption"]) for b in bodies] == [
        ("image", "https://cdn.example.com/image", "image for Ada"),
        ("file", "https://cdn.example.com/file", "file for Ada"),
        ("audio", "https://cdn.example.com/audio", "audio for Ada"),
        ("video", "https://cdn.example.com/video", "video for Ada"),
    ]
    assert [content for _, content in (await bench.log(sub))[1:]] == [
        "image for Ada",
        "file for Ada",
        "audio for Ada",
        "video for Ada",
    ]


async def test_cards_buttons_open_urls_call_phones_and_lead_to_nodes_and_sub_flows(
    bench: Bench,
) -> None:
    support = await bench.flow(doc(say("s", "Support here")), name="Support")
    sub = await bench.inbound("hello", profile=ADA)
    cards = {
        "type": "cards",
        "cards": [
            {
                "title": "Shoes for {{first_name}}",
                "subtitle": "Size {{size|42}}",
                "image_url": "https://cdn.example.com/shoes.png",
                "buttons": [
                    {
                        "id": "web",
                        "title": "Shop",
                        "action": {
                            "type": "url",
                            "url": "https://shop.example.com/?n={{first_name}}",
                        },
                    },
                    {
                        "id": "call",
                        "title": "Call",
                        "action": {"type": "phone", "phone": "+15550100"},
                    },
                ],
            },
            {
                "title": "Help",
                "buttons": [
                    {"id": "more", "title": "More", "action": {"type": "go_to", "node": "more"}},
                    {
                        "id": "agent",
                        "title": "Agent",
                        "action": {"type": "sub_flow", "sub_flow_ns": support},
                    },
                ],
            },
        ],
    }
    await bench.main(
        doc({"id": "c", "type": "send_message", "messages": [cards]}, say("more", "More shoes"))
    )
    await bench.start(sub)

    body = await bench.last_body(sub)
    first, second = body["cards"]
    assert first == {
        "title": "Shoes for Ada",
        "subtitle": "Size 42",
        "image_url": "https://cdn.example.com/shoes.png",
        "buttons": [
            {"type": "url", "title": "Shop", "url": "https://shop.example.com/?n=Ada"},
            {"type": "phone", "title": "Call", "phone": "+15550100"},
        ],
    }
    assert [b["type"] for b in second["buttons"]] == ["payload", "payload"]
    assert all(b["payload"].startswith("kv:") for b in second["buttons"])
    assert (await bench.runs(sub))[0].status == RunStatus.DONE  # buttons do not make it wait

    await bench.inbound(payload=payload_of(body, "More"))
    await bench.inbound(payload=payload_of(body, "Agent"))

    assert (await bench.texts(sub))[1:] == ["More shoes", "Support here"]


async def test_quick_replies_wait_and_a_press_goes_on_in_the_same_run_back_to_the_caller(
    bench: Bench,
) -> None:
    menu = await bench.flow(
        doc(
            say(
                "ask",
                "Pick one, {{first_name}}",
                quick_replies=[
                    {"id": "a", "title": "A for {{first_name}}", "next": "chose-a"},
                    {"id": "b", "title": "B", "next": None},
                ],
            ),
            say("chose-a", "You chose A"),
        ),
        name="Menu",
    )
    await bench.main(doc(start_flow("menu", menu, next="back"), say("back", "Back in main")))

    sub = await bench.inbound("hi", profile=ADA)

    [waiting] = await bench.runs(sub)
    assert (waiting.status, waiting.wait, waiting.node_id) == (
        RunStatus.WAITING,
        WaitKind.CHOICE,
        "ask",
    )
    assert len(waiting.stack) == 1
    body = await bench.last_body(sub)
    assert [r["title"] for r in body["quick_replies"]] == ["A for Ada", "B"]
    assert [r["title"] for r in waiting.offered] == ["A for Ada", "B"]

    await bench.inbound("A for Ada", payload=payload_of(body, "A for Ada"))

    assert await bench.texts(sub) == ["Pick one, Ada", "You chose A", "Back in main"]
    [run] = await bench.runs(sub)
    assert run.id == waiting.id
    assert (run.status, run.stack, run.wait) == (RunStatus.DONE, [], None)


async def test_typing_a_quick_reply_title_chooses_it(bench: Bench) -> None:
    menu = await bench.flow(
        doc(
            say(
                "ask",
                "Pick one",
                quick_replies=[
                    {"id": "a", "title": "Alpha", "next": "chose-a"},
                    {"id": "b", "title": "Beta", "next": None},
                ],
            ),
            say("chose-a", "You chose A"),
        ),
    )
    await bench.main(doc(start_flow("menu", menu, next="back"), say("back", "Back in main")))
    sub = await bench.inbound("hi")

    await bench.inbound("  Beta ")

    assert await bench.texts(sub) == ["Pick one", "Back in main"]
    [run] = await bench.runs(sub)
    assert run.status == RunStatus.DONE


async def test_an_old_button_works_later_and_follows_the_flow_as_it_is_now(bench: Bench) -> None:
    menu = {
        "id": "menu",
        "type": "send_message",
        "messages": [
            {
                "type": "text",
                "text": "Menu",
                "buttons": [
                    {"id": "hours", "title": "Hours", "action": {"type": "go_to", "node": "hours"}}
                ],
            }
        ],
        "quick_replies": [{"id": "where", "title": "Where", "next": "where"}],
    }
    await bench.main(doc(menu, say("hours", "9 to 5"), say("where", "Main street")))
    sub = await bench.inbound("hi")
    body = await bench.last_body(sub)
    await bench.inbound("Where", payload=payload_of(body, "Where"))

    # The choice was made and the run is done; its message's buttons still work.
    await bench.inbound(payload=payload_of(body, "Hours"))
    await bench.inbound(payload=payload_of(body, "Where"))
    await bench.main(doc(menu, say("hours", "10 to 6"), say("where", "Main street"), start="menu"))
    await bench.inbound(payload=payload_of(body, "Hours"))

    assert await bench.texts(sub) == ["Menu", "Main street", "9 to 5", "Main street", "10 to 6"]
    assert [r.status for r in await bench.runs(sub)] == [RunStatus.DONE] * 4


async def test_a_button_of_a_deleted_node_does_nothing(bench: Bench) -> None:
    await bench.main(
        doc(
            say("menu", "Menu", quick_replies=[{"id": "x", "title": "X", "next": "x"}]),
            say("x", "X!"),
        )
    )
    sub = await bench.inbound("hi")
    body = await bench.last_body(sub)
    await bench.main(doc(say("other", "Other")))

    await bench.inbound("X", payload=payload_of(body, "X"))

    assert await bench.texts(sub) == ["Menu"]
    assert [m for m in await bench.log(sub) if m[0] == "in"] == [("in", "hi"), ("in", "X")]


async def test_a_long_quick_reply_id_still_fits_a_payload_and_works(bench: Bench) -> None:
    long_id = "a-very-long-quick-reply-id-" + "x" * 37
    await bench.main(
        doc(
            say("menu", "Menu", quick_replies=[{"id": long_id, "title": "Go", "next": "go"}]),
            say("go", "Gone"),
        )
    )
    sub = await bench.inbound("hi")
    payload = payload_of(await bench.last_body(sub), "Go")

    await bench.inbound("Go", payload=payload)

    assert len(payload.encode()) <= 64
    assert await bench.texts(sub) == ["Menu", "Gone"]


async def test_fields_whose_names_read_alike_in_templates_give_the_first_ones_value(
    bench: Bench,
) -> None:
    first = await bench.field("Shoe size")
    second = await bench.field("shoe-size")
    sub = await bench.inbound("hello")
    await bench.set_field(sub, first, "42")
    await bench.set_field(sub, second, "44")
    flow = await bench.flow(doc(say("s", "{{shoe_size}}")))

    await bench.start(sub, flow)

    assert await bench.texts(sub) == ["42"]
