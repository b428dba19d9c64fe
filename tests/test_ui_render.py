"""What the panel shows, as pure functions: citation marks, highlighted unsupported
sentences, the reply without marks, the supervisor's diff, pasted transcripts."""

from copilot.schema import Draft, Grounding, Intent, SentenceCheck, Sentiment, Suggestion
from copilot.ui.render import draft_html, flag_notes, parse_transcript, plain_reply, short_title, word_diff_html


def suggestion() -> Suggestion:
    sentences = [SentenceCheck(text="Hello!", supported=True, factual=False),
                 SentenceCheck(text="Refunds take 10 business days [1].", supported=True, citation=1),
                 SentenceCheck(text="We are very quick [1].", supported=False, citation=1, reason="weak support (0.61)"),
                 SentenceCheck(text="It costs 999 RUB [1].", supported=False, citation=1, removed=True, reason="not in the source: 999")]
    return Suggestion(language="en", intent=Intent(label="refunds", confidence=0.9), sentiment=Sentiment(label="neutral", score=0),
                      draft=Draft(text="Hello! Refunds take 10 business days [1]. We are very quick [1].", mode="retrieval",
                                  prompt="p", model="none"),
                      grounding=Grounding(supported=1, unsupported=1, removed=1, sentences=sentences))


def test_draft_html_marks_citations_and_highlights_unsupported_sentences():
    html = draft_html(suggestion())
    assert '<sup class="cite" title="source 1">[1]</sup>' in html
    assert 'class="unsupported" title="weak support (0.61)"' in html
    assert "999" not in html  # removed sentences are not shown at all


def test_the_reply_box_gets_the_draft_without_marks_or_removed_sentences():
    assert plain_reply(suggestion()) == "Hello! Refunds take 10 business days. We are very quick."


def test_word_diff_shows_deletions_and_insertions():
    html = word_diff_html("Refunds take 10 days.", "Refunds take 14 business days. Thanks!")
    assert '<del style="background:#fde2e1">10</del>' in html
    assert "<ins" in html and "14 business" in html and "Thanks!" in html


def test_pasted_transcripts_keep_roles_in_both_languages():
    assert parse_transcript("Клиент: нет интернета\nОператор: с какого времени?\nКлиент: с утра\nи роутер мигает") == [
        {"role": "customer", "text": "нет интернета"}, {"role": "agent", "text": "с какого времени?"},
        {"role": "customer", "text": "с утра\nи роутер мигает"}]
    assert parse_transcript("my internet is down") == [{"role": "customer", "text": "my internet is down"}]


def test_the_operator_is_told_in_words_why_a_request_was_declined_or_left_unasked():
    s = suggestion().model_copy(update={"flags": [
        "off_topic: nearer everyday requests than this knowledge base (margin -0.084)",
        "no_knowledge_in_language: de", "prompt_injection: ignore previous instructions"]})
    notes = flag_notes(s)
    assert len(notes) == 2
    assert notes[0].startswith("Off-topic:") and "promises no specialist" in notes[0] and "-0.084" in notes[0]
    assert "no articles in 'de'" in notes[1]
    handled = flag_notes(suggestion().model_copy(update={"flags": [
        'handled_by_procedure: fraud_or_security (customer said "fraudulently")']}))
    assert handled == ["Possible fraud or a security problem (the customer said “fraudulently”): this desk handles "
                       "it itself when the knowledge base covers the request, so the draft follows the matched "
                       "article's procedure and no handoff is proposed (desk setting handled_when_covered)."]
    # in the operator's language, the reason in words (never its code)
    ru = flag_notes(s, "ru") + flag_notes(suggestion().model_copy(update={"flags": [
        'handled_by_procedure: fraud_or_security (customer said "мошенники")']}), "ru")
    assert ru[0].startswith("Не по теме:") and "-0.084" in ru[0] and "'de'" in ru[1]
    assert ru[2].startswith("Возможное мошенничество") and "«мошенники»" in ru[2] and "fraud_or_security" not in ru[2]


def test_citation_titles_are_cut_at_a_word_never_mid_word():
    assert short_title("Refunds and refund deadlines") == "Refunds and refund deadlines"
    for title in ("Проблемы с ТВ: нет сигнала, ошибки и пропавшие каналы",
                  "A payment hasn't arrived or was charged twice: what to check first"):
        short = short_title(title)
        assert short.endswith("…") and len(short) <= 41
        assert title.startswith(short[:-1]) and title[len(short) - 1] == " "  # the cut falls between words
    assert short_title("Проблемы с ТВ: нет сигнала, ошибки и пропавшие каналы") == "Проблемы с ТВ: нет сигнала, ошибки и…"


def test_the_operator_is_told_why_a_greeting_or_a_thank_you_got_no_search():
    for act, en, ru in (("greeting", "Nothing asked yet", "Вопроса ещё нет"), ("closing", "Nothing asked:", "Вопроса нет")):
        s = suggestion().model_copy(update={"flags": [f"asks_nothing: {act} (nothing to search for)"]})
        assert flag_notes(s)[0].startswith(en) and "nothing was searched" in flag_notes(s)[0]
        assert flag_notes(s, "ru")[0].startswith(ru)
