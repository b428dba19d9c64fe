"""The coverage model is fitted on more than one desk, and says how it does on a desk it
was not fitted on: the calibration desks' data, the held-out-desk figures, and the CLI's
one-line errors for a broken desk."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from knowledge_base import calibrate
from knowledge_base.coverage import CALIBRATION_FILE, VECTOR_FEATURES, Calibration, CoverageFeatures
from tests.helpers import DEMO_KB, make_settings


def _features(top_cos: float, lang: str) -> CoverageFeatures:
    return CoverageFeatures(top_cos=top_cos, agreement=0.5, surprise=0.0, lang=lang, used_vectors=True)


def test_each_desk_is_judged_by_a_model_fitted_without_it():
    # desks a, b and d separate covered from not covered by the same cut; desk c by the
    # opposite one, so a model fitted without c gets all of c wrong, and the record says so
    rows = []
    for desk, flip in (("a", False), ("b", False), ("c", True), ("d", False)):
        for lang in ("en", "ru"):
            for cos, covered in ((0.9, 1.0), (0.91, 1.0), (0.8, 0.0), (0.81, 0.0)):
                rows.append((desk, _features(cos, lang), 1.0 - covered if flip else covered))
    model = calibrate.fit_model([f for _, f, _ in rows], np.array([y for _, _, y in rows]), VECTOR_FEATURES,
                                "test", [d for d, _, _ in rows])
    held = {(h.desk, h.lang): h for h in model.held_out_desks}
    assert set(held) == {(d, lang) for d in "abcd" for lang in ("en", "ru")}
    c = held[("c", "en")]
    assert (c.covered, c.not_covered, c.covered_refused, c.not_covered_found) == (2, 2, 2, 0)
    a = held[("a", "ru")]
    assert (a.covered_refused, a.not_covered_found) == (0, 2)
    report = calibrate.markdown(Calibration(models={"m": model}), "m")
    assert "| c | en | 0/2 (0.00) | 2/2 (1.00) |" in report
    assert "dev split" in report and "dev split" not in calibrate.markdown(Calibration(models={"m": model}), "m", False)


def test_one_desk_has_no_held_out_figures():
    feats = [_features(0.9, "en"), _features(0.8, "en")] * 3
    model = calibrate.fit_model(feats, np.array([1.0, 0.0] * 3), VECTOR_FEATURES, "test", ["demo"] * 6)
    assert model.held_out_desks == []


@pytest.mark.parametrize("desk", sorted(p for p in calibrate.DESKS.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_calibration_desks_are_whole(desk):
    """Every query parses; both languages have both labels and both kinds of 'not covered';
    the files a covered query names are in the desk's kb (a typo would teach nothing)."""
    from copilot.jsonl import read_records

    queries = [q for _, q in read_records(desk / "queries.jsonl", calibrate.DeskQuery)]
    for lang in ("en", "ru"):
        kinds = {q.kind for q in queries if q.lang == lang}
        assert kinds == {"covered", "in_domain", "off_domain"}, (desk.name, lang, kinds)
    for q in queries:
        assert q.covered == (q.kind == "covered"), q.query
        assert bool(q.expected) == q.covered, q.query
        for name in q.expected:
            assert (desk / "kb" / name).is_file(), (q.query, name)
    faq = desk / "kb" / "faq.csv"
    if faq.exists():
        assert all(row["question"] and row["answer"] for row in csv.DictReader(faq.open(encoding="utf-8")))


def test_fit_on_two_desks_keeps_each_desks_figures(tmp_path, session_cache):
    """Real indexes: the demo desk's internet articles and a two-article bike desk, each
    searched on its own; the saved calibration names both desks and has figures per language."""
    from knowledge_base.folder_index import folder_index
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.retriever import HybridRetriever

    settings = make_settings(tmp_path / "data", session_cache)
    bikes = tmp_path / "bikes"
    bikes.mkdir()
    (bikes / "unlock-en.md").write_text(
        "# A bike will not unlock\n\nScan the QR code on the handlebar. If the lock does not open within "
        "30 seconds, end the ride in the app: you are not charged for it.\n", encoding="utf-8")
    (bikes / "unlock-ru.md").write_text(
        "# Велосипед не открывается\n\nОтсканируйте QR-код на руле. Если замок не открылся за 30 секунд, "
        "завершите поездку в приложении: денег за неё не спишут.\n", encoding="utf-8")
    (bikes / "tariffs-en.md").write_text(
        "# Tariffs\n\nA bike costs 4 RUB a minute. A day pass costs 290 RUB and includes 45 minutes a ride.\n",
        encoding="utf-8")
    (bikes / "tariffs-ru.md").write_text(
        "# Тарифы\n\nМинута на велосипеде стоит 4 рубля. Дневной абонемент — 290 рублей, 45 минут на поездку.\n",
        encoding="utf-8")
    internet = tmp_path / "internet"
    internet.mkdir()
    for name in ("internet-slow-speed-en.md", "internet-slow-speed-ru.md", "wifi-drops-en.md", "wifi-drops-ru.md"):
        found = next(DEMO_KB.rglob(name))
        (internet / name).write_text(found.read_text(encoding="utf-8"), encoding="utf-8")
    groups, opened = [], []
    try:
        for name, kb, inside, outside in (
            ("bikes", bikes,
             [{"query": "the lock didnt open, do I pay for that ride?", "lang": "en"},
              {"query": "сколько стоит дневной абонемент", "lang": "ru"}],
             [{"query": "do you rent tandem bikes for weddings?", "lang": "en"},
              {"query": "посоветуйте рецепт борща", "lang": "ru"}]),
            ("internet", internet,
             [{"query": "my internet is slow in the evenings", "lang": "en"},
              {"query": "вайфай постоянно отваливается", "lang": "ru"}],
             [{"query": "do you sell satellite dishes?", "lang": "en"},
              {"query": "как испечь блины", "lang": "ru"}])):
            own, documents = folder_index(settings, kb, name)
            assert documents == 4
            opened.append(KnowledgeIndex(own))
            groups.append(calibrate.Group(name, HybridRetriever(opened[-1]), inside, outside))
        result = calibrate.fit(groups)
    finally:
        for index in opened:
            index.close()
    model = result.models[opened[0].embedding.model_id]
    assert "bikes: 2 in-scope + 2 out-of-scope" in model.fitted_on and "internet:" in model.fitted_on
    assert {(h.desk, h.lang) for h in model.held_out_desks} == {(d, lang) for d in ("bikes", "internet")
                                                                for lang in ("en", "ru")}
    assert all(h.covered == 1 and h.not_covered == 1 for h in model.held_out_desks)
    assert {(h.desk, h.lang) for h in result.lexical_only.held_out_desks} == {(h.desk, h.lang)
                                                                              for h in model.held_out_desks}
    # the index is named by the files' content: the same files find it again, an edited one gets its own
    own, _ = folder_index(settings, bikes, "bikes")
    assert own.index_dir == opened[0].index_dir
    (bikes / "tariffs-en.md").write_text("# Tariffs\n\nA bike costs 5 RUB a minute.\n", encoding="utf-8")
    edited, documents = folder_index(settings, bikes, "bikes")
    assert edited.index_dir != opened[0].index_dir and documents == 4


def test_a_broken_calibration_desk_is_a_one_line_error(tmp_path, monkeypatch, demo_index_dir):
    from typer.testing import CliRunner

    from copilot.cli import app

    desk = tmp_path / "desks" / "shop"
    (desk / "kb").mkdir(parents=True)
    (desk / "kb" / "returns-en.md").write_text("# Returns\n\nUnused items can be returned within 14 days.\n")
    lines = [{"query": "can I return it?", "lang": "en", "covered": True, "kind": "covered",
              "expected": ["returns-en.md"]},
             {"query": "do you sell boats?", "lang": "en", "kind": "in_domain"}]
    (desk / "queries.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    monkeypatch.setattr(calibrate, "DESKS", tmp_path / "desks")
    before = CALIBRATION_FILE.read_bytes()
    result = CliRunner().invoke(app, ["bench", "calibrate", "--index", str(demo_index_dir / "index")])
    assert result.exit_code == 2, result.output
    assert "queries.jsonl:2: field 'covered'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert CALIBRATION_FILE.read_bytes() == before
