"""'The knowledge base does not cover this', with the reason: a question inside the desk's
domain that no article answers is judged not covered and the suggestion says why (the
words no passage contains); a covered one is not; the panel shows the reason; the scope
eval counts 'not covered' precision and recall per language."""

from __future__ import annotations

import pytest

from copilot.schema import Coverage, Draft, Intent, Sentiment, Suggestion
from copilot.ui.render import flag_notes
from evals.bench.scope import Outcome, ScopeResult
from knowledge_base.coverage import CoverageFeatures, CoverageModel, not_covered_reason

from helpers import conversation


def suggestion(**update) -> Suggestion:
    return Suggestion(language="en", intent=Intent(label="not_covered", confidence=0.2),
                      sentiment=Sentiment(label="neutral", score=0),
                      draft=Draft(text="A specialist will answer.", mode="retrieval", prompt="p", model="none"), **update)

# inside a telecom desk's domain (paying the bill, the TV service), answered by no demo article
UNCOVERED = [
    ("en", "Can I pay my monthly bill with bitcoin or another cryptocurrency?", "bitcoin"),
    ("ru", "Можно ли оплачивать связь биткоинами или другой криптовалютой?", "биткоинами"),
]
COVERED = [
    ("en", "No internet at home since this morning, the Internet light on the router is red."),
    ("ru", "Пропал интернет на всех устройствах после ремонта в подъезде, лампочка Internet на роутере красная."),
]


@pytest.mark.slow
@pytest.mark.parametrize("lang,text,word", UNCOVERED)
def test_an_in_domain_question_no_article_answers_is_not_covered_and_says_why(retrieval_copilot, lang, text, word):
    s = retrieval_copilot.suggest(conversation(text))
    assert s.language == lang
    assert not s.coverage.covered
    assert f"'{word}'" in s.coverage.reason  # the customer's own word no passage contains
    assert s.intent.label == "not_covered"


@pytest.mark.slow
@pytest.mark.parametrize("lang,text", COVERED)
def test_a_covered_question_is_covered_with_no_reason(retrieval_copilot, lang, text):
    s = retrieval_copilot.suggest(conversation(text))
    assert s.language == lang
    assert s.coverage.covered and s.coverage.reason == ""
    assert s.citations


MODEL = CoverageModel(bias=1.0, weights={"top_cos": 2.0, "agreement": 1.0, "surprise": -2.0},
                      mean={"top_cos": 0.88, "agreement": 0.5, "surprise": 0.3},
                      scale={"top_cos": 0.02, "agreement": 0.3, "surprise": 0.2},
                      reference={"top_cos": 0.89, "agreement": 0.6, "surprise": 0.25})


@pytest.mark.parametrize("missing", [["satellite"], ["спутниковый"]])
def test_the_reason_names_the_words_no_passage_contains(missing):
    f = CoverageFeatures(top_cos=0.89, agreement=0.67, surprise=0.8, missing=missing, used_vectors=True)
    confidence = MODEL.confidence(f)
    assert confidence < 0.5
    assert not_covered_reason(MODEL, f, confidence, 0.5) == f"no passage contains '{missing[0]}'"


def test_the_reason_says_when_the_retrievers_disagree_or_the_match_is_weak():
    f = CoverageFeatures(top_cos=0.84, agreement=0.0, surprise=0.25, lexical_top="a", vector_top="b", used_vectors=True)
    reason = not_covered_reason(MODEL, f, MODEL.confidence(f), 0.5)
    assert "weak match (similarity 0.84)" in reason and "retrievers disagree" in reason
    covered = CoverageFeatures(top_cos=0.92, agreement=1.0, surprise=0.1, used_vectors=True)
    assert not_covered_reason(MODEL, covered, MODEL.confidence(covered), 0.5) == ""


def test_the_panel_shows_why_the_knowledge_base_does_not_cover_it_as_text():
    s = suggestion(coverage=Coverage(covered=False, reason="no passage contains '*IPv6*'"))
    notes = [n for n in flag_notes(s) if n.startswith("Not covered")]
    assert notes and "IPv6" in notes[0] and "*IPv6*" not in notes[0]  # shown as text, not emphasis
    assert not [n for n in flag_notes(suggestion()) if n.startswith("Not covered")]


def test_the_scope_eval_counts_not_covered_precision_and_recall_per_language():
    rows = [("u1", "en", "in_domain_uncovered", True), ("u2", "en", "off_domain", True), ("u3", "en", "in_domain_uncovered", False),
            ("c1", "en", "covered", True), ("c2", "en", "covered", False), ("c3", "en", "covered", False),
            ("u4", "ru", "off_domain", True), ("c4", "ru", "covered", False)]
    result = ScopeResult(split="dev", outcomes=[Outcome(id=i, language=lang, kind=kind, refused=False, handoff=False,
                                                        not_covered=said) for i, lang, kind, said in rows])
    assert result.not_covered("en") == (round(2 / 3, 3), round(2 / 3, 3), 1, 3)
    assert result.not_covered("ru") == (1.0, 1.0, 0, 1)


def test_unknown_words_are_judged_against_how_new_the_desks_own_texts_are_to_each_other():
    from knowledge_base.coverage import surprise

    # a large desk: its texts share their words, so unknown words mean a subject it lacks
    assert surprise(0.6, 0.02) == pytest.approx(0.59, abs=0.01)
    # a one-article desk lacks most everyday words: as many unknown as its own texts have is usual
    assert surprise(0.67, 0.86) < 0 < surprise(1.0, 0.86) == 1.0
    assert surprise(0.0, 0.99) == -1.0  # bounded
    assert surprise(1.0, 1.0) == 0.0  # an index of one chunk: its words cannot tell (similarity must)


def test_the_novelty_of_a_small_index_is_high_and_of_one_that_repeats_itself_low(tmp_path):
    from knowledge_base.lexical import LexicalIndex, LexicalRow
    from knowledge_base.tokenizer import tokenize

    def index(texts, folder):
        lex = LexicalIndex(tmp_path / folder)
        lex.build([LexicalRow(chunk_id=f"c{i}", tokens=tokenize(t), lang="en", doc_type="article", audience="customer",
                              tags=[]) for i, t in enumerate(texts)], generation=1)
        return lex.novelty()

    apart = index(["Restart the router and wait two minutes.", "Pay the bill by card in the app.",
                   "Порт роутера мигает красным."], "apart")
    alike = index(["Restart the router and wait.", "Restart the router, then wait two minutes.",
                   "Wait two minutes and restart the router.", "The router restart takes two minutes."], "alike")
    assert apart > 0.9 and alike < 0.3


@pytest.mark.parametrize("word,everyday", [
    ("absolutely", True), ("Hello", True), ("France", True), ("voicemail", False), ("cryptocurrency", False),
    ("абсолютно", True), ("Здравствуйте", True), ("биткоинами", False), ("спутниковый", False),
])
def test_everyday_words_of_either_language_are_told_from_subject_words(word, everyday):
    from knowledge_base.coverage import everyday_word

    assert everyday_word(word, 4.0) is everyday
    assert everyday_word(word, 0.0) is False  # off


def test_the_language_at_large_stands_in_for_past_tickets_only_on_a_desk_without_them(tmp_path):
    from knowledge_base.lexical import LexicalIndex, LexicalRow

    lex = LexicalIndex(tmp_path / "lex")
    row = lambda cid, doc_type: LexicalRow(chunk_id=cid, tokens=["router"], lang="en", doc_type=doc_type,  # noqa: E731
                                           audience="customer", tags=[])
    lex.build([row("a", "article")], generation=1)
    assert not lex.holds("ticket")
    lex.build([row("a", "article"), row("t", "ticket")], generation=2)
    assert lex.holds("ticket")
