"""What a dashboard page raises when it cannot be shown; `routing` turns each into an answer."""

from __future__ import annotations


class LoginRequired(Exception):
    """Nobody is signed in (or their session ended): off to the login page."""


class PageForbidden(Exception):
    """The signed-in user may not see this page or do this."""

    def __init__(self, message: str = "You do not have access to this page.") -> None:
        super().__init__(message)
        self.message = message


class CsrfRefused(PageForbidden):
    """A state-changing request without the session's CSRF token."""

    def __init__(self) -> None:
        super().__init__(
            "The form was refused because its security token is missing or out of date. "
            "Reload the page and try again."
        )
