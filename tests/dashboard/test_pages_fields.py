"""Tags, user fields and bot fields on the dashboard: created, renamed, valued and deleted
through the services, with refusals shown and nothing half done."""

from __future__ import annotations

from dashboard_browsing import DashboardClient
from pages_support import flashes, owner_fixture, post_and_follow, text_of  # noqa: F401
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.demo import DemoSecrets
from konversation.flows.service import BOT_FIELDS, TAGS, USER_FIELDS


async def test_the_page_lists_the_bots_tags_and_fields(owner: DashboardClient) -> None:
    page = await owner.http.get("/dashboard/tags")
    assert page.status_code == 200
    text = text_of(page)
    for shown in ("VIP", "Lead", "Customer", "Favourite colour", "opening_hours"):
        assert shown in text
    assert 'value="+15550100"' in page.text  # a bot field's value, ready to edit


async def test_a_tag_is_created_renamed_and_deleted(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    page = await post_and_follow(owner, "/dashboard/tags/create", {"name": " Newsletter "})
    assert flashes(page) == [("success", 'Tag "Newsletter" created.')]
    tag = await TAGS.by_name(session, demo.bot_id, "Newsletter")
    tag_ns = f"f{demo.bot_id}t{tag.number}"

    page = await post_and_follow(owner, f"/dashboard/tags/{tag_ns}/rename", {"name": "Weekly"})
    assert flashes(page) == [("success", 'Tag "Newsletter" renamed to "Weekly".')]
    await session.rollback()  # a fresh look at the database
    assert (await TAGS.by_ns(session, demo.bot_id, tag_ns)).name == "Weekly"

    page = await post_and_follow(owner, f"/dashboard/tags/{tag_ns}/delete", {})
    assert flashes(page) == [("success", 'Tag "Weekly" deleted.')]
    await session.rollback()
    assert await TAGS.find_by_name(session, demo.bot_id, "Weekly") is None


async def test_names_already_taken_or_blank_are_refused(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    page = await post_and_follow(owner, "/dashboard/tags/create", {"name": "VIP"})
    assert flashes(page) == [("error", "The name has already been taken.")]
    lead = await TAGS.by_name(session, demo.bot_id, "Lead")
    path = f"/dashboard/tags/f{demo.bot_id}t{lead.number}/rename"
    page = await post_and_follow(owner, path, {"name": "VIP"})
    assert flashes(page) == [("error", "The name has already been taken.")]
    page = await post_and_follow(owner, path, {"name": "  "})
    assert flashes(page) == [("error", "The name field is required.")]
    # Renaming to its own name is no clash.
    page = await post_and_follow(owner, path, {"name": "Lead"})
    assert flashes(page)[0][0] == "success"
    await session.rollback()
    assert [t.name for t in await TAGS.all(session, demo.bot_id)] == ["VIP", "Lead", "Customer"]


async def test_user_fields_are_created_with_a_type_renamed_and_deleted(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    page = await post_and_follow(
        owner,
        "/dashboard/fields/user/create",
        {"name": "Birthday", "var_type": "date", "description": "When to send a card"},
    )
    assert flashes(page) == [("success", 'User field "Birthday" created.')]
    field = await USER_FIELDS.by_name(session, demo.bot_id, "Birthday")
    assert (field.var_type, field.description) == ("date", "When to send a card")
    var_ns = f"f{demo.bot_id}v{field.number}"

    page = await post_and_follow(
        owner, f"/dashboard/fields/user/{var_ns}/rename", {"name": "Date of birth"}
    )
    assert flashes(page) == [("success", 'User field "Birthday" renamed to "Date of birth".')]
    page = await post_and_follow(owner, f"/dashboard/fields/user/{var_ns}/delete", {})
    assert flashes(page) == [("success", 'User field "Date of birth" deleted.')]
    await session.rollback()
    assert await USER_FIELDS.find_by_name(session, demo.bot_id, "Date of birth") is None


async def test_a_user_field_of_an_unknown_type_is_refused(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    page = await post_and_follow(
        owner, "/dashboard/fields/user/create", {"name": "Mood", "var_type": "feelings"}
    )
    assert flashes(page) == [("error", "The selected var_type is invalid.")]
    await session.rollback()
    assert await USER_FIELDS.find_by_name(session, demo.bot_id, "Mood") is None


async def test_bot_field_values_are_read_as_their_type(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    page = await post_and_follow(
        owner,
        "/dashboard/fields/bot/create",
        {"name": "max_guests", "var_type": "number", "value": "12"},
    )
    assert flashes(page) == [("success", 'Bot field "max_guests" created.')]
    field = await BOT_FIELDS.by_name(session, demo.bot_id, "max_guests")
    assert field.value == 12
    var_ns = f"f{demo.bot_id}v{field.number}"

    page = await post_and_follow(owner, f"/dashboard/fields/bot/{var_ns}/value", {"value": "many"})
    assert flashes(page) == [("error", "The value field must be a number.")]
    page = await post_and_follow(owner, f"/dashboard/fields/bot/{var_ns}/value", {"value": "2.5"})
    assert flashes(page) == [("success", 'Bot field "max_guests" saved.')]
    await session.rollback()
    assert (await BOT_FIELDS.by_ns(session, demo.bot_id, var_ns)).value == 2.5
    # A user field's id is no bot field.
    colour = await USER_FIELDS.by_name(session, demo.bot_id, "Favourite colour")
    wrong = await owner.post(
        f"/dashboard/fields/bot/f{demo.bot_id}v{colour.number}/value", {"value": "x"}
    )
    assert wrong.status_code == 404
    assert "Bot field not found" in wrong.text


async def test_a_form_without_the_csrf_token_changes_nothing(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    answer = await owner.http.post("/dashboard/tags/create", data={"name": "Sneaky"})
    assert answer.status_code == 403
    await session.rollback()
    assert await TAGS.find_by_name(session, demo.bot_id, "Sneaky") is None
