"""Anamnesis: the clarifying questions for the facts this kind of problem needs and the
customer has not given yet, at most three, most informative first.

What a problem needs comes from three places, in this order of trust:
  - the matched article's `required_facts` front matter (its order is the diagnostic order);
  - checks derived at ingest from the matched articles' own text (troubleshooting steps,
    workflow branches, "ask the customer for ..." lines), each with its source sentence,
    used while pending review unless the desk accepts approved ones only, never when
    rejected, and never for an article whose front matter already lists its facts;
  - what agents asked in similar past tickets (a question agents keep asking is worth asking);
  - the desk's basics for any reported problem (when it started, what was tried), last, and
    only where no matched article's front matter lists what its problem needs.
A check the text tells the agent to ask, or a workflow's branch, outranks past tickets; a
self-help step written to the customer ("Check your balance") ranks below them, and below
the basics unless it is about a fact of the desk's vocabulary.
Facts the customer already gave, in any turn or in the profile, are never asked again.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_RUSSIAN

from copilot.facts import FACTS, FactDef, GivenFact, facts_asked, says_no
from copilot.schema import Question
from copilot.text import split_sentences
from knowledge_base.derive import DerivedCheck, code_key, codes_in, condition_parts, is_code
from knowledge_base.documents import RequiredFact
from knowledge_base.tokenizer import function_terms, tokenize

MAX_QUESTIONS = 3
WHY_DERIVED = {"en": "The knowledge base checks this first ({source}).",
               "ru": "База знаний сначала проверяет это ({source})."}
WHY_BASICS = {"en": "Asked for any reported problem.", "ru": "Уточняется для любой проблемы."}
WHY_TICKETS = {"en": "Agents asked this in {n} similar past tickets.",
               "ru": "Агенты задавали этот вопрос в {n} похожих обращениях."}


@dataclass
class ArticleFacts:
    """What one matched article says to establish; `rank` is its place among the matches."""

    source_id: str
    required_facts: list[RequiredFact] = field(default_factory=list)
    derived: list[tuple[DerivedCheck, str]] = field(default_factory=list)   # (check, review status)
    # check id -> the step's own check it comes with (a detour "Follow Path 1 first" is moot once
    # the customer answered the step's check)
    unless: dict[str, DerivedCheck] = field(default_factory=dict)
    # its place among the matches (None: its place in the list); a path still open beside the
    # one that routes to it shares that one's place: their checks alternate, that one's first
    rank: int | None = None


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[*_`#>|]", " ", text).split()).lower()


def _found_in(check: DerivedCheck, passages: list[str]) -> int | None:
    """The first of the passages search found that holds the check's sentence, if any."""
    sentence = _plain(check.sentence)[:60]
    return next((i for i, p in enumerate(passages) if sentence and sentence in p), None)


def section_first(checks: list, passages: list[str]) -> list:
    """An article's checks with those in the passages search found it by first, then the rest,
    each group in the source's order: a handbook's Wi-Fi section asks its own checks, not the
    manual's first section's; a passage that holds the whole article changes nothing. A
    workflow (checks spliced in from the parts it sends the agent through first, branches)
    keeps its order, which is the diagnostic order. `checks` are tuples whose first item is
    the check."""
    plain = [_plain(p) for p in passages]
    if not plain or not checks:
        return checks
    own = checks[0][0].source_id
    if any(item[0].source_id != own or item[0].form == "branch" for item in checks):
        return checks  # a workflow (it sends the agent through other parts, it branches): its order holds
    found = [_found_in(item[0], plain) is not None for item in checks]
    return [item for _, item in sorted(zip(found, checks), key=lambda x: not x[0])]


@dataclass
class Candidate:
    key: str
    text: str
    why: str
    score: float
    origin: Literal["front_matter", "derived", "tickets", "basics"]
    source_id: str | None = None
    sentence: str | None = None
    review: str | None = None
    topic: str = ""                                  # a derived check's subject ("mobile data")
    states: list[str] = field(default_factory=list)  # a workflow branch's states ("on", "off")
    options: list[str] = field(default_factory=list)  # the answers its sentence lists ("Buzz 3", "Buzz 5 Pro")


def _slug(topic: str) -> str:
    return re.sub(r"[^\w]+", "_", topic.lower()).strip("_")


def _key_of(text: str, facts: dict[str, FactDef]) -> str | None:
    """The vocabulary's key for a question, when exactly one fact's wording matches it."""
    keys = facts_asked(text, facts)
    return keys[0] if len(keys) == 1 else None


# words that report what the subject reads or is, in the sentence that names it ("the test says no
# connection", "индикатор показывает", "включён"): an answer to any check
_READ = re.compile(r"\b(shows?|showed|says?|said|reads?|displays?|displayed)\b|"
                   r"(?<!\w)(показыва\w*|пишет|написано|включ[её]н\w*|выключ[её]н\w*)(?!\w)", re.I)
# words that report a check or a step already made ("I checked the cable", "rebooted", "смотрела",
# "перезагрузил"): past forms of the verbs of checking, trying and handling equipment, by their
# stems (English -ed, Russian -л/-ла/-ли/-ло after up to two prefixes). Done says nothing of a value.
_DONE = re.compile(
    r"\b(already|ran|did|done|reset|(?:re|un|dis)?(?:check|test|look|tri|start|boot|plugg|connect|insert|install|"
    r"switch|turn|pull|push|clear|replac|swapp|enabl|disabl|updat|verifi|confirm|power[- ]cycl)ed)\b|"
    r"(?<!\w)(уже|(?:пере|по|про|вы|от|под|за|из|в|с|раз){0,2}(?:провер[яи]|смотре|гляде|гляну|пробова|пуска|"
    r"пусти|грузи|гружа|ключа|ключи|ставля|стави|таскива|тащи|нима|сбрасыва|сброси|тестирова|меря|мери|меня|"
    r"мени|дела|чища|чисти)(?:л|ла|ли|ло)(?:сь|ся)?)(?!\w)", re.I)
# whose the act is: "they replaced my box", "it was reset", "мне поменяли приставку" (a plural past
# with no "мы" is the impersonal "they") report what someone else did, not a check the customer made
_NOT_ME_EN = {"they", "he", "she", "it", "was", "were", "been", "being", "be", "is", "are", "got", "gets", "get"}
_ADVERBS_EN = {"already", "just", "also", "even", "all", "both", "then", "finally", "recently", "have", "has", "had"}


def _done(sentence: str) -> bool:
    """The customer reports a check or step they made ("I checked the cable", "смотрела",
    "мы перезагрузили"): a past form of _DONE whose actor is the customer (I/we, or no
    subject in chat English), not someone else (they, he, a passive) or the Russian
    impersonal plural ("поменяли" without "мы")."""
    words = re.findall(r"[\w']+", sentence.lower())
    for m in _DONE.finditer(sentence):
        if m.group(2):  # Russian
            if re.search(r"ли(?:сь)?$", m.group(2), re.I) and "мы" not in words:
                continue
            return True
        before = [w for w in re.findall(r"[\w']+", sentence[:m.start()].lower()) if w not in _ADVERBS_EN]
        if before and before[-1] in _NOT_ME_EN:
            continue
        return True
    return False


# a check's question that asks for a value (which light, what code, the result, a number), not
# whether something is so: the usual tail of a "check X" question ("and tell me what you see")
# aside, a wh-word, a result, or a request to tell the thing itself ("Could you tell me your
# contract number?", "Подскажите номер договора" without "ли")
_CHECK_TAIL = re.compile(r"\s*(?:and tell me what you see|[—–-]\s*что вы видите)\s*\?\s*$", re.I)
_ASKS_VALUE = re.compile(
    r"\b(what|which|when|where|who|whom|whose|how|results?)\b|"
    r"^(?:could|can|would)\s+you\s+(?:please\s+)?(?:tell\s+me|describe|provide|send|share|give|say|read|note)\b"
    r"(?!\s+(?:whether|if)\b)|"
    r"(?<!\w)(как(?:ой|ая|ое|ие|ого|ую|им|их|ом|ими|ов\w*)|сколько|когда|где|кто|кого|куда|откуда|"
    r"результат\w*|видно)(?!\w)|"
    r"^(?:подскажите|скажите|назовите|сообщите|уточните)(?!.*(?<!\w)ли(?!\w))", re.I)


def _asks_value(question: str) -> bool:
    """The check wants a value the customer reads ("Could you look at the router lights and
    tell me what it shows?"), not whether something is so or was done ("Could you check the
    cable in the WAN port ...?", "Проверьте, нет ли аварии ..."): saying "I checked" or
    "смотрела" answers the second kind only."""
    return bool(_ASKS_VALUE.search(_CHECK_TAIL.sub("", question.strip())))


_VALUES = ("on", "off", "enabled", "disabled", "active", "inactive", "включен", "включён", "выключен", "отключен",
           "отключён")


_OBJECTS = {"my", "the", "your", "a", "an", "his", "her", "our", "their", "this", "that", "it", "both", "all", "every",
            "any", "мой", "моём", "моем", "моей", "этом", "этой"}
_FILLERS = {"is", "are", "was", "were", "s", "seems", "currently", "still", "already", "turned", "switched", "set",
            "to", "all", "the", "my", "it", "и", "уже", "сейчас", "у", "меня", "стоит", "был", "была", "было",
            # a reading of the subject: "the speed test says no connection", "тест показывает"
            "says", "said", "shows", "showed", "returns", "returned", "reads", "gives", "gave",
            "показывает", "показал", "пишет", "выдаёт", "выдает"}


def _near(words: list[str], need: set[str], head: tuple[str, ...]) -> bool:
    """A state's head word tied to the subject by nothing but fillers ("roaming is on",
    "turned off roaming", "data roaming is switched on"): "on" in "my data is slow on my
    phone" belongs to the phone."""
    subject = [i for i, w in enumerate(words) if set(tokenize(w)) & need]
    state = [i for i, w in enumerate(words) if w == head[-1] and (len(head) == 1 or (i and words[i - 1] == head[0]))
             and not (i + 1 < len(words) and words[i + 1] in _OBJECTS)]  # "on my phone" is a place, not a state
    for i in subject:
        for j in state:
            a, b = sorted((i, j))
            between = [w for w in words[a + 1:b] if not (set(tokenize(w)) & need) and w not in head]
            if b - a <= 5 and all(w in _FILLERS for w in between):
                return True
    return False


# a yes-no question about what the customer can do ("Can you send an MMS message ...?") and a
# sentence that says whether they can ("I can't send picture messages")
_CAN_QUESTION = re.compile(r"^(?:can|are)\s+you\s+(?:able\s+to\s+)?(?P<verb>[a-z]+)\s+(?P<object>[^?]+)|"
                           r"^(?:можете|получается|удаётся|удается)\s+(?:ли\s+)?(?:вы\s+|у\s+вас\s+)?(?P<verb_ru>\w+)\s+"
                           r"(?P<object_ru>[^?]+)", re.I)
_CAN_SAY = re.compile(r"\b(can'?t|cannot|can not|unable to|not able to|can|could|couldn'?t)\b|"
                      r"(не\s+)?(могу|можем|получается|удаётся|удается)", re.I)


def _can_said(question: str, sentences: list[str]) -> bool:
    """The customer said whether they can do what the question asks: the same verb, with
    "can't"/"unable to"/"не могу" (or "can") and something of the same object."""
    m = _CAN_QUESTION.match(question.strip())
    if not m:
        return False
    verb = set(tokenize(m.group("verb") or m.group("verb_ru") or ""))
    thing = set(tokenize(m.group("object") or m.group("object_ru") or ""))
    for sentence in sentences:
        words = set(tokenize(sentence))
        if verb and verb <= words and thing & words and _CAN_SAY.search(sentence):
            return True
    return False


def _stated(c: "Candidate", sentences: list[str]) -> bool:
    """The customer already gave a derived check's answer: one of their sentences names
    most of its subject and, close to it, one of the branch's states ("roaming is on"), or
    a value ("Data Saver is off"), or a reading ("the speed test says no connection"), or,
    for a check without states that asks whether rather than which, the check made ("I
    checked the cable", "страницу статуса смотрела"); a branch's states are values to give
    (its follow-ups depend on which). Naming the subject alone ("my mobile data is not
    working") does not say whether it is on. A name the question gives ("like Data Saver
    mode") is a subject too."""
    if not c.states and _can_said(c.text, sentences):
        return True
    if any(_names(option, sentence) for option in c.options for sentence in sentences):
        return True  # one of the answers the source lists ("my buzz 5 pro ...")
    if c.states and all(is_code(s) for s in c.states):
        # which code the customer sees: naming any code answers it
        return any(codes_in(sentence, c.states) for sentence in sentences)
    subjects = [set(tokenize(c.topic))] + [set(tokenize(n)) for n in _NAMED.findall(c.text)]
    subjects = [need for need in subjects if need]
    # a state's head word ("on", "off", "missing"; "not traveling"), case and stems aside
    heads = [_head(state) for state in c.states]
    for need in subjects:
        # "traveling" / "not traveling" when the subject is the customer: the states are the subject
        informative = [h for h in heads if h and not (set(tokenize(h[-1])) or {None}) <= need]
        for sentence in sentences:
            if len(need & set(tokenize(sentence))) < max(1, 0.5 * len(need)):
                continue
            if c.states and not informative:
                return True  # the states are the subject itself ("Are you traveling?"): naming it answers it
            words = re.findall(r"\w+", sentence.lower())
            if any(_near(words, need, h) for h in informative or [(v,) for v in _VALUES]):
                return True
            if not c.states and (_READ.search(sentence) or _done(sentence) and not _asks_value(c.text)):
                return True
    return False


def _names(option: str, sentence: str) -> bool:
    """The sentence names the option: its words, stemmed, in a row ("buzz 5 pro"; «на базовом»)."""
    need, words = tokenize(option), tokenize(sentence)
    return bool(need) and any(words[i:i + len(need)] == need for i in range(len(words) - len(need) + 1))


# a multi-word name in a question ("Data Saver", "Wi-Fi Calling"): what it is about
_NAMED = re.compile(r"\b[A-ZА-ЯЁ][\w-]+(?:\s+[A-ZА-ЯЁ][\w-]+)+")


def _head(state: str) -> tuple[str, ...]:
    words = re.findall(r"\w+", state.lower())
    if not words:
        return ()
    return tuple(words[:2]) if words[0] in ("not", "не", "no", "нет") and len(words) > 1 else (words[0],)


def _as_candidate(check: DerivedCheck) -> Candidate:
    return Candidate("", check.question, "", 0.0, "derived", topic=check.topic, states=check.states,
                     options=check.options)


def meets(condition: str, lang: str, sentences: list[str], facts: dict[str, FactDef] = FACTS) -> bool:
    """A branch outcome is met by the customer's words ("I'm traveling" meets "the user is
    traveling"; "the speed test says no connection" meets "speed test returns 'no connection'").
    An outcome that is a yes or a no ("traveling", "not traveling") is met only by the same
    answer; where it is a yes-no fact of the vocabulary, the vocabulary's words for it count
    ("I'm abroad" meets "the user is traveling", "I'm at home" meets "not traveling")."""
    if is_code(condition):  # the section of one code ("E-101"): met when the customer names that code
        return any(code_key(condition) in codes_in(sentence, [condition]) for sentence in sentences)
    parts = condition_parts(condition, lang)
    if not parts:
        return False
    topic, states = parts
    negative = bool(states) and _head(states[0])[:1] in (("not",), ("не",), ("no",), ("нет",))
    key = _key_of(f"{topic} {' '.join(states)}", facts)
    if key is not None and facts[key].no:
        said_no = says_no(" ".join(sentences), facts[key])
        if said_no is not None:
            return said_no == negative
    candidate = Candidate("", "", "", 0.0, "derived", topic=topic, states=states)
    if not _stated(candidate, sentences):
        return False
    need = set(tokenize(topic))
    if any(set(tokenize(_head(state)[-1])) <= need for state in states if _head(state)):
        # the state is the subject itself: "I'm not traveling" names it too, so the answer is its polarity
        return any(_negated_near(sentence, need) == negative for sentence in sentences
                   if need & set(tokenize(sentence)))
    return True


# "not", "n't", "never", «не», «нет» in the three words before the subject: the customer says no
_NEGATION = re.compile(r"^(?:not|never|no|нет|не|ни)$|n't$", re.I)


def _negated_near(sentence: str, need: set[str]) -> bool:
    words = re.findall(r"[\w']+", sentence.lower())
    at = next((i for i, w in enumerate(words) if set(tokenize(w)) & need), None)
    return at is not None and any(_NEGATION.search(w) for w in words[max(0, at - 3):at])


def described(condition: str, sentences: list[str]) -> bool:
    """The customer describes the situation a check's own if-clause names: two thirds of its
    content words (stemmed) in one of their sentences ("my robot won't charge anymore" for "the
    robot still does not charge"; «перестал заряжаться» for «робот всё равно не заряжается»)."""
    need = set(tokenize(condition)) - function_terms()
    if not need:
        return False
    return any(3 * len(need & set(tokenize(s))) >= 2 * len(need) for s in sentences)


def _met(check: DerivedCheck, sentences: list[str], facts: dict[str, FactDef] = FACTS) -> bool:
    return meets(check.condition, check.lang, sentences, facts) or (
        check.condition_from == "sentence" and described(check.condition, sentences))


def candidates(language: str, articles: list[ArticleFacts], ticket_questions: list[list[str]],
               facts: dict[str, FactDef] = FACTS, basics: list[str] = (),
               sentences: list[str] = ()) -> dict[str, Candidate]:
    """fact key -> the best way to ask it, scored by the rank of its source and its place there."""
    out: dict[str, Candidate] = {}

    def offer(c: Candidate) -> None:
        if c.key not in out or c.score > out[c.key].score:
            out[c.key] = c

    for place, article in enumerate(articles):
        rank = place if article.rank is None else article.rank
        for i, fact in enumerate(article.required_facts):
            default = facts.get(fact.fact)
            text = fact.question.get(language) or (default.question.get(language) if default else None)
            if text:
                why = fact.why or (default.why.get(language, "") if default else "")
                # the first article leads; within an article earlier facts matter more
                offer(Candidate(fact.fact, text, why, (1.0 - 0.4 * rank) - 0.08 * i, "front_matter", article.source_id))
        if article.required_facts:
            continue  # its front matter says what to establish
        for i, (check, status) in enumerate(article.derived):
            if check.lang != language or (check.condition and not _met(check, list(sentences), facts)):
                continue
            step = article.unless.get(check.id)
            if step is not None and _stated(_as_candidate(step), list(sentences)):
                continue
            known = _key_of(f"{check.question} {check.topic}", facts)
            key = known or _slug(check.topic)
            if check.form != "step":
                score = (0.98 - 0.4 * rank) - 0.08 * i
            elif known:  # a self-help step about a fact the desk's vocabulary knows; a neighbour's (often another
                # problem's article, matched on shared words) comes after the best match's own, and after the
                # basics unless it is among its first
                score = (0.28 - 0.15 * rank) - 0.03 * min(i, 5)
            else:  # any other self-help step: after the basics
                score = 0.05 - 0.01 * min(i, 4) - 0.01 * rank
            offer(Candidate(key, check.question, WHY_DERIVED.get(language, WHY_DERIVED["en"]).format(
                source=check.source_id), score, "derived", check.source_id, check.sentence, status,
                topic=check.topic, states=check.states, options=check.options))
    asked = Counter(key for questions in ticket_questions
                    for key in {k for q in questions for k in facts_asked(q, facts)})
    for key, count in asked.items():
        if key in out:
            out[key].score += 0.05 * count
        elif count >= 2 and key in facts and facts[key].question.get(language):
            # agents keep asking it though no article lists it
            offer(Candidate(key, facts[key].question[language], WHY_TICKETS.get(language, WHY_TICKETS["en"]).format(
                n=count), 0.3 + 0.05 * count, "tickets"))
    for text, count in _repeated_questions(ticket_questions, facts).items():
        key = _slug(" ".join(tokenize(text)[:4]))
        if key and key not in out:
            offer(Candidate(key, text, WHY_TICKETS.get(language, WHY_TICKETS["en"]).format(n=count),
                            0.3 + 0.05 * count, "tickets"))
    if any(article.required_facts for article in articles):
        basics = ()  # an article's front matter lists what its problem needs: the basics pad nothing
    for i, key in enumerate(basics):
        if key not in out and key in facts and facts[key].question.get(language):
            offer(Candidate(key, facts[key].question[language], WHY_BASICS.get(language, WHY_BASICS["en"]),
                            0.1 - 0.01 * i, "basics"))
    return out


def _repeated_questions(ticket_questions: list[list[str]], facts: dict[str, FactDef]) -> dict[str, int]:
    """Questions outside the vocabulary that agents asked, in close wording, in two or more
    of the similar tickets: wording -> number of tickets."""
    groups: list[tuple[set[str], str, set[int]]] = []
    for t, questions in enumerate(ticket_questions):
        for q in questions:
            if facts_asked(q, facts):
                continue  # counted by its key above
            tokens = set(tokenize(q))
            if len(tokens) < 2:
                continue
            for g_tokens, _, tickets in groups:
                if len(tokens & g_tokens) / len(tokens | g_tokens) >= 0.5:
                    tickets.add(t)
                    break
            else:
                groups.append((tokens, q.strip(), {t}))
    return {text: len(tickets) for _, text, tickets in groups if len(tickets) >= 2}


# the words that frame a question rather than say what it asks ("could you tell me", "подскажите, пожалуйста")
_FRAME = frozenset(t for w in (*STOPWORDS_EN_PLUS, *STOPWORDS_RUSSIAN, "tell", "let", "know", "look", "check", "see",
                               "please", "whether", "could", "would", "подскажите", "скажите", "уточните",
                               "посмотрите", "проверьте", "пожалуйста", "видно") for t in tokenize(w))


def _same_question(a: str, b: str) -> bool:
    """Close wording: at least half of what `a` asks about (its words, the framing aside) is in
    `b`, which may hold several questions of one agent turn."""
    mine = set(tokenize(a)) - _FRAME
    return bool(mine) and len(mine & set(tokenize(b))) >= 0.5 * len(mine)


def _weak(c: Candidate, floor: float) -> bool:
    """A derived check nobody vouched for (pending review) whose score is at most the floor."""
    return c.origin == "derived" and c.review != "approved" and c.score <= floor


def questions(language: str, articles: list[ArticleFacts], ticket_questions: list[list[str]],
              given: dict[str, GivenFact], limit: int = MAX_QUESTIONS, facts: dict[str, FactDef] = FACTS,
              customer_text: str = "", basics: list[str] = (), min_derived_score: float = 0.0,
              replied: list[str] = ()) -> list[Question]:
    """The questions to ask, best first. A derived check pending review that scores no more than
    `min_derived_score` (a self-help step outside the vocabulary, a neighbour's) is not asked:
    it would only fill a slot the likely checks left free (0: every check may be asked).
    `replied`: what agents already asked in this conversation and the customer replied to; a
    question outside the vocabulary asked there ("Is Airplane Mode on?" -> "no") is not asked
    again (a vocabulary fact stays open until the reply carries its value, `answered_facts`)."""
    sentences = split_sentences(customer_text)
    found = candidates(language, articles, ticket_questions, facts, basics, sentences)
    missing = [c for c in found.values() if c.key not in given and not (c.origin == "derived" and _stated(c, sentences))
               and not (min_derived_score and _weak(c, min_derived_score))
               and not (c.key not in facts and any(_same_question(c.text, q) for q in replied))]
    missing.sort(key=lambda c: -c.score)
    return [Question(fact=c.key, text=c.text, why=c.why, origin=c.origin, source_id=c.source_id,
                     sentence=c.sentence, review=c.review) for c in missing[:limit]]
