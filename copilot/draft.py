"""The reply draft, in two modes.

retrieval: composed from knowledge-base sentences chosen for the customer's question,
    each citing its passage, plus the engine's questions and handoff promise. It cannot
    invent anything; it is the fallback whenever the model is absent, slow or wrong.
llm: the model words the reply from numbered sources under a versioned prompt, with the
    questions and handoff decided by the engine; the verifier then checks every sentence.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from pydantic import BaseModel, Field, create_model

from copilot.answer_kind import asked_kinds, states_kind
from copilot.audience import for_agents, internal_section
from copilot.conditions import (StepDefinition, already_done, contact_heading, contact_line, explains, invites_contact,
                                names_only_channel, retry_already_past, ruled_out, sends_to_channel,
                                step_definitions, under_ruled_out_diagnosis, without_channel)
from copilot.prompt_budget import fit_to_budget
from copilot.config import LLMSettings
from copilot.llm import ChatClient, LLMResult
from copilot.prompts import PromptSpec
from copilot.masking import mask_pii
from copilot.safety import fence
from copilot.schema import Citation, Conversation, Grounding, Question
from copilot.text import (EntityFn, citations_of, entities, leans_on_previous, list_leads, split_sentences, table_cells,
                          table_rows, with_lead)
from knowledge_base.tokenizer import function_terms, tokenize
from knowledge_base.documents import SearchHit

LANGUAGE_NAMES = {"en": "English", "ru": "Russian"}
GREETING = {"en": "Hello", "ru": "Здравствуйте"}
EMPATHY = {"en": "I'm sorry for the trouble.", "ru": "Приносим извинения за неудобства."}
ASK_INTRO = {"en": "To help you faster, could you tell me:", "ru": "Чтобы помочь быстрее, подскажите, пожалуйста:"}
# when the first question asks in the intro's own words ("Подскажите, пожалуйста, номер договора"),
# an intro that asks nothing, so the reply does not say it twice
ASK_INTRO_PLAIN = {"en": "To help you faster, a few questions:", "ru": "Чтобы помочь быстрее, уточню несколько моментов:"}
_INTRO_ASKS = {"en": "could you tell me", "ru": "подскажите"}
# a sentence's passage scoring half the best one's costs it 0.25: about as much as sharing a
# quarter of the query's terms (chosen on the dev splits of the demo and composition sets: 0.3 and 0.5 tried)
SCORE_GAP_WEIGHT = 0.5
# a passage of the best match's document the search did not return ranks below the ones it did:
# chosen on the demo desk's dev and composition dev cases and the Homebee desk's dev cases, both
# languages (0, 0.2, 0.3, 0.4, 0.6 tried; below 0.4 drafts took another procedure's sentences)
MORE_OF_BEST_PENALTY = 0.4
# a table row whose first cell the customer named ("E40", "Home 300") is what they asked about:
# chosen on the same dev sets (0, 0.5, 1.0 tried: 0.5 gained on the demo and composition sets and
# lost nothing, 1.0 also took an error code's row over its article's introduction)
NAMED_ROW_WEIGHT = 1.0
ANSWER_KIND_WEIGHT = 0.4  # a sentence giving the kind of value the customer asks for ("when" -> "within 5 days")


def ask_intro(lang: str, questions: list[Question]) -> str:
    lang = lang if lang in ASK_INTRO else "en"
    first = questions[0].text.lower() if questions else ""
    return ASK_INTRO_PLAIN[lang] if first.startswith(_INTRO_ASKS[lang]) else ASK_INTRO[lang]


class DraftAnswer(BaseModel):
    """What the model must return (JSON schema-constrained)."""

    # the length bound becomes part of the grammar on llama.cpp: a rambling small model
    # cannot run past it and leave the JSON unclosed
    reply: str = Field(min_length=1, max_length=700)


def draft_answer_schema(settings: LLMSettings, lang: str) -> type[DraftAnswer]:
    """DraftAnswer with a length bound that fits in `max_tokens` in this language: Russian
    costs the small model's tokenizer three to four times the tokens of English, and a
    bound of 700 characters let Russian replies run out of tokens inside the JSON."""
    per_token = settings.chars_per_token.get(lang, min(settings.chars_per_token.values(), default=1.0))
    limit = max(80, min(700, int((settings.max_tokens - 12) * per_token)))
    if limit == 700:
        return DraftAnswer
    return create_model("DraftAnswer", __base__=DraftAnswer,
                        reply=(str, Field(min_length=1, max_length=limit)))


@dataclass
class Sources:
    """The passages a draft may cite, numbered in order of first use."""

    hits: list[SearchHit] = field(default_factory=list)

    def cite(self, hit: SearchHit) -> int:
        for i, h in enumerate(self.hits):
            if h.chunk_id == hit.chunk_id:
                return i + 1
        self.hits.append(hit)
        return len(self.hits)

    def passages(self) -> dict[int, str]:
        return {i + 1: f"{h.title}\n{h.text}" for i, h in enumerate(self.hits)}

    def citations(self, used: set[int] | None = None) -> list[Citation]:
        return [Citation(n=i + 1, source_id=h.source_id, chunk_id=h.chunk_id, title=h.title,
                         quote=" ".join(h.text.split())[:400])
                for i, h in enumerate(self.hits) if used is None or i + 1 in used]

    def renumbered(self, grounding: Grounding, text: str) -> tuple[Sources, Grounding, str]:
        """Sources numbered in the order the checked draft first cites them, and the grounding's
        sentences and the draft's text with the new numbers. A sentence
        the verifier took out frees its number, so the draft would otherwise start at [2];
        sources cited only by removed sentences come after all the kept ones."""
        order: list[int] = []
        for check in sorted(grounding.sentences, key=lambda c: c.removed):  # stable: kept ones first
            order.extend(n for n in citations_of(check.text) if n not in order and 0 < n <= len(self.hits))
        new = {old: i + 1 for i, old in enumerate(order)}

        def swap(text: str) -> str:
            return re.sub(r"\[(\d{1,2})\]", lambda m: f"[{new.get(int(m.group(1)), int(m.group(1)))}]", text)

        checks = [c.model_copy(update={"text": swap(c.text),
                                       "citation": new.get(c.citation, c.citation) if c.citation else None})
                  for c in grounding.sentences]
        sources = Sources([self.hits[old - 1] for old in order])
        return sources, grounding.model_copy(update={"sentences": checks}), swap(text)


@dataclass
class DraftPlan:
    """Everything the engine decided before wording the reply."""

    language: str
    customer_name: str | None
    answer_hits: list[SearchHit]
    covered: bool
    negative: bool
    questions: list[Question]
    handoff_promise: str | None
    policy_hit: SearchHit | None
    query: str
    query_vector: list[float] | None
    boost_terms: set[str] = field(default_factory=set)  # from the best past resolution
    entities: EntityFn = entities  # with the desk's plan names
    refusal: str | None = None     # an off-topic request: the desk's polite refusal, nothing else
    # the customer's pending turns ask nothing (copilot/small_talk/): the act and the desk's reply, nothing else
    small_talk: tuple[str, str] | None = None
    channel: str | None = None     # where the conversation happens: no "write to us in the chat" inside a chat
    steps: tuple[StepDefinition, ...] | None = None  # steps the answer passages' articles define by others
    said: str = ""  # what the customer said, with the agent's questions they answered yes to (said_by_customer)
    # the best match's document's other passages: its answer is often in a section of its own
    # ("within 14 days" under "How to return", the fee under "Shipping")
    more_of_best: list[SearchHit] = field(default_factory=list)

    @property
    def customer_said(self) -> str:
        """The text checked for what a sentence would contradict: not the search query, which
        leaves out numbers and the agent's questions."""
        return self.said or self.query

    def promises(self) -> list[tuple[str, SearchHit | None]]:
        """The handoff promise (of the route taken) with the escalation passage that backs
        it (None: it names no checkable fact and cites nothing); none without a handoff."""
        return [(self.handoff_promise, self.policy_hit)] if self.handoff_promise else []


def _clean(sentence: str) -> str:
    s = re.sub(r"\*\*|__|`|\[[ xX]\]\s*", "", sentence)
    s = re.sub(r"^\s*(\d+[.)]|[-•*])\s+", "", s)
    return " ".join(s.split())


# a sentence about the text itself ("This document serves as a guide for ...", «В этом разделе описано ...»)
_META = re.compile(r"^(this (article|page|guide|document|manual|handbook|section|chapter)|"
                   r"in this (article|page|guide|document|manual|section|chapter)|"
                   r"the (manual|document|guide|handbook) (is|covers|describes|explains|provides|serves|contains|outlines)\b|"
                   r"here you|here(?:'s| is| are) (?:how|what|where|when|why|everything)\b|"
                   r"эт(а|от|ом|ой) (стать|документ|руководств|раздел|инструкци)|в этой статье|"
                   r"(?:ниже|далее|вот)\s+(?:—\s*)?(?:как|что|о том)\b|"
                   r"данн(ый|ая|ое|ом|ой) (документ|стать|руководств|раздел|инструкци)|"
                   r"здесь (мы )?(рассказ|описан)|ниже (мы )?(рассказ|описан))", re.I)
# a lead naming the text's parts ("The main sections covered are:", «Основные разделы документа:»)
_PARTS = re.compile(r"^(the )?(main |following )?(sections|parts|chapters|topics)( (covered|that follow|below|included|"
                    r"of (this|the) (document|manual|guide|handbook|article)))?( are)?:$|"
                    r"^(основные |следующие )?(разделы|части|главы|темы)( (документа|руководства|инструкции|статьи))?:$", re.I)
# ... and the next one when it goes on about it ("It provides detailed procedures ...")
_GOES_ON = re.compile(r"^(it|they) (provides?|covers?|describes?|explains?|contains?|outlines?|lists?|sets? out|includes?|"
                      r"serves?|is (designed|structured|intended|meant|written)|are (designed|written))\b|"
                      r"^(он|она|оно|они) (описыва|содерж|объясня|рассказыва|охватыва|перечисля|предназнач|включа)", re.I)
_ITEM = re.compile(r"\s*(?:[-*•+]|\d+[.)])\s+[*_]*")  # what starts a list item's line, up to its text


def _starts(text: str, sentences: list[str]) -> list[int]:
    """Where each sentence starts in the passage (-1: not found as written)."""
    starts: list[int] = []
    cursor = 0
    for sentence in sentences:
        at = text.find(sentence.strip()[:25], cursor)
        starts.append(at)
        cursor = at if at >= 0 else cursor
    return starts


def _about_the_text(text: str, sentences: list[str]) -> set[int]:
    """Positions of the sentences that describe the document rather than answer anything,
    and of the list items under such a lead ("The main sections covered are:" + a list of them)."""
    out: set[int] = set()
    starts = _starts(text, sentences)
    listing = False  # inside the list a sentence about the text leads
    for pos, sentence in enumerate(sentences):
        clean = _clean(sentence)
        at = starts[pos]
        item = at >= 0 and bool(_ITEM.fullmatch(text[text.rfind("\n", 0, at) + 1:at]))
        listing = listing and (item or at < 0 or starts[pos - 1] >= 0 and "\n" not in text[starts[pos - 1]:at])
        if _META.match(clean) or _PARTS.match(clean) or pos - 1 in out and _GOES_ON.match(clean) or listing:
            out.add(pos)
            listing = listing or clean.endswith(":")
    return out


def candidate_sentences(hits: list[SearchHit], max_hits: int = 5, customer_text: str = "",
                        channel: str | None = None,
                        steps: tuple[StepDefinition, ...] | None = None) -> list[tuple[int, int, SearchHit, str]]:
    """(hit rank, position, hit, sentence) for answer-like sentences of the top passages:
    not headings, table rows, questions, lead-ins ending in a colon or "this article", nor
    what follows a diagnosis the customer ruled out, nor a list item whose bold lead is a
    case the customer ruled out. Inside the customer's channel an invitation to it gives way
    to the other route the sentence offers, and a contact list's line naming only that
    channel goes."""
    out = []
    row_keys: set[str] = set()  # "Home 300" in the plans table and in the speed table: the first one read
    documents = list(dict.fromkeys(h.source_id for h in hits))[:max_hits]
    for hit in hits:
        if hit.source_id not in documents:
            continue
        rank = documents.index(hit.source_id)  # a document's passages share its rank
        sentences = split_sentences(hit.text)
        agents = [for_agents(x) for x in sentences]
        if internal_section(hit.title) or sum(agents) >= 2:
            continue  # a section of the agent's manual: the rest of it is written to the agent too
        skip = under_ruled_out_diagnosis(sentences, customer_text) if customer_text else set()
        if customer_text:
            skip |= _reasons_of_done_steps(hit.text, sentences, customer_text,
                                           step_definitions([hit.text]) if steps is None else steps)
        heading = hit.heading or ""
        leads = list_leads(sentences)
        rows = _rows_asked_about(sentences, customer_text)
        meta = _about_the_text(hit.text, sentences)
        for pos, raw in enumerate(sentences):
            if raw.lstrip().startswith("#"):
                heading = raw
                continue
            row = rows[pos]
            if row:  # a table row as a sentence, with the header naming its cells
                key = " ".join(tokenize(table_cells(raw)[0]))
                if key in row_keys:
                    continue
                row_keys.add(key)
                raw = row
            if leads[pos]:  # "When the contract ends:" + "the money left ...": the item keeps its condition
                raw = with_lead(leads[pos], raw)
            if re.fullmatch(r"#+\s*\d+[.)]?", heading.strip()):  # "## 5." split from its text
                heading += " " + raw
            if pos in skip or customer_text and ruled_out(raw, customer_text):  # the raw text keeps the bold lead
                continue
            if agents[pos] or internal_section(heading):
                continue  # written to the agent (a manual with no audience marked): not for the reply
            if channel and (contact_heading(heading) and names_only_channel(raw, channel) or contact_line(raw, channel)):
                continue
            s = without_channel(_clean(raw), channel)
            words = len(s.split())
            # a row is whole however short ("Home Box: 2,500 RUB."), and so is a short sentence giving a
            # time or a price ("Заказ хранится 7 дней.": Russian says in four words what English says in
            # six); another short line is a fragment ("Step 2.")
            ends = bool(re.search(r"[.!]$", s))
            whole = row or words >= 5 or ends and any(states_kind(s, kind) for kind in ("time", "money"))
            if (s.startswith(("#", "|")) or s.endswith((":", "?")) or words < 3 or not whole or words > 60
                    or pos in meta or not ends and words < 9):
                continue
            out.append((rank, pos, hit, s))
    return out


def _table_runs(rows: list[str]) -> list[int]:
    """For each position, the number of the table its row belongs to (-1: not a row)."""
    out, table, inside = [], -1, False
    for row in rows:
        if row and not inside:
            table += 1
        inside = bool(row)
        out.append(table if row else -1)
    return out


def _named_rows(sentences: list[str], customer_text: str) -> set[int]:
    """Positions of the table rows whose first cell (what the table lists: a plan, an error
    code) the customer named in full: the row is what they asked about."""
    rows = table_rows(sentences)
    said = set(tokenize(customer_text)) - function_terms()  # "all these lights" names no row "All lights"
    runs = _table_runs(rows)
    keys = [set(tokenize(table_cells(sentences[i])[0])) if row else set() for i, row in enumerate(rows)]
    # a first cell that repeats ("Internet" for green, red and off) does not name a row
    return {i for i, row in enumerate(rows) if row and keys[i] and keys[i] <= said
            and sum(1 for j, k in enumerate(keys) if runs[j] == runs[i] and k == keys[i]) == 1}


def _rows_asked_about(sentences: list[str], customer_text: str) -> list[str]:
    """The table rows (read as sentences) that may answer the customer: a row they named
    (`_named_rows`), or whose cells share two of their terms (one shared word, "Home" of
    "Home 100" in the row "Home 300", is chance). A table is looked up by what it lists; a
    row no one asked about is a data dump."""
    rows = table_rows(sentences)
    said = set(tokenize(customer_text)) - function_terms()
    named = _named_rows(sentences, customer_text)
    return [row if row and (i in named or len(said & set(tokenize(" ".join(table_cells(sentences[i]))))) >= 2)
            else "" for i, row in enumerate(rows)]


def _reasons_of_done_steps(text: str, sentences: list[str], customer_text: str,
                           steps: tuple[StepDefinition, ...]) -> set[int]:
    """Positions of the statements that follow, on the same line of the passage, a step the
    customer already took ("2. Connect a computer with a cable. A Wi-Fi result tells you about
    Wi-Fi, not about the line." after "connected my PC with a cable"): the step's reason is moot."""
    out: set[int] = set()
    starts = _starts(text, sentences)
    done = False
    for i, sentence in enumerate(sentences):
        same_line = i > 0 and starts[i] > starts[i - 1] >= 0 and "\n" not in text[starts[i - 1]:starts[i]]
        if done and same_line and explains(sentence):
            out.add(i)
            continue  # a second reason on the line goes too
        done = already_done(sentence, customer_text, steps)
    return out


def _steps(plan: DraftPlan) -> tuple[StepDefinition, ...]:
    """The steps the plan was given (the engine reads them off the whole articles), else the
    answer passages' own definitions, read once per plan."""
    if plan.steps is None:
        plan.steps = step_definitions(h.text for h in plan.answer_hits)
    return plan.steps


def contradicts(plan: DraftPlan, sentence: str) -> bool:
    """The sentence would contradict the conversation: a condition the customer ruled out, a
    step they already took (under any verb the passages give for it), a retry on a day they
    report as past, the channel they are on, or, beside the handoff promise, a second route
    (asking them to contact us)."""
    said = plan.customer_said
    return (ruled_out(sentence, said) or already_done(sentence, said, _steps(plan))
            or retry_already_past(sentence, said) or sends_to_channel(sentence, plan.channel)
            or bool(plan.handoff_promise and invites_contact(sentence)))


def select_sentences(plan: DraftPlan, embed: Callable[[list[str]], list[list[float]]] | None,
                     limit: int) -> list[tuple[SearchHit, str]]:
    """The sentences that best answer the question: semantic closeness to the query,
    shared terms, the passage's rank and retrieval score, and terms of the best past resolution; none whose
    condition the customer ruled out ("if only one device ..." after "none of my devices"),
    no step they already took, and none that sends them to the channel they are already on."""
    hits = plan.answer_hits[:1] + plan.more_of_best + plan.answer_hits[1:]
    cands = [c for c in candidate_sentences(hits, customer_text=plan.customer_said, channel=plan.channel,
                                            steps=_steps(plan))
             if not contradicts(plan, c[3])]
    if not cands or limit <= 0:
        return []
    q_tokens = set(tokenize(plan.query))
    asked = asked_kinds(plan.customer_said)
    scores = np.zeros(len(cands))
    if embed is not None and plan.query_vector is not None:
        vecs = np.asarray(embed([c[3] for c in cands]), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        q = np.asarray(plan.query_vector, dtype=np.float32)
        scores += (vecs @ (q / (np.linalg.norm(q) + 1e-9)) - 0.8) * 5
    # how far each passage's retrieval score falls below the best one's: a rank says the wifi
    # passage comes third, not that it scored a third of the two that name the customer's E-203
    top = max((c[2].score for c in cands), default=0.0)
    more = {h.chunk_id for h in plan.more_of_best}
    for i, (rank, pos, hit, s) in enumerate(cands):
        tokens = set(tokenize(s))
        if top > 0:
            scores[i] -= SCORE_GAP_WEIGHT * (1 - hit.score / top)
        scores[i] += len(tokens & q_tokens) / (len(q_tokens) or 1)
        scores[i] += 0.3 if plan.entities(s) else 0.0  # deadlines, fees, numbers: the facts people ask for
        scores[i] += 0.3 * len(tokens & plan.boost_terms) / (len(plan.boost_terms) or 1)
        scores[i] -= 0.1 * rank + 0.02 * pos
        scores[i] -= MORE_OF_BEST_PENALTY if hit.chunk_id in more else 0.0
    # a table row the customer named ("E40", "Home 300") is what they asked about, wherever its passage ranks
    passages = {c[2].chunk_id: c[2].text for c in cands}  # each passage read once, not once per sentence
    named = {cid: _named_rows(split_sentences(text), plan.customer_said) for cid, text in passages.items()}
    for i, c in enumerate(cands):
        scores[i] += NAMED_ROW_WEIGHT if c[1] in named[c[2].chunk_id] else 0.0
    # the best sentence giving each kind of value asked for ("when ..." -> "within 5 days") comes
    # up; one is the answer, the others would crowd the draft with the same kind of figure. Only
    # from the best match's own article: another article's deadline is of another procedure (a
    # return's, asked about a cancellation)
    best_source = plan.answer_hits[0].source_id if plan.answer_hits else None
    for kind in asked:
        giving = [i for i, c in enumerate(cands) if c[2].source_id == best_source and states_kind(c[3], kind)]
        if giving:
            scores[max(giving, key=lambda i: scores[i])] += ANSWER_KIND_WEIGHT
    chosen: list[int] = []
    terms = [set(tokenize(c[3])) for c in cands]
    # one row of a table: "Home 300: ..." and "Home 500: ..." side by side is the table again
    runs = {c[2].chunk_id: _table_runs(table_rows(split_sentences(c[2].text))) for c in cands}
    table = [(c[2].chunk_id, runs[c[2].chunk_id][c[1]]) if runs[c[2].chunk_id][c[1]] >= 0 else None for c in cands]
    promised = [set(tokenize(promise)) for promise, _ in plan.promises()]

    def restates(a: set[str], b: set[str]) -> bool:
        """Most of one sentence's terms are in the other, whichever is the shorter."""
        return len(a & b) / (min(len(a), len(b)) or 1) > 0.6

    def fits(i: int) -> bool:
        # nor what the handoff promise already says ("call the fraud line ... right away")
        if any(restates(terms[i], terms[j]) for j in chosen) or any(restates(terms[i], p) for p in promised):
            return False
        return not (table[i] and any(table[j] == table[i] for j in chosen))

    at = {(c[2].chunk_id, c[1]): i for i, c in enumerate(cands)}
    for i in map(int, np.argsort(-scores)):
        if i in chosen or not fits(i):
            continue
        # "For example, ...", "It is reviewed within 5 days": only with the sentence before it,
        # which comes in first (it must be a candidate itself, and fit)
        chain, whole = [i], True
        while whole and leans_on_previous(cands[chain[-1]][3]):
            j = at.get((cands[chain[-1]][2].chunk_id, cands[chain[-1]][1] - 1))
            if j in chosen:
                break
            whole = j is not None
            chain += [j] if j is not None else []
        # the first thought may take its two sentences even in a one-sentence answer
        room = limit - len(chosen) if chosen else max(limit, 2)
        if not whole or len(chain) > room or any(not fits(k) for k in chain[1:]):
            continue
        chosen.extend(reversed(chain))
        if len(chosen) >= limit:
            break
    chosen.sort(key=lambda i: (cands[i][0], cands[i][1]))
    return [(cands[i][2], cands[i][3]) for i in chosen]


def _greeting(plan: DraftPlan) -> str:
    hello = GREETING.get(plan.language, GREETING["en"])
    return f"{hello}, {plan.customer_name}!" if plan.customer_name else f"{hello}!"


def _with_citation(sentence: str, n: int) -> str:
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!" else "."
    # a list item quoted alone ends in the list's ";" or ",": the reply's sentence ends at its full stop
    return f"{body.rstrip(' .!;,')} [{n}]{end}"


def promise_parts(plan: DraftPlan, sources: Sources) -> list[str]:
    """The handoff promises: the last sentence of each cites the escalation protocol."""
    out: list[str] = []
    for promise, hit in plan.promises():
        parts = split_sentences(promise)
        if hit:
            parts[-1] = _with_citation(parts[-1], sources.cite(hit))
        out.extend(parts)
    return out


def policy_statements(plan: DraftPlan) -> list[str]:
    """The promise sentences that carry the escalation protocol's facts."""
    return [split_sentences(p)[-1] for p, hit in plan.promises() if hit is not None]


def engine_statements(plan: DraftPlan) -> list[str]:
    """Sentences the engine itself adds that state no knowledge-base fact: greeting,
    empathy, the questions and their lead-in, the lead-in of a handoff promise."""
    intro = ask_intro(plan.language, plan.questions)
    out = [_greeting(plan), EMPATHY.get(plan.language, ""), intro]
    out.extend(q.text for q in plan.questions)
    if plan.questions:  # the lead-in ends with a colon, so it reads as one sentence with the first question
        out.append(f"{intro} {plan.questions[0].text}")
    for promise, hit in plan.promises():
        # the last sentence carries the desk's promise when a passage backs it
        out.extend(split_sentences(promise)[:-1] if hit is not None else split_sentences(promise))
    out.extend(split_sentences(plan.refusal or ""))
    out.extend(split_sentences(plan.small_talk[1] if plan.small_talk else ""))
    return [s for s in out if s]


def _closing_parts(plan: DraftPlan, sources: Sources) -> list[str]:
    parts = promise_parts(plan, sources)
    if plan.questions:
        parts.append(ask_intro(plan.language, plan.questions))
        parts.extend(q.text for q in plan.questions)
    return parts


def retrieval_draft(plan: DraftPlan, sources: Sources,
                    embed: Callable[[list[str]], list[list[float]]] | None) -> str:
    """A reply built only from retrieved sentences (cited) and the engine's decisions."""
    if plan.small_talk:  # a greeting is answered with one; thanks and goodbyes mid-conversation are not
        act, reply = plan.small_talk
        return f"{_greeting(plan)} {reply}" if act == "greeting" else reply
    parts = [_greeting(plan)]
    if plan.negative:
        parts.append(EMPATHY.get(plan.language, EMPATHY["en"]))
    if plan.covered:
        # missing facts: answer briefly and ask instead of guessing
        limit = 1 if plan.questions or plan.handoff_promise else 3
        for hit, sentence in select_sentences(plan, embed, limit):
            parts.append(_with_citation(sentence, sources.cite(hit)))
    parts.extend(_closing_parts(plan, sources))
    if plan.refusal:
        parts.append(plan.refusal)
    return " ".join(parts)


FACTS_FOR_MODEL = 6


def llm_draft(plan: DraftPlan, sources: Sources, conversation: Conversation, chat: ChatClient,
              prompt: PromptSpec, context_window: int, mask: bool,
              embed: Callable[[list[str]], list[list[float]]] | None = None,
              keep_ids: re.Pattern | None = None, cancel: threading.Event | None = None,
              on_progress: Callable[[float, int], None] | None = None) -> tuple[str, LLMResult]:
    """Ask the model to word the reply from numbered facts (the best sentences of the
    retrieved passages, most relevant first, within the token budget); returns the raw
    reply text and the call's details."""
    facts = [(sources.cite(hit), sentence) for hit, sentence in select_sentences(plan, embed, FACTS_FOR_MODEL)]
    facts = fit_to_budget(facts, budget_tokens=max(300, context_window - 1600))
    source_block = "\n".join(f"[{n}] {fence('source', text)}" for n, text in facts)
    turns = conversation.messages[-6:]
    dialogue = "\n".join(fence("customer" if m.role == "customer" else "agent", m.text) for m in turns)
    if mask:
        source_block = mask_pii(source_block, keep_ids).text
        dialogue = mask_pii(dialogue, keep_ids).text
    questions = " ".join(q.text for q in plan.questions) or "none"
    handoff = plan.handoff_promise or "none"
    messages = prompt.render(language=LANGUAGE_NAMES.get(plan.language, "English"), facts=source_block,
                             conversation=dialogue, questions=questions, handoff=handoff)
    # no partial text leaves here: a draft is shown only after verification
    result = chat.structured(messages, draft_answer_schema(chat.settings, plan.language), cancel=cancel,
                             on_progress=on_progress)
    reply = result.value.reply  # type: ignore[attr-defined]
    return complete_llm_reply(reply, plan, sources), result


def complete_llm_reply(reply: str, plan: DraftPlan, sources: Sources) -> str:
    """The engine's decisions are not optional: add the handoff promise and the questions
    if the model left them out."""
    text = reply.strip()
    lowered = text.lower()
    extra = []
    if plan.handoff_promise and split_sentences(plan.handoff_promise)[-1][:40].lower() not in lowered:
        extra.extend(promise_parts(plan, sources))
    missing_q = [q for q in plan.questions if q.text[:30].lower() not in lowered]
    if missing_q:
        extra.append(ask_intro(plan.language, missing_q))
        extra.extend(q.text for q in missing_q)
    return " ".join([text, *extra]).strip()
