"""Claim-level grounding: every sentence of a draft is checked against the passage it cites.

A factual sentence is supported when
  1. it cites a passage that was retrieved for this suggestion (other citations are
     invalid and removed),
  2. every number, amount, date, duration, phone number, link, error code and plan name
     in it appears in that passage (or in the customer's own words),
  3. its negation agrees with the closest sentence of the passage, and
  4. its support score reaches the threshold:
        support = w * lexical + (1 - w) * semantic
     lexical  = share of the sentence's content stems found in the passage,
     semantic = max cosine between the sentence and the passage's sentences (e5),
                rescaled from [0.75, 0.95] to [0, 1].
The weight and threshold are calibrated on labelled (passage, sentence) pairs
(`evals/datasets/grounding_pairs.jsonl`, `copilot eval verifier`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from copilot.config import VerificationSettings
from copilot.number_words import words_to_digits
from copilot.schema import Grounding, SentenceCheck
from copilot.text import (EntityFn, citations_of, entities, has_negation, is_factual, list_leads, split_sentences,
                          strip_citations, table_rows, with_lead)
from knowledge_base.language import detect_language
from knowledge_base.tokenizer import tokenize

EmbedFn = Callable[[list[str]], list[list[float]]]

_CLAUSE = re.compile(r"[;:]|,\s+(?:but|а|но)\s+|\s+—\s+")


# --- the verifier ---------------------------------------------------------------------

@dataclass
class Support:
    score: float
    lexical: float
    semantic: float
    missing: list[str]
    negation_mismatch: bool

    @property
    def contradicts(self) -> bool:
        """A checkable fact is wrong (not merely weakly worded)."""
        return bool(self.missing) or self.negation_mismatch

    def reason(self) -> str:
        if self.missing:
            return "not in the source: " + ", ".join(m.split(":", 1)[1] for m in self.missing)
        if self.negation_mismatch:
            return "negation differs from the source"
        return f"weak support ({self.score:.2f})"


class Verifier:
    def __init__(self, settings: VerificationSettings, embed: EmbedFn | None = None,
                 entities: EntityFn = entities, embed_draft: EmbedFn | None = None):
        self.settings = settings
        self.embed = embed  # the sources' sentences (knowledge-base text: may be cached on disk)
        # a draft's own sentences, which may carry what the customer wrote (a model restates it,
        # a greeting names them): kept off the disk cache when the engine gives a separate path
        self.embed_draft = embed_draft or embed
        self.entities = entities  # with the desk's plan and product names
        self._vectors: dict[str, np.ndarray] = {}

    def _vecs(self, texts: Sequence[str], embed: EmbedFn | None = None) -> np.ndarray:
        embed = embed or self.embed
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing and embed is not None:
            for t, v in zip(missing, embed(missing)):
                vec = np.asarray(v, dtype=np.float32)
                self._vectors[t] = vec / (np.linalg.norm(vec) or 1.0)
            if len(self._vectors) > 20000:  # bounded memory in a long-running app
                self._vectors = dict(list(self._vectors.items())[-10000:])
        return np.stack([self._vectors[t] for t in texts])

    def _unbound(self, sentence_entities: set[str], units: list[str], leads: list[str], rows: list[str]) -> list[str]:
        """Entities that the passage has, but never together: a plan name and "220" both
        appear in a plans table, on different rows. Every entity must share a window of two
        consecutive lines or sentences of the passage (`units`, each with its list lead in
        `leads`, a table row read with its header in `rows`) with the others."""
        if len(sentence_entities) < 2:
            return []
        # a table row stands alone; sentences may carry a fact on into the next one, and a list
        # item into the line that leads the list ("Returned within 30 days:" + "by courier for 300 RUB")
        windows = [self.entities(" ".join(units[i : i + 1 if units[i].lstrip().startswith("|") else i + 2]))
                   for i in range(len(units))]
        windows += [self.entities(f"{lead} {unit}") for lead, unit in zip(leads, units) if lead]
        windows += [self.entities(row) for row in rows if row]  # "First 3 months" names the 3
        if any(sentence_entities <= w for w in windows):
            return []
        best = max(windows, key=lambda w: len(sentence_entities & w))
        return sorted(sentence_entities - best)

    def support(self, sentence: str, passage: str, allowed_extra: str = "") -> Support:
        """How well `passage` supports `sentence` (citations already stripped)."""
        own = self.entities(sentence) - self.entities(allowed_extra)
        missing = sorted(own - self.entities(passage))
        units = split_sentences(passage) or [passage]  # a line each, wrapped paragraphs joined
        leads = list_leads(units)
        rows = table_rows(units)
        if not missing:
            missing = [f"{m} (not with the rest)" for m in self._unbound(own, units, leads, rows)]
        # "fifty" and "50" are the same word to the lexical score too
        s_tokens = set(tokenize(words_to_digits(sentence)))
        p_tokens = set(tokenize(words_to_digits(passage)))
        lexical = len(s_tokens & p_tokens) / len(s_tokens) if s_tokens else 0.0
        p_sentences = [strip_citations(x) for x in units]
        # a list item as drafts quote it, with the line that leads it (its negation, its condition)
        p_sentences += [strip_citations(with_lead(lead, unit)) for lead, unit in zip(leads, units) if lead]
        p_sentences += [row for row in rows if row]  # a table row as drafts quote it
        # clauses too: a draft often restates one half of "A; B" or "A, but B"
        p_sentences += [c.strip() for x in p_sentences for c in _CLAUSE.split(x)
                        if c.strip() and len(c.split()) >= 4 and c.strip() != x]
        semantic_cos = 0.0
        best_sentence = p_sentences[0]
        if self.embed is not None and (lexical < 0.95 or missing):
            own = self._vecs([sentence], self.embed_draft)[0]
            sims = self._vecs(p_sentences) @ own
            semantic_cos = float(sims.max())
            best_sentence = p_sentences[int(sims.argmax())]
        else:
            overlaps = [len(s_tokens & set(tokenize(x))) for x in p_sentences]
            best_sentence = p_sentences[int(np.argmax(overlaps))]
            semantic_cos = 0.95 if lexical >= 0.95 else 0.0
        semantic = min(1.0, max(0.0, (semantic_cos - 0.75) / 0.20))
        w = self.settings.lexical_weight if self.embed is not None or lexical >= 0.95 else 1.0
        score = w * lexical + (1 - w) * semantic
        neg = has_negation(sentence)
        # the negation must agree with the closest sentence or with its closest clause
        mismatch = neg != has_negation(best_sentence) and neg != has_negation(self._closest_clause(s_tokens, best_sentence))
        return Support(round(score, 4), round(lexical, 4), round(semantic, 4), missing, mismatch)

    @staticmethod
    def _closest_clause(tokens: set[str], sentence: str) -> str:
        """The clause of a source sentence that the draft sentence restates: "we refund only
        to the card; we never pay in cash" has a negation in one clause only."""
        clauses = [c for c in _CLAUSE.split(sentence) if c.strip()] or [sentence]
        return max(clauses, key=lambda c: len(tokens & set(tokenize(c))))

    def supported(self, s: Support) -> bool:
        return not s.missing and not s.negation_mismatch and s.score >= self.settings.threshold

    def verify(self, draft: str, passages: dict[int, str], conversation_text: str = "",
               exempt: list[str] | None = None, policy: list[str] | None = None) -> tuple[str, Grounding]:
        """Check every sentence; returns the draft with invalid citations removed (and, in
        strict mode, unsupported sentences dropped) and the per-sentence grounding.
        `exempt` are the engine's own statements (questions, greeting, handoff lead-in):
        they claim nothing from the knowledge base. `policy` are the configured handoff
        promises: worded by the team, not copied, so they are held to their facts: every
        time, deadline and phone number in them must be in the cited escalation passage."""
        exempt_norm = [" ".join(strip_citations(e).lower().split()) for e in exempt or []]
        policy_norm = [" ".join(strip_citations(p).lower().split()) for p in policy or []]
        kept: list[str] = []
        checks: list[SentenceCheck] = []
        for sentence in split_sentences(draft):
            cited = [n for n in citations_of(sentence) if n in passages]
            invalid = [n for n in citations_of(sentence) if n not in passages]
            text = sentence
            for n in invalid:
                text = re.sub(rf"\s*\[{n}\]", "", text)
            plain = strip_citations(text)
            if not plain:
                continue
            norm = " ".join(plain.lower().split())
            if norm and any(norm in e for e in exempt_norm):
                checks.append(SentenceCheck(text=text, supported=True, factual=False, reason="engine statement"))
                kept.append(text)
                continue
            if not is_factual(text):
                checks.append(SentenceCheck(text=text, supported=True, factual=False, reason="no factual claim"))
                kept.append(text)
                continue
            if norm and cited and any(norm in p for p in policy_norm):
                missing = sorted(self.entities(plain) - self.entities("\n".join(passages[n] for n in cited)))
                check = SentenceCheck(
                    text=text, supported=not missing, citation=cited[0], score=1.0 if not missing else 0.0,
                    reason="policy promise, facts checked" if not missing else
                    "not in the source: " + ", ".join(m.split(":", 1)[1] for m in missing))
                contradicts = bool(missing)
            else:
                check, contradicts = self._check(text, plain, cited, passages, conversation_text, invalid)
            # a wrong or unverifiable number, amount, date, phone, link or plan name, or a flipped
            # negation, is never shown: an invented fee is worse than no sentence. Sentences that
            # are only weakly worded against their source are marked for the operator instead.
            if not check.supported and (self.settings.strict or contradicts):
                check.removed = True
            else:
                kept.append(check.text)
            checks.append(check)
        grounding = Grounding(
            supported=sum(c.supported for c in checks if c.factual),
            unsupported=sum(not c.supported and not c.removed for c in checks if c.factual),
            removed=sum(c.removed for c in checks),
            sentences=checks,
        )
        return " ".join(kept), grounding

    def _check(self, text: str, plain: str, cited: list[int], passages: dict[int, str],
               conversation_text: str, invalid: list[int]) -> tuple[SentenceCheck, bool]:
        """The check, and whether the sentence contradicts its source (vs. weak wording)."""
        note = f"invalid citation [{']['.join(map(str, invalid))}] removed; " if invalid else ""
        if cited:
            support = self.support(plain, "\n".join(passages[n] for n in cited), conversation_text)
            ok = self.supported(support)
            return SentenceCheck(text=text, supported=ok, citation=cited[0], score=support.score,
                                 reason=note + ("supported" if ok else support.reason())), support.contradicts
        # No citation: attach one if a retrieved passage clearly supports the sentence.
        best_n, best = None, None
        for n, passage in passages.items():
            s = self.support(plain, passage, conversation_text)
            if best is None or s.score > best.score:
                best_n, best = n, s
        if best is not None and self.supported(best) and best.score >= self.settings.attach_threshold:
            return SentenceCheck(text=f"{plain.rstrip('.!')} [{best_n}].", supported=True, citation=best_n,
                                 score=best.score, reason=note + "citation added"), False
        # a factual sentence that cites nothing and that no passage supports has no source to be weakly
        # worded against: it is invented (a small model's "Вы не получается перезагрузкими поддержки"), never shown
        return SentenceCheck(text=text, supported=False, citation=None, score=best.score if best else 0.0,
                             reason=note + "no citation"), True


# --- the reply's language -----------------------------------------------------------------

# the words every sentence of the language needs; a reply in another language of the same
# alphabet (German or French for English, Ukrainian for Russian) has almost none of them
_FUNCTION_WORDS = {
    "en": set("the a an and or but to of in on at for with from by as is are was were be been will would can could "
              "may must should do does did not no it its this that these those there here you your yours we our us "
              "i my me he she they them their if when after before within until than then so please have has had "
              "any all some what which who how why also only just up out about into more".split()),
    "ru": set("и в во на не что с со по к ко о об от до из за у а но же ли бы ни да нет вы вам вас ваш ваша ваше "
              "ваши вашего мы нам нас наш наша наши я мне меня он она они их его её ее это этот эта эти как так "
              "если или при для после через уже ещё еще можно нужно пожалуйста также только все всё когда чтобы "
              "который которая которые где там тут есть был была было были будет будут".split()),
}
# and the commonest words of neighbouring languages of the same alphabet that the language lacks
_OTHER_WORDS = {
    "en": set("der die das und ist nicht mit sie ihr ihre ihren wir für von zu auf den dem ein eine bitte "
              "le la les et est pour votre vous nous une des du dans avec "
              "el los las y es para su sus por con una del usted que "
              "il di della sono non não com seu sua uma het een van voor uw".split()),
    "ru": set("ще са със във е които ви нашата вашата".split()),
}
_OTHER_LETTERS = {"ru": re.compile(r"[іїєґўІЇЄҐЎ]")}  # Ukrainian, Belarusian
_LANG_WORD = {"en": re.compile(r"[a-zß-ÿ]+(?:'[a-z]+)?"), "ru": re.compile(r"[а-яёіїєґў]+")}
_WRONG_LANGUAGE = "wrong language: the reply is not in the customer's language"


def language_problem(text: str, lang: str, min_words: int = 6) -> str | None:
    """Why a reply is not in the conversation's language, or None. The alphabet decides
    between Russian and English; within one alphabet, a reply with more of a neighbouring
    language's commonest words (or letters) than of its own language's is in another language."""
    plain = strip_citations(re.sub(r"https?://\S+|\S+@\S+", " ", text))
    if detect_language(plain, default=lang) != lang:
        return _WRONG_LANGUAGE
    rx = _LANG_WORD.get(lang)
    if rx is None:
        return None
    letters = _OTHER_LETTERS.get(lang)
    if letters is not None and len(letters.findall(plain)) >= 3:
        return _WRONG_LANGUAGE
    words = rx.findall(plain.lower())
    own = sum(w in _FUNCTION_WORDS[lang] for w in words)
    other = sum(w in _OTHER_WORDS[lang] for w in words)
    if len(words) >= min_words and other >= 2 and other >= own:
        return _WRONG_LANGUAGE
    return None
    if lang == "ru" and len(_OTHER_CYRILLIC.findall(plain)) >= 3:
        return "wrong language: the reply is not in the customer's language"
    words = rx.findall(plain.lower())
    if len(words) >= min_words and sum(w in _FUNCTION_WORDS[lang] for w in words) / len(words) < min_share:
        return "wrong language: the reply is not in the customer's language"
    return None
