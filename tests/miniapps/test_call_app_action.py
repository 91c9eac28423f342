"""The `call_app` flow action: a flow calls one declared action of an installed mini-app over
HTTP, with its params rendered and the app's key as a Bearer token, keeps parts of the answer
in user fields, and goes on at `on_error` whenever the call cannot be made or fails."""

from __future__ import annotations

from typing import Any

import pytest

from fake_mini_app import FakeMiniApp, fake_mini_app_fixture, fake_mini_app_server_fixture  # noqa: F401
from konversation.channels.base import Profile
from konversation.db import session_scope
from konversation.errors import Invalid
from konversation.flows.document import validate_definition
from konversation.miniapps import service
from konversation.miniapps.models import AuthType
from konversation.miniapps.service import AppAction, Declaration
from loopback import closed_port_url
from runtime.engine_helpers import Bench, actions, bench_fixture, doc, make_bench, say  # noqa: F401

KEY = "ak_live_0123456789abcdef"
ACTIONS = (
    AppAction("lookup", "GET", "/customers", ("phone", "tier")),
    AppAction("note", "POST", "notes", ("text", "order")),
)


async def install(
    bench: Bench,
    base_url: str,
    *,
    key: str | None = KEY,
    auth_type: AuthType = AuthType.API_KEY,
    server_secret: bytes,
) -> None:
    app = Declaration("crm", "Acme CRM", base_url, auth_type=auth_type, actions=ACTIONS)
    async with session_scope(bench.sessions) as session:
        installed = await service.install(
            session, bench.workspace_id, app, allowed=bench.runtime.webhook_networks
        )
        if key is not None:
            await service.set_api_key(session, server_secret, bench.workspace_id, installed.id, key)


def call(action: str = "lookup", **fields: Any) -> dict[str, Any]:
    return {"type": "call_app", "app_ns": "crm", "action": action, **fields}


def calling(*items: dict[str, Any]) -> dict[str, Any]:
    """A flow that runs `items`, then says "Done"; failures say "Failed"."""
    return doc(
        actions("call", *items, next="done"),
        say("done", "Done"),
        say("failed", "Failed"),
    )


async def test_a_get_action_is_called_with_the_key_and_its_rendered_params(
    bench: Bench, fake_mini_app: FakeMiniApp, server_secret: bytes
) -> None:
    await install(bench, f"{fake_mini_app.url}/api/", server_secret=server_secret)
    tier = await bench.field("Tier")
    fake_mini_app.answer("/api/customers", body={"data": {"tier": "gold", "id": 7}})
    sub = await bench.inbound("hi", profile=Profile(first_name="Ada"))
    flow = await bench.flow(
        calling(
            call(
                params={"phone": "+1555{{first_name}}", "tier": 2, "secret": "not declared"},
                save=[{"path": "data.tier", "var_ns": tier}],
                on_error="failed",
            )
        )
    )

    await bench.start(sub, flow)

    [request] = fake_mini_app.requests
    assert (request.method, request.path) == ("GET", "/api/customers")
    assert request.query == {"phone": ["+1555Ada"], "tier": ["2"]}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body == b""
    assert (await bench.fields_of(sub))[tier] == "gold"
    assert await bench.texts(sub) == ["Done"]


async def test_a_post_action_sends_its_params_as_json(
    bench: Bench, fake_mini_app: FakeMiniApp, server_secret: bytes
) -> None:
    await install(bench, fake_mini_app.url, server_secret=server_secret)
    sub = await bench.inbound("hi", profile=Profile(first_name="Ada"))
    params = {"text": "Call {{first_name}}", "order": {"id": 5, "items": ["a", "{{first_name}}"]}}
    flow = await bench.flow(calling(call("note", params=params)))

    await bench.start(sub, flow)

    [request] = fake_mini_app.requests
    assert (request.method, request.path) == ("POST", "/notes")
    assert request.json == {"text": "Call Ada", "order": {"id": 5, "items": ["a", "Ada"]}}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert await bench.texts(sub) == ["Done"]


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, {"message": "down"}), (404, None), (200, "not json")],
    ids=["server error", "not found", "an answer that is not JSON"],
)
async def test_a_failed_call_goes_on_at_on_error(
    bench: Bench, fake_mini_app: FakeMiniApp, server_secret: bytes, status: int, body: Any
) -> None:
    await install(bench, fake_mini_app.url, server_secret=server_secret)
    field = await bench.field("Tier")
    fake_mini_app.answer("/customers", status=status, body=body)
    sub = await bench.inbound("hi")
    save = [{"path": "tier", "var_ns": field}]
    flow = await bench.flow(calling(call(save=save, on_error="failed")))

    await bench.start(sub, flow)

    assert len(fake_mini_app.requests) == 1
    assert await bench.texts(sub) == ["Failed"]


async def test_an_unreachable_app_goes_on_at_on_error(bench: Bench, server_secret: bytes) -> None:
    await install(bench, closed_port_url(), server_secret=server_secret)
    sub = await bench.inbound("hi")
    flow = await bench.flow(calling(call(on_error="failed")))

    await bench.start(sub, flow)

    assert await bench.texts(sub) == ["Failed"]


@pytest.mark.parametrize(
    ("arrange", "action"),
    [
        ("nothing installed", call()),
        ("installed", call("refund")),
        ("installed", call(app_ns="other")),
        ("no key", call()),
        ("oauth2", call()),
    ],
    ids=["app not installed", "undeclared action", "another app", "no key set", "oauth2 app"],
)
async def test_a_call_that_cannot_be_made_sends_nothing_and_goes_on_at_on_error(
    bench: Bench,
    fake_mini_app: FakeMiniApp,
    server_secret: bytes,
    arrange: str,
    action: dict[str, Any],
) -> None:
    if arrange != "nothing installed":
        await install(
            bench,
            fake_mini_app.url,
            key=KEY if arrange == "installed" else None,
            auth_type=AuthType.OAUTH2 if arrange == "oauth2" else AuthType.API_KEY,
            server_secret=server_secret,
        )
    sub = await bench.inbound("hi")
    flow = await bench.flow(calling(action | {"on_error": "failed"}))

    await bench.start(sub, flow)

    assert fake_mini_app.requests == []
    assert await bench.texts(sub) == ["Failed"]


async def test_without_on_error_the_flow_goes_on_with_the_next_action(
    bench: Bench, fake_mini_app: FakeMiniApp, server_secret: bytes
) -> None:
    await install(bench, fake_mini_app.url, server_secret=server_secret)
    tag = await bench.tag("Called")
    fake_mini_app.answer("/customers", status=503)
    sub = await bench.inbound("hi")
    flow = await bench.flow(calling(call(), {"type": "add_tag", "tag_ns": tag}))

    await bench.start(sub, flow)

    assert await bench.tags_of(sub) == {tag}
    assert await bench.texts(sub) == ["Done"]


async def test_another_workspaces_app_is_not_called(
    bench: Bench, fake_mini_app: FakeMiniApp, server_secret: bytes, app: Any
) -> None:
    other = await make_bench(app.state.runtime)
    await install(other, fake_mini_app.url, server_secret=server_secret)
    sub = await bench.inbound("hi")
    flow = await bench.flow(calling(call(on_error="failed")))

    await bench.start(sub, flow)

    assert fake_mini_app.requests == []
    assert await bench.texts(sub) == ["Failed"]


@pytest.mark.parametrize(
    "action",
    [
        {"type": "call_app", "action": "lookup"},
        call(app_ns="has space"),
        call(action=""),
        call(params={"a b": 1}),
        call(timeout_seconds=31),
        call(on_error="nowhere"),
        call(colour="red"),
    ],
    ids=[
        "no app_ns", "app_ns with a space", "empty action", "bad param name", "long timeout",
        "on_error to a missing node", "unknown key",
    ],
)  # fmt: skip
def test_the_flow_format_refuses_a_malformed_call_app(action: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as refused:
        validate_definition(calling(action))
    assert all(path.startswith("definition.nodes.0.actions.0") for path in refused.value.errors)
