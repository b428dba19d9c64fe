"""The Request Tracker 5 connector: on recorded REST 2.0 answers (fast) and on a real RT on
loopback (slow): a customer's ticket gets a suggestion comment with citations from the poll,
once; the operator's reply lands in RT as correspondence and comes back as an agent turn;
hand-off moves the queue with the summary; resolved tickets import as resolution cards,
incrementally; RT groups map to our roles; RT's refusals are one line naming RT and the call."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from helpers import DATA, free_port, llm_settings, make_settings
from rt_server import AUTOPAY_KB, token_of

RECORDED = DATA / "rt"

KB = AUTOPAY_KB  # a small desk: what the suggestions cite (the demo desk takes minutes to embed)


@pytest.fixture(scope="module")
def small_desk(tmp_path_factory, session_cache):
    """A retrieval-only copilot over KB, and its data folder (index in <data>/index). Two
    articles are too few for the coverage gate: it answers from any passage found
    (COPILOT_RETRIEVAL__MIN_CONFIDENCE=0, __OFF_TOPIC=false for the CLI)."""
    from helpers import copilot_over

    base = tmp_path_factory.mktemp("rt-desk")
    copilot = copilot_over(KB, base, session_cache, judge_coverage=False)
    return copilot, base / "data"


def recorded(name: str) -> tuple[dict, list[dict], list[dict]]:
    load = lambda part: json.loads((RECORDED / f"{name}-{part}.json").read_text(encoding="utf-8"))  # noqa: E731
    return load("ticket"), load("history")["items"], load("attachments")["items"]


# -- fast: the transaction -> turn mapping on RT's own answers ---------------------------------

def test_customer_ticket_turns_follow_the_requestor_and_leave_comments_out():
    from copilot.connectors.rt import conversation_of, ticket_turns

    turns = ticket_turns(*recorded("en"))
    assert [(t.type, t.role) for t in turns] == [
        ("Create", "customer"), ("Correspond", "agent"), ("Comment", "comment"), ("Correspond", "customer")]
    conv = conversation_of(turns)
    assert [m.role for m in conv.messages] == ["customer", "agent", "customer"]
    assert conv.messages[0].text == "Hi, my internet drops every evening since Monday."
    assert conv.messages[2].text == "Yes, twice. Still drops & slow."  # typed in HTML: read as text
    assert all("Line test" not in m.text for m in conv.messages)  # the internal comment stays internal
    assert conv.channel == "email"


def test_ticket_opened_by_an_agent_for_a_caller_starts_with_the_customers_request_in_russian():
    from copilot.connectors.rt import conversation_of, ticket_turns

    turns = ticket_turns(*recorded("ru"))
    conv = conversation_of(turns)
    assert [(m.role, m.text) for m in conv.messages] == [
        ("customer", "Клиент звонил: с карты списали оплату дважды."),
        ("agent", "Здравствуйте! Пришлите, пожалуйста, дату платежа."),
        ("customer", "Платёж был 3 марта."),
    ]  # RT's notification mails (EmailRecord) are not turns


def test_quoted_mail_is_left_out_of_a_turn():
    from copilot.connectors.rt import message_bodies

    bodies = message_bodies([{"TransactionId": "7", "ContentType": "text/plain", "Filename": "",
                              "Content": "Still broken.\n\n> Did you restart it?\n> Regards"},
                             {"TransactionId": "7", "ContentType": "application/pdf", "Filename": "bill.pdf",
                              "Content": "JVBERi0x"}])
    assert bodies == {7: "Still broken."}


@pytest.mark.slow
def test_suggestion_comment_carries_draft_citations_questions_handoff_and_marker(small_desk):
    from copilot.connectors.rt import answered_transactions, format_suggestion, Turn

    copilot, _ = small_desk
    for text, lang_words in (("How do I turn on automatic payment for my monthly bill? Or get me a manager.",
                              "Draft reply"),
                             ("Как подключить автоплатёж для ежемесячного счёта? Или позовите оператора.",
                              "Черновик ответа")):
        s = copilot.suggest({"messages": [{"role": "customer", "text": text}]})
        assert s.citations
        body = format_suggestion(s, answers=42)
        assert lang_words in body
        assert s.draft.text.strip().splitlines()[0] in body
        for c in s.citations:
            assert f"[{c.n}] {c.source_id}: {c.title}" in body
        for q in s.questions:
            assert q.text in body
        if s.handoff.needed:
            assert s.handoff.queue in body and all(r in body for r in s.handoff.reasons)
        assert answered_transactions([Turn(1, "Comment", "root", "", body, "comment")]) == {42}
        # a customer quoting the marker does not silence the copilot: only comments count
        assert answered_transactions([Turn(2, "Correspond", "a", "", body, "customer")]) == set()


def test_role_mapping_from_rt_groups_is_configurable():
    from copilot.config import RTSettings
    from copilot.connectors.rt import RTConnector

    rt = RTConnector(RTSettings(url="http://127.0.0.1:9", token=SecretStr("1-2-x"),
                                role_groups={"Support leads": "supervisor", "RT admins": "admin"}))
    assert rt.map_role("support LEADS") == "supervisor"
    assert rt.map_role("RT admins") == "admin"
    assert rt.map_role("Agents") == "operator"


def test_missing_url_or_credentials_is_one_line_naming_the_setting():
    from copilot.config import RTSettings
    from copilot.connectors.base import ConnectorError
    from copilot.connectors.rt import RTConnector

    with pytest.raises(ConnectorError, match=r"^RT: no URL configured \(set COPILOT_CONNECTORS__RT__URL"):
        RTConnector(RTSettings())
    with pytest.raises(ConnectorError, match="COPILOT_CONNECTORS__RT__TOKEN"):
        RTConnector(RTSettings(url="http://127.0.0.1:9"))


def test_unreachable_rt_is_one_line_naming_rt_and_the_call():
    from copilot.config import RTSettings
    from copilot.connectors.base import ConnectorError, HelpdeskRef
    from copilot.connectors.rt import RTConnector

    port = free_port()  # nothing listens there
    rt = RTConnector(RTSettings(url=f"http://127.0.0.1:{port}", user="root", password=SecretStr("s3cret-pw"),
                                timeout_s=2))
    with pytest.raises(ConnectorError) as exc:
        rt.fetch_conversation(HelpdeskRef(helpdesk="rt", conversation_id="5"))
    assert str(exc.value).startswith("RT ticket 5: cannot reach http://127.0.0.1:")
    assert "s3cret" not in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ConnectorError, match="ticket id must be a number"):
        rt.fetch_conversation(HelpdeskRef(helpdesk="rt", conversation_id="abc"))


# -- slow: a real RT on loopback ----------------------------------------------------------------

# `rt`: the session's throwaway RT (conftest.py)

def _settings_for(rt, data: Path, cache: Path, **rt_fields):
    from copilot.config import RTSettings

    settings = llm_settings(make_settings(data, cache), enabled=False)
    rt_settings = RTSettings(url=rt.url, token=SecretStr(token_of(rt)), **rt_fields)
    return settings.model_copy(update={"connectors": settings.connectors.model_copy(update={"rt": rt_settings})})


def _connector(rt, **fields):
    from copilot.config import RTSettings
    from copilot.connectors.rt import RTConnector

    return RTConnector(RTSettings(url=rt.url, token=SecretStr(token_of(rt)), **fields))


def _customer_ticket(rt, queue: str, subject: str, text: str, who=("alice@example.com", "customer-pw-1")) -> str:
    with rt.client(*who) as c:
        r = c.post("/ticket", json={"Queue": queue, "Subject": subject, "Content": text, "ContentType": "text/plain"})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def _customer_writes(rt, tid: str, text: str, who=("alice@example.com", "customer-pw-1")) -> None:
    with rt.client(*who) as c:
        assert c.post(f"/ticket/{tid}/correspond", json={"Content": text, "ContentType": "text/plain"}).status_code == 201


def _comments(rt, tid: str) -> list[str]:
    from copilot.connectors.rt import ticket_turns

    with rt.client() as c:
        ticket = c.get(f"/ticket/{tid}").json()
        history = c.get(f"/ticket/{tid}/history", params={"fields": "Type,Creator,Created", "per_page": 100}).json()
        attachments = c.get(f"/ticket/{tid}/attachments", params={
            "fields": "TransactionId,ContentType,Content,Filename", "per_page": 100}).json()
    return [t.text for t in ticket_turns(ticket, history["items"], attachments["items"]) if t.role == "comment"]


@pytest.mark.slow
def test_poll_posts_one_suggestion_with_citations_per_customer_message(rt, small_desk, monkeypatch, tmp_path):
    """`copilot rt poll --once` as an operator runs it (token auth, the desk's index)."""
    from typer.testing import CliRunner

    from copilot.cli import app
    from copilot.config import get_settings
    from copilot.connectors.rt import MARKER

    en = _customer_ticket(rt, "Support", "Autopay", "How do I turn on automatic payment for my monthly bill?")
    ru = _customer_ticket(rt, "Support", "Автоплатёж", "Как подключить автоплатёж для ежемесячного счёта?",
                          who=("ivan@example.ru", "customer-pw-2"))
    other = _customer_ticket(rt, "Billing", "Not watched", "How do I turn on automatic payment?")
    monkeypatch.setenv("COPILOT_CONNECTORS__RT__URL", rt.url)
    monkeypatch.setenv("COPILOT_CONNECTORS__RT__TOKEN", token_of(rt))
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "poll-data"))
    monkeypatch.setenv("COPILOT_RETRIEVAL__MIN_CONFIDENCE", "0")
    monkeypatch.setenv("COPILOT_RETRIEVAL__OFF_TOPIC", "false")
    get_settings.cache_clear()
    runner = CliRunner()
    poll = ["rt", "poll", "--queue", "Support", "--once", "--no-llm", "--index", str(small_desk[1] / "index"), "--json"]

    first = runner.invoke(app, poll)
    assert first.exit_code == 0, first.output
    posted = json.loads(first.stdout.strip().splitlines()[-1])["suggested"]
    assert sorted(p["ticket"] for p in posted if p["ticket"] in (en, ru)) == sorted([en, ru])
    for tid, label in ((en, "Draft reply:"), (ru, "Черновик ответа:")):
        comments = _comments(rt, tid)
        assert len(comments) == 1
        body = comments[0]
        assert label in body and MARKER in body
        assert "[1] " in body and ("autopay" in body.lower())  # cites the desk's autopay article
    assert _comments(rt, other) == []  # a queue nobody watches is left alone

    # the same message never gets two suggestions: not on the next pass, not with the state file lost
    again = runner.invoke(app, poll)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["suggested"] == []
    (tmp_path / "poll-data" / "rt" / "poll_state.json").unlink()
    lost = runner.invoke(app, poll)
    assert json.loads(lost.stdout.strip().splitlines()[-1])["suggested"] == []
    assert len(_comments(rt, en)) == 1 and len(_comments(rt, ru)) == 1

    # the customer writes again: exactly one more suggestion, for the new message only
    _customer_writes(rt, en, "And can I pay with a card automatically?")
    more = runner.invoke(app, poll)
    assert [p["ticket"] for p in json.loads(more.stdout.strip().splitlines()[-1])["suggested"]] == [en]
    assert len(_comments(rt, en)) == 2 and len(_comments(rt, ru)) == 1


@pytest.mark.slow
def test_poll_without_queues_or_with_bad_token_is_one_line_exit_2(rt, small_desk, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from copilot.cli import app
    from copilot.config import get_settings

    monkeypatch.setenv("COPILOT_CONNECTORS__RT__URL", rt.url)
    monkeypatch.setenv("COPILOT_CONNECTORS__RT__TOKEN", "1-14-0000not-a-token")
    get_settings.cache_clear()
    index = str(small_desk[1] / "index")
    none = CliRunner().invoke(app, ["rt", "poll", "--once", "--no-llm", "--index", index])
    assert none.exit_code == 2 and "no RT queues to watch" in none.output
    bad = CliRunner().invoke(app, ["rt", "poll", "--queue", "Support", "--once", "--no-llm", "--index", index])
    assert bad.exit_code == 2
    assert "RT ticket search: HTTP 401 (RT refused the credentials)" in bad.output
    assert "not-a-token" not in bad.output


@pytest.mark.slow
def test_sent_reply_goes_to_rt_and_comes_back_as_an_agent_turn(rt):
    from copilot.connectors.base import Connector

    conn = _connector(rt)
    assert isinstance(conn, Connector)
    tid = _customer_ticket(rt, "Support", "Slow internet", "My internet is slow every evening.")
    ref = conn.ref(tid)
    txn = conn.post_reply(ref, "Hello! Please run a speed test over a cable and send us the result.")
    assert txn.isdigit()
    with rt.client() as c:
        assert c.get(f"/transaction/{txn}").json()["Type"] == "Correspond"
    conv = conn.fetch_conversation(ref)
    assert [(m.role, m.text) for m in conv.messages] == [
        ("customer", "My internet is slow every evening."),
        ("agent", "Hello! Please run a speed test over a cable and send us the result.")]
    # an internal note: in RT as a comment, not in the conversation
    note = conn.post_reply(ref, "Customer is on the old plan.", kind="note")
    with rt.client() as c:
        assert c.get(f"/transaction/{note}").json()["Type"] == "Comment"
    assert len(conn.fetch_conversation(ref).messages) == 2
    # the customer answers in Russian: a customer turn again
    _customer_writes(rt, tid, "Скорость 5 Мбит/с по кабелю.")
    assert conn.fetch_conversation(ref).messages[-1].role == "customer"


@pytest.mark.slow
def test_hand_off_moves_the_queue_and_leaves_the_summary_as_a_comment(rt):
    from copilot.connectors.base import ConnectorError

    conn = _connector(rt)
    tid = _customer_ticket(rt, "Support", "Charged twice", "I was charged twice this month.")
    ref = conn.ref(tid)
    conn.hand_off(ref, "Billing", "Customer reports a double charge this month; needs a refund check.")
    with rt.client() as c:
        queue = c.get(f"/ticket/{tid}", params={"fields[Queue]": "Name"}).json()["Queue"]
        assert c.get(f"/queue/{queue['id']}").json()["Name"] == "Billing"
    assert _comments(rt, tid) == ["Customer reports a double charge this month; needs a refund check."]
    with pytest.raises(ConnectorError, match=r"^RT hand off ticket \d+: no queue 'Nowhere' in RT"):
        conn.hand_off(ref, "Nowhere", "x")


@pytest.mark.slow
def test_rt_groups_map_to_our_roles(rt):
    conn = _connector(rt, role_groups={"Support leads": "supervisor"})
    assert conn.user_role("lead1") == "supervisor"
    assert conn.user_role("agent1") == "operator"
    assert conn.user_role("alice@example.com") is None  # a customer, not staff


@pytest.mark.slow
def test_resolved_tickets_import_as_masked_resolution_cards_incrementally(rt, session_cache, tmp_path):
    from copilot.connectors.rt_import import import_tickets
    from knowledge_base.index import KnowledgeIndex

    settings = _settings_for(rt, tmp_path / "data", session_cache)
    agent = rt.client("agent1", "agent-pw-1")
    made = []
    for queue, text, reply, who in (
            ("Billing", "My router was returned on May 3 but I am still billed rent, call me at +1 212 555 0142.",
             "We stopped the rental charge and refunded the last month; it shows on your next bill.",
             ("alice@example.com", "customer-pw-1")),
            ("Billing", "Вернул роутер, а аренду всё ещё списывают. Мой телефон +7 916 123-45-67.",
             "Мы остановили начисление аренды и вернули плату за последний месяц.",
             ("ivan@example.ru", "customer-pw-2"))):
        tid = _customer_ticket(rt, queue, "rental", text, who=who)
        assert agent.post(f"/ticket/{tid}/correspond", json={"Content": reply, "ContentType": "text/plain"}
                          ).status_code == 201
        assert agent.put(f"/ticket/{tid}", json={"Status": "resolved"}).status_code == 200
        made.append(tid)
    unresolved = _customer_ticket(rt, "Billing", "open", "Still waiting for my refund.")

    first = import_tickets(settings, queue="Billing")
    assert first.report is not None and first.report.failed == 0, first.report.errors
    assert first.report.added == 2
    index = KnowledgeIndex(settings)
    docs = index.docstore.documents()
    for tid in made:
        card = docs[f"rt-{tid}"]
        assert card.doc_type == "ticket" and card.info.ticket.outcome == "resolved"
        text = "\n".join(c.text for c in index.docstore.chunks_of(f"rt-{tid}"))
        assert "555 0142" not in text and "916 123-45-67" not in text  # personal data masked
    assert f"rt-{unresolved}" not in docs
    en = "\n".join(c.text for c in index.docstore.chunks_of(f"rt-{made[0]}"))
    ru = "\n".join(c.text for c in index.docstore.chunks_of(f"rt-{made[1]}"))
    assert "Resolution: We stopped the rental charge" in en and "Решение: Мы остановили начисление" in ru
    index.close()

    second = import_tickets(settings, queue="Billing")
    assert second.fetched == 0 and second.report.added == 0 and second.report.updated == 0
    # a ticket resolved since: only it is read and added
    agent.post(f"/ticket/{unresolved}/correspond", json={"Content": "Refund sent today.", "ContentType": "text/plain"})
    agent.put(f"/ticket/{unresolved}", json={"Status": "resolved"})
    third = import_tickets(settings, queue="Billing")
    assert third.fetched == 1 and third.report.added == 1 and third.report.unchanged == 2
    agent.close()
