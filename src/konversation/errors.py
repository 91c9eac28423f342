"""What can go wrong, in the domain's words. `konversation.wire.errors` alone maps these to HTTP."""

from __future__ import annotations


class KonversationError(Exception):
    """Base of every error a caller may be shown."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(KonversationError):
    def __init__(self, message: str = "Unauthenticated.") -> None:
        super().__init__(message)


class Forbidden(KonversationError):
    pass


class NotFound(KonversationError):
    pass


class BadRequest(KonversationError):
    """The request is shaped wrongly as a whole (for example an unexpected top-level key)."""


class Conflict(KonversationError):
    pass


class Invalid(KonversationError):
    """Validation failed; `errors` maps a dotted field path to its messages."""

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message or summarize(errors))
        self.errors = errors

    @classmethod
    def field(cls, path: str, message: str) -> Invalid:
        return cls({path: [message]})


class LimitExceeded(KonversationError):
    def __init__(self, retry_after: int, message: str = "Too Many Attempts.") -> None:
        super().__init__(message)
        self.retry_after = retry_after


def summarize(errors: dict[str, list[str]]) -> str:
    """The first message, and how many more there are, as clients of the original API expect."""
    messages = [m for ms in errors.values() for m in ms]
    if not messages:
        return "The given data was invalid."
    extra = len(messages) - 1
    if extra == 0:
        return messages[0]
    return f"{messages[0]} (and {extra} more error{'s' if extra > 1 else ''})"
