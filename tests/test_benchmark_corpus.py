"""The generated scale corpus must ingest as written: split into files under the size limit,
and the same records whatever the size, so points of different sizes stay comparable."""

import json

from copilot.config import Settings
from evals.bench.retrieval import write_corpus


def _records(folder):
    return {f.name: [json.loads(x) for x in f.read_text(encoding="utf-8").splitlines()]
            for f in sorted(folder.glob("*.jsonl"))}


def test_corpus_is_split_into_files_and_a_smaller_one_is_its_prefix(tmp_path):
    big = _records(write_corpus(tmp_path / "big", 250, shard=100))
    assert [len(r) for r in big.values()] == [100, 100, 50]
    ids = [r["id"] for recs in big.values() for r in recs]
    assert ids == [f"gen-{i:07d}" for i in range(250)]
    small = _records(write_corpus(tmp_path / "small", 100, shard=100))
    assert list(small.values())[0] == list(big.values())[0]


def test_a_default_shard_stays_under_the_ingest_size_limit(tmp_path):
    folder = write_corpus(tmp_path / "c", 10_000)
    files = list(folder.glob("*.jsonl"))
    assert len(files) == 1
    assert files[0].stat().st_size < Settings().ingest.max_file_mb * 1024 * 1024
