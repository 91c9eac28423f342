"""A small S3 client: PUT object, signed with AWS Signature Version 4.

Objects are addressed path-style, `{endpoint}/{bucket}/{key}`, so the same client works with AWS
(`https://s3.eu-west-1.amazonaws.com`) and with any S3-compatible service (MinIO, Ceph, R2,
Wasabi...) at whatever endpoint it has. The signature follows AWS's documented steps:

1. the canonical request: method, URI-encoded path, sorted and encoded query, the signed headers
   as `name:value` lines (lowercase names, trimmed values, sorted), their names joined by `;`,
   and the payload's SHA-256 (also sent as `x-amz-content-sha256`);
2. the string to sign: `AWS4-HMAC-SHA256`, the request time, the scope
   (`date/region/s3/aws4_request`) and the canonical request's SHA-256;
3. the signing key: HMAC-SHA256 chained from `"AWS4" + secret` over date, region, service and
   `aws4_request`; the signature is the string to sign's HMAC under it, in hex.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    region: str


def uri_encode(text: str, *, keep_slash: bool) -> str:
    """AWS's URI encoding: every byte but the unreserved characters `A-Za-z0-9-._~` as %XX."""
    return quote(text, safe="/~" if keep_slash else "~")


def canonical_query(query: Mapping[str, str]) -> str:
    pairs = sorted(
        (uri_encode(k, keep_slash=False), uri_encode(v, keep_slash=False)) for k, v in query.items()
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(
    credentials: Credentials,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    at: dt.datetime,
) -> dict[str, str]:
    """The headers to send: `headers` (which must hold `host`) with `x-amz-date`,
    `x-amz-content-sha256` and `Authorization` added. `path` is the object's path as given,
    not yet encoded."""
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    signed = {name.lower(): _SPACES.sub(" ", value.strip()) for name, value in headers.items()}
    signed |= {"x-amz-date": stamp, "x-amz-content-sha256": payload_sha256}
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            uri_encode(path, keep_slash=True),
            canonical_query(query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{stamp[:8]}/{credentials.region}/{SERVICE}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(credentials.secret_access_key, stamp[:8], credentials.region)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return {**dict(headers), "x-amz-date": stamp, "x-amz-content-sha256": payload_sha256} | {
        "Authorization": authorization
    }


class S3Error(Exception):
    """S3 refused the request (`status` and S3's error `code`, such as SignatureDoesNotMatch),
    or could not be reached (`status` None)."""

    def __init__(self, message: str, *, status: int | None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in {408, 429} or self.status >= 500


class S3Client:
    """One bucket at one endpoint. `http` is shared and owned by the caller."""

    def __init__(
        self, http: httpx.AsyncClient, endpoint: str, bucket: str, credentials: Credentials
    ) -> None:
        self._http = http
        self._endpoint = endpoint.rstrip("/")
        self._bucket = bucket
        self._credentials = credentials

    def object_url(self, key: str) -> str:
        return f"{self._endpoint}{uri_encode(self._path(key), keep_slash=True)}"

    async def put_object(
        self, key: str, body: bytes, content_type: str, *, at: dt.datetime | None = None
    ) -> str:
        """Store `body` under `key`; answers the object's URL. Raises `S3Error`."""
        path = self._path(key)
        parts = urlsplit(self._endpoint)
        headers = sign(
            self._credentials,
            "PUT",
            urlsplit(self._endpoint).path + path,
            {},
            {"host": parts.netloc, "content-type": content_type},
            hashlib.sha256(body).hexdigest(),
            at or dt.datetime.now(dt.UTC),
        )
        url = self.object_url(key)
        try:
            answer = await self._http.put(url, content=body, headers=headers)
        except httpx.HTTPError as failure:
            raise S3Error(
                f"The storage could not be reached ({type(failure).__name__})", status=None
            ) from failure
        if not answer.is_success:
            code, message = _error_of(answer)
            raise S3Error(
                f"The storage answered {answer.status_code} {code or ''}: {message}".strip(),
                status=answer.status_code,
                code=code,
            )
        return url

    def _path(self, key: str) -> str:
        return f"/{self._bucket}/{key.lstrip('/')}"


def _error_of(answer: httpx.Response) -> tuple[str | None, str]:
    """S3's error code and message from its XML error body, when it sent one."""
    try:
        root = ElementTree.fromstring(answer.content)
    except ElementTree.ParseError:
        return None, answer.reason_phrase
    return root.findtext("Code"), root.findtext("Message") or answer.reason_phrase
