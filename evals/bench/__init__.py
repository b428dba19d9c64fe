"""Speed, scale and quality benchmarks, each with `run()` and the Markdown section of
`docs/benchmarks.md` it writes: `retrieval` (ingest and queries at scale on generated
corpora), `suggest` (stage latencies of `suggest()`), `verifier` (the grounding verifier on
labelled pairs), `tau_banking` (the outside benchmark); `docs` writes the sections."""
