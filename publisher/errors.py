"""The errors commands report (build, validate, load, query, serve). HTTP lives in web/errors.py."""

from __future__ import annotations


class PublisherError(Exception):
    """Anything that stops a command; `exit_code` follows pySHACL's CLI: 1 invalid, 2 error."""

    exit_code = 2


class BuildError(PublisherError):
    """The inputs cannot be read or the output cannot be written."""


class StoreError(PublisherError):
    """The store cannot be opened, or a remote store did not answer as expected."""


class ValidationFailed(PublisherError):
    """The dataset does not conform to the shapes; carries the readable report."""

    exit_code = 1

    def __init__(self, report: str, *, findings: list | None = None) -> None:
        super().__init__(report)
        self.report = report
        self.findings = findings or []  # publisher.dataset.validate.Finding, for callers and tests
