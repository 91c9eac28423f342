"""The subscribers pages: search, filters and pages of the table; a subscriber's profile, tags,
fields and chat; sending a sub flow, pausing and resuming the bot."""

from __future__ import annotations

import datetime as dt

from dashboard_browsing import DashboardClient
from pages_support import (  # noqa: F401
    flashes,
    owner_fixture,
    post_and_follow,
    text_of,
    workspace_of,
)
from sqlalchemy.ext.asyncio import AsyncSession

from builders import make_bot, make_message, make_subscriber
from konversation.db import utcnow
from konversation.demo import DemoSecrets
from konversation.flows.service import SUB_FLOWS, TAGS
from konversation.subscribers.models import Subscriber


def _ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


async def _names_listed(owner: DashboardClient, query: str) -> list[str]:
    page = await owner.http.get(f"/dashboard/subscribers?{query}")
    assert page.status_code == 200
    text = text_of(page)
    return [name for name in ("Zoe Quinn", "Adam Smith", "Ben Jones") if name in text]


async def test_the_search_box_finds_by_name_email_or_phone(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    await make_subscriber(
        session, demo.bot_id, name="Zoe Quinn", email="zoe@example.com", phone="+15551234567"
    )
    await make_subscriber(session, demo.bot_id, name="Adam Smith", email="adam@example.com")
    assert await _names_listed(owner, "") == ["Zoe Quinn", "Adam Smith"]
    assert await _names_listed(owner, "q=zoe") == ["Zoe Quinn"]
    assert await _names_listed(owner, "q=ADAM%40example.com") == ["Adam Smith"]
    assert await _names_listed(owner, "q=%28555%29+123-4567") == ["Zoe Quinn"]
    assert await _names_listed(owner, "q=nobody") == []
    assert "Nobody matches." in text_of(await owner.http.get("/dashboard/subscribers?q=nobody"))


async def test_tag_and_status_filters_narrow_the_table(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    await make_subscriber(session, demo.bot_id, name="Adam Smith", status="pending")
    await make_subscriber(session, demo.bot_id, name="Ben Jones", status="pending")
    vip = await TAGS.by_name(session, demo.bot_id, "VIP")
    vip_ns = f"f{demo.bot_id}t{vip.number}"
    for who in (zoe,):
        await post_and_follow(owner, f"/dashboard/subscribers/{_ns(who)}/tags", {"tag_ns": vip_ns})
    assert await _names_listed(owner, f"tag={vip_ns}") == ["Zoe Quinn"]
    assert await _names_listed(owner, "status=pending") == ["Adam Smith", "Ben Jones"]
    assert await _names_listed(owner, "status=pending&q=ben") == ["Ben Jones"]
    assert await _names_listed(owner, f"status=pending&tag={vip_ns}") == []
    # A deleted tag, or a status that does not exist, finds nobody or is left out.
    assert await _names_listed(owner, f"tag=f{demo.bot_id}t99") == []
    assert len(await _names_listed(owner, "status=sleepy")) == 3


async def test_long_lists_come_in_pages_of_25(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    start = utcnow() - dt.timedelta(days=1)
    for number in range(27):
        await make_subscriber(
            session,
            demo.bot_id,
            name=f"Person {number:02}",
            created_at=start + dt.timedelta(minutes=number),
        )
    first = await owner.http.get("/dashboard/subscribers")
    assert "1–25 of 27" in text_of(first)
    assert "Person 26" in text_of(first)  # the latest first
    assert 'href="/dashboard/subscribers?page=2"' in first.text
    second = await owner.http.get("/dashboard/subscribers?page=2")
    assert "26–27 of 27" in text_of(second)
    assert "Person 01" in text_of(second)
    assert "Person 00" in text_of(second)
    assert "Person 02" not in text_of(second)
    assert "1–25 of 27" in text_of(await owner.http.get("/dashboard/subscribers?page=x"))


async def test_the_detail_page_shows_the_profile_fields_and_chat(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    zoe = await make_subscriber(
        session, demo.bot_id, name="Zoe Quinn", email="zoe@example.com", phone="+15551234567"
    )
    await make_message(session, zoe, direction="in", at=utcnow(), content="Hello <b>bot</b>")
    page = await owner.http.get(f"/dashboard/subscribers/{_ns(zoe)}")
    assert page.status_code == 200
    text = text_of(page)
    for shown in ("Zoe Quinn", "zoe@example.com", "+15551234567", "Favourite colour", "Age"):
        assert shown in text
    assert "Hello &lt;b&gt;bot&lt;/b&gt;" in page.text  # escaped, never markup
    assert "Subscriber ·" in text


async def test_a_sub_flow_is_sent_and_its_messages_are_in_the_chat(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    welcome = await SUB_FLOWS.by_name(session, demo.bot_id, "Welcome")
    page = await post_and_follow(
        owner,
        f"/dashboard/subscribers/{_ns(zoe)}/send-flow",
        {"sub_flow_ns": f"f{demo.bot_id}s{welcome.number}"},
    )
    assert flashes(page) == [("success", 'Sent the sub flow "Welcome".')]
    text = text_of(page)
    assert text.index("Glad to have you here.") < text.index("Ask me anything, any time.")


async def test_a_paused_bot_sends_no_flow_until_resumed(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    welcome = await SUB_FLOWS.by_name(session, demo.bot_id, "Welcome")
    send = {"sub_flow_ns": f"f{demo.bot_id}s{welcome.number}"}
    here = f"/dashboard/subscribers/{_ns(zoe)}"

    page = await post_and_follow(owner, f"{here}/pause", {"minutes": "30"})
    assert flashes(page) == [("success", "The bot is paused for 30 minutes.")]
    assert "Resume the bot" in text_of(page)
    page = await post_and_follow(owner, f"{here}/send-flow", send)
    [(kind, message)] = flashes(page)
    assert kind == "error"
    assert message.startswith("Not sent: The bot is paused for the subscriber until ")
    assert "Glad to have you here." not in text_of(page)

    page = await post_and_follow(owner, f"{here}/resume", {})
    assert flashes(page) == [("success", "The bot is talking to them again.")]
    page = await post_and_follow(owner, f"{here}/send-flow", send)
    assert "Glad to have you here." in text_of(page)


async def test_pauses_out_of_range_are_refused(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    here = f"/dashboard/subscribers/{_ns(zoe)}"
    page = await post_and_follow(owner, f"{here}/pause", {"minutes": "0"})
    assert flashes(page) == [("error", "The minutes field must be between 1 and 525600.")]
    assert "Pause the bot" in text_of(page)


async def test_tags_are_added_and_removed(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    lead = await TAGS.by_name(session, demo.bot_id, "Lead")
    lead_ns = f"f{demo.bot_id}t{lead.number}"
    here = f"/dashboard/subscribers/{_ns(zoe)}"
    page = await post_and_follow(owner, f"{here}/tags", {"tag_ns": lead_ns})
    assert flashes(page) == [("success", 'Tagged "Lead".')]
    assert f"{here}/tags/{lead_ns}/remove" in page.text
    await session.rollback()
    assert (await TAGS.by_ns(session, demo.bot_id, lead_ns)).subscriber_count == 1

    page = await post_and_follow(owner, f"{here}/tags/{lead_ns}/remove", {})
    assert flashes(page) == [("success", 'Removed the tag "Lead".')]
    assert f"{here}/tags/{lead_ns}/remove" not in page.text
    await session.rollback()
    assert (await TAGS.by_ns(session, demo.bot_id, lead_ns)).subscriber_count == 0


async def test_subscribers_of_other_bots_are_not_found(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    other_bot = await make_bot(session, await workspace_of(session, demo.bot_id), name="Other")
    stranger = await make_subscriber(session, other_bot, name="Stranger")
    for path in (f"/dashboard/subscribers/{_ns(stranger)}", "/dashboard/subscribers/f1u999"):
        answer = await owner.http.get(path)
        assert answer.status_code == 404
        assert "Subscriber not found" in answer.text
    answer = await owner.post(f"/dashboard/subscribers/{_ns(stranger)}/resume", {})
    assert answer.status_code == 404
