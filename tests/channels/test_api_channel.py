"""The API channel against a webhook sink on 127.0.0.1: what it posts, how it signs, what it
refuses, and the inbound messages it reads."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest

from fake_webhook import (  # noqa: F401
    FakeWebhook,
    Received,
    fake_webhook_fixture,
    fake_webhook_server_fixture,
)
from konversation.channels.api_channel import ApiChannel, sign, verify
from konversation.channels.base import (
    Addressed,
    Attachment,
    Button,
    Card,
    Cards,
    DeliveryFailed,
    InboundMessage,
    Media,
    Profile,
    QuickReply,
    Template,
    Text,
    message_from_json,
)
from loopback import closed_port_url

SECRET = "whsec-of-the-bot-owner"
USER = "customer-42"
NO_BUTTONS: dict[str, list[Any]] = {"buttons": [], "quick_replies": []}


@pytest.fixture
def channel(http: httpx.AsyncClient, fake_webhook: FakeWebhook) -> ApiChannel:
    return ApiChannel(f"{fake_webhook.url}/hooks/konversation", SECRET, client=http)


def only_request(fake: FakeWebhook) -> Received:
    [received] = fake.received
    return received


async def sent_message(channel: ApiChannel, fake: FakeWebhook, message: Any) -> Any:
    await channel.send(USER, message)
    return only_event(fake)["message"]


def only_event(fake: FakeWebhook) -> Any:
    [event] = only_request(fake).json["events"]
    return event


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TestSendEnvelope:
    async def test_posts_json_to_the_webhook_url_and_answers_the_message_id(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        message_id = await channel.send(USER, Text("Hello there"))

        received = only_request(fake_webhook)
        assert received.path == "/hooks/konversation"
        assert received.headers["content-type"] == "application/json"
        [event] = received.json["events"]
        assert received.json == {
            "events": [
                {
                    "type": "message",
                    "id": message_id,
                    "user_id": USER,
                    "message": {"type": "text", "text": "Hello there", **NO_BUTTONS},
                    "sent_at": event["sent_at"],
                }
            ]
        }

    async def test_many_messages_go_in_one_request_in_order(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        items = [
            Addressed("7", "ann", Text("one")),
            Addressed("8", "bob", Text("two")),
            Addressed("9", "ann", Text("three")),
        ]

        await channel.send_many(items)

        events = only_request(fake_webhook).json["events"]
        assert [(e["id"], e["user_id"], e["message"]["text"]) for e in events] == [
            ("7", "ann", "one"),
            ("8", "bob", "two"),
            ("9", "ann", "three"),
        ]

    async def test_a_refused_batch_fails_as_a_whole(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        fake_webhook.answer_next(503)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send_many(
                [Addressed("1", "ann", Text("one")), Addressed("2", "bob", Text("two"))]
            )

        assert failed.value.retryable

    async def test_more_than_a_batch_is_refused_before_sending(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        too_many = [Addressed(str(n), "ann", Text(str(n))) for n in range(channel.max_batch + 1)]

        with pytest.raises(ValueError, match="At most"):
            await channel.send_many(too_many)

        assert fake_webhook.received == []

    async def test_each_message_gets_a_new_id(self, channel: ApiChannel) -> None:
        first = await channel.send(USER, Text("one"))
        second = await channel.send(USER, Text("two"))

        assert first != second
        assert re.fullmatch(r"[0-9a-f]{32}", first)

    async def test_sent_at_is_an_aware_iso_time_of_now(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        before = now()
        await channel.send(USER, Text("Hi"))

        sent_at = dt.datetime.fromisoformat(only_event(fake_webhook)["sent_at"])
        assert sent_at.tzinfo is not None
        assert before <= sent_at <= now()

    async def test_non_ascii_text_arrives_unchanged(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        message = await sent_message(channel, fake_webhook, Text("Grüße 👋"))

        assert message["text"] == "Grüße 👋"


class TestSendShapes:
    async def test_text_with_every_kind_of_button_and_quick_replies(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        buttons = (
            Button("Yes", payload="n2:yes"),
            Button("Docs", url="https://example.com/d"),
            Button("Call us", phone="+15550100"),
        )
        replies = (QuickReply("Red", "qr:red"), QuickReply("Blue", "qr:blue"))

        message = await sent_message(
            channel, fake_webhook, Text("Ready?", buttons=buttons, quick_replies=replies)
        )

        assert message == {
            "type": "text",
            "text": "Ready?",
            "buttons": [
                {"type": "payload", "title": "Yes", "payload": "n2:yes"},
                {"type": "url", "title": "Docs", "url": "https://example.com/d"},
                {"type": "phone", "title": "Call us", "phone": "+15550100"},
            ],
            "quick_replies": [
                {"title": "Red", "payload": "qr:red"},
                {"title": "Blue", "payload": "qr:blue"},
            ],
        }

    @pytest.mark.parametrize("kind", ["image", "file", "audio", "video"])
    async def test_media_of_each_kind_with_a_caption(
        self, channel: ApiChannel, fake_webhook: FakeWebhook, kind: Any
    ) -> None:
        media = Media(kind, "https://cdn.example.com/x", "Look", (Button("More", payload="m"),))

        message = await sent_message(channel, fake_webhook, media)

        assert message == {
            "type": kind,
            "url": "https://cdn.example.com/x",
            "caption": "Look",
            "buttons": [{"type": "payload", "title": "More", "payload": "m"}],
            "quick_replies": [],
        }

    async def test_a_whatsapp_template_goes_as_it_is_with_its_text(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        body = {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}
        template = Template("welcome", "en_US", (body,), "Hi Ada!")

        message = await sent_message(channel, fake_webhook, template)

        assert message == {
            "type": "whatsapp_template",
            "name": "welcome",
            "language": "en_US",
            "components": [body],
            "text": "Hi Ada!",
        }
        assert message_from_json(message) == template

    async def test_media_without_a_caption_has_a_null_caption(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        message = await sent_message(
            channel, fake_webhook, Media("image", "https://cdn.example.com/a.png")
        )

        assert message == {
            "type": "image",
            "url": "https://cdn.example.com/a.png",
            "caption": None,
            **NO_BUTTONS,
        }

    async def test_a_carousel_is_one_message_with_its_cards_in_order(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        carousel = Cards(
            (
                Card(
                    "Red shirt",
                    "19 EUR",
                    "https://cdn.example.com/red.png",
                    (Button("Buy", payload="buy:red"),),
                ),
                Card("Plain card"),
            ),
            quick_replies=(QuickReply("Done", "qr:done"),),
        )

        message = await sent_message(channel, fake_webhook, carousel)

        assert len(fake_webhook.received) == 1
        assert message == {
            "type": "cards",
            "cards": [
                {
                    "title": "Red shirt",
                    "subtitle": "19 EUR",
                    "image_url": "https://cdn.example.com/red.png",
                    "buttons": [{"type": "payload", "title": "Buy", "payload": "buy:red"}],
                },
                {"title": "Plain card", "subtitle": None, "image_url": None, "buttons": []},
            ],
            "quick_replies": [{"title": "Done", "payload": "qr:done"}],
        }


class TestSignature:
    async def test_the_request_is_signed_with_the_secret_over_timestamp_and_raw_body(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        await channel.send(USER, Text("Hi"))

        received = only_request(fake_webhook)
        timestamp = received.headers["x-konversation-timestamp"]
        signature = received.headers["x-konversation-signature"]
        assert re.fullmatch(r"sha256=[0-9a-f]{64}", signature)
        assert abs(int(timestamp) - now().timestamp()) < 5
        assert signature == sign(SECRET, int(timestamp), received.body)
        assert verify(SECRET, received.headers, received.body, now=now())

    async def test_verify_accepts_headers_in_any_case(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        await channel.send(USER, Text("Hi"))

        received = only_request(fake_webhook)
        shouting = {name.upper(): value for name, value in received.headers.items()}
        assert verify(SECRET, shouting, received.body, now=now())

    async def test_an_altered_body_fails(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        await channel.send(USER, Text("Pay 10"))

        received = only_request(fake_webhook)
        altered = received.body.replace(b"Pay 10", b"Pay 99")
        assert altered != received.body
        assert not verify(SECRET, received.headers, altered, now=now())

    async def test_an_altered_timestamp_fails(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        await channel.send(USER, Text("Hi"))

        received = only_request(fake_webhook)
        timestamp = int(received.headers["x-konversation-timestamp"])
        headers = {**received.headers, "x-konversation-timestamp": str(timestamp + 1)}
        assert not verify(SECRET, headers, received.body, now=now())

    async def test_another_secret_fails(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        await channel.send(USER, Text("Hi"))

        received = only_request(fake_webhook)
        assert not verify("another-secret", received.headers, received.body, now=now())
        assert not verify("", received.headers, received.body, now=now())

    def test_a_stale_or_future_timestamp_fails_beyond_the_tolerance(self) -> None:
        body = b'{"type":"message"}'
        sent = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
        timestamp = int(sent.timestamp())
        headers = {
            "X-Konversation-Timestamp": str(timestamp),
            "X-Konversation-Signature": sign(SECRET, timestamp, body),
        }
        minutes = dt.timedelta(minutes=1)

        assert verify(SECRET, headers, body, now=sent + 5 * minutes)
        assert verify(SECRET, headers, body, now=sent - 5 * minutes)
        assert not verify(SECRET, headers, body, now=sent + 5 * minutes + dt.timedelta(seconds=1))
        assert not verify(SECRET, headers, body, now=sent - 6 * minutes)
        assert not verify(SECRET, headers, body, now=sent + 2 * minutes, tolerance=60)

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"X-Konversation-Timestamp": "1714564800"},
            {"X-Konversation-Signature": "sha256=00"},
            {"X-Konversation-Timestamp": "soon", "X-Konversation-Signature": "sha256=00"},
            {"X-Konversation-Timestamp": "-1714564800", "X-Konversation-Signature": "sha256=00"},
        ],
    )
    def test_missing_or_malformed_headers_fail(self, headers: dict[str, str]) -> None:
        assert not verify(SECRET, headers, b"{}", now=dt.datetime.fromtimestamp(1714564800, dt.UTC))

    def test_the_signature_is_the_documented_hmac(self) -> None:
        # printf '1714564800.{}' | openssl dgst -sha256 -hmac key
        expected = "9949b048907213d28af52c9e5e33b9e3ec09fc28e84602501c24b84de3b22351"

        assert sign("key", 1714564800, b"{}") == f"sha256={expected}"


class TestSendFailures:
    async def test_a_server_error_is_worth_retrying(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        fake_webhook.answer_next(500)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.retry_after is None
        assert failed.value.message == "The webhook refused the message: 500 Internal Server Error"

    async def test_a_rate_limit_is_retried_after_the_seconds_it_asks(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        fake_webhook.answer_next(429, headers={"Retry-After": "30"})

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.retry_after == 30

    async def test_retry_after_may_be_an_http_date(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        later = now() + dt.timedelta(seconds=120)
        fake_webhook.answer_next(
            503, headers={"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}
        )

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.retry_after is not None
        assert 110 <= failed.value.retry_after <= 120

    async def test_gone_is_not_retried(
        self, channel: ApiChannel, fake_webhook: FakeWebhook
    ) -> None:
        fake_webhook.answer_next(410, headers={"Retry-After": "30"})

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is False
        assert failed.value.retry_after is None
        assert failed.value.message == "The webhook refused the message: 410 Gone"

    @pytest.mark.parametrize("status", [400, 401, 404])
    async def test_other_client_errors_are_not_retried(
        self, channel: ApiChannel, fake_webhook: FakeWebhook, status: int
    ) -> None:
        fake_webhook.answer_next(status)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is False

    @pytest.mark.parametrize("status", [200, 201, 202, 204])
    async def test_any_2xx_is_delivered(
        self, channel: ApiChannel, fake_webhook: FakeWebhook, status: int
    ) -> None:
        fake_webhook.answer_next(status)

        assert await channel.send(USER, Text("Hi"))

    async def test_an_unreachable_webhook_is_worth_retrying(self, http: httpx.AsyncClient) -> None:
        channel = ApiChannel(closed_port_url(), SECRET, client=http)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.message == "The webhook could not be reached (ConnectError)"

    async def test_a_timeout_is_worth_retrying(self, fake_webhook: FakeWebhook) -> None:
        fake_webhook.answer_next(204, delay=1.0)

        async with httpx.AsyncClient(timeout=0.2) as impatient:
            channel = ApiChannel(f"{fake_webhook.url}/hook", SECRET, client=impatient)
            with pytest.raises(DeliveryFailed) as failed:
                await channel.send(USER, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.message == "The webhook could not be reached (ReadTimeout)"

    async def test_messages_never_contain_the_webhook_url(self, http: httpx.AsyncClient) -> None:
        url = closed_port_url() + "?token=owner-token"
        channel = ApiChannel(url, SECRET, client=http)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(USER, Text("Hi"))

        assert "owner-token" not in str(failed.value)


class TestParse:
    @pytest.fixture(autouse=True)
    def _channel(self, channel: ApiChannel) -> None:
        self.channel = channel

    def parse(self, update: Any) -> list[InboundMessage]:
        return self.channel.parse(update)

    def test_a_full_message(self) -> None:
        before = now()
        [message] = self.parse(
            {
                "user_id": USER,
                "text": "Hello",
                "payload": "n2:yes",
                "attachments": [{"type": "image", "url": "https://cdn.example.com/a.png"}],
                "message_id": "m-1",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "language": "en",
            }
        )

        assert message == InboundMessage(
            user_id=USER,
            message_id="m-1",
            sent_at=message.sent_at,
            text="Hello",
            payload="n2:yes",
            attachments=(Attachment("image", "https://cdn.example.com/a.png"),),
            profile=Profile(first_name="Ada", last_name="Lovelace", language="en"),
        )
        assert before <= message.sent_at <= now()

    def test_only_a_text_is_needed_and_a_message_id_is_made_up(self) -> None:
        [message] = self.parse({"user_id": USER, "text": "Hi"})

        assert message.text == "Hi"
        assert message.payload is None
        assert message.attachments == ()
        assert message.profile == Profile()
        assert message.message_id
        assert message.ack_id is None

    def test_a_payload_alone_is_a_pressed_button(self) -> None:
        [message] = self.parse({"user_id": USER, "payload": "qr:red"})

        assert (message.text, message.payload) == (None, "qr:red")

    def test_attachments_alone_of_every_kind(self) -> None:
        attachments = [
            {"type": kind, "url": f"https://cdn.example.com/{kind}"}
            for kind in ("image", "file", "audio", "video")
        ]

        [message] = self.parse({"user_id": USER, "attachments": attachments})

        assert [a.kind for a in message.attachments] == ["image", "file", "audio", "video"]

    def test_numbers_as_user_and_message_ids_become_strings(self) -> None:
        [message] = self.parse({"user_id": 42, "message_id": 7, "text": "Hi"})

        assert (message.user_id, message.message_id) == ("42", "7")

    def test_nulls_count_as_absent(self) -> None:
        [message] = self.parse(
            {"user_id": USER, "text": "Hi", "payload": None, "attachments": None, "language": None}
        )

        assert message.payload is None
        assert message.attachments == ()

    @pytest.mark.parametrize(
        "update",
        [
            {},
            {"text": "Hi"},
            {"user_id": "", "text": "Hi"},
            {"user_id": True, "text": "Hi"},
            {"user_id": ["u"], "text": "Hi"},
            {"user_id": USER},
            {"user_id": USER, "text": ""},
            {"user_id": USER, "text": 5},
            {"user_id": USER, "payload": {"a": 1}},
            {"user_id": USER, "text": "Hi", "message_id": ""},
            {"user_id": USER, "text": "Hi", "first_name": 3},
            {"user_id": USER, "attachments": []},
            {"user_id": USER, "text": "Hi", "attachments": {"type": "image"}},
            {"user_id": USER, "text": "Hi", "attachments": [{"type": "sticker", "url": "x"}]},
            {"user_id": USER, "text": "Hi", "attachments": [{"type": "image"}]},
            {"user_id": USER, "text": "Hi", "attachments": ["https://cdn.example.com/a"]},
            ["not", "an", "object"],
        ],
    )
    def test_anything_malformed_gives_no_events(self, update: Any) -> None:
        assert self.parse(update) == []


class TestAcknowledge:
    async def test_does_nothing(self, channel: ApiChannel, fake_webhook: FakeWebhook) -> None:
        [message] = channel.parse({"user_id": USER, "text": "Hi"})

        await channel.acknowledge(message)

        assert channel.type == "apichat"
        assert fake_webhook.received == []
