"""One error type per HTTP case, one handler that renders them for people and for machines.

Below web/ nothing knows HTTP: the query path raises domain errors (``publisher.sparql.errors``)
and `DOMAIN_ERRORS` is the one table that gives each its HTTP form.

The form of an error is negotiated by ``negotiation.choose``, the parser content uses, so that
one Accept header gets the same kind of answer for content and for errors: browsers (which
prefer text/html) get an HTML page; at /sparql everyone else gets JSON (SPARQL clients send
``*/*``), elsewhere plain text unless JSON is preferred. A limit's error message names the
setting that changes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from publisher import formats
from publisher.formats import Family, Format
from publisher.negotiation import choose
from publisher.sparql import errors as query_errors

# The forms an error takes; the table's order breaks ties (a bare */* gets the first).
PLAIN_ERROR = Format("text", "plain text", "text/plain", "txt", Family.PAGE)
JSON_ERROR = Format(
    "json",
    "JSON",
    "application/json",
    "json",
    Family.PAGE,
    aliases=("application/problem+json", "application/sparql-results+json"),
)
ERROR_OFFERS: tuple[Format, ...] = (PLAIN_ERROR, formats.HTML, JSON_ERROR)
SPARQL_ERROR_OFFERS: tuple[Format, ...] = (JSON_ERROR, formats.HTML)


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


class InternalServerError(HTTPProblem):
    """A failure of ours that the request did not cause by breaking a rule (e.g. a crash)."""

    status, title = 500, "Internal Server Error"


class ServiceUnavailable(HTTPProblem):
    status, title = 503, "Service Unavailable"


class QueryTimeout(HTTPProblem):
    status, title = 504, "Query Timeout"


# Domain error -> its HTTP form. Looked up along the class's MRO, so a subclass listed here
# (ForeignGraphRefused: 400) wins over its base (QueryRefused: 403).
DOMAIN_ERRORS: dict[type[query_errors.QueryError], type[HTTPProblem]] = {
    query_errors.QueryError: InternalServerError,
    query_errors.InvalidQueryRequest: BadRequest,
    query_errors.QueryRefused: Forbidden,
    query_errors.ForeignGraphRefused: BadRequest,
    query_errors.QueryTooLarge: PayloadTooLarge,
    query_errors.UnsupportedQueryRequest: UnsupportedMediaType,
    query_errors.QueryTimedOut: QueryTimeout,
    query_errors.QueryOutOfMemory: ServiceUnavailable,
    query_errors.QueryWorkerCrashed: InternalServerError,
    query_errors.QueryUnavailable: ServiceUnavailable,
    query_errors.QueryBusy: ServiceUnavailable,
    query_errors.ReservedLaneOverrun: ServiceUnavailable,
}


def problem_for(error: query_errors.QueryError) -> HTTPProblem:
    """The HTTP form of a domain error: its status from the table, its message and setting."""
    cls = next(DOMAIN_ERRORS[c] for c in type(error).__mro__ if c in DOMAIN_ERRORS)
    headers = {}
    if isinstance(error, query_errors.QueryBusy):
        headers["Retry-After"] = str(error.retry_after_s)
    return cls(error.message, headers=headers, setting=error.setting)


def error_format() -> Format:
    """How this request's error is written: negotiated like content, never refused."""
    json_first = request.path.startswith(("/sparql", "/search", "/reconcile"))  # JSON APIs
    offered = SPARQL_ERROR_OFFERS if json_first else ERROR_OFFERS
    return choose(request.headers.get("Accept"), offered) or offered[0]


def render_problem(problem: HTTPProblem) -> Response:
    if problem.representation is not None:
        response = problem.representation
        response.status_code = problem.status
    elif (form := error_format()) is formats.HTML:
        body = render_template(
            "error.html", status=problem.status, title=problem.title, message=problem.message
        )
        response = Response(body, problem.status, content_type="text/html; charset=utf-8")
    elif form is JSON_ERROR:
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
    if problem.representation is None:
        response.vary.add("Accept")
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
    app.register_error_handler(query_errors.QueryError, lambda e: render_problem(problem_for(e)))
    app.register_error_handler(HTTPException, lambda e: render_problem(_from_werkzeug(e)))
