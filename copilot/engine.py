"""`Copilot.suggest(conversation)`: the data flow of DESIGN.md in one place.

safety -> understand -> retrieve -> handoff -> anamnesis -> draft -> verify -> Suggestion

The engine never raises because of the model: a timeout, an error, junk JSON, a reply in
the wrong language or one that fails grounding all end in a retrieval-only draft with a
warning that says so. Bad input (an invalid conversation) and a missing index are the
caller's to fix and raise typed errors.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from typing import Callable

from pydantic import ValidationError

from copilot import anamnesis, handoff as handoff_policy
from copilot.config import Settings, get_settings
from copilot.draft import DraftPlan, Sources, engine_statements, llm_draft, policy_statements, retrieval_draft
from copilot.errors import BadInputError, LLMUnavailableError
from copilot.facts import given_facts
from knowledge_base.language import detect_language
from copilot.llm import ChatClient, LLMResult
from copilot.prompts import PROMPTS_DIR, load_prompt
from copilot.safety import fence, injection_evidence, mask_pii
from copilot.schema import (Conversation, Draft, Grounding, Intent, SimilarCase, Suggestion)
from copilot.understand import (conversation_language, detect_signals, is_problem_report, needs_diagnosis,
                                 sentiment)
from copilot.verify import Verifier, citations_of, entities, split_sentences, strip_citations
from knowledge_base.analysis import tokenize
from knowledge_base.documents import SearchFilters, SearchHit
from knowledge_base.index import KnowledgeIndex
from knowledge_base.retriever import HybridRetriever

log = logging.getLogger("copilot")

RETRIEVAL_COMPOSER = "retrieval_compose@v1"
PartialFn = Callable[[str], None]


def build_query(conversation: Conversation, max_words: int = 120) -> str:
    """What to search for: the customer's own words, first turn (the problem) first, then
    the facts they added; agent turns would pull in the agent's phrasing instead."""
    turns = [m.text for m in conversation.messages if m.role == "customer"]
    # contract, phone and card numbers identify the customer, not the topic
    text = re.sub(r"\+?\d[\d\s()-]{5,}\d", " ", " ".join(turns))
    words = text.split()
    return " ".join(words[:max_words])


def model_draft_problem(text: str, grounding: Grounding, lang: str, customer_text: str = "") -> str | None:
    """Why a model draft must not be shown, or None. Small models loop, echo the customer
    and mix supported with unsupported claims; any of these is worse than the
    retrieval-only draft, so it is shown instead."""
    if detect_language(text, default=lang) != lang:
        return "reply not in the customer's language"
    words = re.findall(r"\w+", strip_citations(text).lower())
    grams = Counter(tuple(words[i : i + 6]) for i in range(len(words) - 5))
    if any(count > 1 for count in grams.values()):  # a loop, within a sentence or across them
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


def topic_of(source_id: str) -> str:
    """'internet-no-connection-ru' -> 'internet-no-connection'."""
    for suffix in ("-en", "-ru"):
        if source_id.endswith(suffix):
            return source_id[: -len(suffix)]
    return source_id


class Copilot:
    def __init__(self, settings: Settings | None = None, index: KnowledgeIndex | None = None,
                 chat: ChatClient | None = None, prompt: str = "draft_reply@v1", use_llm: bool | None = None,
                 prompts_dir=None):
        self.settings = settings or get_settings()
        prompts_dir = prompts_dir or self.settings.prompts_dir or PROMPTS_DIR
        self.index = index or KnowledgeIndex(self.settings)
        self.retriever = HybridRetriever(self.index)
        self.prompt = load_prompt(prompt, prompts_dir)
        self.use_llm = self.settings.llm.enabled if use_llm is None else use_llm
        self.chat = chat if chat is not None else (ChatClient(self.settings.llm) if self.use_llm else None)
        self.verifier = Verifier(self.settings.verification, embed=self._embed)
        self._policy_hits: dict[tuple[str, str], SearchHit | None] = {}
        self._rule_vectors: dict[str, list[float]] = {}

    # -- helpers -------------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> list[list[float]]:
        return self.index.embedding.embeddings.embed_documents(texts)

    def _policy_hit(self, reason: str, lang: str) -> SearchHit | None:
        """The escalation-protocol passage that backs the promise made to the customer."""
        key = (reason, lang)
        if key not in self._policy_hits:
            route = self.settings.handoff.routes[reason]
            promise = route.promise.get(lang, "")
            # the passage closest to the promise that states all of its facts backs it
            query = f"{promise} {route.policy_query}".strip()
            hits = self.retriever.search(query, k=8, filters=SearchFilters(lang=lang, doc_type="article")).hits
            needed = entities(split_sentences(promise)[-1]) if promise else set()
            backing = [h for h in hits if needed <= entities(h.text)]
            self._policy_hits[key] = (backing or hits or [None])[0]
        return self._policy_hits[key]

    def _rule_matches(self, query_vector: list[float] | None, docs: list[str]) -> list[handoff_policy.RuleMatch]:
        """`policy_requires_human` rules of the matched articles whose situation the customer
        describes ("the Internet light stays red after a reboot"). Called only once the
        diagnosis is done (a problem report where the customer already tried the usual
        steps); other reasons come from the customer's words, which are more precise."""
        if query_vector is None:
            return []
        import numpy as np

        q = np.asarray(query_vector, dtype=np.float32)
        q /= np.linalg.norm(q) or 1.0
        matches = []
        for source_id in docs:
            stored = self.index.docstore.document(source_id)
            for rule in (stored.meta.get("handoff") or []) if stored else []:
                when = rule.get("when") or ""
                if not when or rule.get("reason") != "policy_requires_human":
                    continue
                if when not in self._rule_vectors:
                    self._rule_vectors[when] = self.index.embedding.embeddings.embed_query(when)
                v = np.asarray(self._rule_vectors[when], dtype=np.float32)
                sim = float(v @ q / (np.linalg.norm(v) or 1.0))
                if sim >= self.settings.handoff.rule_similarity:
                    matches.append(handoff_policy.RuleMatch(source_id, rule["reason"], when, round(sim, 3)))
        return matches

    # -- the flow ------------------------------------------------------------------------
    def suggest(self, conversation: Conversation | dict, on_partial: PartialFn | None = None,
                trace: dict | None = None) -> Suggestion:
        """The suggestion for a conversation. `on_partial` receives the draft text as it is
        generated; `trace`, if given, is filled with what evaluation needs to look inside
        (the ranked sources, the model's raw reply and its grounding before any fallback)."""
        t0 = time.perf_counter()
        trace = trace if trace is not None else {}
        if not isinstance(conversation, Conversation):
            try:
                conversation = Conversation.model_validate(conversation)
            except ValidationError as exc:
                e = exc.errors()[0]
                raise BadInputError(f"conversation field '{'.'.join(map(str, e['loc']))}': {e['msg']}") from None
        timings: dict[str, float] = {}

        # understand + safety
        lang = conversation_language(conversation)
        signals = detect_signals(conversation)
        mood = sentiment(signals)
        customer_text = conversation.customer_text()
        flags = []
        injected = injection_evidence(customer_text)
        if injected:
            flags.append(f"prompt_injection: \"{injected}\"")
        pii = mask_pii(customer_text).found
        if pii:
            flags.append("pii: " + ", ".join(f"{k.lower()} x{v}" for k, v in sorted(pii.items())))
        given = given_facts(conversation)
        t1 = time.perf_counter()
        timings["understand"] = (t1 - t0) * 1000

        # retrieve
        query = build_query(conversation)
        qvec = self.retriever.embed_query(query)
        answers, _ = self.retriever.search_with_features(
            query, k=6, filters=SearchFilters(lang=lang, doc_type="article", audience="customer"), query_vector=qvec)
        tickets = self.retriever.search(query, k=4, filters=SearchFilters(lang=lang, doc_type="ticket"),
                                        query_vector=qvec)
        for hit in answers.hits + tickets.hits:  # instructions hidden in knowledge-base text
            kb_injection = injection_evidence(hit.text)
            if kb_injection:
                flags.append(f"prompt_injection_in_source {hit.source_id}: \"{kb_injection}\"")
        t2 = time.perf_counter()
        timings["retrieval"] = (t2 - t1) * 1000
        trace["query"] = query
        trace["retrieved"] = [h.source_id for h in answers.hits]
        trace["retrieval_confidence"] = answers.confidence

        top_docs = list(dict.fromkeys(h.source_id for h in answers.hits))[:2]
        intent = Intent(label=topic_of(top_docs[0]) if answers.covered and top_docs else "not_covered",
                        confidence=answers.confidence)
        if answers.covered and self.settings.llm.refine_intent and self.chat is not None and self.use_llm:
            intent = self._refine_intent(intent, conversation, answers.hits)

        # handoff and anamnesis
        problem = is_problem_report(conversation)
        diagnosed = problem and "already_tried" in given
        rules = self._rule_matches(qvec, top_docs) if answers.covered and diagnosed else []
        first_customer = next(m.text for m in conversation.messages if m.role == "customer")
        decision, _evidence = handoff_policy.decide(handoff_policy.HandoffInputs(
            language=lang, signals=signals, rule_matches=rules, covered=answers.covered,
            intent=intent.label, customer_request=" ".join(mask_pii(first_customer).text.split())[:300],
            facts=given), self.settings.handoff)
        questions = []
        diagnosed_fault = any(m.reason == "policy_requires_human" for m in rules)
        # a person takes over for these; questions now would only delay them
        person_led = set(decision.reasons) & {"fraud_or_security", "legal_or_regulatory_threat", "frustration_or_loop",
                                               "explicit_human_request", "vulnerable_customer", "complaint_compensation"}
        if answers.covered and needs_diagnosis(conversation) and not person_led and not diagnosed_fault:
            articles = []
            for source_id in top_docs:
                stored = self.index.docstore.document(source_id)
                if stored and stored.meta.get("required_facts"):
                    articles.append(anamnesis.ArticleFacts(source_id, stored.meta["required_facts"]))
            ticket_questions = []
            for hit in tickets.hits:
                stored = self.index.docstore.document(hit.source_id)
                if stored and stored.meta.get("ticket"):
                    ticket_questions.append(stored.meta["ticket"].get("agent_questions") or [])
            questions = anamnesis.questions(lang, articles, ticket_questions, given)
        promises: list[tuple[str | None, SearchHit | None]] = []
        queues: set[str] = set()
        for reason in decision.reasons:  # one promise per queue, at most two
            route = self.settings.handoff.routes[reason]
            if route.queue in queues or len(promises) == 2:
                continue
            queues.add(route.queue)
            promises.append((route.promise.get(lang), self._policy_hit(reason, lang)))
        promises += [(None, None)] * (2 - len(promises))
        (promise, policy_hit), (second_promise, second_hit) = promises[0], promises[1]
        t3 = time.perf_counter()
        timings["handoff_anamnesis"] = (t3 - t2) * 1000
        timings["before_llm"] = (t3 - t0) * 1000

        best_ticket = next((h for h in tickets.hits if h.score > 0), None)
        plan = DraftPlan(
            language=lang, customer_name=conversation.profile.name, answer_hits=answers.hits,
            covered=answers.covered, negative=mood.label == "negative", questions=questions,
            handoff_promise=promise, policy_hit=policy_hit, second_promise=second_promise,
            second_policy_hit=second_hit, query=query, query_vector=qvec,
            boost_terms=set(tokenize(best_ticket.text.split("\n")[-2] if best_ticket else "")),
        )

        # draft + verify
        draft, grounding, sources, usage, warnings, llm_ms = self._draft(plan, conversation, on_partial, trace)
        t4 = time.perf_counter()
        timings["llm"] = llm_ms
        timings["draft_verify"] = (t4 - t3) * 1000 - llm_ms
        timings["total"] = (t4 - t0) * 1000

        factual = grounding.supported + grounding.unsupported
        confidence = answers.confidence * (grounding.supported / factual if factual else 1.0)
        used = {n for s in grounding.sentences if not s.removed for n in citations_of(s.text)}
        similar = [SimilarCase(source_id=h.source_id, title=h.title,
                               outcome=self._ticket_outcome(h.source_id), resolution=h.text.split("\n")[-2]
                               if "\n" in h.text else h.text, score=h.score) for h in tickets.hits[:3]]
        return Suggestion(
            language=lang, intent=intent, sentiment=mood, draft=Draft(**draft, warnings=warnings),
            citations=sources.citations(used), grounding=grounding, questions=questions, handoff=decision,
            confidence=round(min(1.0, max(0.0, confidence)), 4),
            timings_ms={k: round(v, 1) for k, v in timings.items()}, usage=usage, flags=flags,
            similar_cases=similar, facts={k: v.evidence for k, v in given.items()},
        )

    def _refine_intent(self, intent: Intent, conversation: Conversation, hits: list[SearchHit]) -> Intent:
        """The model picks the topic among retrieval's candidates (a schema enum: it cannot
        invent one); on any failure retrieval's topic stands."""
        from pydantic import create_model
        from typing import Literal

        candidates = list(dict.fromkeys(topic_of(h.source_id) for h in hits))[:4]
        if len(candidates) < 2:
            return intent
        schema = create_model("Topic", topic=(Literal[tuple(candidates + ["other"])], ...))  # type: ignore[valid-type]
        prompt = load_prompt("classify_intent@v1", self.settings.prompts_dir)
        text = conversation.customer_text()
        if not self.settings.llm.is_local():
            text = mask_pii(text).text
        try:
            result = self.chat.structured(prompt.render(customer=fence("customer", text),  # type: ignore[union-attr]
                                                        candidates=", ".join(candidates + ["other"])),
                                          schema, budget_s=min(5.0, self.settings.llm.timeout_s))
        except LLMUnavailableError:
            return intent
        topic = result.value.topic  # type: ignore[attr-defined]
        return intent if topic == "other" else Intent(label=topic, confidence=intent.confidence)

    def _ticket_outcome(self, source_id: str) -> str:
        stored = self.index.docstore.document(source_id)
        return ((stored.meta.get("ticket") or {}).get("outcome", "")) if stored else ""

    def _draft(self, plan: DraftPlan, conversation: Conversation, on_partial: PartialFn | None, trace: dict):
        """(draft fields, grounding, sources, usage, warnings, llm ms) — LLM first if enabled,
        retrieval-only whenever the model cannot deliver a grounded reply."""
        warnings: list[str] = []
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        llm_ms = 0.0
        conv_text = conversation.customer_text()
        # nothing to word from the knowledge base: the engine's own handoff text is better
        if self.chat is not None and self.use_llm and plan.covered:
            sources = Sources()
            start = time.perf_counter()
            try:
                text, result = llm_draft(plan, sources, conversation, self.chat, self.prompt,
                                         self.settings.llm.context_window, mask=not self.settings.llm.is_local(),
                                         embed=self._embed, on_partial=on_partial)
                llm_ms = (time.perf_counter() - start) * 1000
                usage = {"prompt_tokens": result.usage.get("prompt_tokens", 0),
                         "completion_tokens": result.usage.get("completion_tokens", 0)}
                text = mask_pii(text).text
                checked, grounding = self.verifier.verify(text, sources.passages(), conv_text, engine_statements(plan),
                                                          policy_statements(plan))
                problem = model_draft_problem(checked, grounding, plan.language, conv_text)
                trace.update(llm_raw=text, llm_grounding=grounding, llm_accepted=problem is None,
                             llm_problem=problem)
                if problem is None:
                    draft = {"text": checked, "mode": "llm", "prompt": self.prompt.ref, "model": result.model}
                    return draft, grounding, sources, usage, warnings, llm_ms
                warnings.append(f"LLM draft discarded ({problem}); retrieval-only draft shown")
            except LLMUnavailableError as exc:
                llm_ms = (time.perf_counter() - start) * 1000
                usage = dict(exc.usage)
                trace.update(llm_accepted=False, llm_problem=str(exc))
                warnings.append(f"LLM unavailable ({exc}); retrieval-only draft shown")
            except Exception as exc:  # a bug must not take the panel down either
                llm_ms = (time.perf_counter() - start) * 1000
                log.exception("LLM draft failed")
                warnings.append(f"LLM draft failed ({type(exc).__name__}); retrieval-only draft shown")
        sources = Sources()
        text = retrieval_draft(plan, sources, self._embed)
        checked, grounding = self.verifier.verify(text, sources.passages(), conv_text, engine_statements(plan),
                                                  policy_statements(plan))
        if on_partial is not None:
            on_partial(checked)
        draft = {"text": checked, "mode": "retrieval", "prompt": RETRIEVAL_COMPOSER, "model": "none"}
        return draft, grounding, sources, usage, warnings, llm_ms

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
