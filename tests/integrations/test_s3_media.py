"""Files subscribers send are copied into the workspace's S3 bucket once it saved the storage
integration, by a background job: the message log then points at the stored object and keeps
the original URL; a storage that refuses or is down never loses the original."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from media_support import connect, logged, receive
from paid_orders_support import calls_of, work_at
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from builders import Sessions, Tenant
from fake_s3 import (  # noqa: F401
    BUCKET,
    SECRET_KEY,
    FakeS3,
    fake_s3_fixture,
    fake_s3_server_fixture,
)
from konversation.integrations.calls import CallStatus
from konversation.integrations.kinds import Kind
from konversation.jobs.runtime import Runtime
from loopback import serving

PHOTO = b"\x89PNG\r\n\x1a\n-a-small-picture"


async def _photo(request: object) -> Response:
    return Response(PHOTO, media_type="image/png")


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """Where the channel says the subscriber's file lies."""
    with serving(Starlette(routes=[Route("/files/{name}", _photo)])) as url:
        yield url


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def test_a_received_photo_is_stored_in_the_bucket_and_the_log_points_at_it(
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_s3: FakeS3,
    origin: str,
    server_secret: bytes,
) -> None:
    await connect(sessions, server_secret, tenant, fake_s3, SECRET_KEY)
    await receive(runtime, tenant, f"{origin}/files/cat.png")
    await runtime.settle()
    [((bucket, key), stored)] = fake_s3.objects.items()
    message = await logged(sessions, tenant)
    assert (bucket, stored.body, stored.content_type) == (BUCKET, PHOTO, "image/png")
    assert key == f"konversation/bot{tenant.bot_id}/{message.mid}/0.png"
    [attachment] = message.payload["attachments"]
    assert attachment["url"] == f"{fake_s3.url}/{BUCKET}/{key}"
    assert attachment["original_url"] == f"{origin}/files/cat.png"
    assert message.content == attachment["url"]


async def test_a_refused_signature_keeps_the_original_url_and_fails_for_good(
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_s3: FakeS3,
    origin: str,
    server_secret: bytes,
) -> None:
    await connect(sessions, server_secret, tenant, fake_s3, "a-wrong-secret")
    await receive(runtime, tenant, f"{origin}/files/cat.png")
    await runtime.settle()
    assert fake_s3.refused == ["SignatureDoesNotMatch"]
    [call] = await calls_of(sessions, tenant, Kind.S3)
    assert (call.status, call.last_status_code) == (CallStatus.FAILED, 403)
    message = await logged(sessions, tenant)
    assert message.payload["attachments"] == [{"type": "image", "url": f"{origin}/files/cat.png"}]


async def test_a_busy_storage_is_tried_again_later(
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_s3: FakeS3,
    origin: str,
    server_secret: bytes,
) -> None:
    await connect(sessions, server_secret, tenant, fake_s3, SECRET_KEY)
    fake_s3.fail_next(503, "SlowDown")
    await receive(runtime, tenant, f"{origin}/files/cat.png")
    await runtime.settle()
    [call] = await calls_of(sessions, tenant, Kind.S3)
    assert (call.status, call.attempts) == (CallStatus.PENDING, 1)
    assert (await logged(sessions, tenant)).content == f"{origin}/files/cat.png"
    await work_at(runtime, call.next_attempt_at + dt.timedelta(seconds=1))
    [call] = await calls_of(sessions, tenant, Kind.S3)
    assert call.status == CallStatus.DONE
    assert len(fake_s3.objects) == 1


async def test_without_the_integration_nothing_is_copied(
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_s3: FakeS3,
    origin: str,
) -> None:
    await receive(runtime, tenant, f"{origin}/files/cat.png")
    await runtime.settle()
    assert await calls_of(sessions, tenant, Kind.S3) == []
    assert fake_s3.objects == {}
