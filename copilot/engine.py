"""`Copilot.suggest(conversation)`: the data flow of DESIGN.md in one place.

understand + safety -> retrieve -> handoff -> anamnesis -> draft -> verify -> Suggestion

The engine never raises because of the model: a timeout, an error, junk JSON, a reply in
the wrong language or one that fails grounding all end in a retrieval-only draft with a
warning that says so. Bad input (an invalid conversation) and a missing index are the
caller's to fix and raise typed errors.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from pydantic import ValidationError

from copilot import anamnesis, handoff as handoff_policy
from copilot.config import Settings, get_settings
from copilot.conditions import StepDefinition, said_by_customer, says_state, step_definitions
from copilot.desk import resolve_desk
from copilot.draft import DraftPlan, Sources, engine_statements, llm_draft, policy_statements, retrieval_draft
from copilot.errors import BadInputError, LLMUnavailableError
from copilot.facts import fact_book, tried_something
from copilot.llm import ChatClient, LLMResult
from copilot.prompts import load_prompt
from copilot.masking import mask_pii, scrub
from copilot.safety import fence, injection_evidence
from copilot.safety import greeting_name, mark_role_tags, promise_in, screen_customer
from copilot.small_talk import asks_nothing
from copilot.schema import (Conversation, Coverage, Draft, Grounding, Intent, Question, SimilarCase, Suggestion,
                            SuggestionTrace)
from copilot.text import EntityRecognizer, citations_of, split_sentences, strip_citations
from copilot.understand import Signal, Understanding, understand
from copilot.verify import Verifier, language_problem
from knowledge_base.tokenizer import tokenize
from knowledge_base.derive import codes_in, desk_codes, link_purpose, resolve_link
from knowledge_base.domain import DomainGate
from knowledge_base.documents import SearchFilters, SearchHit, SearchResult, TicketInfo
from knowledge_base.index import KnowledgeIndex
from knowledge_base.settings import RetrievalSettings
from knowledge_base.instructions import InstructionDetector
from knowledge_base.language import detect_language
from knowledge_base.retriever import HybridRetriever

log = logging.getLogger("copilot")

RETRIEVAL_COMPOSER = "retrieval_compose@v1"
OFF_TOPIC = "off_topic"  # the intent of a request outside what the business does
# (the knowledge base covers the question, yet no sentence of it fits a reply: written to agents, or contradicted)
NOTHING_TO_QUOTE = ("No sentence of the matched passages fits a reply to the customer: they are written to agents "
                    "or do not fit this conversation. Write the answer from the sources yourself.")
DraftFn = Callable[[Suggestion], None]
ProgressFn = Callable[[float, int], None]


def build_query(conversation: Conversation, max_words: int | None = None) -> str:
    """What to search for: the customer's own words, first turn (the problem) first, then
    the facts they added; agent turns would pull in the agent's phrasing instead."""
    turns = [m.text for m in conversation.messages if m.role == "customer"]
    # contract, phone and card numbers identify the customer, not the topic
    text = re.sub(r"\+?\d[\d\s()-]{5,}\d", " ", " ".join(turns))
    words = text.split()
    return " ".join(words[:max_words or RetrievalSettings().query_max_words])


def model_draft_problem(text: str, grounding: Grounding, lang: str, customer_text: str = "",
                        sources: Sequence[str] = ()) -> str | None:
    """Why a model draft must not be shown, or None. Small models loop, echo the customer
    and mix supported with unsupported claims; any of these is worse than the
    retrieval-only draft, so it is shown instead. `sources`: the passages the model was
    given (their own repeated wording is no loop)."""
    wrong_language = language_problem(text, lang)
    if wrong_language:
        return wrong_language
    plain = strip_citations(text)
    if _repeats(plain, 6, sources) or any(_repeats(s, 5, sources) for s in split_sentences(plain)):
        # a loop across sentences; inside one sentence a shorter run is one too ("X, как X"),
        # while two sentences of one answer may well share five words ("open the order in the app")
        return "the reply repeats itself"
    norms = [" ".join(strip_citations(s.text).lower().split()).rstrip(".!?") for s in grounding.sentences]
    customer = " ".join(customer_text.lower().split())
    if any(len(n.split()) >= 5 and n in customer for n in norms):
        return "the reply copies the customer's message"
    bad = grounding.unsupported + grounding.removed
    if not grounding.supported:
        return "no supported fact in the reply"
    if grounding.supported / (grounding.supported + bad) < 2 / 3:
        return f"{bad} of {grounding.supported + bad} factual sentences unsupported by the sources"
    return None


def _grams(text: str, n: int) -> list[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def _repeats(text: str, n: int, sources: Sequence[str] = ()) -> bool:
    """A run of n words that the text repeats more often than the sources have it: two facts
    that share "one payment was taken from your card twice" may both be quoted; the same fact
    twice is a loop."""
    seen = Counter(g for source in sources for g in _grams(source, n))
    return any(count > max(1, seen[g]) for g, count in Counter(_grams(text, n)).items())


def topic_of(source_id: str) -> str:
    """'internet-no-connection-ru' -> 'internet-no-connection'."""
    for suffix in ("-en", "-ru"):
        if source_id.endswith(suffix):
            return source_id[: -len(suffix)]
    return source_id


def _shares_words(condition: str, said: set[str]) -> bool:
    """A derived condition nobody curated fires only when the customer used a good part of
    its words too: a small embedder finds "you cannot refuel data or change plan" close to
    any message about data."""
    need = set(tokenize(condition))
    return bool(need) and len(need & said) >= max(2, 0.3 * len(need))


def validated(conversation: Conversation | dict) -> Conversation:
    if isinstance(conversation, Conversation):
        return conversation
    try:
        return Conversation.model_validate(conversation)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise BadInputError(f"conversation field '{'.'.join(map(str, e['loc']))}': {e['msg']}") from None


def safety_flags(customer_turns: list[str], left_out: list[SearchHit], keep: re.Pattern | None,
                 detector: InstructionDetector | None = None, budget: int | None = None) -> list[str]:
    """Instructions hidden in the customer's words, knowledge-base passages left out because
    they carry instructions, and the kinds of personal data the customer gave. `budget`: at
    most this many customer sentences go to the instruction classifier."""
    flags = []
    injected, unjudged = screen_customer(customer_turns, detector, budget)
    if injected:
        flags.append(f"prompt_injection: {mark_role_tags(injected.describe())}")
    if unjudged:
        flags.append(f"screened_by_patterns: {unjudged} customer sentences over the classifier's budget of {budget}")
    pii = mask_pii("\n".join(customer_turns), keep).found
    if pii:
        flags.append("pii: " + ", ".join(f"{k.lower()} x{v}" for k, v in sorted(pii.items())))
    for source_id in dict.fromkeys(h.source_id for h in left_out):
        flags.append(f"prompt_injection_in_source {source_id}: passages carrying instructions left out of the draft")
    return flags


def promise_problem(grounding: Grounding, own: list[str]) -> str | None:
    """Why a model draft for a conversation that tried to instruct the model must not be
    shown: a sentence of its own (not the engine's greeting, questions or handoff promise)
    that promises a refund, a discount, compensation, a guarantee or a deadline. The
    retrieval-only draft says only what the knowledge base says."""
    engine = {" ".join(strip_citations(s).lower().split()) for s in own}
    for check in grounding.sentences:
        text = strip_citations(check.text)
        said = None if check.removed or " ".join(text.lower().split()) in engine else promise_in(text)
        if said:
            return f"the conversation carries instructions to the model and the reply promises \"{said}\""
    return None


@dataclass
class Retrieved:
    """What the search found for the conversation."""

    query: str
    query_vector: list[float] | None
    answers: SearchResult          # customer-facing articles
    tickets: SearchResult          # past resolutions, for the operator
    domain_margin: float | None = None   # > 0: nearer the knowledge base than everyday off-topic requests
    left_out: list[SearchHit] = field(default_factory=list)  # passages carrying instructions, never drafted from

    @property
    def top_docs(self) -> list[str]:
        return list(dict.fromkeys(h.source_id for h in self.answers.hits))[:2]


@dataclass
class DraftOutcome:
    draft: Draft
    grounding: Grounding
    sources: Sources
    usage: dict[str, int]
    llm_ms: float


class Copilot:
    def __init__(self, settings: Settings | None = None, index: KnowledgeIndex | None = None,
                 chat: ChatClient | None = None, prompt: str = "draft_reply@v1", prompts_dir: Path | None = None):
        self.settings = settings or get_settings()
        self.prompts_dir = prompts_dir or self.settings.prompts_dir
        self.index = index or KnowledgeIndex(self.settings)
        self.retriever = HybridRetriever(self.index)
        self.desk = resolve_desk(self.settings.desk, self.settings.desk_file, self.index.docstore.desk_config())
        self.facts = fact_book(self.desk)
        self.entities = EntityRecognizer(self.desk.plan_names)
        self.keep_ids = self.desk.contract_pattern()
        self.prompt = load_prompt(prompt, self.prompts_dir)
        # the model drafts only when enabled; an injected client (tests, evals' answer cache) replaces the default
        self.chat = (chat or ChatClient(self.settings.llm)) if self.settings.llm.enabled else None
        self.verifier = Verifier(self.settings.verification, embed=self._embed, entities=self.entities,
                                 embed_draft=self._embed_customer)
        self._policy_hits: dict[tuple[str, str], SearchHit | None] = {}
        self._routing = None  # the routing classifier, loaded on first use
        self._languages: tuple[int, set[str]] | None = None  # (docstore generation, languages of the documents)
        self._rule_vectors: dict[str, list[float]] = {}
        self._title_cache: tuple[int, dict[str, dict[str, str]]] | None = None
        self.domain = DomainGate(self.index)
        self._instructions: InstructionDetector | None = None  # loaded (or trained) on first use
        self._small_talk = None  # the small-talk classifier, loaded (or trained) on first use

    # -- the flow ------------------------------------------------------------------------
    def suggest(self, conversation: Conversation | dict, trace: SuggestionTrace | None = None, *,
                on_draft: DraftFn | None = None, on_progress: ProgressFn | None = None,
                cancel: threading.Event | None = None) -> Suggestion:
        """The suggestion for a conversation. When the model will word the reply, `on_draft`
        first receives the whole retrieval-only suggestion, at once; the model's draft then
        replaces it only once verified (the return value), never as raw text.
        `on_progress(seconds, characters)` is called while the model works; setting `cancel`
        stops it and returns the retrieval-only draft. `trace`, if given, is filled with what
        evaluation needs to look inside (the ranked sources, the model's raw reply and its
        grounding before any fallback)."""
        t0 = time.perf_counter()
        trace = trace if trace is not None else SuggestionTrace()
        conversation = validated(conversation)
        timings: dict[str, float] = {}

        languages = self.settings.language
        seen = understand(conversation, self.facts, self._routing_signals(conversation),
                          languages.other_language_margin if languages.other_languages else None)
        # whether the turns ask anything at all is part of understanding them
        act = asks_nothing(conversation, self._small_talk_acts if self.settings.routing.small_talk_classifier
                           else None) if self.settings.routing.small_talk else None
        t1 = time.perf_counter()
        timings["understand"] = (t1 - t0) * 1000
        if act is not None:
            answered = self._nothing_asked(conversation, seen, act, timings, t0)
            if answered is not None:
                return answered

        found = self._retrieve(conversation, seen.language)
        turns = [m.text for m in conversation.messages if m.role == "customer"]
        flags = safety_flags(turns, found.left_out, self.keep_ids, self._instruction_detector(),
                             self.settings.instructions.max_classified_sentences)
        injected = any(f.startswith("prompt_injection:") for f in flags)
        off_topic = found.domain_margin is not None and found.domain_margin < self.settings.retrieval.off_topic_margin
        if off_topic:
            flags.append(f"off_topic: nearer everyday requests than this knowledge base (margin {found.domain_margin:+.3f})")
        # an off-topic request is answered by nobody here: no passages, no questions, no specialist
        covered = found.answers.covered and not off_topic
        flags += self._language_flags(seen)
        t2 = time.perf_counter()
        timings["retrieval"] = (t2 - t1) * 1000
        trace.query = found.query
        trace.retrieved = [h.source_id for h in found.answers.hits]
        trace.retrieval_confidence = found.answers.confidence
        intent = Intent(label=OFF_TOPIC, confidence=found.answers.confidence) if off_topic \
            else self._intent(found, conversation)

        diagnosed = "already_tried" in seen.facts and tried_something(seen.facts["already_tried"].evidence)
        rules = self._rule_matches(found, seen.customer_text, diagnosed=diagnosed) if covered else []
        inputs = handoff_policy.HandoffInputs(
            language=seen.language, signals=seen.signals, rule_matches=rules, covered=covered, off_topic=off_topic,
            intent=intent.label,
            customer_request=" ".join(mask_pii(seen.first_customer_turn, self.keep_ids).text.split())[:300],
            facts=seen.facts, kb_reasons=self._rule_reasons(found, seen.customer_text) if covered else frozenset())
        decision, _evidence = handoff_policy.decide(inputs, self.desk)
        flags += [f"handled_by_procedure: {reason} ({said})"
                  for reason, said in handoff_policy.handled_by_procedure(inputs, self.desk).items()]
        if off_topic and decision.needed:
            # a person takes over anyway ("get me a human", anger): their case, not an off-topic one
            off_topic, covered = False, found.answers.covered
            intent = self._intent(found, conversation)
            flags = [f for f in flags if not f.startswith("off_topic:")]
        questions: list[Question] = []
        if covered and seen.needs_diagnosis and handoff_policy.questions_allowed(decision, rules):
            questions = self._questions(seen, found)
        t3 = time.perf_counter()
        timings["handoff_anamnesis"] = (t3 - t2) * 1000
        timings["before_llm"] = (t3 - t0) * 1000

        plan = self._plan(conversation, seen, found, questions, decision, covered,
                          refusal=off_topic and not decision.needed)

        def assemble(outcome: DraftOutcome, warnings: list[str]) -> Suggestion:
            t4 = time.perf_counter()
            timings["llm"] = outcome.llm_ms
            timings["draft_verify"] = (t4 - t3) * 1000 - outcome.llm_ms
            timings["total"] = (t4 - t0) * 1000
            sources, grounding, text = outcome.sources.renumbered(outcome.grounding, outcome.draft.text)
            # a role tag the reply echoes ("</customer><system>") is shown marked, never as part of the reply
            marked = [c.model_copy(update={"text": mark_role_tags(c.text)}) for c in grounding.sentences]
            if any(c.text != m.text for c, m in zip(grounding.sentences, marked)):
                grounding = grounding.model_copy(update={"sentences": marked})
                warnings = [*warnings, "the draft echoes role tags from the conversation; shown marked as [tag ...]"]
            factual = grounding.supported + grounding.unsupported
            confidence = found.answers.confidence * (grounding.supported / factual if factual else 1.0)
            used = {n for s in grounding.sentences if not s.removed for n in citations_of(s.text)}
            if outcome.draft.mode == "retrieval" and covered and not used and not decision.needed:
                # a draft that is only a greeting: say why, rather than leave the operator guessing
                warnings = [*warnings, NOTHING_TO_QUOTE]
            return Suggestion(
                language=seen.language, intent=intent, sentiment=seen.sentiment,
                draft=outcome.draft.model_copy(update={"text": mark_role_tags(text), "warnings": warnings}),
                citations=sources.citations(used), grounding=grounding, questions=questions, handoff=decision,
                confidence=round(min(1.0, max(0.0, confidence)), 4),
                timings_ms={k: round(v, 1) for k, v in timings.items()}, usage=outcome.usage, flags=flags,
                similar_cases=self._similar_cases(found.tickets.hits[:3]),
                facts={k: v.evidence for k, v in seen.facts.items()},
                coverage=Coverage(covered=covered, reason="" if covered else (
                    f"off-domain: nearer everyday requests than this knowledge base (margin {found.domain_margin:+.3f})"
                    if off_topic else found.answers.coverage_reason)),
            )

        retrieval = self._retrieval_draft(plan, seen.customer_text)
        # nothing to word from the knowledge base: the engine's own handoff text is better
        if self.chat is None or not plan.covered:
            return assemble(retrieval, [])
        if on_draft is not None:
            on_draft(assemble(retrieval, []))
        worded, warnings, spent, llm_ms = self._model_draft(plan, conversation, seen.customer_text, trace, cancel,
                                                            on_progress, injected=injected)
        # the tokens and time a discarded model draft cost are still reported
        return assemble(worded or replace(retrieval, usage=spent, llm_ms=llm_ms), warnings)

    # -- the stages ----------------------------------------------------------------------
    def _small_talk_acts(self, texts: list[str]) -> list[str | None]:
        """The small-talk classifier's act for each turn (trained on first use, then cached);
        None for a turn in a language the embedder does not know."""
        known = [t for t in texts if self.index.embedding.knows(detect_language(t))]
        if not known:
            return [None] * len(texts)
        if self._small_talk is None:
            from copilot.small_talk.classifier import SmallTalkClassifier

            self._small_talk = SmallTalkClassifier.load_or_train(
                self.index.embedding.embeddings.embed_documents, self.index.embedding.model_id,
                self.settings.cache_dir).with_embedder(self.index.embedding.customer.embed_documents)
        judged = dict(zip(known, self._small_talk.acts(known)))
        return [judged.get(t) for t in texts]

    def _nothing_asked(self, conversation: Conversation, seen: Understanding, act: str,
                       timings: dict[str, float], t0: float) -> Suggestion | None:
        """The customer's pending turns ask nothing (a greeting, thanks, a goodbye): the desk's
        reply, without a search, a question or a specialist. None when what they said before
        still brings a person in ("get me a human", anger): the usual flow handles that."""
        inputs = handoff_policy.HandoffInputs(
            language=seen.language, signals=seen.signals, rule_matches=[], covered=True, intent=act,
            customer_request=" ".join(mask_pii(seen.first_customer_turn, self.keep_ids).text.split())[:300],
            facts=seen.facts)
        decision, _evidence = handoff_policy.decide(inputs, self.desk)
        if decision.needed:
            return None
        plan = DraftPlan(
            language=seen.language, answer_hits=[], covered=True, negative=False, questions=[],
            customer_name=greeting_name(conversation.profile.name, self.settings.safety.profile_name_max_chars),
            handoff_promise=None, policy_hit=None, query="", query_vector=None,
            small_talk=(act, self.desk.small_talk_reply(act, seen.language)))
        outcome = self._retrieval_draft(plan, seen.customer_text)
        turns = [m.text for m in conversation.messages if m.role == "customer"]
        flags = safety_flags(turns, [], self.keep_ids, self._instruction_detector(),
                             self.settings.instructions.max_classified_sentences)
        flags.append(f"asks_nothing: {act} (nothing to search for or answer in the customer's last turn)")
        flags += self._language_flags(seen)
        timings["total"] = (time.perf_counter() - t0) * 1000
        return Suggestion(
            language=seen.language, intent=Intent(label=act, confidence=1.0), sentiment=seen.sentiment,
            draft=outcome.draft, grounding=outcome.grounding, handoff=decision, confidence=1.0,
            timings_ms={k: round(v, 1) for k, v in timings.items()}, flags=flags,
            facts={k: v.evidence for k, v in seen.facts.items()})

    def _routing_signals(self, conversation: Conversation) -> list[Signal]:
        """What the routing classifier hears in the customer's turns (a request for a
        person, a legal threat, fraud, a vulnerable customer, frustration), in the
        languages the embedder knows; trained on first use, then cached."""
        if not self.settings.routing.classifier:
            return []
        if self._routing is None:
            from copilot.routing import RoutingClassifier

            self._routing = RoutingClassifier.from_settings(self.settings, embeddings=self.index.embedding)
        turns = [m.text for m in conversation.messages if m.role == "customer"]
        return [Signal(s.label, f"classifier {s.probability:.2f}: \"{' '.join(s.evidence.split())[:80]}\"")
                for s in self._routing.signals(turns, languages=self.index.embedding.languages)]


    def _instruction_detector(self) -> InstructionDetector | None:
        """What tells instructions to the model in customer turns (structure, and the classifier
        over the index's embedder unless configured off)."""
        if not self.settings.instructions.enabled:
            return None
        if self._instructions is None:
            self._instructions = InstructionDetector.for_embedding(
                self.index.embedding, self.settings.cache_dir, self.settings.instructions.classifier, customer=True)
        return self._instructions

    def _without_instructions(self, result: SearchResult, k: int) -> tuple[SearchResult, list[SearchHit]]:
        """The first k hits that carry no instructions to the model (flagged at ingest, or of a
        conclusive shape now), and the flagged ones: a supervisor still finds them by search,
        a draft never quotes them and the model never reads them."""
        flagged = self.index.docstore.flagged_chunk_ids([h.chunk_id for h in result.hits])
        flagged |= {h.chunk_id for h in result.hits if injection_evidence(h.text)}
        kept = [h for h in result.hits if h.chunk_id not in flagged][:k]
        left_out = [h for h in result.hits if h.chunk_id in flagged]
        return result.model_copy(update={"hits": kept, "covered": result.covered and bool(kept)}), left_out

    def _language_flags(self, seen: Understanding) -> list[str]:
        """The customer writes a language the knowledge base has no text in: say so instead of
        mixing languages. English or Russian without articles get no questions or answers from
        it; another language ("de") keeps the draft in English (Russian), and the operator is told."""
        if seen.language not in self._kb_languages():
            return [f"no_knowledge_in_language: {seen.language}"]
        if seen.written_in and seen.written_in not in self._kb_languages():
            return [f"no_knowledge_in_language: {seen.written_in} (the draft is in {seen.language})"]
        return []

    def _kb_languages(self) -> set[str]:
        generation = self.index.docstore.generation()
        if self._languages is None or self._languages[0] != generation:
            self._languages = (generation, self.index.docstore.languages())
        return self._languages[1]

    def _retrieve(self, conversation: Conversation, lang: str) -> Retrieved:
        query = build_query(conversation, self.settings.retrieval.query_max_words)
        qvec = self.retriever.embed_query(query)
        # a few more than shown, so passages left out for carrying instructions leave no gap
        tickets, left_tickets = self._without_instructions(self.retriever.search(
            query, k=8, filters=SearchFilters(lang=lang, doc_type="ticket"), query_vector=qvec), 4)
        # the past tickets found lend the articles their agents answered with
        answers, left_out = self._without_instructions(self.retriever.search(
            query, k=10, filters=SearchFilters(lang=lang, doc_type="article", audience="customer"),
            query_vector=qvec, past_tickets=tickets.hits), 6)
        # no text in the customer's language: nothing to measure the domain against (flagged instead)
        margin = self.domain.margin(qvec, lang) if self.settings.retrieval.off_topic \
            and lang in self._kb_languages() else None
        return Retrieved(query, qvec, answers, tickets, margin, left_out + left_tickets)

    def _intent(self, found: Retrieved, conversation: Conversation) -> Intent:
        top = found.top_docs
        intent = Intent(label=topic_of(top[0]) if found.answers.covered and top else "not_covered",
                        confidence=found.answers.confidence)
        if found.answers.covered and self.settings.llm.refine_intent and self.chat is not None:
            intent = self._refine_intent(intent, conversation.customer_text(), found.answers.hits)
        return intent

    def _rule_matches(self, found: Retrieved, customer_text: str,
                      reasons: frozenset[str] | None = frozenset({"policy_requires_human"}),
                      words_always: bool = False, diagnosed: bool = True) -> list[handoff_policy.RuleMatch]:
        """Rules of the matched articles whose situation the customer describes ("the
        Internet light stays red after a reboot"), for `reasons` (None: any reason). Until the
        diagnosis is done (`diagnosed`: the customer already tried the usual steps; a fault told
        as measurements alone, with no complaint word, is one too) only rules whose condition
        is a request ("The customer asks for an instalment plan") apply, and those only when
        the customer used the request's own words: near in meaning alone, "how long until a
        bank transfer shows" would meet a rule on payment plans. Other reasons come from the
        customer's words, which are more precise, and their rules only say whether the desk
        keeps a case it would otherwise handle itself (`_rule_reasons`). A derived condition
        must also share a good part of its words with the customer's; with `words_always`, a
        front-matter one too.
        A condition that names error codes is not met by a customer who names other codes only
        ("E-101 stays after a reboot" when the TV shows E-203): a code is an identifier, and near in
        meaning says nothing about which one."""
        if found.query_vector is None:
            return []
        import numpy as np

        said = set(tokenize(customer_text))
        by_article = self._article_rules(found.top_docs)
        # the desk's one-digit codes too ("E1", "E2"), as its rules and the matched articles' checks (the
        # code sections of a manual) write them; a customer's "PS5" is no code of theirs. A customer who
        # writes nothing code-shaped names none, and the checks need not be read.
        named: set[str] = set()
        known: set[str] = set()
        if desk_codes(customer_text):
            checks = self._usable_derived(found.top_docs, "check")
            known = {c for listed in by_article.values() for rule in listed for c in desk_codes(rule[1])} | {
                c for listed in checks.values() for check, _ in listed for state in check.states for c in desk_codes(state)}
            named = codes_in(customer_text, known)

        q = np.asarray(found.query_vector, dtype=np.float32)
        q /= np.linalg.norm(q) or 1.0
        matches = []
        for source_id, rules in by_article.items():
            for reason, when, sentence, origin, review, decided in rules:
                if not when or (reasons is not None and reason not in reasons):
                    continue
                # what the customer asks for: the condition's own words when only a person decides there
                request = handoff_policy.requested(when) or (when if decided else "")
                if not (diagnosed or request):
                    continue
                if named and (codes := codes_in(when, known)) and not codes & named:
                    continue
                # a derived rule is also compared as the whole sentence it came from: its condition
                # alone ("по кабелю меньше 70% от тарифа") is shorter than what customers write;
                # a request as what is asked for, without what the desk then does
                sim = max(self._similarity(text, q) for text in dict.fromkeys(
                    [when, sentence] if origin == "derived" else [when, request] if request else [when]))
                if request:
                    worded = _shares_words(request, said)
                else:
                    worded = (origin != "derived" and not words_always) or _shares_words(when, said)
                if sim >= self.settings.handoff.rule_similarity and worded:
                    matches.append(handoff_policy.RuleMatch(source_id, reason, when, round(sim, 3), sentence,
                                                            origin, review))
        return matches

    def _article_rules(self, source_ids: list[str]) -> dict[str, list[tuple]]:
        """source id -> its handoff rules as (reason, condition, sentence, origin, review, decided
        by a person): the front matter's, else the derived rules this desk uses (an article whose
        front matter lists its rules is not second-guessed by derived ones)."""
        derived = self._usable_derived(source_ids, "rule")
        out: dict[str, list[tuple]] = {}
        for source_id in source_ids:
            stored = self.index.docstore.document(source_id)
            written = [(r.reason, r.when, r.when, "front_matter", None, False)
                       for r in (stored.info.handoff if stored else [])]
            out[source_id] = written or [(r.reason, r.condition, r.sentence, "derived", status, r.request)
                                         for r, status in derived.get(source_id, [])]
        return out

    def _rule_reasons(self, found: Retrieved, customer_text: str) -> frozenset[str]:
        """The reasons the matched articles' handoff rules give to a person in this
        conversation: a rule without a condition always, one with a condition when the
        customer describes it: near in meaning and sharing a good part of its words, as the
        embedder alone finds any stolen-card report near "the customer says they never
        reported the card stolen" (about 0.88 in Russian). Such a rule keeps no case of a
        customer who reports a stolen card; the article's procedure answers them. Where the
        condition cannot be judged (no query vector: a language the embedder does not know),
        every rule counts, as a person then decides."""
        rules = self._article_rules(found.top_docs)
        if found.query_vector is None:
            return frozenset(rule[0] for listed in rules.values() for rule in listed)
        always = {rule[0] for listed in rules.values() for rule in listed if not rule[1]}
        return frozenset(always | {m.reason for m in self._rule_matches(found, customer_text, reasons=None, words_always=True)})

    def _similarity(self, text: str, unit_query) -> float:
        """Cosine of a rule text (embedded once, then cached) to the normalised query vector."""
        import numpy as np

        if text not in self._rule_vectors:
            self._rule_vectors[text] = self.index.embedding.embeddings.embed_query(text)
        v = np.asarray(self._rule_vectors[text], dtype=np.float32)
        return float(v @ unit_query / (np.linalg.norm(v) or 1.0))

    def _questions(self, seen: Understanding, found: Retrieved) -> list[Question]:
        """Anamnesis from the matched articles (their front matter, or the checks derived
        from their text) and what agents asked in similar past tickets."""
        docs, open_with = self._routed(list(dict.fromkeys(h.source_id for h in found.answers.hits))
                                       [: self.settings.anamnesis.candidates], seen)
        articles = []
        for source_id in docs:
            stored = self.index.docstore.document(source_id)
            required = stored.info.required_facts if stored else []
            passages = [h.text for h in found.answers.hits if h.source_id == source_id]
            checks = anamnesis.section_first(self._checks_in_order(source_id), passages)
            if required or checks:
                articles.append(anamnesis.ArticleFacts(source_id, required, [(c, s) for c, s, _ in checks],
                                                       {c.id: step for c, _, step in checks if step is not None}))
        articles = articles[: self.settings.anamnesis.articles]
        place: dict[str, int] = {}
        for i, article in enumerate(articles):
            # a path still open beside the one that routes to it shares its place (see _routed)
            place[article.source_id] = place.get(open_with.get(article.source_id, ""), i)
            article.rank = place[article.source_id]
        ticket_questions = [info.agent_questions for hit in found.tickets.hits
                            if (info := self._ticket_info(hit.source_id)) is not None]
        return anamnesis.questions(seen.language, articles, ticket_questions, seen.facts,
                                   limit=self.settings.anamnesis.max_questions, facts=self.facts,
                                   customer_text=seen.customer_text,
                                   basics=self.desk.diagnostic_basics if seen.problem_report else [],
                                   min_derived_score=self.settings.anamnesis.derived_min_score,
                                   replied=seen.replied)

    def _checks_in_order(self, source_id: str, seen: frozenset[str] = frozenset()) -> list:
        """(check, review status, step check) of the usable derived checks of an article in
        diagnostic order, with the entry check of each part of the workflow it sends the agent
        through first ("Follow Path 1 first") spliced in where the step says so: that part's
        first check decides whether its problem is there at all, and its later steps wait for
        the answer. A detour that says what it is for ("to check if mobile data connectivity is
        working") takes that part's steps up to the check named, in place of its entry check.
        The step's own check before the link ("Ask whether the phone has service") gives its
        place to the spliced one, which is how the part followed makes it, and comes with it:
        once the customer has answered it, the detour is moot. A cycle or a label no title
        carries adds nothing."""
        seen = seen | {source_id}
        items = [(r.effective, r.status) for r in self.index.docstore.derived([source_id]) if r.status in self._allowed()]
        out: list = []
        for item, status in sorted(items, key=lambda x: x[0].position):
            if item.kind == "check":
                out.append((item, status, None))
            # a routing link (with a condition) is applied by _routed; two hops at most: a path, the path it needs
            elif item.kind == "link" and not item.condition and len(seen) <= 2:
                target = resolve_link(item.target, self._titles(item.lang), exclude=source_id)
                if target and target not in seen:
                    # the check the step goes there for ("to check if mobile data connectivity is working":
                    # the mobile data check) and the steps before it, else the part's entry check
                    purpose = set(tokenize(link_purpose(item.sentence)))
                    checks = self._checks_in_order(target, seen)
                    plain = [c for c in checks if not c[0].condition]
                    at = next((i for i, c in enumerate(checks) if not c[0].condition and purpose
                               and (topic := set(tokenize(c[0].topic))) and topic <= purpose), None)
                    # with a purpose, the part's steps up to that check (a follow-up among them is asked
                    # once its outcome is met: "if traveling, is roaming on?"); its entry check, which
                    # decides whether the part's own problem is there, is what the purpose replaces
                    spliced = ([c for c in checks[:at + 1] if c is not plain[0]] or [checks[at]]) if at is not None \
                        else plain[:1]
                    entry = spliced[0] if spliced else None
                    step = next((c for c, _, via in reversed(out) if via is None and c.source_id == source_id
                                 and c.heading == item.heading and item.heading), None)
                    if entry and step is not None:
                        # the part followed is how the step's own check is made ("Ask whether the phone
                        # has service. Follow Path 1 first": Path 1's status bar check): one question, not
                        # two for one fact; the step's check still makes the detour moot once answered
                        out = [c for c in out if c[0] is not step]
                    out.extend((c[0], c[1], step) for c in spliced)
        return out

    def _routed(self, docs: list[str], seen: Understanding) -> tuple[list[str], dict[str, str]]:
        """The matched articles with a workflow's routing applied: where an article says "If
        the speed test returns 'no connection', follow Path 2.1" and the customer's words meet
        that condition, or what the source says it means ("mobile data is unavailable": "my
        mobile data isn't working"), the article of Path 2.1 takes its place (its checks are the ones to
        ask; the sibling path merely matched the words). Where they do not (yet) and Path 2.1
        matched too, both paths are open until that check is answered, and which of two
        sibling paths matched the words better says little (they share most of them): Path
        2.1 comes right after the path that routes to it, and shares its place (the second
        value: path -> the path it is open beside), so the questions go to both in turn."""
        sentences = split_sentences(seen.customer_text)
        out: list[str] = []
        routes: dict[str, str] = {}
        for source_id in docs:
            target = source_id
            for r in self.index.docstore.derived([source_id], kind="link"):
                if r.status not in self._allowed() or not r.effective.condition:
                    continue
                t = resolve_link(r.effective.target, self._titles(r.effective.lang), exclude=source_id)
                if t is None:
                    continue
                # "the speed test says no connection", or what that means: "my mobile data isn't working"
                if anamnesis.meets(r.effective.condition, r.effective.lang, sentences, self.facts) \
                        or r.effective.means and says_state(r.effective.means, seen.customer_text):
                    target = t
                    break
                routes.setdefault(source_id, t)
            out.append(target)
        out = list(dict.fromkeys(out))
        open_with: dict[str, str] = {}
        for source_id in list(out):
            sibling = routes.get(source_id)
            if sibling in out and sibling not in open_with and source_id not in open_with \
                    and out.index(sibling) > out.index(source_id):
                out.remove(sibling)
                out.insert(out.index(source_id) + 1, sibling)
                open_with[sibling] = source_id
        return out, open_with

    def _titles(self, lang: str) -> dict[str, str]:
        """source id -> title of the articles in one language (cached per docstore generation)."""
        generation = self.index.docstore.generation()
        if self._title_cache is None or self._title_cache[0] != generation:
            self._title_cache = (generation, {})
        by_lang = self._title_cache[1]
        if lang not in by_lang:
            by_lang[lang] = {d.source_id: d.title for d in self.index.docstore.documents().values()
                             if d.lang == lang and d.doc_type == "article"}
        return by_lang[lang]

    def _allowed(self) -> set[str]:
        return {"approved"} if self.settings.anamnesis.derived == "approved" else {"approved", "pending"}

    def _usable_derived(self, source_ids: list[str], kind: str) -> dict[str, list]:
        """source id -> [(proposal as used, review status)] that this desk uses: approved
        ones (edited wording if edited), and pending ones unless only approved are used."""
        out: dict[str, list] = {}
        for record in self.index.docstore.derived(source_ids, kind=kind):
            if record.status in self._allowed():
                out.setdefault(record.item.source_id, []).append((record.effective, record.status))
        return out

    def _plan(self, conversation: Conversation, seen: Understanding, found: Retrieved, questions: list[Question],
              decision, covered: bool, refusal: bool = False) -> DraftPlan:
        """Everything decided before wording: the answer passages, the questions, the
        promise of the route taken with the passage that backs it, or the refusal of an
        off-topic request."""
        reason = handoff_policy.promised_route(decision)
        promise = self.desk.route(reason).promise.get(seen.language) if reason else None
        policy_hit = self._policy_hit(reason, seen.language) if promise and reason else None
        best_ticket = next((h for h in found.tickets.hits if h.score > 0), None)
        best_info = self._ticket_info(best_ticket.source_id) if best_ticket else None
        return DraftPlan(
            language=seen.language, answer_hits=found.answers.hits,
            # only the name goes into the greeting, and only the name-like start of it, bounded
            customer_name=greeting_name(conversation.profile.name, self.settings.safety.profile_name_max_chars),
            covered=covered, negative=seen.sentiment.label == "negative", questions=questions,
            handoff_promise=promise, policy_hit=policy_hit, query=found.query, query_vector=found.query_vector,
            boost_terms=set(tokenize(best_info.resolution if best_info else "")), entities=self.entities,
            refusal=self.desk.off_topic_reply(seen.language) if refusal else None,
            channel=conversation.channel or self.desk.channel,
            said=said_by_customer((m.role, m.text) for m in conversation.messages),
            steps=self._document_steps(found.answers.hits),
            more_of_best=self._more_of_best(found.answers.hits),
        )

    def _more_of_best(self, hits: list[SearchHit]) -> list[SearchHit]:
        """The best match's document's passages the search did not return (it returns one per
        document first), for its audience, none that carries instructions to the model; they
        carry the best match's score (the sentence choice ranks them below it)."""
        if not hits:
            return []
        top, store = hits[0], self.index.docstore
        returned = {h.chunk_id for h in hits}
        chunks = [c for c in store.chunks_of(top.source_id)
                  if c.chunk_id not in returned and c.audience == top.audience and c.lang == top.lang]
        flagged = store.flagged_chunk_ids([c.chunk_id for c in chunks])
        return [top.model_copy(update={"chunk_id": c.chunk_id, "heading": c.heading, "text": c.text,
                                       "found_by": [], "vector_similarity": None, "lexical_score": None})
                for c in chunks if c.chunk_id not in flagged and not injection_evidence(c.text)]

    def _document_steps(self, hits: list[SearchHit]) -> tuple[StepDefinition, ...]:
        """The steps the answer passages' whole articles define by others ("Reboot the box: unplug
        it ..."): the definition is often in another chunk than the sentence that uses the step."""
        store = self.index.docstore
        return step_definitions(c.text for source_id in dict.fromkeys(h.source_id for h in hits)
                                for c in store.chunks_of(source_id))

    def _policy_hit(self, reason: str, lang: str) -> SearchHit | None:
        """The escalation-protocol passage that backs the promise made to the customer; none
        for a route that names no policy to cite."""
        key = (reason, lang)
        if key not in self._policy_hits:
            route = self.desk.route(reason)
            promise = route.promise.get(lang, "")
            hit = None
            if route.policy_query:
                # the passage closest to the promise that states all of its facts backs it
                query = f"{promise} {route.policy_query}".strip()
                hits = self._without_instructions(
                    self.retriever.search(query, k=8, filters=SearchFilters(lang=lang, doc_type="article")), 8)[0].hits
                needed = self.entities(split_sentences(promise)[-1]) if promise else set()
                backing = [h for h in hits if needed <= self.entities(h.text)]
                hit = (backing or hits or [None])[0]
            self._policy_hits[key] = hit
        return self._policy_hits[key]

    def _ticket_info(self, source_id: str) -> TicketInfo | None:
        stored = self.index.docstore.document(source_id)
        return stored.info.ticket if stored else None

    def _similar_cases(self, hits: list[SearchHit]) -> list[SimilarCase]:
        cases = []
        for h in hits:
            info = self._ticket_info(h.source_id)
            cases.append(SimilarCase(source_id=h.source_id, title=h.title, outcome=info.outcome if info else "",
                                     resolution=info.resolution if info else h.text, score=h.score))
        return cases

    def _refine_intent(self, intent: Intent, customer_text: str, hits: list[SearchHit]) -> Intent:
        """The model picks the topic among retrieval's candidates (a schema enum: it cannot
        invent one); on any failure retrieval's topic stands."""
        from typing import Literal

        from pydantic import create_model

        candidates = list(dict.fromkeys(topic_of(h.source_id) for h in hits))[:4]
        if len(candidates) < 2 or self.chat is None:
            return intent
        schema = create_model("Topic", topic=(Literal[tuple(candidates + ["other"])], ...))  # type: ignore[valid-type]
        prompt = load_prompt("classify_intent@v1", self.prompts_dir)
        text = customer_text if self.settings.llm.is_local() else mask_pii(customer_text, self.keep_ids).text
        try:
            result = self.chat.structured(prompt.render(customer=fence("customer", text),
                                                        candidates=", ".join(candidates + ["other"])),
                                          schema, budget_s=min(5.0, self.settings.llm.timeout_s))
        except LLMUnavailableError:
            return intent
        topic = result.value.topic  # type: ignore[attr-defined]
        return intent if topic == "other" else Intent(label=topic, confidence=intent.confidence)

    def _model_draft(self, plan: DraftPlan, conversation: Conversation, customer_text: str,
                     trace: SuggestionTrace, cancel: threading.Event | None,
                     on_progress: ProgressFn | None,
                     injected: bool = False) -> tuple[DraftOutcome | None, list[str], dict[str, int], float]:
        """The model's draft if it delivers a grounded reply in time, else None and the
        warning that says why the retrieval-only draft is shown; with the tokens spent and
        the milliseconds taken either way."""
        warnings: list[str] = []
        spent, llm_ms = {"prompt_tokens": 0, "completion_tokens": 0}, 0.0
        sources = Sources()
        start = time.perf_counter()
        try:
            text, result = llm_draft(plan, sources, conversation, self.chat, self.prompt,
                                     self.settings.llm.context_window, mask=not self.settings.llm.is_local(),
                                     embed=self._embed, keep_ids=self.keep_ids, cancel=cancel,
                                     on_progress=on_progress)
            llm_ms = (time.perf_counter() - start) * 1000
            spent = {"prompt_tokens": result.usage.get("prompt_tokens", 0),
                     "completion_tokens": result.usage.get("completion_tokens", 0)}
            text = mask_pii(text, self.keep_ids).text
            checked, grounding = self.verifier.verify(text, sources.passages(), customer_text,
                                                      engine_statements(plan), policy_statements(plan))
            problem = model_draft_problem(checked, grounding, plan.language, customer_text,
                                          list(sources.passages().values()))
            if problem is None and injected:
                problem = promise_problem(grounding, engine_statements(plan) + policy_statements(plan))
            trace.llm_raw, trace.llm_grounding = text, grounding
            trace.llm_accepted, trace.llm_problem = problem is None, problem
            if problem is None:
                draft = Draft(text=checked, mode="llm", prompt=self.prompt.ref, model=result.model)
                return DraftOutcome(draft, grounding, sources, spent, llm_ms), warnings, spent, llm_ms
            warnings.append(f"LLM draft discarded ({problem}); retrieval-only draft shown")
        except LLMUnavailableError as exc:
            llm_ms = (time.perf_counter() - start) * 1000
            spent = dict(exc.usage)
            trace.llm_accepted, trace.llm_problem = False, str(exc)
            warnings.append(f"LLM unavailable ({scrub(str(exc))}); retrieval-only draft shown")
        except Exception as exc:  # a bug must not take the panel down either
            llm_ms = (time.perf_counter() - start) * 1000
            log.exception("LLM draft failed")
            # a failed model draft, not a case without one: evals count it against the model path
            trace.llm_accepted, trace.llm_problem = False, f"LLM draft failed ({type(exc).__name__}: {scrub(str(exc))})"
            warnings.append(f"LLM draft failed ({type(exc).__name__}); retrieval-only draft shown")
        return None, warnings, spent, llm_ms

    def _retrieval_draft(self, plan: DraftPlan, customer_text: str) -> DraftOutcome:
        """The draft composed from the knowledge base's own sentences, verified."""
        sources = Sources()
        text = retrieval_draft(plan, sources, self._embed)
        checked, grounding = self.verifier.verify(text, sources.passages(), customer_text, engine_statements(plan),
                                                  policy_statements(plan))
        draft = Draft(text=checked, mode="retrieval", prompt=RETRIEVAL_COMPOSER, model="none")
        return DraftOutcome(draft, grounding, sources, {"prompt_tokens": 0, "completion_tokens": 0}, 0.0)

    def _embed(self, texts: list[str]) -> list[list[float]]:
        return self.index.embedding.embeddings.embed_documents(texts)

    def _embed_customer(self, texts: list[str]) -> list[list[float]]:
        """Text that may carry what the customer wrote (a draft's sentences): memory only."""
        return self.index.embedding.customer.embed_documents(texts)

    def close(self) -> None:
        if self.chat is not None:
            self.chat.close()
        self.index.close()


def new_copilot(settings: Settings | None = None, **kwargs) -> Copilot:
    """A copilot for the configured index; starts the local model server if it is the
    configured endpoint and nothing answers there."""
    settings = settings or get_settings()
    if settings.llm.enabled:
        from copilot.local_llm import ensure_local_llm

        try:
            ensure_local_llm(settings.llm)
        except Exception as exc:  # no model: still useful in retrieval-only mode
            log.warning("local model not started: %s", exc)
    return Copilot(settings, **kwargs)


__all__ = ["Copilot", "new_copilot", "build_query", "LLMResult"]
