"""The SPARQL endpoint's logic, without a web framework: protocol, refusals, jobs, results.

The flow of one query: ``protocol`` reads a transport-neutral ``ProtocolInput`` into a
``QueryRequest``, ``safety`` refuses what must never be evaluated (updates, SERVICE, remote
FROM) and finds the query form, the web adapter makes a ``job.QueryJob`` that a store runs
(``publisher.store``: a killable worker process, or a remote endpoint) and ``serialize``
writes within the limits. What goes wrong is a domain error (``errors``); web/errors.py is the
one place that maps those to HTTP.
"""
