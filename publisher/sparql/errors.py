"""What a query can end with besides an answer: one exception per case, no HTTP here.

Each carries the message the client reads and, for a limit, the setting that changes it.
``publisher.web.errors`` maps each class to its HTTP status in one table.
"""

from __future__ import annotations

from publisher.errors import PublisherError


class QueryError(PublisherError):
    """Base of every domain error of the query path."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.setting = setting  # the setting to change, for limit errors


class InvalidQueryRequest(QueryError):
    """Bad protocol input (parameters, encoding), a syntax error, an evaluation error."""


class QueryRefused(QueryError):
    """What must never run: an update, SERVICE (federated query)."""


class ForeignGraphRefused(QueryRefused):
    """FROM / FROM NAMED naming a graph outside the dataset (it would mean remote data)."""


class QueryTooLarge(QueryError):
    """The query, its body or its token count is over a limit."""


class UnsupportedQueryRequest(QueryError):
    """A POST whose content type is not a SPARQL Protocol query."""


class QueryTimedOut(QueryError):
    """The query reached the time limit and was stopped."""


class QueryOutOfMemory(QueryError):
    """The query needed more memory than a query worker may use."""


class QueryWorkerCrashed(QueryError):
    """The worker died during the query for another reason than memory: a bug."""


class QueryUnavailable(QueryError):
    """The store cannot run queries now (a worker cannot start, the remote store fails)."""


class QueryBusy(QueryUnavailable):
    """Every worker stayed busy; the client may retry after `retry_after_s`."""

    retry_after_s = 5


class ReservedLaneOverrun(QueryBusy):
    """All general workers were busy and the query overran the reserved lane's short limit."""
