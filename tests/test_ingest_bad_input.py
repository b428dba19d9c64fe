"""Bad input: one line per problem naming the file and line, the other files still
ingest, exit code 2, and nothing already stored is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

GOOD_MD = """---
id: good-article
title: Autopay
lang: en
---
# Autopay

Autopay tops up the balance on the 25th of each month.
"""


def copilot(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "copilot.cli", *args],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=300,
    )


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("Error: ")]


@pytest.fixture
def broken_kb(tmp_path) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "good.md").write_text(GOOD_MD)
    (kb / "empty.md").write_text("")
    (kb / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (kb / "latin1.txt").write_bytes("Line one\nLine two\nCafé au lait\n".encode("latin-1"))
    (kb / "records.jsonl").write_text(
        json.dumps({"id": "rec-1", "title": "Trust payment", "content": "A trust payment lasts 3 days."}) + "\n"
        + '{"id": "rec-2", "title": "broken", "content": "missing brace"\n'
        + json.dumps({"id": "rec-3", "title": "SBP", "content": "SBP payments have no fee."}) + "\n"
    )
    (kb / "no-columns.csv").write_text("foo,bar\n1,2\n")
    with open(kb / "huge.txt", "wb") as f:
        f.write(b"a" * 50 * 10**6)
    return kb


def test_every_bad_input_is_one_named_line_and_the_rest_ingests(broken_kb, tmp_path):
    result = copilot("ingest", str(broken_kb), str(tmp_path / "does-not-exist"))
    assert result.returncode == 2
    errors = error_lines(result.stderr)
    expected = {
        "empty.md": "empty file",
        "binary.txt": "binary file",
        "latin1.txt:3": "invalid UTF-8",
        "records.jsonl:2": "invalid JSON",
        "no-columns.csv:1": "no usable columns",
        "huge.txt": "too large",
        "does-not-exist": "no such file or directory",
    }
    assert len(errors) == len(expected), result.stderr
    for where, what in expected.items():
        assert any(where in line and what in line for line in errors), (where, errors)
    # each names the folder as it was given, then the file inside it
    assert all(line.startswith(f"Error: {broken_kb}/") for line in errors if "does-not-exist" not in line), errors
    # each message is a single line: no traceback anywhere
    assert "Traceback" not in result.stderr
    # the good files went in
    assert "added 3," in result.stdout and "failed 7" in result.stdout
    found = copilot("search", "trust payment how many days", "--json")
    assert found.returncode == 0
    assert json.loads(found.stdout)["hits"][0]["source_id"] == "rec-1"


def test_a_broken_line_never_deletes_what_was_stored_from_that_file(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    lines = [json.dumps({"id": f"rec-{i}", "title": f"Record {i}", "content": f"Answer number {i}."}) for i in (1, 2, 3)]
    path = kb / "records.jsonl"
    path.write_text("\n".join(lines) + "\n")
    first = copilot("ingest", str(kb))
    assert first.returncode == 0 and "added 3," in first.stdout

    lines[1] = lines[1][:-1]  # record 2 loses its closing brace
    path.write_text("\n".join(lines) + "\n")
    second = copilot("ingest", str(kb))
    assert second.returncode == 2
    assert error_lines(second.stderr) == [error_lines(second.stderr)[0]]
    assert "records.jsonl:2" in second.stderr
    assert "removed 0" in second.stdout

    found = copilot("search", "Answer number 2", "--json")
    assert "rec-2" in [h["source_id"] for h in json.loads(found.stdout)["hits"]]


def test_invalid_front_matter_names_the_field(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("---\nid: a\nhandoff:\n  - reason: because_i_said_so\n---\n# A\n\ntext\n")
    (kb / "b.md").write_text("---\nid: b\ntags: [x\n---\n# B\n\ntext\n")
    result = copilot("ingest", str(kb))
    assert result.returncode == 2
    errors = error_lines(result.stderr)
    assert any("a.md" in e and "handoff.0.reason" in e for e in errors), errors
    assert any("b.md:" in e and "invalid YAML front matter" in e for e in errors), errors


def test_search_on_an_empty_index_says_what_to_do():
    result = copilot("search", "refund")
    assert result.returncode == 2
    assert error_lines(result.stderr) == ["Error: the index in " + error_lines(result.stderr)[0].split("the index in ")[1]]
    assert "copilot ingest" in result.stderr
