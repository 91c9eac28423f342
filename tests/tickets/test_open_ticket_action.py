"""The flow action that opens a ticket: run through a real flow, on a named board of the bot's
workspace, for the running subscriber, with templates filled in; a refused value or an unknown
board skips the action and the flow goes on."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from konversation.channels.base import Profile
from konversation.db import session_scope
from konversation.flows.format import FlowDefinition
from konversation.tickets import service
from konversation.tickets.models import ColumnType, Ticket, TicketChange
from runtime.engine_helpers import Bench, actions, bench_fixture, doc, say  # noqa: F401


async def _board(bench: Bench) -> None:
    async with session_scope(bench.sessions) as session:
        await service.create_list(
            session,
            bench.workspace_id,
            name="Support",
            icon=None,
            columns=[
                service.ColumnSpec(
                    "Status",
                    ColumnType.SELECT,
                    [service.OptionSpec("Open"), service.OptionSpec("Closed")],
                ),
                service.ColumnSpec("Order", ColumnType.TEXT),
                service.ColumnSpec("Due", ColumnType.DATE),
            ],
        )


def _open(**fields: Any) -> dict[str, Any]:
    return {"type": "open_ticket", "list_name": "Support", "title": "Help {{first_name}}", **fields}


async def test_a_flow_opens_a_ticket_for_its_subscriber_with_rendered_values(
    bench: Bench,
) -> None:
    await _board(bench)
    sub = await bench.inbound("hello", profile=Profile(first_name="Ada"))
    flow = await bench.flow(
        doc(
            actions(
                "open",
                _open(
                    description="Asked by {{first_name}}",
                    values={"Status": "open", "text1": "{{first_name}}-1001", "Due": "2030-01-31"},
                ),
                _open(values={"Due": "not a date"}),  # refused: skipped, nothing written
                {"type": "open_ticket", "list_name": "No such board", "title": "x"},  # skipped
                next="done",
            ),
            say("done", "Ticket opened"),
        )
    )

    await bench.start(sub, flow)

    async with session_scope(bench.sessions) as session:
        tickets = list(await session.scalars(select(Ticket)))
        changes = list(await session.scalars(select(TicketChange).order_by(TicketChange.id)))
    [ticket] = tickets
    assert (ticket.subscriber_id, ticket.title, ticket.description) == (
        sub,
        "Help Ada",
        "Asked by Ada",
    )
    assert ticket.values == {"select1": 1, "text1": "Ada-1001", "date1": "2030-01-31"}
    assert {(c.action, c.actor_type) for c in changes} == {("create", "flow")}
    # Flow documents are stored as JSON objects, whose key order PostgreSQL does not keep.
    assert sorted(str(c.column_name) for c in changes) == [
        "date1", "description", "select1", "text1", "title"
    ]  # fmt: skip
    assert await bench.texts(sub) == ["Ticket opened"]


@pytest.mark.parametrize(
    "action",
    [
        {"type": "open_ticket", "title": "x"},
        {"type": "open_ticket", "list_name": "Support", "title": ""},
        {"type": "open_ticket", "list_name": "Support", "title": "x", "values": {"a": {"b": 1}}},
        {"type": "open_ticket", "list_name": "Support", "title": "x", "colour": "red"},
    ],
    ids=["no list", "empty title", "nested value", "unknown key"],
)
def test_the_flow_format_refuses_a_malformed_open_ticket(action: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FlowDefinition.model_validate(doc(actions("open", action)))
