"""Every error a client sees, in one shape: `{"message": ...}`, plus `errors` on 422."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException

from konversation.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Invalid,
    KonversationError,
    LimitExceeded,
    NotFound,
    Unauthenticated,
    summarize,
)
from konversation.wire.auth import check_key_of

STATUS: dict[type[KonversationError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    LimitExceeded: 429,
}

TOO_LARGE = "A number in the request is too large."
_HTTP_MESSAGES = {404: "Not Found.", 405: "Method Not Allowed."}


class ErrorOut(BaseModel):
    """What went wrong, in words a person can read."""

    message: str


class ValidationErrorOut(ErrorOut):
    """Which fields were refused, each with its messages."""

    errors: dict[str, list[str]]


_DESCRIPTIONS = {
    400: ("The request as a whole is malformed.", ErrorOut),
    401: ("The Bearer key is missing, malformed, unknown or revoked.", ErrorOut),
    403: ("The key lacks the permission this operation needs.", ErrorOut),
    404: ("The bot or the named item does not exist.", ErrorOut),
    409: ("The change conflicts with what is stored.", ErrorOut),
    422: ("Some fields were refused; `errors` says which and why.", ValidationErrorOut),
    429: ("Too many requests: wait for `Retry-After` seconds.", ErrorOut),
}


def wire_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting each error code a route can give."""
    return {
        code: {"model": _DESCRIPTIONS[code][1], "description": _DESCRIPTIONS[code][0]}
        for code in codes
    }


def status_for(exc: KonversationError) -> int:
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


def error_response(exc: KonversationError) -> JSONResponse:
    body: dict[str, Any] = {"message": exc.message}
    headers: dict[str, str] = {}
    if isinstance(exc, Invalid):
        body["errors"] = exc.errors
    if isinstance(exc, LimitExceeded):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=status_for(exc), headers=headers)


def field_errors(errors: Sequence[Any]) -> dict[str, list[str]]:
    """pydantic's error list as per-field messages, in the original API's wording."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        path = _dotted(error["loc"])
        fields.setdefault(path, []).append(_sentence(path, error))
    return fields


def _dotted(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts[:1] == ["body"] and len(parts) == 2 and parts[1].isdigit():
        return "body"  # a JSON syntax error, located by its character position
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    # pydantic appends the union member or function it tried; callers need the field path only.
    parts = [p for p in parts if not p.startswith(("function-", "constrained-")) and "[" not in p]
    return ".".join(parts) or "body"


_BOUNDS = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def _sentence(path: str, error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"The {path} field is required."
    if kind in {"string_type", "str_type"}:
        return f"The {path} field must be a string."
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"The {path} field must be an integer."
    if kind in {"float_type", "float_parsing", "decimal_parsing"}:
        return f"The {path} field must be a number."
    if kind in {"bool_type", "bool_parsing"}:
        return f"The {path} field must be true or false."
    if kind in {"list_type", "tuple_type"}:
        return f"The {path} field must be an array."
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"The {path} field must be an object."
    if kind in {"literal_error", "enum"}:
        return f"The selected {path} is invalid."
    if kind in _BOUNDS:
        return f"The {path} field must be {_BOUNDS[kind]} {next(iter(ctx.values()), '')}."
    if kind == "string_too_short":
        return f"The {path} field must be at least {ctx.get('min_length')} characters."
    if kind == "string_too_long":
        return f"The {path} field must not be greater than {ctx.get('max_length')} characters."
    if kind == "too_long":
        return f"The {path} field must not have more than {ctx.get('max_length')} items."
    if kind == "too_short":
        return f"The {path} field must have at least {ctx.get('min_length')} items."
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if kind == "value_error":
        # Our validators word their ValueErrors as the end of this sentence.
        return f"The {path} field {ctx.get('error')}."
    return f"The {path} field is invalid: {error.get('msg', '')}".rstrip(": ")


def install(app: FastAPI) -> None:
    """Route every error raised in `app` through the shapes above."""

    async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KonversationError)
        return error_response(exc)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Only the Connect API authenticates by key; channel webhooks check their own secrets.
        on_the_api = request.url.path.startswith("/api/")
        if on_the_api and any(e["type"] == "json_invalid" for e in exc.errors()):
            try:
                await check_key_of(request)
            except Unauthenticated as unauthenticated:
                return error_response(unauthenticated)
        errors = field_errors(exc.errors())
        return error_response(Invalid(errors, summarize(errors)))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        return JSONResponse({"message": message}, status_code=exc.status_code, headers=exc.headers)

    async def on_integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
        # Two writers raced for the same unique name or id; the loser's change was rolled back.
        return error_response(Conflict("The change conflicts with data stored meanwhile: retry."))

    async def on_database_error(_request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL refuses a bound number outside its column's range before it looks for a
        # row: such a number can name nothing, which is the caller's mistake, not ours.
        if "out of int" in str(getattr(exc, "orig", "")):
            return error_response(Invalid({"body": [TOO_LARGE]}))
        return JSONResponse({"message": "Server Error."}, status_code=500)

    async def on_overflow(_request: Request, _exc: Exception) -> JSONResponse:
        # SQLite's driver refuses an integer past 64 bits before any query runs.
        return error_response(Invalid({"body": [TOO_LARGE]}))

    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(KonversationError, on_domain_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
