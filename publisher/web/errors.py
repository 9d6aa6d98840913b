"""One error type per HTTP case, one handler that renders them for people and for machines.

Browsers (Accept prefers text/html) get an HTML page, SPARQL clients get JSON, everyone else
plain text. A limit's error message names the setting that changes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException


class HTTPProblem(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        setting: str | None = None,
        representation: Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})
        self.setting = setting  # the setting to change, for limit errors
        # A body already rendered in the negotiated format (e.g. a 404 for a linked-data
        # client is an empty graph in the format it asked for); used instead of the defaults.
        self.representation = representation


class BadRequest(HTTPProblem):
    status, title = 400, "Bad Request"


class Forbidden(HTTPProblem):
    status, title = 403, "Forbidden"


class NotFound(HTTPProblem):
    status, title = 404, "Not Found"


class MethodNotAllowed(HTTPProblem):
    status, title = 405, "Method Not Allowed"


class NotAcceptable(HTTPProblem):
    status, title = 406, "Not Acceptable"


class PayloadTooLarge(HTTPProblem):
    status, title = 413, "Content Too Large"


class UnsupportedMediaType(HTTPProblem):
    status, title = 415, "Unsupported Media Type"


class RangeNotSatisfiable(HTTPProblem):
    status, title = 416, "Range Not Satisfiable"


class TooManyRequests(HTTPProblem):
    status, title = 429, "Too Many Requests"


class ServiceUnavailable(HTTPProblem):
    status, title = 503, "Service Unavailable"


class QueryTimeout(HTTPProblem):
    status, title = 504, "Query Timeout"


def _wants_html() -> bool:
    """Only clients that name HTML (browsers) get an HTML page; `*/*` (curl, scripts) gets text."""
    named = {media_type for media_type, q in request.accept_mimetypes if q > 0}
    return bool(named & {"text/html", "application/xhtml+xml"})


def _wants_json() -> bool:
    if request.path.startswith("/sparql"):
        return not _wants_html()
    best = request.accept_mimetypes.best_match(["text/plain", "application/json"])
    return best == "application/json" and request.accept_mimetypes["text/plain"] < 1


def render_problem(problem: HTTPProblem) -> Response:
    if problem.representation is not None:
        response = problem.representation
        response.status_code = problem.status
    elif _wants_html():
        body = render_template(
            "error.html", status=problem.status, title=problem.title, message=problem.message
        )
        response = Response(body, problem.status, content_type="text/html; charset=utf-8")
    elif _wants_json():
        payload = {"status": problem.status, "error": problem.title, "message": problem.message}
        if problem.setting:
            payload["setting"] = problem.setting
        response = Response(
            json.dumps(payload) + "\n", problem.status, content_type="application/json"
        )
    else:
        text = f"{problem.status} {problem.title}: {problem.message}\n"
        response = Response(text, problem.status, content_type="text/plain; charset=utf-8")
    response.headers.update(problem.headers)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _from_werkzeug(error: HTTPException) -> HTTPProblem:
    by_status = {cls.status: cls for cls in HTTPProblem.__subclasses__()}
    cls = by_status.get(error.code or 500, HTTPProblem)
    problem = cls(error.description or error.name)
    if error.code == 405 and getattr(error, "valid_methods", None):
        problem.headers["Allow"] = ", ".join(error.valid_methods)
    return problem


def register(app: Flask) -> None:
    app.register_error_handler(HTTPProblem, render_problem)
    app.register_error_handler(HTTPException, lambda e: render_problem(_from_werkzeug(e)))
