"""`copilot bench suggest`'s long pasted transcripts: ~20,000 characters of the eval
customers' own sentences, languages alternating, and the report says
how many sentences went unjudged by the instruction classifier."""

from __future__ import annotations

from evals.bench.suggest import LONG_CHARS, SuggestBench, StageStats, long_pastes, markdown
from evals.dataset import DATASETS, load_dataset
from knowledge_base.language import detect_language


def test_long_pastes_are_long_and_alternate_languages():
    cases = load_dataset([DATASETS], "all")
    pastes = long_pastes(cases, 4)
    assert len(pastes) == 4
    texts = [p.messages[0].text for p in pastes]
    assert all(len(t) >= LONG_CHARS for t in texts)
    assert [detect_language(t[:2000], default="en") for t in texts] == ["en", "ru", "en", "ru"]
    assert texts[0][:200] != texts[2][:200]  # the next English paste starts where the first stopped


def test_the_report_names_the_sentences_left_to_the_patterns():
    stages = [StageStats(stage="total", p50_ms=900.0, p95_ms=1500.0)]
    text = markdown([SuggestBench(mode="retrieval-only, pasted transcripts", conversations=4, stages=stages,
                                  screened_by_patterns=301.5)])
    assert "301.5 customer sentences each over the instruction classifier's budget" in text
    assert "| total | 900.0 | 1500.0 |" in text


def test_a_run_times_each_stage_of_ordinary_conversations_and_long_pastes(demo_index_dir, session_cache):
    from evals.bench.suggest import run

    from helpers import make_settings

    results = run(make_settings(demo_index_dir, session_cache), llm_cases=0, long_cases=2, conversations=3)
    ordinary, pasted = results
    assert ordinary.conversations == 3 and pasted.conversations == 2
    assert {s.stage for s in ordinary.stages} >= {"understand", "retrieval", "total"}
    total = next(s for s in pasted.stages if s.stage == "total")
    assert 0 < total.p50_ms <= total.p95_ms
    assert pasted.screened_by_patterns and pasted.screened_by_patterns > 100  # ~20,000 characters: far over 48
