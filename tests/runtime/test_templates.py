"""Text templates: `{{name}}` and `{{name|fallback}}`, filled in and never evaluated."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from konversation.runtime.templates import names_in, render

VARIABLES: dict[str, object] = {
    "first_name": "Ada",
    "user.email": "ada@example.com",
    "bot.opening_hours": "9:00 to 17:00",
    "f1v3": "blue",
    "empty": "",
    "blank": "   ",
    "nothing": None,
}


class TestRender:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Hi {{first_name}}!", "Hi Ada!"),
            ("Mail {{user.email}}", "Mail ada@example.com"),
            ("Open {{bot.opening_hours}}.", "Open 9:00 to 17:00."),
            ("Colour: {{f1v3}}", "Colour: blue"),
            ("{{first_name}} {{first_name}}", "Ada Ada"),
            ("{{ first_name }}", "Ada"),
            ("{{\tfirst_name\n}}", "Ada"),
            ("No templates here.", "No templates here."),
            ("", ""),
        ],
    )
    def test_fills_in_the_variables(self, text: str, expected: str) -> None:
        assert render(text, VARIABLES) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (None, ""),
            (True, "true"),
            (False, "false"),
            (42, "42"),
            (-7, "-7"),
            (2.5, "2.5"),
            (Decimal("19.90"), "19.90"),
            (["red", "green", 3], "red, green, 3"),
            (("a", None, True), "a, , true"),
            ({"city": "Zürich"}, '{"city": "Zürich"}'),
            (dt.date(2030, 1, 31), "2030-01-31"),
            (dt.datetime(2030, 1, 31, 9, 30, tzinfo=dt.UTC), "2030-01-31T09:30:00+00:00"),
        ],
    )
    def test_writes_each_kind_of_value_as_text(self, value: object, expected: str) -> None:
        assert render("[{{v}}]", {"v": value}) == f"[{expected}]"

    @pytest.mark.parametrize("name", ["unknown", "empty", "blank", "nothing"])
    def test_a_missing_or_empty_value_renders_nothing(self, name: str) -> None:
        assert render("Hi {{" + name + "}}!", VARIABLES) == "Hi !"

    @pytest.mark.parametrize("name", ["unknown", "empty", "blank", "nothing"])
    def test_a_missing_or_empty_value_takes_the_fallback(self, name: str) -> None:
        assert render("Hi {{" + name + "|there}}!", VARIABLES) == "Hi there!"
        assert render("Hi {{ " + name + " | dear friend }}!", VARIABLES) == "Hi dear friend!"

    def test_a_value_beats_the_fallback(self) -> None:
        assert render("Hi {{first_name|there}}!", VARIABLES) == "Hi Ada!"

    def test_an_empty_list_counts_as_empty(self) -> None:
        assert render("{{tags|none}}", {"tags": []}) == "none"

    def test_the_fallback_may_hold_any_text_but_braces(self) -> None:
        assert render("{{x|a | b: 50% off!}}", {}) == "a | b: 50% off!"
        assert render("{{x|}}", {}) == ""


class TestNothingIsEvaluated:
    @pytest.mark.parametrize(
        "text",
        [
            "{{__class__}}",
            "{{a.__init__}}",
            "{{first_name.__class__}}",
            "{{__import__}}",
            "{{self}}",
            "{{globals}}",
        ],
    )
    def test_names_are_plain_keys_never_attributes(self, text: str) -> None:
        assert render(text, VARIABLES) == ""

    def test_a_dotted_name_is_one_key_not_a_lookup_into_a_value(self) -> None:
        variables = {"user": {"email": "nested@example.com"}, "user.email": "flat@example.com"}
        assert render("{{user.email}}", variables) == "flat@example.com"
        assert render("{{user.email}}", {"user": {"email": "x@example.com"}}) == ""

    @pytest.mark.parametrize(
        "text",
        [
            "{{first_name()}}",
            "{{first_name[0]}}",
            "{{first_name:>10}}",
            "{{first_name!r}}",
            "{{1 + 1}}",
            "{{ first name }}",
            "{{first_name.}}",
            "{{.first_name}}",
            "{{first_name..x}}",
            "{{}}",
            "{{ }}",
            "{{prénom}}",
            "{first_name}",
            "{{first_name}",
            "{{first_name",
            "first_name}}",
            "{{x|a{b}}",
        ],
    )
    def test_what_is_not_a_placeholder_stays_as_written(self, text: str) -> None:
        assert render(text, VARIABLES) == text

    def test_extra_braces_around_a_placeholder_stay(self) -> None:
        assert render("{{{first_name}}}", VARIABLES) == "{Ada}"
        assert render("{{{{first_name}}}}", VARIABLES) == "{{Ada}}"
        assert render("{{first_name}}}", VARIABLES) == "Ada}"

    def test_a_value_holding_a_template_is_not_rendered_again(self) -> None:
        variables = {"name": "{{secret}}", "secret": "s3cr3t", "note": "{{name|x}}"}
        assert render("Hi {{name}}", variables) == "Hi {{secret}}"
        assert render("{{note}} {{name}}", variables) == "{{name|x}} {{secret}}"

    def test_a_fallback_holding_a_placeholder_is_not_a_placeholder(self) -> None:
        assert render("{{x|{{first_name}}}}", VARIABLES) == "{{x|Ada}}"

    def test_format_strings_in_values_and_texts_are_inert(self) -> None:
        assert render("{0} {first_name} %s {{v}}", {"v": "{0.__class__}"}) == (
            "{0} {first_name} %s {0.__class__}"
        )


class TestLongTexts:
    @pytest.mark.parametrize(
        "text",
        [
            "{{" * 100_000,
            "{{" + "a" * 200_000,
            "{{a|" + "x" * 200_000,
            "{{ " + " " * 200_000 + "a",
            ("{{a." * 50_000) + "}}",
            "{{a|b" * 50_000,
            "{{first_name}}" * 20_000,
        ],
        ids=["braces", "long-name", "long-fallback", "spaces", "dots", "open-fallbacks", "many"],
    )
    def test_render_in_linear_time(self, text: str) -> None:
        started = time.perf_counter()
        rendered = render(text, VARIABLES)
        names = names_in(text)
        assert time.perf_counter() - started < 1.0
        assert rendered == text.replace("{{first_name}}", "Ada")
        assert names <= {"first_name"}


class TestNamesIn:
    def test_lists_each_name_once(self) -> None:
        text = "Hi {{first_name}}, {{ first_name | you }}! {{bot.opening_hours}} {{f1v3|-}}"
        assert names_in(text) == {"first_name", "bot.opening_hours", "f1v3"}

    def test_ignores_what_is_not_a_placeholder(self) -> None:
        assert names_in("{{ not a name }} {{a.}} {first_name} {{x|a{b}}") == set()

    def test_finds_the_inner_placeholder_of_extra_braces(self) -> None:
        assert names_in("{{{x}}}") == {"x"}
