"""A mail server on 127.0.0.1 that speaks just enough SMTP (RFC 5321) for `smtplib`.

It understands EHLO/HELO, MAIL FROM, RCPT TO, DATA (undoing dot-stuffing), RSET, NOOP and
QUIT, offers no STARTTLS and no AUTH, and records each accepted message as a
`Mail(sender, recipients, data)`. `refuse_next_recipient()` makes it answer the next RCPT
with 550. It runs on its own event loop in a background thread.

A test module imports both fixtures (registered as `fake_smtp` and `fake_smtp_server`):

    from fake_smtp import fake_smtp_fixture, fake_smtp_server_fixture  # noqa: F401

`fake_smtp` is the server emptied of what earlier tests left; its `port` is fixed for the run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class FakeSmtp:
    def __init__(self) -> None:
        self.port = 0  # known once served
        self.mails: list[Mail] = []
        self._refuse_next = False
        self._lock = threading.Lock()

    def refuse_next_recipient(self) -> None:
        with self._lock:
            self._refuse_next = True

    def reset(self) -> None:
        with self._lock:
            self.mails.clear()
            self._refuse_next = False

    async def converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        envelope = _Envelope()

        async def say(*lines: str) -> None:
            # Every line but the last of a reply carries a dash after its code.
            codes = [f"{line[:3]}-{line[4:]}" for line in lines[:-1]] + [lines[-1]]
            writer.write("".join(f"{line}\r\n" for line in codes).encode())
            await writer.drain()

        await say("220 fake-smtp ready")
        try:
            while line := await reader.readline():
                verb, _, argument = line.decode(errors="replace").strip().partition(" ")
                verb = verb.upper()
                if verb == "QUIT":
                    await say("221 bye")
                    break
                if verb == "DATA" and envelope.ready():
                    await say("354 end with <CRLF>.<CRLF>")
                    self._keep(envelope.mail(await _data(reader)))
                    envelope = _Envelope()
                    await say("250 2.0.0 queued")
                else:
                    await say(*self._answer(verb, argument, envelope))
        finally:
            writer.close()

    def _answer(self, verb: str, argument: str, envelope: _Envelope) -> tuple[str, ...]:
        if verb == "EHLO":
            return ("250 fake-smtp", "250 8BITMIME")
        if verb in {"HELO", "NOOP"}:
            return ("250 ok",)
        if verb == "RSET":
            envelope.clear()
            return ("250 ok",)
        if verb == "MAIL" and argument.upper().startswith("FROM:"):
            envelope.clear()
            envelope.sender = _address(argument)
            return ("250 2.1.0 ok",)
        if verb == "RCPT" and argument.upper().startswith("TO:") and envelope.sender is not None:
            if self._take_refusal():
                return ("550 5.1.1 no such mailbox",)
            envelope.recipients.append(_address(argument))
            return ("250 2.1.5 ok",)
        if verb in {"MAIL", "RCPT", "DATA"}:
            return ("503 5.5.1 bad sequence of commands",)
        return ("502 5.5.2 command not implemented",)

    def _take_refusal(self) -> bool:
        with self._lock:
            refuse, self._refuse_next = self._refuse_next, False
        return refuse

    def _keep(self, mail: Mail) -> None:
        with self._lock:
            self.mails.append(mail)


@dataclass
class _Envelope:
    sender: str | None = None
    recipients: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.sender, self.recipients = None, []

    def ready(self) -> bool:
        return self.sender is not None and bool(self.recipients)

    def mail(self, data: bytes) -> Mail:
        assert self.sender is not None
        return Mail(self.sender, list(self.recipients), data)


def _address(argument: str) -> str:
    """The address between the angle brackets of `FROM:<a@b> SIZE=1` or `TO:<a@b>`."""
    path = argument.partition(":")[2].strip()
    return path.partition(">")[0].lstrip("<")


async def _data(reader: asyncio.StreamReader) -> bytes:
    lines = []
    while (line := await reader.readline()) not in {b".\r\n", b".\n", b""}:
        lines.append(line[1:] if line.startswith(b".") else line)
    return b"".join(lines)


@pytest.fixture(scope="session", name="fake_smtp_server")
def fake_smtp_server_fixture() -> Iterator[FakeSmtp]:
    fake = FakeSmtp()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    servers: list[asyncio.Server] = []

    async def serve() -> None:
        server = await asyncio.start_server(fake.converse, HOST, 0)
        fake.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not started.wait(timeout=20):
        raise RuntimeError("the fake SMTP server did not start")
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(servers[0].close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@pytest.fixture(name="fake_smtp")
def fake_smtp_fixture(fake_smtp_server: FakeSmtp) -> FakeSmtp:
    fake_smtp_server.reset()
    return fake_smtp_server
