"""An S3 stand-in served on 127.0.0.1: PUT and GET object, path-style, for the credentials it
was given, with objects kept in memory.

Every request must carry an AWS Signature Version 4 `Authorization` header. The stand-in checks
it on its own, from the request as received, following AWS's documented steps (it shares no code
with the client under test): the canonical request built from the method, the raw path, the
query, the headers named in SignedHeaders and the `x-amz-content-sha256` header (itself checked
against the body); the string to sign over the credential scope; the chained signing key. A
mismatch is answered as S3 does, 403 with an XML `<Error>` (`SignatureDoesNotMatch`,
`InvalidAccessKeyId`); an unknown bucket is 404 `NoSuchBucket`. `fail_next` queues errors such
as 503 `SlowDown`.

    from fake_s3 import fake_s3_fixture, fake_s3_server_fixture  # noqa: F401
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loopback import serving

ACCESS_KEY = "AKIDKONVERSATIONTEST"
SECRET_KEY = "fake/secret+key/for/loopback/tests0000000"
REGION = "eu-central-1"
BUCKET = "media"


@dataclass(frozen=True)
class Stored:
    body: bytes
    content_type: str


class FakeS3:
    def __init__(self) -> None:
        self.url = ""
        self.secrets = {ACCESS_KEY: SECRET_KEY}
        self.buckets = {BUCKET}
        self.objects: dict[tuple[str, str], Stored] = {}
        self.refused: list[str] = []  # the error codes answered, in order
        self._failures: deque[tuple[int, str]] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/{bucket}/{key:path}", self._object, methods=["GET", "PUT"])]
        )

    def fail_next(self, status: int, code: str) -> None:
        with self._lock:
            self._failures.append((status, code))

    def reset(self) -> None:
        with self._lock:
            self.objects.clear()
            self.refused.clear()
            self._failures.clear()

    async def _object(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return self._error(*failure, "Please reduce your request rate.")
        refusal = self._check_signature(request, body)
        if refusal is not None:
            return self._error(403, *refusal)
        bucket, key = request.path_params["bucket"], request.path_params["key"]
        if bucket not in self.buckets:
            return self._error(404, "NoSuchBucket", "The specified bucket does not exist")
        if request.method == "PUT":
            content_type = request.headers.get("content-type", "binary/octet-stream")
            self.objects[(bucket, key)] = Stored(body, content_type)
            etag = hashlib.md5(body).hexdigest()  # S3 answers the MD5 as ETag
            return Response(status_code=200, headers={"ETag": f'"{etag}"'})
        stored = self.objects.get((bucket, key))
        if stored is None:
            return self._error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(stored.body, media_type=stored.content_type)

    def _check_signature(self, request: Request, body: bytes) -> tuple[str, str] | None:
        fields = _authorization(request.headers.get("authorization", ""))
        if fields is None:
            return "AccessDenied", "Access Denied"
        access_key, date, region, service, terminal = [
            *fields["Credential"].split("/"),
            "",
            "",
            "",
            "",
        ][:5]
        secret = self.secrets.get(access_key)
        if secret is None:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist."
        payload = request.headers.get("x-amz-content-sha256", "")
        if payload != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch", "The provided x-amz-content-sha256 does not match."
        stamp = request.headers.get("x-amz-date", "")
        names = fields["SignedHeaders"].split(";")
        if "host" not in names or not stamp.startswith(date):
            return "AccessDenied", "The host and x-amz-date headers must be signed."
        raw_path = request.scope["raw_path"].decode()
        query = sorted(
            (quote(k, safe="~"), quote(v, safe="~"))
            for k, v in parse_qsl(request.url.query, keep_blank_values=True)
        )
        lines = [
            request.method,
            raw_path,
            "&".join(f"{k}={v}" for k, v in query),
            *[f"{name}:{' '.join(request.headers.get(name, '').split())}" for name in names],
            "",
            ";".join(names),
            payload,
        ]
        canonical = "\n".join(lines)
        scope = f"{date}/{region}/{service}/{terminal}"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
        key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
        for part in (region, service, terminal):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if region != REGION or not hmac.compare_digest(expected, fields["Signature"]):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return None

    def _error(self, status: int, code: str, message: str) -> Response:
        with self._lock:
            self.refused.append(code)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>4442587FB7D0A2F9</RequestId></Error>"
        )
        return Response(body, status_code=status, media_type="application/xml")


def _authorization(header: str) -> dict[str, str] | None:
    algorithm, _, rest = header.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return fields


@pytest.fixture(scope="session", name="fake_s3_server")
def fake_s3_server_fixture() -> Iterator[FakeS3]:
    fake = FakeS3()
    with serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(name="fake_s3")
def fake_s3_fixture(fake_s3_server: FakeS3) -> FakeS3:
    fake_s3_server.reset()
    return fake_s3_server
