// Runs several SPARQL queries with Comunica (one engine, one process) against one source and
// prints, per query, its SPARQL JSON results, the HTTP requests it made and its time in ms.
//   node run-queries.cjs < {"nodeModules": "...", "source": {...}, "baseIRI": "...",
//                           "queries": [{"name": "...", "query": "..."}]}
// Used by tests/test_web_fragments_comunica.py and bench/fragments_speed.py.
const path = require('node:path');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const { QueryEngine } = require(path.join(input.nodeModules, '@comunica/query-sparql'));
  const output = [];
  for (const { name, query } of input.queries) {
    // A fresh engine per query: no answer comes from an earlier query's HTTP cache.
    const engine = new QueryEngine();
    let requests = 0;
    const countingFetch = (resource, init) => {
      requests += 1;
      return fetch(resource, init);
    };
    const started = process.hrtime.bigint();
    const result = await engine.query(query, {
      sources: [input.source],
      baseIRI: input.baseIRI,
      fetch: countingFetch,
      lenient: false,
    });
    const { data } = await engine.resultToString(result, 'application/sparql-results+json');
    let text = '';
    for await (const part of data) text += part;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    output.push({ name, results: JSON.parse(text), requests, ms });
  }
  process.stdout.write(JSON.stringify(output));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
