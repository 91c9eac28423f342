"""Our S3 client signs as AWS documents (its published Signature Version 4 examples) and stores
objects in an S3-compatible service that checks every signature on its own."""

from __future__ import annotations

import datetime as dt
import hashlib

import httpx
import pytest

from fake_s3 import (  # noqa: F401
    ACCESS_KEY,
    BUCKET,
    REGION,
    SECRET_KEY,
    FakeS3,
    fake_s3_fixture,
    fake_s3_server_fixture,
)
from konversation.integrations import s3

# The examples of AWS's "Signature Calculations for the Authorization Header" page.
AWS = s3.Credentials(
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"
)
AT = dt.datetime(2013, 5, 24, tzinfo=dt.UTC)
HOST = {"host": "examplebucket.s3.amazonaws.com"}


def signature(headers: dict[str, str]) -> str:
    return headers["Authorization"].rsplit("Signature=", 1)[1]


@pytest.mark.parametrize(
    ("method", "path", "query", "extra", "payload", "expected"),
    [
        (
            "GET",
            "/test.txt",
            {},
            {"range": "bytes=0-9"},
            s3.EMPTY_SHA256,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        ),
        (
            "PUT",
            "/test$file.text",
            {},
            {"date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"},
            hashlib.sha256(b"Welcome to Amazon S3.").hexdigest(),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        ),
        (
            "GET",
            "/",
            {"lifecycle": ""},
            {},
            s3.EMPTY_SHA256,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
        (
            "GET",
            "/",
            {"max-keys": "2", "prefix": "J"},
            {},
            s3.EMPTY_SHA256,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ],
)
def test_signatures_match_the_examples_aws_publishes(
    method: str,
    path: str,
    query: dict[str, str],
    extra: dict[str, str],
    payload: str,
    expected: str,
) -> None:
    headers = s3.sign(AWS, method, path, query, HOST | extra, payload, AT)
    assert signature(headers) == expected
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
    )


def client(http: httpx.AsyncClient, fake: FakeS3, *, secret: str = SECRET_KEY) -> s3.S3Client:
    return s3.S3Client(http, fake.url, BUCKET, s3.Credentials(ACCESS_KEY, secret, REGION))


async def test_an_object_is_stored_under_its_key_and_answered_with_its_url(
    fake_s3: FakeS3,
) -> None:
    async with httpx.AsyncClient() as http:
        url = await client(http, fake_s3).put_object(
            "bot 1/photo $1.jpg", b"\xff\xd8", "image/jpeg"
        )
        assert url == f"{fake_s3.url}/media/bot%201/photo%20%241.jpg"
        assert fake_s3.objects[(BUCKET, "bot 1/photo $1.jpg")].body == b"\xff\xd8"
        assert fake_s3.objects[(BUCKET, "bot 1/photo $1.jpg")].content_type == "image/jpeg"


async def test_a_wrong_secret_is_refused_with_s3s_xml_error(fake_s3: FakeS3) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(s3.S3Error) as refused:
            await client(http, fake_s3, secret="not-the-secret").put_object(
                "a.txt", b"x", "text/plain"
            )
    assert (refused.value.status, refused.value.code) == (403, "SignatureDoesNotMatch")
    assert not refused.value.retryable
    assert fake_s3.objects == {}


async def test_a_slow_down_is_worth_retrying_and_an_unreachable_endpoint_too(
    fake_s3: FakeS3,
) -> None:
    fake_s3.fail_next(503, "SlowDown")
    async with httpx.AsyncClient() as http:
        with pytest.raises(s3.S3Error) as busy:
            await client(http, fake_s3).put_object("a.txt", b"x", "text/plain")
        assert (busy.value.code, busy.value.retryable) == ("SlowDown", True)
        gone = s3.S3Client(http, "http://127.0.0.1:9", BUCKET, s3.Credentials("a", "b", REGION))
        with pytest.raises(s3.S3Error) as unreachable:
            await gone.put_object("a.txt", b"x", "text/plain")
        assert unreachable.value.retryable
