"""The supervisor pages' logic with Streamlit's AppTest (run page by page, signed in as a
supervisor): the review queue opens the clicked row, the metrics read with a day of data
and with filters, mined cards are searched, paged and approved in bulk, and "Create eval
case" writes to the data folder, never into the repository's datasets. Also: mining judges
"already covered" by the articles' content, on the demo desk."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from copilot.auth import Auth, hash_password
from copilot.config import AuthSettings, UserAccount
from copilot.feedback.store import FeedbackStore
from copilot.schema import Citation, Draft, Handoff, Intent, Sentiment, Suggestion

from helpers import REPO, make_settings

PAGES = REPO / "copilot" / "ui" / "pages"
TIMEOUT = 120


def shown(language: str, topic: str, text: str, *, handoff: bool = False, prompt: str = "draft_reply@v1",
          confidence: float = 0.8) -> Suggestion:
    return Suggestion(
        language=language, intent=Intent(label=topic, confidence=confidence), confidence=confidence,
        sentiment=Sentiment(label="neutral", score=0),
        draft=Draft(text=text, mode="retrieval", prompt=prompt, model="none"),
        citations=[Citation(n=1, source_id=f"{topic}-{language}", chunk_id=f"{topic}-{language}::0", title=topic,
                            quote=text)],
        handoff=Handoff(needed=handoff, urgency="medium" if handoff else "low",
                        reasons=["explicit_human_request"] if handoff else [], queue="second_line" if handoff else ""))


@pytest.fixture
def sup(tmp_path, session_cache):
    settings = make_settings(tmp_path / "data", session_cache).model_copy(update={
        "auth": AuthSettings(users=[
            UserAccount(username="olga", role="operator", password_hash=hash_password("op-secret")),
            UserAccount(username="sam", role="supervisor", password_hash=hash_password("sup-secret"))])})
    store = FeedbackStore(settings.feedback, settings.data_dir)
    return {"settings": settings, "store": store, "auth": Auth(settings)}


def page(ui: dict, name: str, user: str = "sam", **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)
    for key, value in {**ui, **state}.items():
        at.session_state[key] = value
    at.session_state["user"] = ui["auth"].users[user]
    return at.run()


def seed_queue(store: FeedbackStore) -> dict[str, int]:
    ids = {
        "refund": store.record_suggestion("olga", {"messages": [{"role": "customer", "text": "How long does a refund take?"}]},
                                          shown("en", "refunds", "Refunds take 10 business days [1].")),
        "human": store.record_suggestion("ivan", {"messages": [{"role": "customer", "text": "Позовите оператора!"}]},
                                         shown("ru", "escalation-protocol", "Передаю вас специалисту [1].",
                                               handoff=True)),
        "fee": store.record_suggestion("olga", {"messages": [{"role": "customer", "text": "Когда списывается плата?"}]},
                                       shown("ru", "billing-dates", "Плата списывается 1-го числа [1].")),
    }
    store.record_action(ids["refund"], "olga", "sent", "Refunds take 10 business days. Have a nice day!")
    store.record_action(ids["human"], "ivan", "rejected", reason="should_hand_off")
    return ids


def test_the_queue_opens_the_clicked_row_without_a_drop_down(sup):
    ids = seed_queue(sup["store"])
    at = page(sup, "review")
    assert not at.exception
    assert not [s for s in at.selectbox if s.label == "Open suggestion"]  # no drop-down to open one
    table = at.dataframe[0].value
    assert list(table["id"])[0] == ids["human"]  # a handoff, rejected: first in the queue
    assert any(h.value == f"#### Suggestion #{ids['human']}" for h in at.markdown)  # the first row is open
    assert at.query_params["suggestion"] == str(ids["human"])
    row = list(table["id"]).index(ids["refund"])
    at.session_state["queue_table"] = {"selection": {"rows": [row], "columns": []}}  # a click on that row
    at.run()
    assert any(h.value == f"#### Suggestion #{ids['refund']}" for h in at.markdown)
    assert any("Have a nice day!" in m.value for m in at.markdown)  # what the operator sent, beside the draft
    assert at.query_params["suggestion"] == str(ids["refund"])  # a link to it can be shared
    flags, done = dict(zip(table["id"], table["flags"])), dict(zip(table["id"], table["done"]))
    assert (flags[ids["human"]], done[ids["human"]]) == ("handoff", "rejected: should hand off")
    assert (flags[ids["fee"]], done[ids["fee"]]) == ("—", "no action")
    assert done[ids["refund"]].startswith("sent, edit ")


def test_the_queue_filters_by_operator_and_topic_and_a_link_opens_a_suggestion(sup):
    ids = seed_queue(sup["store"])
    at = page(sup, "review")
    at.selectbox(key="f_operator").select("ivan").run()
    assert list(at.dataframe[0].value["id"]) == [ids["human"]]
    at.selectbox(key="f_operator").select("all")
    at.selectbox(key="f_topic").select("billing-dates").run()
    assert list(at.dataframe[0].value["id"]) == [ids["fee"]]
    linked = AppTest.from_file(str(PAGES / "review.py"), default_timeout=TIMEOUT)
    for key, value in sup.items():
        linked.session_state[key] = value
    linked.session_state["user"] = sup["auth"].users["sam"]
    linked.query_params["suggestion"] = str(ids["fee"])
    linked.run()
    assert any(h.value == f"#### Suggestion #{ids['fee']}" for h in linked.markdown)


def test_create_eval_case_writes_to_the_data_folder_not_the_repository(sup):
    datasets = REPO / "evals" / "datasets"

    def fingerprint() -> dict[str, str]:
        return {str(p.relative_to(datasets)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(datasets.rglob("*")) if p.is_file()}

    before = fingerprint()
    ids = seed_queue(sup["store"])
    at = page(sup, "review")
    sid = ids["human"]
    at.button(key=f"ec-create-{sid}").click().run()
    assert not at.exception
    target = sup["settings"].data_dir / "eval_cases" / "supervisor.jsonl"
    assert any(f"Eval case sup-{sid} added to {target}" in s.value for s in at.success)
    from evals.dataset import load_cases

    (case,) = load_cases(target)
    assert case.id == f"sup-{sid}" and case.language == "ru" and case.expected.handoff.needed
    assert fingerprint() == before  # nothing in the repository's datasets changed
    at.button(key=f"ec-create-{sid}").click().run()  # twice: refused, one line
    assert any("already exists" in e.value for e in at.error)


def test_eval_picks_supervisor_cases_only_when_asked(sup, monkeypatch):
    from typer.testing import CliRunner

    from copilot.cli import app

    monkeypatch.setenv("COPILOT_DATA_DIR", str(sup["settings"].data_dir))
    from copilot.config import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["eval", "--with-supervisor-cases", "--no-llm", "--no-gate"])
    assert result.exit_code == 2 and "no supervisor eval cases yet" in result.output
    from evals.dataset import load_dataset, supervisor_cases_file

    assert supervisor_cases_file(get_settings()) == sup["settings"].data_dir / "eval_cases" / "supervisor.jsonl"
    assert all(not c.id.startswith("sup-") for c in load_dataset([REPO / "evals" / "datasets"], "all"))


def test_metrics_read_with_one_day_of_data(sup):
    store = sup["store"]
    ids = seed_queue(sup["store"])
    for i in range(18):  # shown, never acted on
        store.record_suggestion("olga", {"messages": [{"role": "customer", "text": f"q{i}"}]},
                                shown("en", "refunds", "Refunds take 10 business days [1]."))
    at = page(sup, "metrics")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["Suggestions", "Acceptance", "Mean edit distance"]
    assert at.metric[0].value == "21" and at.metric[1].value == "5%"  # 1 sent of 21 shown, not 1 of 2 acted on
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 5  # outcomes, rates, edit distance, per prompt (rates, edit distance)
    import json

    from streamlit import dataframe_util

    specs = [json.dumps(json.loads(c.proto.spec)["encoding"]) for c in charts]
    assert not any("mean_edit_distance" in s and "share" in s for s in specs)  # edit distance on its own axis
    outcomes = dataframe_util.convert_arrow_bytes_to_pandas_df(charts[0].proto.datasets[0].data.data)
    assert outcomes["period"].nunique() == 1  # the one day is a point (a bar), not an empty line
    assert dict(zip(outcomes["outcome"], outcomes["count"])) == {
        "Sent": 1, "Rejected": 1, "Regenerated": 0, "Handed off": 0, "No action": 19}
    per_day = at.dataframe[-1].value  # the per-day table under the charts
    assert list(per_day["key"]) == [datetime.now(timezone.utc).date().isoformat()]
    at.multiselect(key="m_operators").select("ivan").run()
    assert at.metric[0].value == "1" and at.metric[1].value == "0%"
    assert ids


def test_mined_cards_search_page_and_bulk_approve(sup, tmp_path):
    from knowledge_base.index import KnowledgeIndex

    store = sup["store"]
    store.add_mined("T-EN-0001", "Internet · router: a 30-second power reboot of the router restored the connection",
                    "Problem: internet down, contract 7714820391, mail anna@example.com\n\nResolution: reboot for 30 s.",
                    "en", ["internet", "router"])
    for i in range(14):
        store.add_mined(f"T-RU-{i:04d}", f"Оплата: способ {i}", f"Решение: оплата способом {i}.", "ru", ["billing"])
    index = KnowledgeIndex(sup["settings"])
    at = page(sup, "mined", copilot=SimpleNamespace(index=index))
    assert not at.exception
    assert len(at.dataframe[0].value) == 10  # a page of ten, not all 15
    assert any("15 card(s) · page 1 of 2" in c.value for c in at.caption)
    assert "anna@example.com" not in " ".join(at.dataframe[0].value["title"])
    at.text_input(key="mined_query").input("reboot").run()
    table = at.dataframe[0].value
    assert list(table["ticket"]) == ["T-EN-0001"]
    at.text_input(key="mined_query").input("")
    at.selectbox(key="mined_lang").select("ru").run()
    assert len(at.dataframe[0].value) == 10 and set(at.dataframe[0].value["lang"]) == {"ru"}
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 1, 2], "columns": []}}
    at.run()
    assert at.button(key="mined_bulk_approve").label == "Approve selected (3)"
    at.button(key="mined_bulk_approve").click().run()
    assert not at.exception
    assert any("Approved and indexed 3 card(s)" in s.value for s in at.success)
    approved = store.mined("approved")
    assert len(approved) == 3 and all(r.article_id and r.article_id.startswith("mined-t-ru-") for r in approved)
    assert index.docstore.document(approved[0].article_id) is not None
    assert store.find_mined("pending", lang="ru")[1] == 11
    at.selectbox(key="mined_status").select("approved").run()
    assert len(at.dataframe[0].value) == 3
    at.selectbox(key="mined_status").select("pending").run()  # bulk reject: out of the pending list, not indexed
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 1], "columns": []}}
    at.run()
    at.button(key="mined_bulk_reject").click().run()
    assert not at.exception
    assert any("Rejected 2 card(s)" in s.value for s in at.success)
    rejected = store.mined("rejected")
    assert len(rejected) == 2 and not any(r.article_id for r in rejected)
    assert store.find_mined("pending")[1] == 10


@pytest.mark.slow
def test_covered_is_judged_by_the_articles_content(demo_index):
    """The demo desk's tickets where a 30-second power reboot fixed a red Internet light (the
    articles say so) are covered, in English and Russian; resolutions no article says (an
    iPhone forgetting the network, a corporate VPN) are not."""
    from copilot.config import MiningSettings, VerificationSettings
    from copilot.mining import coverage, mine
    from copilot.verify import Verifier
    from knowledge_base.retriever import HybridRetriever

    retriever = HybridRetriever(demo_index)
    verifier = Verifier(VerificationSettings(), embed=demo_index.embedding.embeddings.embed_documents)
    docs = demo_index.docstore.documents()

    def judged(ticket_id: str):
        doc = docs[ticket_id]
        return coverage(doc.info.ticket.resolution, doc.lang, retriever, verifier, MiningSettings())

    for ticket_id in ("T-EN-0001", "T-RU-0012"):  # a 30-second power reboot of the router restored the connection
        c = judged(ticket_id)
        assert c.covered, c.summary()
        assert any(s.supported and "30" in s.step for s in c.steps), c.summary()  # the reboot step itself
    for ticket_id in ("T-EN-0019", "T-EN-0007"):  # an iPhone forgetting the network; a corporate VPN
        c = judged(ticket_id)
        assert not c.covered, c.summary()
