"""Each knowledge format becomes the documents a support team would expect."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge_base.loaders import SourceFile, discover, load_file

from helpers import DEMO_KB

MB = 10**6


def load(path: Path, root: Path | None = None):
    return load_file(SourceFile(path.resolve(), (root or path.parent).resolve()), 20 * MB)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_becomes_document_fields(tmp_path):
    md = write(tmp_path / "a.md", """---
id: wifi-drops-en
title: Wi-Fi keeps dropping
lang: en
tags: [wifi, router]
updated: 2026-10-01
required_facts:
  - fact: since_when
    question: {en: "Since when?", ru: "С какого времени?"}
    why: "fresh outage or not"
handoff:
  - reason: policy_requires_human
    when: "router restarts by itself"
---
# Wi-Fi keeps dropping

## Move the router
Put it in the open.
""")
    res = load(md)
    assert res.errors == []
    (doc,) = res.documents
    assert doc.id == "wifi-drops-en"
    assert doc.lang == "en" and doc.tags == ["wifi", "router"] and doc.updated == "2026-10-01"
    assert doc.required_facts[0].fact == "since_when"
    assert doc.required_facts[0].question["ru"] == "С какого времени?"
    assert doc.handoff[0].reason == "policy_requires_human"
    assert "Put it in the open." in doc.text


def test_files_without_id_are_named_by_path_relative_to_root(tmp_path):
    write(tmp_path / "root" / "sub" / "note.md", "# Note\n\nПерезагрузите роутер, если индикатор красный.")
    files, errors = discover([tmp_path / "root"])
    assert errors == []
    res = load_file(files[0], 20 * MB)
    assert res.documents[0].id == "sub/note.md"
    assert res.documents[0].lang == "ru"
    assert res.documents[0].title == "Note"


def test_readme_and_hidden_files_in_a_folder_are_not_knowledge(tmp_path):
    write(tmp_path / "README.md", "# How this folder works")
    write(tmp_path / ".draft.md", "# draft")
    write(tmp_path / "kb.md", "# Real article\n\ntext")
    files, _ = discover([tmp_path])
    assert [f.rel for f in files] == ["kb.md"]


def test_html_export_keeps_the_article_and_drops_page_chrome():
    page = DEMO_KB / "imports" / "helpcenter" / "how-to-pay-with-sbp.html"
    res = load(page)
    (doc,) = res.documents
    assert doc.title == "How to pay with SBP"
    assert "scan the QR code" in doc.text
    raw = page.read_text()
    assert "cookie" in raw.lower() and "All rights reserved" in raw  # the export really has chrome
    assert "cookie" not in doc.text.lower()
    assert "All rights reserved" not in doc.text
    assert "## How to pay" in doc.text  # headings survive as Markdown


def test_csv_rows_become_question_answer_documents():
    res = load(DEMO_KB / "imports" / "faq.csv", DEMO_KB)
    assert res.errors == []
    assert len(res.documents) == 20
    doc = res.documents[0]
    assert doc.id.startswith("imports/faq.csv#")
    assert doc.title.endswith("?") and doc.text
    assert {d.lang for d in res.documents} == {"en", "ru"}


def test_json_records_keep_their_ids(tmp_path):
    path = write(tmp_path / "kb.json", json.dumps({"articles": [
        {"id": 17, "title": "Autopay", "body": "Autopay tops up on the 25th."},
        {"id": "promo-1", "title": "Welcome offer", "content": "50% off for 3 months."},
    ]}))
    res = load(path)
    assert [d.id for d in res.documents] == ["17", "promo-1"]
    assert res.documents[0].text == "Autopay tops up on the 25th."


def test_past_ticket_becomes_a_resolution_card():
    path = DEMO_KB / "tickets" / "tickets_en.jsonl"
    res = load(path, DEMO_KB)
    assert res.errors == []
    assert len(res.documents) == 110
    first = json.loads(path.read_text().splitlines()[0])
    doc = next(d for d in res.documents if d.id == first["id"])
    assert doc.doc_type == "ticket"
    assert doc.text.startswith("Problem: ")
    assert f"Resolution: {first['resolution'].strip()}" in doc.text
    assert doc.ticket.outcome == first["outcome"]
    agent_questions = [t["text"] for t in first["messages"] if t["role"] == "agent" and "?" in t["text"]]
    if agent_questions:
        assert "Agent asked: " in doc.text and doc.ticket.agent_questions


def test_russian_ticket_card_has_russian_labels():
    res = load(DEMO_KB / "tickets" / "tickets_ru.jsonl", DEMO_KB)
    assert len(res.documents) == 110
    assert all(d.text.startswith("Проблема: ") and "Решение: " in d.text for d in res.documents)
    assert sum(d.ticket.outcome == "escalated" for d in res.documents) >= 10


def test_outdated_articles_are_marked():
    res = load(DEMO_KB / "articles" / "refunds-2023-en.md", DEMO_KB)
    (doc,) = res.documents
    assert doc.status == "outdated" and doc.superseded_by == "refunds-en"
