"""The SPARQL endpoint's logic, kept out of the blueprint: protocol parsing, refusals, results.

The flow of one request: ``protocol`` turns HTTP into a :class:`~publisher.sparql.protocol.SparqlRequest`
(every 4xx of the protocol), ``safety`` refuses what must never be evaluated (updates, SERVICE,
remote FROM) and finds the query form, ``publisher.store.workers`` runs it in a killable worker
process that also serializes it with ``serialize`` (the worker side imports neither Flask nor rdflib).
"""
