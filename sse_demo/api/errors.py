"""Errors in the shape OpenAI's API returns them, so OpenAI clients raise their usual exceptions with our message."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import JSONResponse


@dataclass
class APIError(Exception):
    """A request the API refuses: the HTTP status and the fields of OpenAI's ``{"error": {...}}`` body."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None
    type: str = "invalid_request_error"

    def __str__(self) -> str:
        return self.message

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def bad_request(message: str, param: str | None, code: str = "invalid_value") -> APIError:
    """400: the request's content is wrong; ``param`` names the field."""
    return APIError(400, message, param=param, code=code)
