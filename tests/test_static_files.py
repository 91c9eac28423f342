"""The package's static files go out compressed to a browser that takes gzip, unchanged once
unpacked, and as they are to a client that does not."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import httpx
import pytest

from konversation.dashboard.templating import STATIC_DIR as DASHBOARD_STATIC
from konversation.wire.docs import STATIC_DIR as DOCS_STATIC

BIG_SCRIPTS = [
    ("/dashboard/static/editor/editor.js", DASHBOARD_STATIC / "editor" / "editor.js"),
    ("/static/swagger/swagger-ui-bundle.js", DOCS_STATIC / "swagger" / "swagger-ui-bundle.js"),
]


@pytest.mark.parametrize(("url", "path"), BIG_SCRIPTS)
async def test_a_big_script_goes_out_gzipped_and_unpacks_to_the_file(
    client: httpx.AsyncClient, url: str, path: Path
) -> None:
    raw = await client.get(url, headers={"Accept-Encoding": "gzip"})
    # httpx unpacks what it gets: read the bytes as they came over the wire.
    async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as streamed:
        sent = b"".join([part async for part in streamed.aiter_raw()])

    original = await asyncio.to_thread(path.read_bytes)
    assert raw.status_code == 200
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == original
    assert gzip.decompress(sent) == original
    assert len(sent) < len(original) / 2


async def test_a_client_without_gzip_gets_the_file_as_it_is(client: httpx.AsyncClient) -> None:
    url, path = BIG_SCRIPTS[0]

    answer = await client.get(url, headers={"Accept-Encoding": "identity"})

    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert answer.content == await asyncio.to_thread(path.read_bytes)
