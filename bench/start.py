"""How long `konversation serve` takes to answer, and how much memory it holds when idle.

Each round takes a fresh SQLite database and secret file in a temporary directory (set through
KONVERSATION_* variables) and launches `python -m konversation serve` twice: the first start
migrates the empty database and creates the demo workspace; the restart finds both done. Each
start is timed from the launch until the login page answers 200; the idle memory is the server
process's resident set after it has answered and then sat idle for a moment. Figures are the
medians over the rounds.

    .venv/bin/python bench/start.py                # 5 rounds
    .venv/bin/python bench/start.py --rounds 9
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import free_port, machine_line, print_command, stop, wait_until_answering

READY_PATH = "/dashboard/login"
SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class Start:
    seconds: float
    idle_mib: float


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no resident set size for process {pid}")


async def start_once(folder: Path) -> Start:
    port = free_port()
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": f"sqlite:///{folder}/konversation.db",
        "KONVERSATION_SECRET_FILE": str(folder / "secret.key"),
        "KONVERSATION_PORT": str(port),
        "KONVERSATION_LOG_LEVEL": "warning",
    }
    launched = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "konversation",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_until_answering(f"http://127.0.0.1:{port}", READY_PATH)
        seconds = time.perf_counter() - launched
        await asyncio.sleep(SETTLE_SECONDS)
        return Start(seconds, resident_mib(process.pid))
    finally:
        await stop(process)


async def round_of_two() -> tuple[Start, Start]:
    with tempfile.TemporaryDirectory() as folder:
        first = await start_once(Path(folder))
        return first, await start_once(Path(folder))


def summary(label: str, starts: list[Start]) -> str:
    seconds = statistics.median(s.seconds for s in starts)
    idle = statistics.median(s.idle_mib for s in starts)
    spread = ", ".join(f"{s.seconds:.2f}" for s in starts)
    return f"{label:<14}start {seconds:5.2f} s (runs: {spread})   idle {idle:6.1f} MiB"


async def main(args: argparse.Namespace) -> None:
    rounds = [await round_of_two() for _ in range(args.rounds)]
    print_command()
    print(machine_line("SQLite", f"medians of {args.rounds} rounds"))
    print(summary("first start", [first for first, _ in rounds]))
    print(summary("restart", [again for _, again in rounds]))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
