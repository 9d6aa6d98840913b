"""publisher.sparql.job: the typed job crosses the worker pipe and comes back the same."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from publisher.sparql.job import DatasetKind, QueryAnswer, QueryDataset, QueryJob, QueryLimits

DATASETS = [
    QueryDataset.union(),
    QueryDataset.from_query(),
    QueryDataset.protocol(("http://g/a",), ("http://g/b", "http://g/c")),
    QueryDataset.protocol((), ()),  # an empty default graph, as the protocol asked
]


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.kind.value)
def test_frame_round_trip(dataset: QueryDataset) -> None:
    job = QueryJob(
        query='SELECT * { ?s ?p "Xocalı" }',
        base="http://www.example/",
        format_name="turtle",
        dataset=dataset,
        prefixes={"schema": "https://schema.org/"},
    )
    limits = QueryLimits(rows=10, bytes=1000, time_ms=2500)
    # The frame header is JSON on the wire.
    frame = json.loads(json.dumps(job.to_frame(limits)))
    assert QueryJob.from_frame(frame) == (job, limits)


def test_oxigraph_options_and_protocol_parameters() -> None:
    for dataset in (QueryDataset.union(), QueryDataset.from_query()):
        assert dataset.oxigraph_options() == {}
        assert dataset.protocol_parameters() == []
    protocol = QueryDataset.protocol(("http://g/a",), ())
    assert protocol.kind is DatasetKind.PROTOCOL
    assert protocol.oxigraph_options() == {
        "default_graph": [ox.NamedNode("http://g/a")],
        "named_graphs": [],
    }
    assert protocol.protocol_parameters() == [("default-graph-uri", "http://g/a")]


def test_limits() -> None:
    limits = QueryLimits(rows=1, bytes=0, time_ms=5000)
    assert limits.time_s == 5.0
    assert limits.with_time_at_most(1000).time_ms == 1000
    assert limits.with_time_at_most(9000) == limits


def test_answer_from_reply_header() -> None:
    header = {"ok": True, "rows": 3, "truncated": True, "cut_by": "rows", "elapsed_ms": 1.5}
    assert QueryAnswer.from_header(header, b"x") == QueryAnswer(b"x", 3, True, "rows", 1.5)
