"""A knowledge base keeps its prices, plans and error codes in tables. A retrieval-only draft
quotes whole sentences, so a table row is read as one, with the table's header naming its
cells ("Mobile Max: data — 40 GB; price — 700 RUB a month."), and only the row the customer
asked about: the row whose first cell they named, or whose cells share two of their terms."""

from __future__ import annotations

import pytest

from copilot.config import VerificationSettings
from copilot.draft import DraftPlan, candidate_sentences, select_sentences
from copilot.text import split_sentences, table_rows
from copilot.verify import Verifier
from knowledge_base.documents import SearchHit

PLANS_EN = ("## Our mobile plans\n"
            "| Plan | Data | Calls | Price |\n|---|---|---|---|\n"
            "| Mobile Mini | 5 GB | 200 min | 300 RUB a month |\n"
            "| Mobile Max | 40 GB | unlimited calls | 700 RUB a month |\n"
            "Every plan is paid a month in advance.")
PLANS_RU = ("## Тарифы мобильной связи\n"
            "| Тариф | Трафик | Звонки | Цена |\n|---|---|---|---|\n"
            "| Мобильный Мини | 5 ГБ | 200 мин | 300 ₽ в месяц |\n"
            "| Мобильный Макс | 40 ГБ | безлимитные звонки | 700 ₽ в месяц |\n"
            "Каждый тариф оплачивается на месяц вперёд.")
CODES_EN = "| Code | What it means |\n|---|---|\n| X-11 | the card is blocked |\n| X-12 | the card has expired |"


def _hit(text: str, lang: str, n: int = 0, score: float = 1.0) -> SearchHit:
    return SearchHit(source_id=f"doc{n}", chunk_id=f"doc{n}::0", title="Plans", text=text, score=score,
                     found_by=["lexical"], lang=lang, doc_type="article")


def _plan(lang: str, query: str, hits: list[SearchHit]) -> DraftPlan:
    return DraftPlan(language=lang, customer_name=None, answer_hits=hits, covered=True, negative=False,
                     questions=[], handoff_promise=None, policy_hit=None, query=query, query_vector=None)


def test_a_row_reads_as_a_sentence_with_the_header_naming_its_cells():
    rows = [r for r in table_rows(split_sentences(PLANS_EN)) if r]
    assert rows == ["Mobile Mini: data — 5 GB; calls — 200 min; price — 300 RUB a month.",
                    "Mobile Max: data — 40 GB; calls — unlimited calls; price — 700 RUB a month."]
    ru = [r for r in table_rows(split_sentences(PLANS_RU)) if r]
    assert ru[1] == "Мобильный Макс: трафик — 40 ГБ; звонки — безлимитные звонки; цена — 700 ₽ в месяц."
    # two columns: the first names the row, the second is what is said of it
    assert [r for r in table_rows(split_sentences(CODES_EN)) if r] == ["X-11: the card is blocked.",
                                                                     "X-12: the card has expired."]


def test_a_row_without_its_header_says_nothing():
    """A passage that starts inside a table: its cells alone do not say what they are."""
    assert not any(table_rows(split_sentences("| Mobile Max | 40 GB | unlimited calls | 700 RUB a month |\n"
                                              "Every plan is paid a month in advance.")))
    # a header row with the wrong number of cells, or a row with no value, is left out too
    assert not any(table_rows(split_sentences("| Plan | Price |\n|---|---|\n| Mobile Max | 40 GB | 700 RUB |")))
    assert not any(table_rows(split_sentences("| Plan | Price |\n|---|---|\n| Mobile Max | — |")))


@pytest.mark.parametrize("lang,passage,asked,row,other", [
    # named by its first cell
    ("en", PLANS_EN, "How much is Mobile Max?", "Mobile Max: data — 40 GB", "Mobile Mini:"),
    ("ru", PLANS_RU, "Сколько стоит Мобильный Макс?", "Мобильный Макс: трафик — 40 ГБ", "Мобильный Мини:"),
    # described by two of its cells' words
    ("en", PLANS_EN, "Which plan has unlimited calls and what does it cost?", "Mobile Max:", "Mobile Mini:"),
    ("ru", PLANS_RU, "На каком тарифе безлимитные звонки и сколько он стоит?", "Мобильный Макс:", "Мобильный Мини:"),
])
def test_the_row_the_customer_asked_about_is_quoted_with_its_price(lang, passage, asked, row, other):
    chosen = [s for _, s in select_sentences(_plan(lang, asked, [_hit(passage, lang)]), None, 2)]
    assert any(s.startswith(row) for s in chosen), chosen
    assert not any(s.startswith(other) for s in chosen)


@pytest.mark.parametrize("lang,passage,asked", [
    ("en", PLANS_EN, "Is every plan paid in advance?"),
    ("ru", PLANS_RU, "Тариф оплачивается вперёд?"),
    # one shared word ("Mobile" of a plan that is not in the table) is chance
    ("en", PLANS_EN, "Do you have a Mobile Family plan?"),
])
def test_a_row_nobody_asked_about_is_not_quoted(lang, passage, asked):
    quoted = [s for *_, s in candidate_sentences([_hit(passage, lang)], customer_text=asked)]
    assert quoted and not any(":" in s and "—" in s for s in quoted)


def test_a_repeated_first_cell_does_not_name_a_row():
    """"Internet" is the first cell of the green, red and off rows: naming it picks none."""
    lights = ("| Light | What you see | What it means |\n|---|---|---|\n| Internet | green | all is well |\n"
              "| Internet | red | no connection from the network |\n| Power | off | the router gets no power |")
    quoted = [s for *_, s in candidate_sentences([_hit(lights, "en")], customer_text="What do the Internet lights mean?")]
    assert quoted == []
    said = "The Internet light is red, is there no connection from the network?"
    assert [s for *_, s in candidate_sentences([_hit(lights, "en")], customer_text=said)] == [
        "Internet: what you see — red; what it means — no connection from the network."]


def test_one_row_of_a_table_and_one_row_of_a_name_across_passages():
    """Two rows side by side are the table again; "Mobile Max" in the plans table and in
    another passage's table is read from the first."""
    chosen = [s for _, s in select_sentences(_plan("en", "My card shows X-11 and now X-12", [_hit(CODES_EN, "en")]), None, 3)]
    assert len(chosen) == 1 and chosen[0].startswith("X-1")
    speeds = "| Plan | Top speed |\n|---|---|\n| Mobile Max | 300 Mbit/s on 5G |"
    hits = [_hit(PLANS_EN, "en"), _hit(speeds, "en", n=1, score=0.9)]
    quoted = [s for *_, s in candidate_sentences(hits, customer_text="What about Mobile Max?")]
    assert [s for s in quoted if s.startswith("Mobile Max")] == [
        "Mobile Max: data — 40 GB; calls — unlimited calls; price — 700 RUB a month."]


def test_a_quoted_row_is_supported_by_its_passage_and_a_changed_price_is_not():
    verifier = Verifier(VerificationSettings(), embed=None)
    row = "Mobile Max: data — 40 GB; calls — unlimited calls; price — 700 RUB a month."
    good = verifier.support(row, PLANS_EN)
    assert not good.missing and good.lexical >= 0.95
    assert verifier.support(row.replace("700", "500"), PLANS_EN).missing
    # a figure of the header ("first 3 months") belongs to every row under it
    promo = "| Plan | Full price | First 3 months |\n|---|---|---|\n| Mobile Max | 700 RUB | 350 RUB a month |"
    assert not verifier.support("Mobile Max: full price — 700 RUB; first 3 months — 350 RUB a month.", promo).missing


@pytest.mark.parametrize("lang,table,asked,row", [
    ("en", "| Device | Price |\n|---|---|\n| Home Box | 2,500 RUB |\n| Mesh Kit | 6,000 RUB |",
     "How much is the Home Box to buy?", "Home Box: 2,500 RUB."),
    ("ru", "| Устройство | Цена |\n|---|---|\n| Домашний бокс | 2 500 ₽ |\n| Mesh-комплект | 6 000 ₽ |",
     "Сколько стоит домашний бокс?", "Домашний бокс: 2 500 ₽."),
])
def test_a_short_row_is_a_whole_fact(lang, table, asked, row):
    """A line of three words is a fragment; a row of three words is the price."""
    assert [s for *_, s in candidate_sentences([_hit(table, lang)], customer_text=asked)] == [row]


@pytest.mark.parametrize("html", [
    "<html lang='en'><body><h1>Device prices</h1><table><thead><tr><th>Device</th><th>Price</th></tr></thead>"
    "<tbody><tr><td>Home Box</td><td>2,500 RUB</td></tr></tbody></table></body></html>",
    # a help-centre export without <th>: the first row names the cells
    "<html lang='en'><body><h1>Device prices</h1><table><tr><td><b>Device</b></td><td><b>Price</b></td></tr>"
    "<tr><td>Home Box</td><td>2,500 RUB</td></tr></table></body></html>",
])
def test_a_table_of_a_help_centre_page_reads_the_same(tmp_path, html):
    from knowledge_base.loaders import SourceFile, load_file

    page = tmp_path / "prices.html"
    page.write_text(html, encoding="utf-8")
    doc, = load_file(SourceFile(page, tmp_path), 1_000_000).documents
    assert [r for r in table_rows(split_sentences(doc.text)) if r] == ["Home Box: 2,500 RUB."]


def test_a_long_table_without_th_keeps_the_row_that_names_its_cells_in_every_passage():
    """Cut across passages, the empty header of an HTML table without <th> is repeated with
    the row under it that names the cells; a data row is never read as the header."""
    from knowledge_base.chunking import Chunker
    from knowledge_base.documents import SourceDocument

    body = "|  |  |\n| --- | --- |\n| **Device** | **Price** |\n" + "".join(
        f"| Home device model {n} with a long descriptive name | {n},500 RUB |\n" for n in range(1, 16))
    doc = SourceDocument(id="prices", title="Device prices", text=body, lang="en", path="prices.html")
    chunks = Chunker(chunk_tokens=96, overlap_tokens=0).split(doc)
    assert len(chunks) > 1
    for chunk in chunks:
        sentences = split_sentences(chunk.text)
        read = table_rows(sentences)
        data = [i for i, s in enumerate(sentences) if s.startswith("| Home")]
        assert data and all(read[i].startswith("Home device model") for i in data), chunk.text[:120]


@pytest.mark.parametrize("lang,table,row", [
    ("en", "| Code | Meaning | What to do |\n|---|---|---|\n"
           "| E40 | Suction blocked | Empty the dustbin. Then check the air channel behind it. |",
     "E40: meaning — Suction blocked; what to do — Empty the dustbin. Then check the air channel behind it."),
    ("ru", "| Код | Значение | Что делать |\n|---|---|---|\n"
           "| E40 | Засорён канал всасывания | Опустошите контейнер. Затем проверьте канал за ним. |",
     "E40: значение — Засорён канал всасывания; что делать — Опустошите контейнер. Затем проверьте канал за ним."),
])
def test_a_row_whose_cell_holds_sentences_stays_one_row(lang, table, row):
    """A cell of several sentences ("Empty the dustbin. Then check ...") does not cut its row in pieces."""
    assert [r for r in table_rows(split_sentences(table)) if r] == [row]
    quoted = [s for *_, s in candidate_sentences([_hit(table, lang)], customer_text="E40?")]
    assert quoted == [row]


@pytest.mark.parametrize("lang,asked,intro,table,row", [
    ("en", "My robot shows E40, something about suction. What do I do?",
     "When the robot stops because of a suction problem, its light blinks orange and it beeps once.",
     "| Code | Meaning | What to do |\n|---|---|---|\n| E40 | Suction blocked | Empty the dustbin. Then check the air channel. |\n"
     "| E41 | Brush stuck | Clean the brush. |", "E40: meaning — Suction blocked"),
    ("ru", "Робот показывает E40, что-то со всасыванием. Что делать?",
     "Когда робот останавливается из-за проблемы со всасыванием, индикатор мигает оранжевым и робот пищит.",
     "| Код | Значение | Что делать |\n|---|---|---|\n| E40 | Засорён канал всасывания | Опустошите контейнер. Затем проверьте канал. |\n"
     "| E41 | Застряла щётка | Очистите щётку. |", "E40: значение — Засорён канал всасывания"),
])
def test_the_row_the_customer_named_wins_over_a_better_ranked_sentence_about_the_same(lang, asked, intro, table, row):
    """The code the customer read out is looked up in the table, even when the passage that
    introduces the codes ranks first."""
    hits = [_hit(intro, lang), _hit(table, lang, n=1, score=0.2)]
    chosen = [s for _, s in select_sentences(_plan(lang, asked, hits), None, 1)]
    assert len(chosen) == 1 and chosen[0].startswith(row), chosen
