"""Helpers shared by the benchmark scripts: ports, throwaway databases, servers and wrk.

A server runs in its own uvicorn process (one worker, access log off, uvloop and httptools), so
that it never shares an event loop or a core's time slice with the process that drives it. The
same-run baseline is a bare Starlette app answering a constant JSON object under the same flags:
print every figure as a ratio to it, since absolute figures vary between runs and machines.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_FOLDER = Path(__file__).resolve().parent
BASELINE_TARGET = "harness:baseline_app"
STARTUP_LIMIT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def throwaway_database(postgresql: bool) -> AsyncIterator[str]:
    """A SQLAlchemy URL to an empty database that is gone afterwards."""
    if not postgresql:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def database_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def machine_line(database: str, extra: str = "") -> str:
    line = f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {database}"
    return f"{line}, {extra}" if extra else line


def print_command() -> None:
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


# The same-run baseline


def baseline_app() -> Starlette:
    async def constant(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "data": {"id": 1, "name": "constant"}})

    return Starlette(routes=[Route("/{path:path}", constant, methods=["GET", "POST", "PUT"])])


# Servers in their own process


@dataclass(frozen=True)
class Server:
    process: asyncio.subprocess.Process
    base_url: str


def uvicorn_command(target: str, port: int, *, factory: bool = True) -> list[str]:
    """One worker, no access log, uvloop and httptools: the flags every measured server gets."""
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--no-access-log", "--log-level"]
    command += [
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--app-dir",
        str(BENCH_FOLDER),
    ]
    return [*command, "--factory"] if factory else command


async def wait_until_answering(base_url: str, path: str = "/") -> float:
    """Poll until the server gives a 200 on `path`; answers the seconds it took."""
    started = time.perf_counter()
    async with asyncio.timeout(STARTUP_LIMIT), httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{base_url}{path}")).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.005)


# The benchmarks measure what one process can do, with one key: the per-key rate limits,
# which would cap that key at a few hundred calls a second, are off.
UNLIMITED = {f"KONVERSATION_RATE_LIMIT_{kind}": "0" for kind in ("READS", "SENDS", "WRITES")}


@asynccontextmanager
async def serving(
    command: Sequence[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/",
) -> AsyncIterator[Server]:
    """Run `command` (which must listen on `port`) until the block ends."""
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, **UNLIMITED, **(env or {})}
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        await wait_until_answering(server.base_url, ready_path)
        yield server
    finally:
        await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


def serve_baseline(port: int) -> AbstractAsyncContextManager[Server]:
    return serving(uvicorn_command(BASELINE_TARGET, port), port)


# wrk

_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:.*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float

    def line(self, baseline: Figures | None = None) -> str:
        text = (
            f"{self.requests_per_second:>9,.0f} requests/s  p50 {self.p50_ms:6.2f} ms"
            f"  p99 {self.p99_ms:6.2f} ms"
        )
        if baseline is not None:
            text += f"  ratio {self.requests_per_second / baseline.requests_per_second:.3f}"
        return text


def parse_wrk(output: str) -> Figures:
    rate = _RATE.search(output)
    latencies = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(output)}
    if rate is None or set(latencies) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Figures(float(rate.group(1)), latencies["50"], latencies["99"])


def lua_script(method: str, bodies_path: str, threads: int) -> str:
    """A wrk script sending `method` with the bodies (one a line in `bodies_path`) in turn, one
    per request: the threads take turns through them (thread k sends bodies k, k + threads,
    ...), so no body is sent twice before every one has been."""
    return (
        f"local threads = {threads}\nlocal started = 0\n"
        "function setup(thread)\n  thread:set('first', started)\n  started = started + 1\nend\n"
        "function init(args)\n  bodies = {}\n"
        f"  for line in io.lines({json.dumps(bodies_path)}) do bodies[#bodies + 1] = line end\n"
        "  i = first\nend\n"
        f'wrk.method = "{method}"\nwrk.headers["Content-Type"] = "application/json"\n'
        "function request()\n  local body = bodies[i % #bodies + 1]\n  i = i + threads\n"
        "  return wrk.format(nil, nil, nil, body)\nend\n"
    )


@contextmanager
def _scripted(method: str, bodies: Sequence[str], threads: int) -> Iterator[list[str]]:
    """wrk's arguments for sending the bodies; none when there are none."""
    if not bodies:
        yield []
        return
    with tempfile.TemporaryDirectory() as folder:
        bodies_path = Path(folder) / "bodies.txt"
        bodies_path.write_text("".join(f"{body}\n" for body in bodies))
        script = Path(folder) / "bodies.lua"
        script.write_text(lua_script(method, str(bodies_path), threads))
        yield ["-s", str(script)]


def run_wrk(
    url: str,
    *,
    seconds: int = 10,
    connections: int = 50,
    threads: int = 2,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
    bodies: Sequence[str] = (),
) -> Figures:
    """Drive `url` with wrk (bodies, if any, go through a Lua script); any non-2xx answer fails
    the run (a request slower than wrk's 2 s timeout is a socket error in wrk's count, not a
    failure)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with _scripted(method, bodies, threads) as script:
        command += [*script, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True)
    if _NON_2XX.search(output.stdout):
        raise RuntimeError(f"wrk saw failures on {method} {url}:\n{output.stdout}")
    return parse_wrk(output.stdout)
