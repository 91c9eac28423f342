"""The whole API under generated input (schemathesis, from our own `/api-docs`): whatever is
sent, the answer is never a server error, and its code and body are the documented ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from builders import make_tenant
from konversation.app import create_app
from konversation.db import make_engine, make_session_factory
from konversation.settings import Settings
from loopback import serving

# Cases per operation: enough to walk every operation's shapes in a few minutes on 2 cores.
CASES_PER_OPERATION = 8
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture(scope="module")
def server(settings: Settings, engine: object) -> Iterator[str]:
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def token(settings: Settings, server_secret: bytes) -> str:
    """A key of a fresh tenant, made on a loop of its own (the server runs on another)."""

    async def made() -> str:
        engine = make_engine(settings.database_url)
        try:
            return (await make_tenant(make_session_factory(engine), server_secret)).token
        finally:
            await engine.dispose()

    return asyncio.run(made())


def test_generated_requests_get_documented_answers(server: str, token: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/api-docs")
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def answered_as_documented(case: Case) -> None:
            case.call_and_validate(
                base_url=f"{server}/api",
                headers={"Authorization": f"Bearer {token}"},
                checks=CHECKS,
            )

        try:
            answered_as_documented()
        except Exception as failure:
            failures[operation.label] = str(failure)[:2000]
    assert len(operations) > 140
    assert failures == {}
