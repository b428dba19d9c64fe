"""`copilot eval desk FOLDER`: a knowledge base we did not write, scored per language. The
scoring rules are checked on their own; a small desk runs end to end through the real
engine and index; bad case lines are one-line errors naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.errors import BadInputError
from evals.bench import desk
from tests.helpers import make_settings

HANDBOOK_EN = """# Vacuum robot handbook

## The robot does not charge
1. Check that the dock is plugged into a working socket: the dock light is white when it has power.
2. Wipe the charging contacts on the robot and the dock with a dry cloth.
3. If the robot still does not charge, ask the customer for the error code the app shows.

Returns are accepted within 14 days of delivery if the robot was not used.
If the battery is swollen or smells of burning, transfer the case to the safety team at once.
"""

HANDBOOK_RU = """# Справочник по роботу-пылесосу

## Робот не заряжается
1. Проверьте, что док-станция включена в рабочую розетку: индикатор станции горит белым, когда есть питание.
2. Протрите контакты зарядки на роботе и станции сухой тканью.
3. Если робот всё равно не заряжается, уточните у клиента код ошибки в приложении.

Вернуть робота можно в течение 14 дней после доставки, если им не пользовались.
Если аккумулятор вздулся или пахнет гарью, сразу передайте обращение специалисту по безопасности.
"""


def case(id, lang, category, text, **fields):
    return {"id": id, "split": "dev", "language": lang, "category": category,
            "conversation": {"messages": [{"role": "customer", "text": text}]}, **fields}


CASES = [
    case("d-en-1", "en", "covered", "Can I still send the robot back? It came 5 days ago and I never switched it on.",
         sources=["handbook-en.md"], must_include=["14 days"]),
    case("d-en-2", "en", "diagnostic", "My robot vacuum won't charge anymore, it just sits on the dock.",
         sources=["handbook-en.md"], unknown=["dock light", "error code"]),
    case("d-en-3", "en", "off_domain", "Could you book me a table for six at a Georgian restaurant on Saturday?"),
    case("d-ru-1", "ru", "covered", "Можно вернуть пылесос? Привезли пять дней назад, я его даже не включала.",
         sources=["handbook-ru.md"], must_include=["14 дней"]),
    case("d-ru-2", "ru", "diagnostic", "Робот-пылесос перестал заряжаться, стоит на станции и ничего.",
         sources=["handbook-ru.md"], unknown=["индикатор станции", "код ошибки"]),
    case("d-ru-3", "ru", "off_domain", "Подскажите рецепт сырников, чтобы были пышные."),
]


@pytest.fixture
def small_desk(tmp_path) -> Path:
    folder = tmp_path / "smalldesk"
    (folder / "kb").mkdir(parents=True)
    (folder / "kb" / "handbook-en.md").write_text(HANDBOOK_EN, encoding="utf-8")
    (folder / "kb" / "handbook-ru.md").write_text(HANDBOOK_RU, encoding="utf-8")
    (folder / "cases.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CASES),
                                        encoding="utf-8")
    return folder


@pytest.mark.parametrize("item,questions,covered", [
    ("error code in the app", ["Which error code does the app show?"], True),
    ("dock light", ["Is the light on the dock white?"], True),
    ("dustbin inserted", ["What is your order number?"], False),
    ("код ошибки", ["Какой код ошибки показывает приложение?"], True),
    ("индикатор станции", ["Горит ли индикатор на станции?"], True),
    ("индикатор станции", ["Подскажите номер заказа."], False),
])
def test_a_check_counts_when_half_its_words_are_asked(item, questions, covered):
    assert desk.covered_by(item, questions) is covered


def test_a_sheets_rows_are_found_under_the_sheet_and_nothing_else_is():
    assert desk._matches("faq.csv", "faq.csv#how-long-is-delivery")
    assert desk._matches("helpcenter/returns-en.html", "helpcenter/returns-en.html")
    assert not desk._matches("helpcenter/returns-en.html", "helpcenter/returns-ru.html")


def test_a_question_on_what_the_customer_said_is_a_reask():
    assert desk._asks_again("order number: HB-1234567", "What is your order number?")
    assert not desk._asks_again("order number: HB-1234567", "Which error code does the app show?")
    # one word of a two-word topic is the subject, not the question
    assert desk._asks_again("robot model: Buzz 5 Pro", "Which robot model do you have?")
    assert not desk._asks_again("robot model: Buzz 5 Pro", "Look at the status light on top of the robot: what does it show?")
    assert not desk._asks_again("модель робота: Buzz 3", "Что показывает индикатор на роботе?")
    assert desk._asks_again("first-time setup", "Is this a first setup or was the robot connected before?")


def test_a_bad_case_line_names_file_line_and_field(small_desk):
    lines = (small_desk / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[1])
    broken["category"] = "angry"
    lines[1] = json.dumps(broken)
    (small_desk / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadInputError) as e:
        desk.load_cases(small_desk, "dev")
    message = str(e.value)
    assert "cases.jsonl:2" in message and "category" in message and "\n" not in message


def test_a_desk_runs_end_to_end_and_says_where_it_loses(small_desk, tmp_path, session_cache):
    settings = make_settings(tmp_path / "data", session_cache)
    result = desk.run(settings, small_desk, "dev")
    by_id = {o.id: o for o in result.outcomes}
    assert result.documents == 2 and len(by_id) == 6
    for lang in ("en", "ru"):
        assert by_id[f"d-{lang}-1"].hit and by_id[f"d-{lang}-2"].hit
        assert by_id[f"d-{lang}-3"].refused and not by_id[f"d-{lang}-3"].handoff
        f = desk.figures(result, lang)
        assert f["hit"] == (2, 2) and f["off_domain_refused"] == (1, 1)
        assert f["wrong_language"][0] == 0 and f["unbacked"][0] == 0
    text = desk.markdown(result)
    assert "| an expected source in the first 3 found | 2/2 (1.00) | 2/2 (1.00) |" in text
    # every case that misses a fact is named where we lose, with what it missed
    for o in result.outcomes:
        named = any(line.startswith(f"{o.id} ") for line in desk.losses(result))
        assert named == (not all(o.included) or o.handoff != (o.category in ("handoff", "not_covered"))
                         or o.category == "diagnostic" and not all(o.unknown_covered)
                         or bool(o.reasked) or o.hit is False or o.refused != (o.category == "off_domain"))
    # the index is kept per content: a second run embeds nothing again
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    own, _ = desk.desk_index(settings, small_desk)
    index = KnowledgeIndex(own)
    try:
        again = Ingestor(index).run([small_desk / "kb"])
    finally:
        index.close()
    assert again.unchanged == 2 and again.chunks_embedded == 0


@pytest.mark.slow
def test_the_homebee_desk_keeps_its_articles_and_asks_only_what_its_text_backs(tmp_path, session_cache):
    """A robot retailer's desk (evals/desks/homebot): no help-centre sentence about a product's
    model is taken for an instruction to the model (that left whole articles out), and on the
    dev split every question comes from its text, its tickets or the basics, in the customer's
    language, and the diagnostic cases get questions."""
    from knowledge_base.index import KnowledgeIndex

    settings = make_settings(tmp_path / "data", session_cache)
    folder = desk.DESKS / "homebot"
    result = desk.run(settings, folder, "dev")
    own, _ = desk.desk_index(settings, folder)
    index = KnowledgeIndex(own)
    try:
        assert index.docstore.flagged_passages() == []
    finally:
        index.close()
    for lang in ("en", "ru"):
        f = desk.figures(result, lang)
        assert f["unbacked"][0] == 0 and f["wrong_language"][0] == 0
        assert f["asked"][0] >= 2 and f["off_domain_refused"][0] == f["off_domain_refused"][1]


def test_a_folder_without_cases_or_knowledge_is_a_one_line_error(tmp_path):
    from typer.testing import CliRunner

    from copilot.cli import app

    (tmp_path / "nodesk" / "kb").mkdir(parents=True)
    for folder, missing in ((tmp_path / "nodesk", "no cases file"), (tmp_path / "elsewhere", "no cases file")):
        result = CliRunner().invoke(app, ["eval", "desk", str(folder), "--split", "dev"])
        assert result.exit_code == 2, result.output
        assert missing in result.output and "Traceback" not in result.output
    (tmp_path / "nodesk" / "kb").rmdir()
    (tmp_path / "nodesk" / "cases.jsonl").write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "desk", str(tmp_path / "nodesk"), "--split", "dev"])
    assert result.exit_code == 2 and "no knowledge folder" in result.output
