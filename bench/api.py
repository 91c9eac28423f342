"""How many authenticated Connect API requests a second one server process answers.

A fresh bot is filled as bench/subscribers.py fills it (bulk inserts, maintained counts kept
right; fifty tags), and its middle subscriber, the probe, is brought to ten tags and twenty user
fields through the services. The real app (`konversation serve`'s, one uvicorn worker, access
log off, uvloop and httptools) runs in its own process, and wrk drives it from another:

    GET  /api/flow/tags?limit=100             the bot's 51 tags
    GET  /api/subscriber/get-info             the probe, with its tags and fields
    GET  /api/subscribers?limit=100           the first page of the whole bot
    POST /api/subscriber/add-tag              a tag no one has, onto a different subscriber at
                                              each request: every request inserts a link and
                                              moves the tag's count (wrk's threads take turns
                                              through the subscribers, so none is tagged twice
                                              until every one has been)
    PUT  /api/subscriber/set-user-field       the probe's "note" field, a new value each time

Every request is first made once and its answer checked (status 200 and the expected content),
so a fast wrong answer cannot pass; any non-2xx answer under load fails the run. A bare
Starlette app answering a constant JSON object, under the same server flags, is measured in the
same run: each figure is printed with its ratio to it.

    .venv/bin/python bench/api.py                          # SQLite, 100,000 subscribers
    .venv/bin/python bench/api.py --postgresql             # a throwaway PostgreSQL database
    .venv/bin/python bench/api.py --seconds 3 --subscribers 10000   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from harness import (
    Figures,
    database_name,
    free_port,
    machine_line,
    print_command,
    run_wrk,
    serve_baseline,
    serving,
    throwaway_database,
    uvicorn_command,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from konversation.db import make_engine, make_session_factory, session_scope
from konversation.flows import service as flows
from konversation.flows.models import FieldScope
from konversation.ids import Kind, format_ns
from konversation.schema import upgrade
from konversation.subscribers import attributes
from konversation.subscribers.attributes import Pick
from subscribers import SERVER_SECRET, TAGS, Bot, fill, roomy_cache, settle

PROBE_TAGS = 10
PROBE_FIELDS = 20
NOTE = "note"


@dataclass(frozen=True)
class Filled:
    bot: Bot
    write_tag_ns: str
    note_ns: str
    field_count: int

    @property
    def probe_ns(self) -> str:
        return self.bot.user_ns(self.bot.probe)


async def fill_bot(engine: AsyncEngine, size: int) -> Filled:
    bot = await fill(engine, size)
    async with session_scope(make_session_factory(engine)) as session:
        extra = [f"extra {n}" for n in range(PROBE_FIELDS - 4)]
        fields = [
            await flows.create_field(
                session, bot.bot_id, scope=FieldScope.USER, name=name, var_type="text"
            )
            for name in [*extra, NOTE]
        ]
        write_tag = await flows.create_tag(session, bot.bot_id, name="bench write")
        probe = bot.user_ns(bot.probe)
        field_ns = [format_ns(bot.bot_id, Kind.FIELD, f.number) for f in fields]
        await attributes.set_fields(
            session,
            bot.bot_id,
            user_ns=probe,
            fields=Pick.many("var_ns", field_ns),
            values=[f"value {n}" for n in range(len(fields))],
        )
        await attributes.add_tags(
            session,
            bot.bot_id,
            user_ns=probe,
            tags=Pick.many(
                "tag_ns", [format_ns(bot.bot_id, Kind.TAG, n) for n in range(1, PROBE_TAGS + 1)]
            ),
        )
    write_tag_ns = format_ns(bot.bot_id, Kind.TAG, write_tag.number)
    return Filled(bot, write_tag_ns, field_ns[-1], PROBE_FIELDS)


# The requests


@dataclass(frozen=True)
class Request:
    label: str
    method: str
    path: str
    bodies: Callable[[Filled], list[dict[str, str]]]
    check: Callable[[Filled, dict[str, Any]], bool]


def _probe_info(filled: Filled, body: dict[str, Any]) -> bool:
    data = body["data"]
    return (
        data["user_ns"] == filled.probe_ns
        and len(data["tags"]) >= PROBE_TAGS
        and len(data["user_fields"]) >= filled.field_count
    )


def _ok(_filled: Filled, body: dict[str, Any]) -> bool:
    return body.get("status") == "ok"


def _tag_everyone(filled: Filled) -> list[dict[str, str]]:
    everyone = range(1, filled.bot.size + 1)
    return [
        {"user_ns": filled.bot.user_ns(n), "tag_ns": filled.write_tag_ns}
        for n in everyone
        if n != filled.bot.probe
    ]


def _new_notes(filled: Filled) -> list[dict[str, str]]:
    return [
        {"user_ns": filled.probe_ns, "var_ns": filled.note_ns, "value": f"note {n}"}
        for n in range(1000)
    ]


REQUESTS = (
    Request(
        "GET /flow/tags",
        "GET",
        "/api/flow/tags?limit=100",
        lambda filled: [],
        lambda filled, body: len(body["data"]) == TAGS + 1,
    ),
    Request(
        "GET /subscriber/get-info",
        "GET",
        "/api/subscriber/get-info?user_ns={probe}",
        lambda filled: [],
        _probe_info,
    ),
    Request(
        "GET /subscribers?limit=100",
        "GET",
        "/api/subscribers?limit=100",
        lambda filled: [],
        lambda filled, body: len(body["data"]) == 100 and body["meta"]["total"] == filled.bot.size,
    ),
    Request("POST /subscriber/add-tag", "POST", "/api/subscriber/add-tag", _tag_everyone, _ok),
    Request(
        "PUT /subscriber/set-user-field",
        "PUT",
        "/api/subscriber/set-user-field",
        _new_notes,
        _ok,
    ),
)


def _headers(filled: Filled) -> dict[str, str]:
    return {"Authorization": f"Bearer {filled.bot.token}", "Accept": "application/json"}


async def check_answers(base_url: str, filled: Filled) -> None:
    """Each request once, through the probe; a wrong answer stops everything."""
    async with httpx.AsyncClient(base_url=base_url, headers=_headers(filled)) as client:
        for request in REQUESTS:
            bodies = request.bodies(filled)
            response = await client.request(
                request.method,
                request.path.format(probe=filled.probe_ns),
                json={**bodies[0], "user_ns": filled.probe_ns} if bodies else None,
            )
            if response.status_code != 200 or not request.check(filled, response.json()):
                raise SystemExit(
                    f"{request.label}: wrong answer {response.status_code} {response.text[:300]}"
                )
        await _check_writes_landed(client, filled)


async def _check_writes_landed(client: httpx.AsyncClient, filled: Filled) -> None:
    answer = await client.get("/api/subscriber/get-info", params={"user_ns": filled.probe_ns})
    info = answer.json()
    tags = {t["tag_ns"] for t in info["data"]["tags"]}
    notes = [f["value"] for f in info["data"]["user_fields"] if f["var_ns"] == filled.note_ns]
    if filled.write_tag_ns not in tags or notes != ["note 0"]:
        raise SystemExit(f"the writes did not land: {json.dumps(info)[:400]}")


def drive(base_url: str, filled: Filled, request: Request, args: argparse.Namespace) -> Figures:
    return run_wrk(
        base_url + request.path.format(probe=filled.probe_ns),
        seconds=args.seconds,
        connections=args.connections,
        threads=args.threads,
        headers=_headers(filled),
        method=request.method,
        bodies=[json.dumps(body) for body in request.bodies(filled)],
    )


# The run


async def main(args: argparse.Namespace) -> None:
    async with throwaway_database(args.postgresql) as url:
        engine = make_engine(url)
        roomy_cache(engine)
        try:
            await upgrade(engine)
            filled = await fill_bot(engine, args.subscribers)
            await settle(engine)
        finally:
            await engine.dispose()
        baseline_port = free_port()
        async with serve_baseline(baseline_port) as baseline_server:
            baseline = run_wrk(
                f"{baseline_server.base_url}/api/flow/tags",
                seconds=args.seconds,
                connections=args.connections,
                threads=args.threads,
            )
        figures = await measure_app(url, filled, args)
    report(args, url, baseline, figures)


async def measure_app(url: str, filled: Filled, args: argparse.Namespace) -> dict[str, Figures]:
    port = free_port()
    env = {"KONVERSATION_DATABASE_URL": url, "KONVERSATION_SECRET_KEY": SERVER_SECRET}
    command = uvicorn_command("konversation.app:create_app", port)
    async with serving(command, port, env=env, ready_path="/api-docs") as server:
        await check_answers(server.base_url, filled)
        return {r.label: drive(server.base_url, filled, r, args) for r in REQUESTS}


def report(
    args: argparse.Namespace, url: str, baseline: Figures, figures: dict[str, Figures]
) -> None:
    print_command()
    print(
        machine_line(
            database_name(url),
            f"{args.subscribers:,} subscribers, wrk -t{args.threads} -c{args.connections} "
            f"-d{args.seconds}s, one uvicorn worker",
        )
    )
    width = max(len(label) for label in figures) + 2
    print("bare Starlette baseline".ljust(width) + baseline.line())
    for label, figure in figures.items():
        print(label.ljust(width) + figure.line(baseline))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per request")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--postgresql", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
