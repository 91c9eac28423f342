"""The Telegram channel against a fake Bot API on 127.0.0.1: what it sends, parses and refuses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from fake_telegram import (  # noqa: F401
    BOT_USER,
    FakeTelegram,
    callback_update,
    fake_telegram_fixture,
    fake_telegram_server_fixture,
    serving,
    text_update,
)
from konversation.channels.base import (
    Attachment,
    Button,
    Card,
    Cards,
    DeliveryFailed,
    InboundMessage,
    Media,
    MediaKind,
    Profile,
    QuickReply,
    Template,
    Text,
    chosen_payload,
)
from konversation.channels.telegram import TelegramChannel, verify_secret

TOKEN = "123456789:AAH-test-token_of-the-bot"
CHAT = "987654321"
NO_KEYBOARD = {"remove_keyboard": True}
ADA = Profile(first_name="Ada", last_name="Lovelace", username="ada", language="en")


@pytest.fixture
def channel(http: httpx.AsyncClient, fake_telegram: FakeTelegram) -> TelegramChannel:
    return TelegramChannel(TOKEN, client=http, base_url=fake_telegram.url)


def only_call(fake: FakeTelegram) -> tuple[str, dict[str, Any]]:
    [call] = fake.calls
    assert call.token == TOKEN
    return call.method, call.params


def sent(fake: FakeTelegram) -> list[tuple[str, dict[str, Any]]]:
    return [(call.method, call.params) for call in fake.calls]


class TestSendText:
    async def test_a_plain_text_removes_any_reply_keyboard(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.send(CHAT, Text("Hello there"))

        assert only_call(fake_telegram) == (
            "sendMessage",
            {"chat_id": CHAT, "text": "Hello there", "reply_markup": NO_KEYBOARD},
        )

    async def test_a_whatsapp_template_goes_as_its_text(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        body = {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}
        await channel.send(CHAT, Template("welcome", "en_US", (body,), "Hi Ada!"))

        assert only_call(fake_telegram) == (
            "sendMessage",
            {"chat_id": CHAT, "text": "Hi Ada!", "reply_markup": NO_KEYBOARD},
        )

    async def test_answers_the_message_id_telegram_gives(self, channel: TelegramChannel) -> None:
        assert await channel.send(CHAT, Text("one")) == "1"
        assert await channel.send(CHAT, Text("two")) == "2"

    async def test_payload_and_url_buttons_make_an_inline_keyboard_a_button_a_row(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        buttons = (Button("Yes", payload="n2:yes"), Button("Docs", url="https://example.com/d"))

        await channel.send(CHAT, Text("Ready?", buttons=buttons))

        assert only_call(fake_telegram)[1]["reply_markup"] == {
            "inline_keyboard": [
                [{"text": "Yes", "callback_data": "n2:yes"}],
                [{"text": "Docs", "url": "https://example.com/d"}],
            ]
        }

    async def test_phone_buttons_are_listed_under_the_text(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        buttons = (Button("Call us", phone="+15550100"), Button("Call sales", phone="+15550199"))

        await channel.send(CHAT, Text("Questions?", buttons=buttons))

        assert only_call(fake_telegram)[1] == {
            "chat_id": CHAT,
            "text": "Questions?\n\nCall us: +15550100\nCall sales: +15550199",
            "reply_markup": NO_KEYBOARD,
        }

    async def test_quick_replies_make_a_one_time_reply_keyboard_of_their_titles(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        replies = (QuickReply("Red", "qr:red"), QuickReply("Blue", "qr:blue"))

        await channel.send(CHAT, Text("Which colour?", quick_replies=replies))

        assert only_call(fake_telegram)[1]["reply_markup"] == {
            "keyboard": [[{"text": "Red"}], [{"text": "Blue"}]],
            "one_time_keyboard": True,
            "resize_keyboard": True,
        }

    async def test_quick_replies_join_the_inline_keyboard_of_a_message_with_buttons(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        message = Text(
            "Pick",
            buttons=(Button("Menu", payload="menu"),),
            quick_replies=(QuickReply("Later", "qr:later"),),
        )

        await channel.send(CHAT, message)

        assert only_call(fake_telegram)[1]["reply_markup"] == {
            "inline_keyboard": [
                [{"text": "Menu", "callback_data": "menu"}],
                [{"text": "Later", "callback_data": "qr:later"}],
            ]
        }


class TestSendMedia:
    @pytest.mark.parametrize(
        ("kind", "method", "param"),
        [
            ("image", "sendPhoto", "photo"),
            ("file", "sendDocument", "document"),
            ("audio", "sendAudio", "audio"),
            ("video", "sendVideo", "video"),
        ],
    )
    async def test_each_kind_has_its_method(
        self,
        channel: TelegramChannel,
        fake_telegram: FakeTelegram,
        kind: MediaKind,
        method: str,
        param: str,
    ) -> None:
        url = "https://cdn.example.com/thing"

        message_id = await channel.send(CHAT, Media(kind, url, caption="Look"))

        assert message_id == "1"
        assert only_call(fake_telegram) == (
            method,
            {"chat_id": CHAT, param: url, "caption": "Look", "reply_markup": NO_KEYBOARD},
        )

    async def test_without_a_caption_none_is_sent(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.send(CHAT, Media("image", "https://cdn.example.com/a.png"))

        assert "caption" not in only_call(fake_telegram)[1]

    async def test_buttons_and_quick_replies_go_with_the_media(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        message = Media(
            "video",
            "https://cdn.example.com/v.mp4",
            buttons=(Button("Call", phone="+15550100"), Button("More", payload="more")),
            quick_replies=(QuickReply("Stop", "stop"),),
        )

        await channel.send(CHAT, message)

        assert only_call(fake_telegram)[1] == {
            "chat_id": CHAT,
            "video": "https://cdn.example.com/v.mp4",
            "caption": "Call: +15550100",
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "More", "callback_data": "more"}],
                    [{"text": "Stop", "callback_data": "stop"}],
                ]
            },
        }

    async def test_a_file_a_subscriber_sent_is_sent_again_by_its_file_id(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.send(CHAT, Media("file", "telegram-file:BQACAgIAAxkBAAIB"))

        assert only_call(fake_telegram)[1]["document"] == "BQACAgIAAxkBAAIB"


class TestSendCards:
    async def test_each_card_is_a_photo_and_the_last_carries_the_quick_replies(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        carousel = Cards(
            (
                Card(
                    "Tea", "Green, 2 €", "https://cdn.example.com/tea.jpg", (Button("Buy", "tea"),)
                ),
                Card("Cake", None, "https://cdn.example.com/cake.jpg", (Button("Buy", "cake"),)),
            ),
            quick_replies=(QuickReply("Nothing", "none"),),
        )

        message_id = await channel.send(CHAT, carousel)

        assert message_id == "2"
        assert sent(fake_telegram) == [
            (
                "sendPhoto",
                {
                    "chat_id": CHAT,
                    "photo": "https://cdn.example.com/tea.jpg",
                    "caption": "Tea\nGreen, 2 €",
                    "reply_markup": {
                        "inline_keyboard": [[{"text": "Buy", "callback_data": "tea"}]]
                    },
                },
            ),
            (
                "sendPhoto",
                {
                    "chat_id": CHAT,
                    "photo": "https://cdn.example.com/cake.jpg",
                    "caption": "Cake",
                    "reply_markup": {
                        "inline_keyboard": [
                            [{"text": "Buy", "callback_data": "cake"}],
                            [{"text": "Nothing", "callback_data": "none"}],
                        ]
                    },
                },
            ),
        ]

    async def test_a_card_without_an_image_is_a_text_message(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        carousel = Cards(
            (
                Card(
                    "Opening hours", "9 to 5", buttons=(Button("Map", url="https://m.example.com"),)
                ),
            )
        )

        await channel.send(CHAT, carousel)

        assert only_call(fake_telegram) == (
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": "Opening hours\n9 to 5",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Map", "url": "https://m.example.com"}]]
                },
            },
        )

    async def test_a_card_alone_removes_any_reply_keyboard(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.send(CHAT, Cards((Card("Just a title"),)))

        assert only_call(fake_telegram)[1]["reply_markup"] == NO_KEYBOARD


class TestPayloadLimit:
    async def test_a_payload_of_65_bytes_is_refused_before_sending(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        long = Text("Pick", buttons=(Button("Go", payload="x" * 65),))

        with pytest.raises(DeliveryFailed) as refused:
            await channel.send(CHAT, long)

        assert refused.value.retryable is False
        assert refused.value.message == (
            "The payload of the button 'Go' is 65 bytes long; Telegram carries 1 to 64 bytes."
        )
        assert fake_telegram.calls == []

    async def test_bytes_are_counted_not_characters(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        with pytest.raises(DeliveryFailed, match="66 bytes"):
            await channel.send(CHAT, Text("Pick", buttons=(Button("Go", payload="é" * 33),)))
        assert fake_telegram.calls == []

    async def test_a_payload_of_64_bytes_is_sent(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.send(CHAT, Text("Pick", buttons=(Button("Go", payload="é" * 32),)))

        assert only_call(fake_telegram)[1]["reply_markup"]["inline_keyboard"] == [
            [{"text": "Go", "callback_data": "é" * 32}]
        ]

    async def test_a_long_payload_on_the_last_card_stops_the_whole_carousel(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        carousel = Cards((Card("One"), Card("Two", buttons=(Button("Go", payload="y" * 70),))))

        with pytest.raises(DeliveryFailed, match="70 bytes"):
            await channel.send(CHAT, carousel)
        assert fake_telegram.calls == []

    async def test_a_long_quick_reply_payload_needs_no_room_on_a_reply_keyboard(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.send(CHAT, Text("Pick", quick_replies=(QuickReply("Go", "z" * 100),)))

        assert only_call(fake_telegram)[1]["reply_markup"]["keyboard"] == [[{"text": "Go"}]]


class TestErrors:
    async def test_too_many_requests_is_retryable_after_the_time_telegram_asks(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(429, retry_after=7)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(CHAT, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.retry_after == 7
        assert failed.value.message == (
            "Telegram refused sendMessage: 429 Too Many Requests: retry after 7"
        )

    async def test_a_subscriber_who_blocked_the_bot_is_not_retryable(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(403)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(CHAT, Media("image", "https://cdn.example.com/a.png"))

        assert failed.value.retryable is False
        assert failed.value.retry_after is None
        assert failed.value.message == (
            "Telegram refused sendPhoto: 403 Forbidden: bot was blocked by the user"
        )

    async def test_a_bad_request_is_not_retryable(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(400, "Bad Request: chat not found")

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(CHAT, Text("Hi"))

        assert failed.value.retryable is False
        assert "chat not found" in failed.value.message

    async def test_a_server_error_is_retryable(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(500)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(CHAT, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.retry_after is None

    async def test_an_answer_that_is_not_telegrams_json_is_read_by_its_status(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(502, raw="<html><body>Bad Gateway</body></html>")

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(CHAT, Text("Hi"))

        assert failed.value.retryable is True
        assert failed.value.message == "Telegram refused sendMessage: 502 Bad Gateway"

    async def test_a_failed_card_stops_the_carousel_there(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(403)

        with pytest.raises(DeliveryFailed):
            await channel.send(CHAT, Cards((Card("One"), Card("Two"))))

        assert [call.params["text"] for call in fake_telegram.calls] == ["One"]

    async def test_a_server_that_does_not_answer_is_retryable(
        self, http: httpx.AsyncClient
    ) -> None:
        with serving(FakeTelegram()) as stopped:
            pass
        channel = TelegramChannel(TOKEN, client=http, base_url=stopped.url)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(CHAT, Text("Hi"))

        assert failed.value.retryable is True
        assert (
            failed.value.message == "Telegram could not be reached for sendMessage (ConnectError)"
        )

    async def test_failures_of_the_other_calls_are_mapped_alike(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        fake_telegram.fail_next(401)

        with pytest.raises(DeliveryFailed) as failed:
            await channel.set_webhook("https://bots.example.com/telegram/1", "s3cret")

        assert failed.value.retryable is False
        assert failed.value.message == "Telegram refused setWebhook: 401 Unauthorized"


class TestBotApi:
    async def test_get_me_answers_the_bot(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        me = await channel.get_me()

        assert me["id"] == BOT_USER["id"]
        assert me["username"] == "konversation_test_bot"
        assert only_call(fake_telegram) == ("getMe", {})

    async def test_set_webhook_asks_for_messages_and_button_presses_with_the_secret(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.set_webhook("https://bots.example.com/telegram/1", "s3cret-token")

        assert only_call(fake_telegram) == (
            "setWebhook",
            {
                "url": "https://bots.example.com/telegram/1",
                "secret_token": "s3cret-token",
                "allowed_updates": ["message", "callback_query"],
            },
        )

    async def test_delete_webhook(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        await channel.delete_webhook()

        assert only_call(fake_telegram) == ("deleteWebhook", {})

    async def test_acknowledging_a_button_press_answers_its_callback_query(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        [press] = channel.parse(callback_update(1111, "n2:yes", query_id="77001"))

        await channel.acknowledge(press)

        assert only_call(fake_telegram) == ("answerCallbackQuery", {"callback_query_id": "77001"})

    async def test_acknowledging_a_message_calls_nothing(
        self, channel: TelegramChannel, fake_telegram: FakeTelegram
    ) -> None:
        [message] = channel.parse(text_update(1111, "hi"))

        await channel.acknowledge(message)

        assert fake_telegram.calls == []


def message_update(**content: Any) -> dict[str, Any]:
    """A private message of Ada's, as Telegram posts it, with `content` added."""
    return {
        "update_id": 10001,
        "message": {
            "message_id": 1365,
            "from": {
                "id": 1111,
                "is_bot": False,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada",
                "language_code": "en",
            },
            "chat": {
                "id": 1111,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada",
                "type": "private",
            },
            "date": 1736935200,
            **content,
        },
    }


SENT_AT = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)


class TestParse:
    def test_a_text_message(self, channel: TelegramChannel) -> None:
        assert channel.parse(message_update(text="Hello bot")) == [
            InboundMessage(
                user_id="1111",
                message_id="1365",
                sent_at=SENT_AT,
                text="Hello bot",
                profile=ADA,
            )
        ]

    def test_a_photo_is_its_largest_size_with_the_caption_as_text(
        self, channel: TelegramChannel
    ) -> None:
        photo = [
            {"file_id": "AgAD-small", "file_unique_id": "s", "width": 90, "height": 67},
            {"file_id": "AgAD-large", "file_unique_id": "l", "width": 1280, "height": 960},
        ]

        [event] = channel.parse(message_update(photo=photo, caption="My cat"))

        assert event.text == "My cat"
        assert event.attachments == (Attachment("image", "telegram-file:AgAD-large"),)

    @pytest.mark.parametrize(
        ("field", "kind"),
        [
            ("document", "file"),
            ("audio", "audio"),
            ("voice", "audio"),
            ("video", "video"),
            ("video_note", "video"),
        ],
    )
    def test_files_are_kept_as_file_ids(
        self, channel: TelegramChannel, field: str, kind: MediaKind
    ) -> None:
        file = {"file_id": "BQACAgIAAxkB", "file_unique_id": "AgAD", "file_size": 2048}

        [event] = channel.parse(message_update(**{field: file}))

        assert event.text is None
        assert event.attachments == (Attachment(kind, "telegram-file:BQACAgIAAxkB"),)

    def test_an_animation_given_as_a_document_too_is_one_video(
        self, channel: TelegramChannel
    ) -> None:
        gif = {"file_id": "CgACAgQAAxkB", "file_unique_id": "AgAD", "duration": 2}

        [event] = channel.parse(message_update(animation=gif, document=gif))

        assert event.attachments == (Attachment("video", "telegram-file:CgACAgQAAxkB"),)

    def test_a_button_press_gives_its_payload_and_title(self, channel: TelegramChannel) -> None:
        update = {
            "update_id": 10002,
            "callback_query": {
                "id": "4382bfdwdsb323b2d9",
                "from": {"id": 1111, "is_bot": False, "first_name": "Ada", "language_code": "de"},
                "message": {
                    "message_id": 1366,
                    "from": BOT_USER,
                    "chat": {"id": 1111, "first_name": "Ada", "type": "private"},
                    "date": 1736935300,
                    "text": "Ready?",
                    "reply_markup": {
                        "inline_keyboard": [
                            [{"text": "Yes", "callback_data": "n2:yes"}],
                            [{"text": "Docs", "url": "https://example.com/d"}],
                        ]
                    },
                },
                "chat_instance": "-7382615467238761",
                "data": "n2:yes",
            },
        }
        before = dt.datetime.now(dt.UTC)

        [event] = channel.parse(update)

        assert event.user_id == "1111"
        assert event.message_id == "4382bfdwdsb323b2d9"
        assert event.payload == "n2:yes"
        assert event.text == "Yes"
        assert event.ack_id == "4382bfdwdsb323b2d9"
        assert event.profile == Profile(first_name="Ada", language="de")
        assert before <= event.sent_at <= dt.datetime.now(dt.UTC)

    def test_a_press_of_a_button_no_longer_shown_has_no_title(
        self, channel: TelegramChannel
    ) -> None:
        update = callback_update(1111, "n2:yes")
        del update["callback_query"]["message"]["reply_markup"]

        [event] = channel.parse(update)

        assert (event.payload, event.text) == ("n2:yes", None)

    def test_edited_messages_are_ignored(self, channel: TelegramChannel) -> None:
        update = message_update(text="Hello, bot", edit_date=1736935260)
        update["edited_message"] = update.pop("message")

        assert channel.parse(update) == []

    @pytest.mark.parametrize(
        "update",
        [
            {"update_id": 1, "my_chat_member": {"chat": {"id": 1111, "type": "private"}}},
            {"update_id": 2, "inline_query": {"id": "1", "query": "cats"}},
            {"update_id": 3},
            {"update_id": 4, "message": "not an object"},
        ],
    )
    def test_other_updates_are_ignored(
        self, channel: TelegramChannel, update: dict[str, Any]
    ) -> None:
        assert channel.parse(update) == []

    def test_messages_of_group_chats_are_ignored(self, channel: TelegramChannel) -> None:
        update = message_update(text="hi all")
        update["message"]["chat"] = {"id": -100123, "title": "Team", "type": "supergroup"}

        assert channel.parse(update) == []

    def test_a_message_with_nothing_understood_is_ignored(self, channel: TelegramChannel) -> None:
        location = {"latitude": 52.52, "longitude": 13.40}

        assert channel.parse(message_update(location=location)) == []

    def test_a_message_without_a_sender_is_ignored(self, channel: TelegramChannel) -> None:
        update = message_update(text="hi")
        del update["message"]["from"]

        assert channel.parse(update) == []

    def test_the_update_builders_of_the_fake_parse_as_telegrams_do(
        self, channel: TelegramChannel
    ) -> None:
        [said] = channel.parse(text_update(2222, "Red", message_id=5))
        [pressed] = channel.parse(callback_update(2222, "menu", title="Menu"))

        assert (said.user_id, said.message_id, said.text) == ("2222", "5", "Red")
        assert (pressed.user_id, pressed.payload, pressed.text) == ("2222", "menu", "Menu")


class TestVerifySecret:
    def test_the_expected_token_passes(self) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}

        assert verify_secret(headers, "s3cret-token") is True

    def test_the_header_name_is_case_insensitive(self) -> None:
        assert verify_secret({"x-telegram-bot-api-secret-token": "abc"}, "abc") is True
        assert verify_secret(httpx.Headers({"X-TELEGRAM-BOT-API-SECRET-TOKEN": "abc"}), "abc")

    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"X-Telegram-Bot-Api-Secret-Token": "s3cret-tokeN"}, "s3cret-token"),
            ({"X-Telegram-Bot-Api-Secret-Token": "s3cret"}, "s3cret-token"),
            ({"Content-Type": "application/json"}, "s3cret-token"),
            ({"X-Telegram-Bot-Api-Secret-Token": ""}, ""),
        ],
    )
    def test_a_wrong_or_missing_token_fails(self, headers: dict[str, str], expected: str) -> None:
        assert verify_secret(headers, expected) is False


class TestOutboundModel:
    @pytest.mark.parametrize(
        "actions",
        [
            {},
            {"payload": "a", "url": "https://example.com"},
            {"url": "https://e.com", "phone": "1"},
        ],
    )
    def test_a_button_does_exactly_one_thing(self, actions: dict[str, str]) -> None:
        with pytest.raises(ValueError, match="exactly one payload, url or phone"):
            Button("Go", **actions)

    def test_a_carousel_has_cards(self) -> None:
        with pytest.raises(ValueError, match="at least one card"):
            Cards(())


class TestChosenPayload:
    OFFERED = (QuickReply("Red", "qr:red"), QuickReply("Blue", "qr:blue"))

    def event(self, text: str | None = None, payload: str | None = None) -> InboundMessage:
        return InboundMessage("1111", "1", SENT_AT, text=text, payload=payload)

    def test_the_payload_sent_with_the_event_wins(self) -> None:
        assert chosen_payload(self.event("Red", "menu"), self.OFFERED) == "menu"

    def test_a_quick_reply_title_sent_back_as_text_gives_its_payload(self) -> None:
        assert chosen_payload(self.event(" Blue "), self.OFFERED) == "qr:blue"

    @pytest.mark.parametrize("text", ["Green", "blue", None])
    def test_anything_else_chose_nothing(self, text: str | None) -> None:
        assert chosen_payload(self.event(text), self.OFFERED) is None


class TestFakeTelegram:
    async def test_form_bodies_are_read_like_json_ones(
        self, http: httpx.AsyncClient, fake_telegram: FakeTelegram
    ) -> None:
        form = {"chat_id": CHAT, "text": "hi", "reply_markup": '{"remove_keyboard": true}'}

        answer = await http.post(f"{fake_telegram.url}/bot{TOKEN}/sendMessage", data=form)

        assert answer.json()["result"]["text"] == "hi"
        assert only_call(fake_telegram) == (
            "sendMessage",
            {"chat_id": CHAT, "text": "hi", "reply_markup": NO_KEYBOARD},
        )

    async def test_an_unknown_method_is_not_found(
        self, http: httpx.AsyncClient, fake_telegram: FakeTelegram
    ) -> None:
        answer = await http.post(f"{fake_telegram.url}/bot{TOKEN}/sendDice", json={})

        assert answer.status_code == 404
        assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

    async def test_telegram_refuses_long_callback_data_too(
        self, http: httpx.AsyncClient, fake_telegram: FakeTelegram
    ) -> None:
        markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "x" * 65}]]}
        body = {"chat_id": CHAT, "text": "hi", "reply_markup": markup}

        answer = await http.post(f"{fake_telegram.url}/bot{TOKEN}/sendMessage", json=body)

        assert answer.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
