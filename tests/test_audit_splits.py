"""The held-out audit finds test cases copied or paraphrased into what we tune on, and the
holdout split is a complete, valid eval set over the demo desk."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from evals.audit_splits import against_texts, audit, held_out_texts
from evals.dataset import DATASETS, load_dataset

from helpers import DEMO_KB, REPO

HOLDOUT = DATASETS / "holdout"
HELD_OUT_MESSAGE = "The technician we booked for Thursday never arrived and I had taken the afternoon off."
HELD_OUT_RU = "Мастер, которого записали на четверг, так и не пришёл, а я отпросилась с работы."


def eval_row(cid: str, split: str, text: str, lang: str = "en") -> str:
    return json.dumps({"id": cid, "split": split, "language": lang,
                       "conversation": {"messages": [{"role": "customer", "text": text},
                                                     {"role": "agent", "text": "Could you tell me your contract number?"}]},
                       "expected": {"handoff": {"needed": False, "reasons": []}},
                       "tags": {"category": "covered"}}, ensure_ascii=False)


@pytest.fixture
def tiny_repo(tmp_path):
    """A dataset with one test case, one dev case and one scope row, and a tests folder
    with a copy, an id reference, a quoted copy inside a longer string and clean strings."""
    data = tmp_path / "datasets"
    data.mkdir()
    (data / "cases.jsonl").write_text("\n".join([
        eval_row("t-1", "test", HELD_OUT_MESSAGE),
        eval_row("t-2", "test", HELD_OUT_RU, "ru"),
        eval_row("d-1", "dev", "How long does a refund take to reach my card after I cancel?"),
    ]) + "\n", encoding="utf-8")
    (data / "scope.jsonl").write_text(json.dumps(
        {"id": "s-1", "split": "test", "language": "en", "text": "Could you book me a taxi to the airport tomorrow at six?"})
        + "\n", encoding="utf-8")
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_leaky.py").write_text(
        "CASES = [\n"
        f"    {HELD_OUT_MESSAGE!r},\n"                                          # line 2: a copy
        "    'How long does a refund take to reach my card after I cancel?',\n"  # line 3: dev, fine
        "    'How do I change the Wi-Fi password on my router?',\n"            # line 4: unrelated
        "    't-1',\n"                                                         # line 5: runs a test case by id
        "    'in last week\\'s log the agent wrote down: could you book me a taxi to the airport tomorrow at six? '\n"
        "    'and after that the chat went quiet for a long while',\n"  # line 6: quoted inside a longer text
        "]\n", encoding="utf-8")
    (tests / "utterances.jsonl").write_text(
        json.dumps({"text": "Can I move the technician visit to another day next week?", "lang": "en"}) + "\n",
        encoding="utf-8")
    return data, tests


def test_held_out_texts_are_customer_messages_of_held_out_rows_only(tiny_repo):
    data, _ = tiny_repo
    held, ids, files = held_out_texts([data], root=data.parent)
    assert {h.ref for h in held} == {"t-1#m1", "t-2#m1", "s-1"}  # no dev row, no agent turn
    assert ids == {"t-1", "t-2", "s-1"}
    assert sorted(files) == ["datasets/cases.jsonl", "datasets/scope.jsonl"]


def test_a_planted_copy_an_id_and_a_quoted_case_are_flagged_and_nothing_else(tiny_repo):
    data, tests = tiny_repo
    held, ids, files = held_out_texts([data], root=data.parent)
    report = audit(held, ids, against_texts([tests], root=tests.parent), embedder=None)
    flagged = {(p.held_out, p.other, p.why) for p in report.pairs}
    assert flagged == {
        ("t-1#m1", "tests/test_leaky.py:2", "lexical"),
        ("t-1", "tests/test_leaky.py:5", "id"),
        ("s-1", "tests/test_leaky.py:6", "copied"),
    }
    assert report.files["tests/test_leaky.py"].flagged == 3
    assert report.files["tests/utterances.jsonl"].flagged == 0


def test_a_copy_written_in_two_files_is_named_in_both(tiny_repo):
    """The audit scores a repeated string once; the report still names every place it stands."""
    data, tests = tiny_repo
    (tests / "test_again.py").write_text(f"FIRST = 'a clean line of text here'\nAGAIN = {HELD_OUT_MESSAGE!r}\n",
                                         encoding="utf-8")
    held, ids, _ = held_out_texts([data], root=data.parent)
    report = audit(held, ids, against_texts([tests], root=tests.parent), embedder=None)
    copies = {p.other for p in report.pairs if p.held_out == "t-1#m1"}
    assert copies == {"tests/test_leaky.py:2", "tests/test_again.py:2"}
    assert report.files["tests/test_again.py"].flagged == 1 and report.files["tests/test_again.py"].max_lexical == 100


def test_the_report_names_ids_and_scores_never_the_held_out_text(tiny_repo):
    from evals.audit_splits import markdown

    data, tests = tiny_repo
    held, ids, files = held_out_texts([data], root=data.parent)
    text = markdown(audit(held, ids, against_texts([tests], root=tests.parent), embedder=None, held_out_files=files))
    assert "t-1#m1" in text and "`tests/test_leaky.py:2`" in text
    assert "technician" not in text.lower() and "taxi" not in text.lower()


@pytest.mark.slow
def test_a_reworded_paraphrase_is_caught_by_the_embedder_and_a_neighbour_is_not(tiny_repo, session_cache):
    """Few words in common, one situation: only the embeddings see it. The same topic in
    another situation (moving the visit) stays below the threshold."""
    from knowledge_base.embeddings import make_embeddings
    from knowledge_base.settings import EmbeddingSettings

    data, tests = tiny_repo
    (tests / "test_ru.py").write_text(
        "TEXT = 'В четверг ваш мастер не явился, хотя я специально ушла с работы пораньше.'\n"
        "OTHER = 'Можно перенести визит мастера на следующую неделю?'\n", encoding="utf-8")
    held, ids, _ = held_out_texts([data], root=data.parent)
    emb = make_embeddings(EmbeddingSettings(), session_cache)
    report = audit(held, ids, against_texts([tests], root=tests.parent), emb.embeddings, embedder_name=emb.model_id)
    by_other = {p.other: p for p in report.pairs}
    assert by_other["tests/test_ru.py:1"].held_out == "t-2#m1" and by_other["tests/test_ru.py:1"].why == "cosine"
    assert by_other["tests/test_ru.py:1"].lexical < report.thresholds.lexical_min  # the words alone miss it
    assert "tests/test_ru.py:2" not in by_other and "tests/utterances.jsonl:1" not in by_other
    assert "tests/test_leaky.py:4" not in by_other


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "copilot.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ), timeout=300)


def test_the_command_exits_1_on_a_leak_and_0_when_clean(tiny_repo):
    data, tests = tiny_repo
    leak = run_cli("eval", "audit-splits", "--dataset", str(data), "--against", str(tests), "--lexical-only")
    assert leak.returncode == 1, leak.stderr
    assert "t-1#m1 ~ " in leak.stdout and "3 flagged pairs" in leak.stdout
    assert "technician" not in leak.stdout.lower()
    (tests / "test_leaky.py").unlink()
    clean = run_cli("eval", "audit-splits", "--dataset", str(data), "--against", str(tests), "--lexical-only")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 flagged pairs" in clean.stdout


# -- the holdout split -------------------------------------------------------------------------

def demo_article_ids() -> set[str]:
    ids = set()
    for path in (DEMO_KB / "articles").glob("*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        if front.get("status", "current") == "current":
            ids.add(front["id"])
    return ids


def test_the_holdout_split_loads_in_both_languages_with_its_provenance():
    cases = load_dataset([HOLDOUT], "holdout")
    per_lang = Counter(c.language for c in cases)
    assert per_lang["en"] >= 25 and per_lang["ru"] >= 25
    assert {c.split for c in cases} == {"holdout"}
    assert all(c.origin.startswith("holdout: written on ") for c in cases)
    assert all(re.fullmatch(rf"ho-{c.language}-\d\d", c.id) for c in cases)
    assert all(c.expected.gold_reply for c in cases)
    assert "nobody tunes on them" in (HOLDOUT / "README.md").read_text(encoding="utf-8").lower()


def test_the_holdout_split_covers_how_to_anamnesis_handoffs_and_gaps_in_each_language():
    cases = load_dataset([HOLDOUT], "holdout")
    for lang in ("en", "ru"):
        mine = [c for c in cases if c.language == lang]
        categories = {c.tags.category for c in mine}
        assert {"covered", "diagnostic", "facts_given", "not_covered", "refusal"} <= categories, lang
        reasons = {r for c in mine for r in c.expected.handoff.reasons}
        assert {"explicit_human_request", "legal_or_regulatory_threat", "fraud_or_security", "vulnerable_customer",
                "policy_requires_human", "no_grounded_answer"} <= reasons, lang
        assert sum(bool(c.expected.ask_about) for c in mine) >= 4, lang
        assert sum(not c.expected.handoff.needed for c in mine) >= 10, lang


def test_holdout_sources_exist_in_the_demo_desk_and_hold_the_facts_the_reply_must_include():
    articles = demo_article_ids()
    texts = {p.stem: p.read_text(encoding="utf-8").replace("**", "").lower()
             for p in (DEMO_KB / "articles").glob("*.md")}
    for case in load_dataset([HOLDOUT], "holdout"):
        assert set(case.expected.sources) <= articles, (case.id, case.expected.sources)
        assert case.language == "en" or not any(s.endswith("-en") for s in case.expected.sources), case.id
        if case.expected.sources:
            body = " ".join(texts[s] for s in case.expected.sources)
            for fact in case.expected.must_include:
                assert any(alt.lower() in body for alt in fact.split("|")), (case.id, fact)
        if case.tags.category == "not_covered":
            assert case.expected.handoff.reasons == ["no_grounded_answer"] and not case.expected.sources


def test_the_default_run_never_reads_the_holdout_split():
    assert not {c.id for c in load_dataset([DATASETS], "all")} & {c.id for c in load_dataset([HOLDOUT], "holdout")}
    assert not list(DATASETS.glob("*.jsonl")) or all(
        '"split": "holdout"' not in p.read_text(encoding="utf-8") for p in DATASETS.glob("*.jsonl"))


def test_no_held_out_message_is_copied_into_the_unit_tests_or_the_routing_utterances():
    """The repository as it is, by the words alone (the embedder's pass over everything is
    `copilot eval audit-splits`, whose result is in docs/evals.md). The retrieval query set,
    the known misses that name its queries and the calibration data are left to that pass:
    they are rewritten together with the calibration they tune."""
    held, ids, _ = held_out_texts([DATASETS])
    retrieval_set = [REPO / "tests" / "data" / "retrieval_queries.jsonl", REPO / "tests" / "test_retrieval.py"]
    others = against_texts([REPO / "tests", REPO / "copilot" / "routing" / "utterances.jsonl"],
                           exclude=[Path(__file__), *retrieval_set])
    report = audit(held, ids, others, embedder=None)
    assert not report.pairs, [(p.held_out, p.other, p.why) for p in report.pairs]


@pytest.mark.slow
def test_no_held_out_message_is_near_anything_we_write_train_or_tune_on(tmp_path):
    """`copilot eval audit-splits` as it runs by default, embedder included: every unit test,
    test data file, routing utterance and calibration file (the retrieval queries and the
    background of everyday requests too) is clear of the held-out customer messages. Its own
    vector cache: the session's must not hold the tests' customer messages, which other tests
    check are never written to disk."""
    from evals.audit_splits import run
    from helpers import make_settings

    report = run(make_settings(tmp_path / "data", tmp_path / "cache"))
    assert report.held_out_texts > 200
    assert not report.pairs, [(p.held_out, p.other, p.why) for p in report.pairs]


def test_data_files_with_a_byte_order_mark_or_broken_json_are_still_compared(tmp_path):
    """Test corpora keep hostile files on purpose; the audit reads them as text, not crash on them."""
    (tmp_path / "bom.json").write_text('\ufeff{"text": "my router blinks red all night"}', encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"text": "the modem reboots every hour', encoding="utf-8")
    found = {t.text for t in against_texts([tmp_path], root=tmp_path)}
    assert "my router blinks red all night" in found
    assert any("modem reboots every hour" in t for t in found)
