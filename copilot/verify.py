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
from copilot.schema import Grounding, SentenceCheck
from knowledge_base.analysis import tokenize

EmbedFn = Callable[[list[str]], list[list[float]]]

_CITE = re.compile(r"\s*\[(\d{1,2})\]")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|approx|no|tel|т\.е|т\.д|т\.п|т\.к|ул|д|кв|г|руб|мин|пр|пер|стр|тел|им|др|пн|вт|ср|чт|пт|сб|вс)\.)$", re.I)
# a sentence may end inside emphasis or quotes: "**...started.** The fee"
_SPLIT = re.compile(r"(?<=[.!?…])(?:\*\*|__|[»\"')\]])*\s+|\n+")

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
    "один": 1, "одного": 1, "одна": 1, "одну": 1, "два": 2, "две": 2, "двух": 2, "три": 3, "трёх": 3, "трех": 3,
    "четыре": 4, "четырёх": 4, "четырех": 4, "пять": 5, "пяти": 5, "шесть": 6, "шести": 6, "семь": 7, "семи": 7,
    "восемь": 8, "восьми": 8, "девять": 9, "девяти": 9, "десять": 10, "десяти": 10, "двенадцать": 12,
    "двенадцати": 12, "пятнадцать": 15, "пятнадцати": 15, "двадцать": 20, "двадцати": 20, "тридцать": 30,
    "тридцати": 30, "шестьдесят": 60, "шестидесяти": 60, "девяносто": 90,
}
_NUMBER_WORD_RX = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b", re.I)
_ENTITY_RXS = [
    ("link", re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:example|ru|com|org|net)(?:/[\w/.-]*)?\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)),
    ("phone", re.compile(r"\+7[\s(]*\d{3}[\s)]*\d{3}[\s-]*\d{2}[\s-]*\d{2}")),
    ("code", re.compile(r"\b[EЕ]-\d{3}\b")),
    ("plan", re.compile(r"\bVolna (?:Mobile [SML]\b|Home Combo|Router \w+|Box|Giga|\d+)|\bTV (?:Basic|Max)\b", re.I)),
    ("time", re.compile(r"\b\d{1,2}:\d{2}\b")),
    ("number", re.compile(r"\d+(?:[\s\u00a0\u202f,.]\d{3})*(?:[.,]\d+)?")),
]
_CLAUSE = re.compile(r"[;:]|,\s+(?:but|а|но)\s+|\s+—\s+")
_NEGATION = re.compile(r"\b(not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|without|none|nor|unable)\b|"
                       r"(?<![\w-])(не|нет|нельзя|никогда|ни|без|невозможно)(?![\w-])", re.I)
_NON_FACTUAL = re.compile(
    r"^(hello|hi|good (morning|afternoon|evening)|dear|thank(s| you)|i'?m (so )?sorry|sorry|we apologi[sz]e|i understand|"
    r"i see|i'?m happy to help|happy to help|have a (nice|good|great) day|best regards|kind regards|you'?re welcome|"
    r"здравствуйте|добрый (день|вечер|утро)|привет|спасибо|благодарю|извините|простите|приносим извинения|понимаю|"
    r"сожалеем|рад\w* помочь|хорошего дня|всего доброго|пожалуйста, обращайтесь)\b", re.I)


# --- text helpers ---------------------------------------------------------------------

def split_sentences(text: str) -> list[str]:
    """Sentences, with a citation written after the full stop ("... days. [2]") moved back
    to the sentence it belongs to, and abbreviations ("ул.", "e.g.") not ending one."""
    raw = [p.strip(" -•*\t") for p in _SPLIT.split(text.strip()) if p and p.strip(" -•*\t")]
    out: list[str] = []
    for part in raw:
        lead = re.match(r"^((?:\[\d{1,2}\]\s*)+)(.*)$", part)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group(1).strip()}"
            part = lead.group(2).strip()
            if not part:
                continue
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def citations_of(sentence: str) -> list[int]:
    return [int(n) for n in _CITE.findall(sentence)]


def strip_citations(sentence: str) -> str:
    return re.sub(r"\s+([.!?,;:])", r"\1", _CITE.sub("", sentence)).strip()


def _normalize_numbers(text: str) -> str:
    return _NUMBER_WORD_RX.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), text)


def entities(text: str) -> set[str]:
    """Checkable facts in a text, normalised ("4 990" = "4,990" = "4990"; "десяти" = "10")."""
    text = _normalize_numbers(text)
    found: set[str] = set()
    for kind, rx in _ENTITY_RXS:
        for m in rx.finditer(text):
            value = m.group(0).lower().rstrip(".")
            if kind == "phone":
                value = re.sub(r"\D", "", value)
            elif kind == "number":
                value = re.sub(r"[\s\u00a0\u202f]", "", value)
                value = re.sub(r"(?<=\d)[,.](?=\d{3}\b)", "", value)
            elif kind == "code":
                value = value.replace("е", "e")
            found.add(f"{kind}:{value}")
            text = text.replace(m.group(0), " ")  # a phone's digits are not also numbers
    return found


def is_factual(sentence: str) -> bool:
    """Questions to the customer, greetings, thanks and empathy state no facts."""
    plain = strip_citations(sentence)
    if plain.endswith("?"):
        return False
    if _NON_FACTUAL.match(plain) and not entities(plain):
        return len(tokenize(plain)) > 8  # a long "thank you ..." sentence may still claim something
    return len(tokenize(plain)) >= 2


def has_negation(text: str) -> bool:
    return bool(_NEGATION.search(text))


# --- the verifier ---------------------------------------------------------------------

@dataclass
class Passage:
    n: int
    text: str


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
    def __init__(self, settings: VerificationSettings, embed: EmbedFn | None = None):
        self.settings = settings
        self.embed = embed
        self._vectors: dict[str, np.ndarray] = {}

    def _vecs(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing and self.embed is not None:
            for t, v in zip(missing, self.embed(missing)):
                vec = np.asarray(v, dtype=np.float32)
                self._vectors[t] = vec / (np.linalg.norm(vec) or 1.0)
            if len(self._vectors) > 20000:  # bounded memory in a long-running app
                self._vectors = dict(list(self._vectors.items())[-10000:])
        return np.stack([self._vectors[t] for t in texts])

    @staticmethod
    def _unbound(sentence_entities: set[str], passage: str) -> list[str]:
        """Entities that the passage has, but never together: "TV Basic" and "220" both
        appear in a plans table, on different rows. Every entity must share a window of two
        consecutive lines or sentences of the passage with the others."""
        if len(sentence_entities) < 2:
            return []
        units = [u for line in passage.splitlines() for u in split_sentences(line)] or [passage]
        # a table row stands alone; sentences may carry a fact on into the next one
        windows = [entities(" ".join(units[i : i + 1 if units[i].lstrip().startswith("|") else i + 2]))
                   for i in range(len(units))]
        if any(sentence_entities <= w for w in windows):
            return []
        best = max(windows, key=lambda w: len(sentence_entities & w))
        return sorted(sentence_entities - best)

    def support(self, sentence: str, passage: str, allowed_extra: str = "") -> Support:
        """How well `passage` supports `sentence` (citations already stripped)."""
        own = entities(sentence) - entities(allowed_extra)
        missing = sorted(own - entities(passage))
        if not missing:
            missing = [f"{m} (not with the rest)" for m in self._unbound(own, passage)]
        s_tokens = set(tokenize(sentence))
        p_tokens = set(tokenize(passage))
        lexical = len(s_tokens & p_tokens) / len(s_tokens) if s_tokens else 0.0
        p_sentences = [strip_citations(x) for x in split_sentences(passage)] or [passage]
        # clauses too: a draft often restates one half of "A; B" or "A, but B"
        p_sentences += [c.strip() for x in p_sentences for c in _CLAUSE.split(x)
                        if c.strip() and len(c.split()) >= 4 and c.strip() != x]
        semantic_cos = 0.0
        best_sentence = p_sentences[0]
        if self.embed is not None and (lexical < 0.95 or missing):
            vecs = self._vecs([sentence, *p_sentences])
            sims = vecs[1:] @ vecs[0]
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
                missing = sorted(entities(plain) - entities("\n".join(passages[n] for n in cited)))
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
        # an uncited fact with numbers or names cannot be checked: treated as invented
        return SentenceCheck(text=text, supported=False, citation=None, score=best.score if best else 0.0,
                             reason=note + "no citation"), bool(entities(plain))
