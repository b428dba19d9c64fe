"""Cleaning removes what an exported help centre adds; chunks keep their context."""

from __future__ import annotations

from knowledge_base.settings import IngestSettings
from knowledge_base.chunking import Chunker, count_tokens
from knowledge_base.cleaning import Cleaner
from knowledge_base.documents import SourceDocument

PATTERNS = IngestSettings().boilerplate_patterns
PARAGRAPH = ("Volna support never asks for SMS codes, passwords or your full card number, not in the "
             "chat, not on the phone and not by SMS. Anyone who asks for them is not from Volna.")


def doc(id: str, text: str, fmt: str = "md", **kw) -> SourceDocument:
    return SourceDocument(id=id, title=kw.pop("title", id), text=text, lang=kw.pop("lang", "en"), fmt=fmt, **kw)


def test_boilerplate_lines_are_removed_and_counted():
    page = doc("p.html", "# Pay with SBP\n\nOpen in the Volna app for a better experience\n\nScan the QR code.\n\n"
               "Was this article helpful? Yes / No\n\n© 2026 Volna Telecom. All rights reserved.\n\nНаверх", fmt="html")
    cleaned, report = Cleaner(PATTERNS).clean([page])
    assert cleaned[0].text == "# Pay with SBP\n\nScan the QR code."
    assert report.boilerplate_lines == {"p.html": 4}


def test_a_short_line_repeated_across_exported_pages_is_boilerplate():
    pages = [doc(f"p{i}.html", f"Help centre | Payments | Internet\n\nAnswer number {i} is here.", fmt="html")
             for i in range(3)]
    article = doc("a.md", "Help centre | Payments | Internet\n\nA curated article.")
    cleaned, _ = Cleaner(PATTERNS, repeated_line_min_docs=3).clean(pages + [article])
    assert all("Help centre" not in d.text for d in cleaned[:3])
    assert "Help centre" in cleaned[3].text  # curated articles are never trimmed by frequency


def test_a_near_duplicate_paragraph_is_kept_once_in_the_curated_article():
    article = doc("fraud-en", f"# Fraud\n\n## Codes\n{PARAGRAPH}\n\nCall the fraud line.")
    copy = PARAGRAPH.replace("full card number", "card number").replace("Anyone", "Someone")
    export = doc("export.html", f"# SBP\n\nPay by QR code in your bank app, it is free.\n\n{copy}", fmt="html")
    cleaned, report = Cleaner(PATTERNS).clean([export, article])
    by_id = {d.id: d for d in cleaned}
    assert PARAGRAPH in by_id["fraud-en"].text
    assert "SMS codes" not in by_id["export.html"].text
    assert "Pay by QR code" in by_id["export.html"].text
    assert [(p.source_id, p.duplicate_of) for p in report.duplicate_passages] == [("export.html", "fraud-en")]


def test_two_curated_articles_sharing_a_workflow_step_both_keep_it():
    # one step shared by two paths of a manual, each naming its own subject: trimming it from the
    # second path would cut a step out of that workflow
    step = ("Ask the user to check if their phone has cellular service. {} requires at least some cellular "
            "network connection.")
    data = doc("path-2", f"# Path 2: Mobile data\n\n## Step 2.1: Verify service\n{step.format('Mobile data')}")
    mms = doc("path-3", f"# Path 3: MMS\n\n## Step 3.1: Verify service\n{step.format('MMS')}")
    cleaned, report = Cleaner(PATTERNS).clean([data, mms])
    assert all("Ask the user to check if their phone has cellular service" in d.text for d in cleaned)
    assert report.duplicate_passages == []


def test_different_paragraphs_on_the_same_topic_are_not_duplicates():
    a = doc("a", "Refunds are reviewed within 5 business days after we receive the application form.")
    b = doc("b", "Refunds go back only to the original payment method; we never pay refunds in cash.")
    cleaned, report = Cleaner(PATTERNS).clean([a, b])
    assert len(cleaned) == 2 and report.duplicate_passages == []


def test_an_exact_duplicate_document_is_dropped():
    a = doc("a", PARAGRAPH)
    b = doc("b.txt", PARAGRAPH + "  ", fmt="txt")
    cleaned, report = Cleaner(PATTERNS).clean([b, a])
    assert [d.id for d in cleaned] == ["a"]
    assert report.duplicate_documents == [("b.txt", "a")]


def test_chunks_respect_the_token_budget_and_keep_title_and_heading():
    body = "# Slow internet\n\nIntro line about speed.\n\n## Test by cable\n" + " ".join(
        f"Step {i}: plug the laptop into the router with a cable and open speedtest.volna.example." for i in range(40))
    chunks = Chunker(chunk_tokens=120, overlap_tokens=20).split(doc("slow-en", body, title="Slow internet"))
    assert len(chunks) > 3
    assert all(count_tokens(c.text) <= 120 for c in chunks)
    cable = [c for c in chunks if c.heading == "Test by cable"]
    assert len(cable) >= 3
    assert all(c.index_text.startswith("Slow internet > Test by cable\n") for c in cable)
    assert [c.chunk_id for c in chunks] == [f"slow-en::{i}" for i in range(len(chunks))]


def test_a_tiny_section_is_merged_instead_of_becoming_its_own_chunk():
    body = "# Title\n\n## Note\nShort.\n\n## Steps\n" + "Reboot the router and wait two minutes. " * 10
    chunks = Chunker(chunk_tokens=200).split(doc("t", body, title="Title"))
    assert len(chunks) == 1 and chunks[0].text.startswith("## Note\nShort.")


def test_a_tiny_section_merged_into_the_next_keeps_its_heading():
    # a manual's code sections are often one line: the code is in the heading only
    body = ("# Window robot\n\n## W4: Backup battery low\nCharge it for 2 hours.\n\n## W5: Suction lost\n"
            + "Wipe the suction pad and the window, then press start again. " * 6)
    chunks = Chunker(chunk_tokens=200).split(doc("w", body, title="Window robot"))
    assert len(chunks) == 1 and chunks[0].heading == "W5: Suction lost"
    assert chunks[0].text.startswith("## W4: Backup battery low\nCharge it for 2 hours.")
    assert "W4" in chunks[0].index_text


def test_token_counting_works_offline_for_russian():
    assert count_tokens("Роутер мигает красным, интернета нет") > 5
