"""The eval suite as CI runs it: the dev split in retrieval-only mode and a small subset
through the local model, gate on, reports kept in build/eval-reports; and a prompt that
drops the citation instruction fails the gate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from evals.dataset import CATEGORIES, append_case, load_cases
from evals.runner import DATASETS, load_dataset

from helpers import DATA, REPO
from fake_openai import FakeOpenAI

REPORTS = REPO / "build" / "eval-reports"


def copilot_eval(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "copilot.cli", "eval", *args], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **env}, timeout=1200)


@pytest.fixture
def eval_env(demo_index_dir, session_cache) -> dict:
    return {"COPILOT_DATA_DIR": str(demo_index_dir), "COPILOT_CACHE_DIR": str(session_cache)}


def test_the_dataset_is_large_bilingual_split_and_varied():
    cases = load_dataset([DATASETS], "all")
    assert len(cases) >= 150
    langs = {lang: [c for c in cases if c.language == lang] for lang in ("en", "ru")}
    assert all(len(v) >= 70 for v in langs.values())
    assert {c.split for c in cases} == {"dev", "test"}
    assert {c.tags.category for c in cases} == set(CATEGORIES)
    assert sum(c.tags.adversarial for c in cases) >= 10
    assert all(c.expected.gold_reply for c in cases)


def test_a_malformed_case_is_named_by_file_and_line(tmp_path, eval_env):
    good = (DATASETS / "demo_en.jsonl").read_text().splitlines()[0]
    bad = tmp_path / "cases.jsonl"
    bad.write_text(good + "\n" + good.replace('"language": "en"', '"language": "de"') + "\n")
    result = copilot_eval("--dataset", str(bad), "--no-llm", "--split", "all", "--out", str(tmp_path / "o"), env=eval_env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"Error: {bad}:2: field 'language': Input should be 'ru' or 'en'"]


def test_eval_doc_writes_its_per_language_section_with_the_command(tmp_path, eval_env):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evals.md").write_text("# Evals\n\nProse kept.\n", encoding="utf-8")
    env = {**eval_env, "COPILOT_BENCHMARKS_FILE": str(docs / "benchmarks.md")}
    result = copilot_eval("--no-llm", "--split", "dev", "--case", "en-001", "--case", "ru-001", "--no-gate", "--doc",
                          "--out", str(tmp_path / "o"), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (docs / "evals.md").read_text(encoding="utf-8")
    assert text.startswith("# Evals\n\nProse kept.")
    assert "<!-- eval-dev-retrieval:start -->" in text and "### The demo desk, dev split, retrieval-only drafts" in text
    assert "2 cases of `evals/datasets` (1 en, 1 ru)" in text and "| metric | en | ru |" in text
    assert "_Produced by `copilot eval --no-llm --split dev --no-gate --doc`" in text


def test_supervisor_cases_append_in_the_same_format(tmp_path):
    case = load_cases(DATASETS / "demo_ru.jsonl")[0]
    path = tmp_path / "supervisor.jsonl"
    append_case(path, case.model_copy(update={"id": "sup-1", "origin": "supervisor:42"}))
    assert [c.id for c in load_cases(path)] == ["sup-1"]
    with pytest.raises(Exception, match="already exists"):
        append_case(path, case.model_copy(update={"id": "sup-1"}))


@pytest.mark.slow
def test_dev_split_in_retrieval_only_mode_passes_the_gate(eval_env):
    out = REPORTS / "dev-retrieval-only"
    shutil.rmtree(out, ignore_errors=True)
    result = copilot_eval("--no-llm", "--split", "dev", "--out", str(out), env=eval_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate passed" in result.stdout
    report = json.loads((out / "report.json").read_text())["result"]
    assert report["cases"] >= 80 and set(report["by_language"]) == {"en", "ru"}
    assert report["summary"]["hallucination_rate"] == 0.0
    html = (out / "report.html").read_text()
    assert "<svg" in html and 'id="case-en-001"' in html
    assert (out / "report.md").read_text().startswith("# Eval report")


@pytest.mark.slow
def test_a_small_subset_through_the_local_model_passes_the_subset_gate(eval_env):
    out = REPORTS / "dev-local-model"
    shutil.rmtree(out, ignore_errors=True)
    result = copilot_eval("--split", "dev", "--limit", "6", "--gate", str(REPO / "evals" / "gate-subset.yaml"),
                          "--out", str(out), env=eval_env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "report.json").read_text())["result"]
    assert report["model"] == "smollm2-135m-instruct"
    assert report["summary"]["llm_acceptance_rate"] is not None  # the model really drafted
    assert report["summary"]["hallucination_rate"] == 0.0          # nothing unsupported reached the operator


@pytest.mark.slow
def test_a_prompt_that_drops_the_citation_instruction_fails_the_gate(eval_env, tmp_path):
    prompts = tmp_path / "prompts" / "draft_reply"
    prompts.mkdir(parents=True)
    shutil.copy(REPO / "prompts" / "draft_reply" / "v1.yaml", prompts / "v1.yaml")
    shutil.copy(DATA / "prompts" / "draft_reply" / "v2.yaml", prompts / "v2.yaml")
    out = REPORTS / "broken-prompt"
    shutil.rmtree(out, ignore_errors=True)
    with FakeOpenAI("follow") as model:
        env = {**eval_env, "COPILOT_PROMPTS_DIR": str(tmp_path / "prompts"), "COPILOT_LLM__BASE_URL": model.base_url,
               "COPILOT_LLM__MODEL": "scripted-capable-model"}
        args = ["--split", "dev", "--limit", "12", "--gate", str(REPO / "evals" / "gate-subset.yaml")]
        same = copilot_eval(*args, "--prompt", "draft_reply@v1", "--baseline", "draft_reply@v1",
                            "--out", str(tmp_path / "same"), env=env)
        broken = copilot_eval(*args, "--prompt", "draft_reply@v2", "--baseline", "draft_reply@v1",
                              "--out", str(out), env=env)
    assert same.returncode == 0, same.stdout + same.stderr
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "gate: raw_citation_rate max_drop" in broken.stderr
    assert "gate: model_hallucination_rate max_increase" in broken.stderr
    md = (out / "report.md").read_text()
    assert "**Gate: FAILED**" in md and "Against the baseline (draft_reply@v1" in md
    payload = json.loads((out / "report.json").read_text())
    assert payload["comparison"]["worse"] or payload["comparison"]["deltas"]
