"""What an agent must establish, and when a person must take over, found in the content.

Teams bring help-centre exports, manuals and workflows with no `required_facts` or
`handoff` front matter. Their text still says what to check before prescribing
("Ask the user to check their status bar", "Look at the router lights", "Уточните, с
какого времени нет интернета", the branches "If Airplane Mode is ON / OFF") and when a
person takes over ("Escalate to technical support if ...", "передайте обращение
специалисту, если ...", "только оператор может ..."). Each such sentence becomes a
proposal that keeps its source id and sentence: a check (a fact to establish, with a
question to ask) or a rule (a handoff reason and its condition). Supervisors review them;
front matter and approved items win.

The rules are sentence shapes, not a vocabulary: who is asked (user, customer, клиент),
what they are asked to do (check, look at, run, tell; проверить, назвать, уточнить) and
the condition of a branch. Prescriptions ("turn Airplane Mode off", "перезагрузите
роутер") are not checks and give nothing. Questions are worded in the source's language.
What a customer-facing article asks the reader to give ("Give your contract number, the
service address and ...", "укажите дату и сумму списания") is one request per item; sections
named by codes ("E-101: ...", "E-203: ...") are a decision on which code the customer sees.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from knowledge_base.documents import HandoffReason, SourceDocument
from knowledge_base.states import states_in
from knowledge_base.tokenizer import function_terms, tokenize
from knowledge_base.wrapping import unwrap

DERIVE_VERSION = "54"  # bump when the rules change: stored proposals are derived again

_I = re.I | re.U


class _Proposal(BaseModel):
    """Where a derived item came from: every proposal keeps its source and sentence."""

    id: str
    source_id: str
    lang: str
    position: int = Field(description="Order in the source: a workflow's order is the diagnostic order.")
    sentence: str = Field(description="The source sentence it came from.")
    heading: str = ""


class DerivedCheck(_Proposal):
    """A fact to establish before prescribing, with the question that establishes it."""

    kind: Literal["check"] = "check"
    topic: str = Field(description="What is checked, a short phrase of the source ('status bar', 'router lights').")
    form: Literal["ask", "branch", "step"] = Field(
        "ask", description="ask: the text tells the agent to ask or have the customer check (agent-facing); "
        "branch: a decision point of a workflow; step: a self-help check written to the customer.")
    question: str
    states: list[str] = Field(default_factory=list, description="A branch's states ('ON', 'OFF'): the answer "
                              "is given when the customer names the subject with one of them.")
    condition: str = Field("", description="A follow-up: the branch outcome it is checked under ('the user is "
                           "traveling'); asked only once the customer's words meet it.")
    options: list[str] = Field(default_factory=list, description="The answers the sentence lists ('Ask for the robot "
                               "model: Buzz 3, Buzz 5 Pro or Glide W1'): a customer who names one has answered it.")
    condition_from: Literal["branch", "sentence"] = Field(
        "branch", description="branch: the condition is a workflow outcome or a code's section above the check; "
        "sentence: the check's own if-clause ('If the robot still does not charge, ask for the error code'), met "
        "when the customer describes it.")


class DerivedRule(_Proposal):
    """When a person must take over, as the source says it."""

    kind: Literal["rule"] = "rule"
    reason: HandoffReason
    condition: str = Field(description="When the rule applies, in the source's words.")
    request: bool = Field(False, description="The source says only a person decides ('only the billing team decides "
                          "on it'): the condition is something the customer asks for, met once they ask for it in its "
                          "words, with no diagnosis first.")


class DerivedLink(_Proposal):
    """A workflow step that sends the agent through another part of the knowledge base first
    ("Follow Path 1 troubleshooting steps first"): that part's entry check comes at this point."""

    kind: Literal["link"] = "link"
    target: str = Field(description="The label of the part followed, as the source names it ('Path 1').")
    condition: str = Field("", description="A routing step ('If the speed test returns no connection, follow "
                           "Path 2.1'): once the customer's words meet it, that part's checks are the ones to ask. "
                           "Empty: the part is followed first, at this point.")
    means: str = Field("", description="The outcome as the source restates it in plain words ('If the speed test "
                       "returns no connection, mobile data is unavailable'): a customer who says so ('my mobile data "
                       "isn't working') meets the routing step too.")


Derived = DerivedCheck | DerivedRule | DerivedLink


# --- sentences of a document -------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")
_STEP = re.compile(r"^(?:(?:step|шаг|path|этап)\s*[\d.]*\s*[:.)-]|\d+(?:\.\d+)*[.)])\s*", _I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZА-ЯЁ*\"«(])")


def _plain(text: str) -> str:
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # markdown links: keep the words
    return " ".join(text.split())


def units(doc: SourceDocument) -> list[tuple[str, str, bool, bool]]:
    """(sentence, heading, is_heading, nested) in document order; bullets and headings are
    units of their own, paragraphs are split into sentences; `nested`: an indented bullet
    (it belongs to the line above it, usually a condition)."""
    return [u[:4] for u in _units(doc)]


def _units(doc: SourceDocument) -> list[tuple[str, str, bool, bool, bool]]:
    """`units` and, last, whether the unit is (the first sentence of) a bullet."""
    out: list[tuple[str, str, bool, bool, bool]] = []
    heading = ""
    for raw in unwrap(doc.text).splitlines():  # a sentence wrapped over two lines is one unit
        if not raw.strip() or raw.strip().startswith("|"):
            continue
        m = _HEADING.match(raw)
        if m:
            heading = _STEP.sub("", _plain(m.group(2))).strip()
            out.append((heading, heading, True, False, False))
            continue
        bullet = bool(_BULLET.match(raw))
        nested = bool(re.match(r"^\s{2,}", raw)) and bullet
        line = _plain(_BULLET.sub("", raw))
        for i, sentence in enumerate(_SENTENCE_END.split(line)):
            if sentence.strip():
                out.append((sentence.strip(), heading, False, nested, bullet and i == 0))
    return out


# --- checks ------------------------------------------------------------------------------

_LEAD_EN = r"^(?:please\s+|first,?\s+|then,?\s+|also,?\s+)?"
_LEAD_RU = r"^(?:сначала\s+|затем\s+|также\s+)?"
_WHO_EN = r"(?:the\s+|your\s+|a\s+)?(?:user|customer|caller|client|subscriber|account holder|person|them|him|her)(?:'s)?"
_ASK_EN = re.compile(rf"{_LEAD_EN}(?:ask|have|get|request)\s+{_WHO_EN}\s+"
                     rf"(?:to\s+)?(?P<verb>check|verify|confirm|look at|look|run|tell you|tell|describe|provide|send|share|"
                     rf"give|say|read out|read|note|find|test|measure)\b\s*(?P<rest>.*)$", _I)
_ASK_WH_EN = re.compile(rf"{_LEAD_EN}ask\s+(?:{_WHO_EN}\s+)?"
                        rf"(?P<wh>if|whether|what|which|when|where|how|why|who)\b\s*(?P<rest>.*)$", _I)
_ASK_FOR_EN = re.compile(rf"{_LEAD_EN}ask\s+(?:{_WHO_EN}\s+)?for\s+(?P<rest>.*)$", _I)
_CHECK_EN = re.compile(rf"{_LEAD_EN}(?P<verb>check|verify|confirm|find out|make sure|look at)\s+"
                       rf"(?P<rest>.*)$", _I)
_ASK_RU = re.compile(_LEAD_RU + r"(?:попросите|предложите|пусть)\s+(?:клиента|абонента|пользователя|"
                     r"покупателя|заявителя|его|её|ее|их)?\s*(?P<verb>проверить|посмотреть|назвать|сообщить|уточнить|"
                     r"прислать|запустить|сделать замер|сделать|описать|сказать|продиктовать|найти|прочитать|замерить|"
                     r"проверит|посмотрит|назовёт|назовет|сообщит)\b[,:]?\s*(?P<rest>.*)$", _I)
_CLARIFY_RU = re.compile(_LEAD_RU + r"(?:уточните|спросите|узнайте|выясните)"
                         r"(?:\s+(?:у\s+)?(?:клиента|абонента|пользователя|покупателя|заявителя))?[,:]?\s*(?P<rest>.*)$", _I)
_CHECK_RU = re.compile(_LEAD_RU + r"(?P<verb>проверьте|посмотрите|убедитесь)[,:]?\s*(?P<rest>.*)$", _I)

# what is established, not done: a check of an instruction or of the document itself is not asked
_META = re.compile(r"\b(categor\w*|path|step|section|policy|policies|instructions?|this (guide|article|manual)|"
                   r"facing (an? )?[\w -]{0,30}(issue|problem)|категори\w*|раздел\w*|инструкци\w*|эт\w+ стать\w+)\b", _I)
# a list the check introduces or points back to ("Check the following IN ORDER:", "Check eligibility
# requirements listed above"), not a thing to look at
_LIST_REF = re.compile(r"\b(?:the following|these(?: in order)?|(?:listed|shown|described) (?:above|below)|see (?:the )?list|"
                       r"следующ\w+|перечисленн\w+|(?:указанн|описанн)\w+ (?:выше|ниже))(?!\w)", _I)
# the agent's own duties and lookups: nothing to ask the customer
_AGENT_SIDE = re.compile(r"\b(in (the|our) (system|crm|records|database|tools?)|your (tools|system|records)|(?:the |a )[\w -]{0,20}lookup|"
                         r"(?:look|pull|bring) up (?:the )?(?:customer|user|caller|client)'s|"
                         r"the line associated|account details|make sure (that )?you|you (must|should) first|"
                         r"в (системе|crm|базе|карточке))\b|\w_\w|\(\)", _I)
# (`\w_\w` finds an identifier like `user_id`; `\w+_\w+` did too, in time quadratic in a word's length)
# the steps of a procedure that calls one of the agent's tools are the agent's own
_TOOL = re.compile(r"\w_\w|\(\)")  # a tool's name: `close_account_7392`, `get_details()`
# ... unless the step is about the customer ("Confirm the address the customer would like ...") or quotes
# what to ask them ("Check if customer reported it: 'Did you report it lost?'")
_ABOUT_CUSTOMER = re.compile(r"\b(?:customer|user|caller|client)s?\b|клиент|абонент|пользовател|['\"«][^'\"«»]*\?", _I)
# a reference entry ("Check Status Bar - Shows what icons ...") describes an action, it is not one
_DEFINITION = re.compile(r"^\S.{2,60}?\s[-–—]\s[A-ZА-ЯЁ]")


def _you_en(text: str) -> str:
    """Third person of an instruction to the agent -> second person to the customer."""
    rules = [
        # the agent the instruction speaks to is "us" to the customer: "if they want you to transfer ..."
        (r"\b(want|wants|need|needs|would like|expect|expects|allow|allows) you to\b", r"\1 us to"),
        (r"\b(the|a|your) (user|customer|caller|client|subscriber)'s\b", "your"),
        (r"\b(the|a) (user|customer|caller|client|subscriber) (is|was)\b", r"you \3"),
        (r"\b(the|a) (user|customer|caller|client|subscriber) (has)\b", "you have"),
        # "whether the user wants ..." -> "whether you want ...": a verb right after the subject
        (r"(^|\b(?:if|whether|that|when|what|which)\s+)(?:the|a) (?:user|customer|caller|client|subscriber) "
         r"(\w+?(?:ss|sh|ch|x|zz))es\b", r"\1you \2"),
        (r"(^|\b(?:if|whether|that|when|what|which)\s+)(?:the|a) (?:user|customer|caller|client|subscriber) "
         r"(\w+?[^su\W])s\b", r"\1you \2"),
        (r"\b(the|a) (user|customer|caller|client|subscriber)\b", "you"),
        (r"\b(user|customer)'s\b", "your"),
        # a bare "user" is the customer after a verb or a conjunction ("Confirm user is enrolled"), not
        # after a word that qualifies it: "authorized user", "new customer" are other people or kinds
        (r"(^|\b(?:if|whether|that|when|and|or|ask|confirm|check|verify|tell|have|help|let|remind|advise)\s+)"
         r"(?:user|customer)\b", r"\1you"),
        (r"\btheir\b", "your"), (r"\bthemselves\b", "yourself"), (r"\bthey're\b", "you're"),
        (r"\bthey (are|were|have|had|can|could|will|would|do|did|use|need|want)\b", r"you \1"),
        (r"\bthey\b", "you"), (r"\bthem\b", "you"), (r"\bhis or her\b", "your"),
        (r"\byou is\b", "you are"), (r"\byou was\b", "you were"), (r"\byou has\b", "you have"),
    ]
    for pattern, repl in rules:
        text = re.sub(pattern, repl, text, flags=_I)
    return text


_AUX = r"(is|are|was|were|has|have|had|can|could|will|would|does|do|did|should)"


def _yes_no_en(clause: str) -> str:
    """'you are outside your usual area' -> 'Are you outside your usual area?'; a clause
    without a subject + auxiliary to invert becomes 'Could you tell me whether ...?'"""
    clause = clause.strip().rstrip(".:;,")
    m = re.match(rf"^(?P<subj>you|(?:the|your|a|any|an)\s+[\w' -]{{1,40}}?|[A-Z][\w-]*(?:\s+[\w-]+){{0,3}}?)\s+{_AUX}\b\s+(?P<rest>.+)$",
                 clause, _I)
    if m and re.search(r"\s(?:(?:that|which|whom?)\s+)?(?:you|they|we|he|she)$", m.group("subj"), _I):
        # "the address (that) you would like the card mailed to": a thing named by its own clause, to tell
        return f"Could you tell me {clause}?"
    # "the card that was sent is active": that auxiliary is the relative clause's, not the one to invert
    if m and len(m.group("subj").split()) <= 5 and not re.search(r"\s(?:that|which|who)$", m.group("subj"), _I):
        aux, subj, rest = m.group(2), m.group("subj"), m.group("rest")
        if subj.split()[0].lower() in ("the", "your", "a", "any", "an", "you"):
            subj = subj[0].lower() + subj[1:]
        # a participle ("been", "sent", "spent"), not an adjective that ends alike ("sufficient", "current")
        if aux.lower() in ("has", "have", "had") and not re.match(
                r"(?:(?:not|already|never|just|also|yet|been)\s+)*(?:\w+(?:ed|en|wn|ne|lt)|\w{1,4}nt|paid|said|laid|met|got|"
                r"made|kept|left|lost|set|put|found|held|bought|brought|told|sold|heard|won|had|run)\b", rest, _I):
            # "has cellular service" is a verb, not an auxiliary: "Does ... have ...?"
            do = "Did" if aux.lower() == "had" else "Do" if subj.lower() == "you" else "Does"
            return f"{do} {subj} have {rest}?"
        return f"{aux.capitalize()} {subj} {rest}?"
    return f"Could you tell me whether {clause}?"


def _topic(text: str, lang: str) -> str:
    """The thing checked: the words of the object, without articles, pronouns and states."""
    words = re.findall(r"[\w'-]+", text.lower())
    stop = _TOPIC_STOP_RU if lang == "ru" else _TOPIC_STOP_EN
    kept = dict.fromkeys(w for w in words if w not in stop and not w.isdigit())  # "not traveling / traveling"
    return " ".join(list(kept)[:4])


_TOPIC_STOP_EN = set("""a an the your their his her its my our you they them it this that these those if whether what which
when where how why who is are was were be been has have had can could will would does do did should to of for in on
at by with from and or not any some there here check verify confirm look see run tell describe provide send share give
say read note find whole working correctly currently still please also first then""".split())
_TOPIC_STOP_RU = set("""и или а но не ли ваш ваша ваше ваши свой свою клиента клиент клиенту абонента пользователя у в во на с со
по за от до из к для что чтобы как какой какая какие каком какого когда где ли это этот эта эти есть был была были
проверить посмотреть назвать сообщить уточнить прислать запустить описать сказать продиктовать найти его её ее их он
она они вы вам вас пожалуйста сначала затем также""".split())


def _question_en(m: "_Trimmed", pattern: re.Pattern) -> tuple[str, str] | None:
    """(topic, question) for an English check sentence."""
    rest = m.group("rest").strip().rstrip(".:;")
    if not rest or len(rest.split()) > 30:
        return None
    if pattern is _ASK_WH_EN:
        wh = m.group("wh").lower()
        body = _you_en(rest)
        if wh in ("if", "whether"):
            return _topic(rest, "en"), _yes_no_en(body)
        return _topic(rest, "en"), f"Could you tell me {wh} {body}?"
    if pattern is _ASK_FOR_EN:
        body = _you_en(rest)
        # "Ask customer for preferred card design": what they are asked for is theirs
        if not re.match(r"(?:the|a|an|your|their|his|her|its|any|some|all|each|every|this|that|these|those|which|what|"
                        r"how|when|where|why|who|whether|if|my|our|one|two|three|\d)\b", body, _I):
            body = f"your {body}"
        return _topic(rest, "en"), f"Could you tell me {body}?"
    verb = m.group("verb").lower()
    body = _you_en(rest)
    if verb in ("tell", "tell you", "describe", "provide", "send", "share", "give", "say", "read out", "read", "note"):
        return _topic(rest, "en"), f"Could you {verb.replace('tell you', 'tell me')} {body.replace('tell you', 'tell me')}?"
    if verb in ("run", "test", "measure"):
        return _topic(rest, "en"), f"Could you {verb} {body} and tell me the result?"
    if verb in ("look", "look at", "see"):
        target = re.sub(r"^at\s+", "", body)
        return _topic(rest, "en"), f"Could you look at {target} and tell me what it shows?"
    # check / verify / confirm / find out / make sure
    # "Check in your phone's settings that it supports eSIM": where to look, then what to find there
    where = re.match(r"(?P<where>(?:in|on|at|under|via)\s+[^,]{2,60}?)\s+(?:that|whether|if)\s+(?P<state>.+)$", body, _I)
    if where:
        return _topic(rest, "en"), f"Could you check {where.group('where')} whether {where.group('state')}?"
    clause = re.sub(r"^(if|whether|that)\s+", "", body, flags=_I)
    if re.match(r"^(what|which|how|when|where)\b", clause, _I):
        return _topic(clause, "en"), f"Could you check {clause} and tell me?"
    if re.match(r"^(if|whether|that)\s", rest, _I) or re.search(rf"\b{_AUX}\b", clause, _I) and len(clause.split()) > 2:
        return _topic(clause, "en"), _yes_no_en(clause)
    if verb in ("verify", "confirm", "make sure"):
        # a state with "that" left out: "Verify your balance covers the full amount"
        if not re.match(r"\w+ing\b", clause) and not re.search(
                r"\band\s+(?:verify|ensure|check|confirm|save|submit|update|try|correct|generate|obtain)\b", clause, _I) \
                and re.search(r"^\S+(?:\s+\S+){0,5}?(?<!\bto)\s+(?:match(?:es)?|covers?|meets?|exceeds?|equals?|shows?|reflects?|"
                     r"qualif(?:y|ies)|supports?|exists?|works?|appears?|includes?|contains?|posted|arrived|went through)\b",
                     clause, _I):
            return _topic(clause, "en"), f"Could you tell me whether {clause}?"
        # "Verify customer identity", "Confirm the price", "Confirm the action": the agent's act with the
        # customer, not something the customer can look at
        return None
    if re.search(r"\bbefore (?:you|your)\b", clause, _I):
        return None  # "Check every digit before you go on": advice for the next time, nothing to see now
    return _topic(clause, "en"), f"Could you check {clause} and tell me what you see?"


_WHO_RU = r"(?:клиент|абонент|пользователь)"
# a verb of the third person singular -> the second plural, by its ending: "находится" -> "находитесь",
# "видит" -> "видите", "пробовал" -> "пробовали"
_YOU_RU_ENDINGS = [("ится", "итесь"), ("ется", "етесь"), ("ётся", "ётесь"), ("лся", "лись"), ("лась", "лись"),
                   ("ит", "ите"), ("ет", "ете"), ("ёт", "ёте"), ("ла", "ли"), ("л", "ли")]
# after its subject a word is read as a verb only by endings a noun does not have ("интернет",
# "лимит" stay): reflexive, past, a vowel before "ет"
_VERB_AFTER_RU = re.compile(r"(?:[иеё]тся|лся|лась|[аяеиоуы]ла?|[аяеоуию][её]т)$", _I)


def _you_verb_ru(verb: str) -> str | None:
    for end, you in _YOU_RU_ENDINGS:
        if verb.lower().endswith(end) and len(verb) > len(end) + 2:
            return verb[: -len(end)] + you
    return None


def _you_ru(text: str) -> str:
    """Third person of an instruction to the agent -> second person to the customer, in Russian:
    "находится ли клиент в роуминге" -> "находитесь ли вы в роуминге", "телефон клиента" ->
    "телефон у вас", "клиенту пришло" -> "вам пришло". A subject's verb agrees with "вы"
    (the one before it with "ли", or the one right after it)."""
    def before(m: re.Match) -> str:
        verb = _you_verb_ru(m.group(1))
        return f"{verb} ли вы" if verb else m.group(0)

    def after(m: re.Match) -> str:
        verb = _you_verb_ru(m.group(1)) if _VERB_AFTER_RU.search(m.group(1)) else None
        return f"вы {verb}" if verb else f"вы {m.group(1)}"

    text = re.sub(rf"(?<!\w)(\w+) ли {_WHO_RU}(?!\w)", before, text, flags=_I)
    text = re.sub(rf"(?<!\w){_WHO_RU} (\w+)", after, text, flags=_I)
    text = re.sub(rf"(?<!\w){_WHO_RU}(?!\w)", "вы", text, flags=_I)
    text = re.sub(r"(?<!\w)(?:у )?(?:клиента|абонента|пользователя)(?!\w)", "у вас", text, flags=_I)
    text = re.sub(r"(?<!\w)(?:клиенту|абоненту|пользователю)(?!\w)", "вам", text, flags=_I)
    return text


_PREDICATE_RU = frozenset({"VERB", "PRTS", "ADJS", "PRED"})  # a finite verb, a short participle or
# adjective, a predicative ("достаточно", "нужно")


@functools.cache
def _morph():
    import pymorphy3  # the dictionaries ship inside the pymorphy3-dicts-ru wheel

    return pymorphy3.MorphAnalyzer()


def _whether_ru(clause: str) -> str | None:
    """A statement to check as a Russian yes-no question: its predicate first, with «ли»
    ("роутер включён в розетку" -> "включён ли роутер в розетку", "кабель не повреждён" ->
    "не повреждён ли кабель", "у вас нет долга" -> "нет ли у вас долга"), the way a person asks
    it rather than a statement with a question mark. None when the main clause (up to its
    first comma) has no predicate a dictionary recognises, or it already asks with «ли»."""
    words = clause.split()
    if any(w.lower() == "ли" for w in words):
        return None
    for i, word in enumerate(words):
        bare = word.lower().strip("«»\"'()")
        if bare in ("есть", "нет", "достаточно") or (bare.isalpha() and _morph().parse(bare)[0].tag.POS in _PREDICATE_RU):
            if word[-1] in ",;:":
                return None  # a predicate that ends its clause ("включён, и ...") stays as written
            if i and words[i - 1].lower() == "не":  # "не повреждён ли кабель"
                return " ".join(words[i - 1:i + 1] + ["ли"] + words[:i - 1] + words[i + 1:])
            if i and words[i - 1].isalpha() and _morph().parse(words[i - 1].lower())[0].tag.POS == "ADVB":
                # the adverb is what is asked about: "плотно ли вставлен кабель"
                return " ".join([words[i - 1], "ли", word] + words[:i - 1] + words[i + 1:])
            return " ".join([word, "ли"] + words[:i] + words[i + 1:])
        if word[-1] in ",;:":
            return None
    return None


def _question_ru(m: "_Trimmed", pattern: re.Pattern) -> tuple[str, str] | None:
    rest = m.group("rest").strip().rstrip(".:;")
    if not rest or len(rest.split()) > 30:
        return None
    rest = _you_ru(rest)
    if re.search(r"клиент|абонент|пользовател|покупател|заявител", m.group(0), _I):
        # «Спросите клиента, сообщал ли он ...», «есть ли у него ...»: "he" is the customer just named
        rest = re.sub(r"(?<!\w)у (?:него|неё|нее)(?!\w)", "у вас", rest, flags=_I)  # «есть ли у него ...»
        rest = re.sub(r"(?<!\w)(\w+) ли (?:он|она)(?!\w)",
                      lambda w: f"{_you_verb_ru(w.group(1))} ли вы" if _you_verb_ru(w.group(1)) else w.group(0), rest, flags=_I)
    if pattern is _CLARIFY_RU:
        return _topic(rest, "ru"), f"Подскажите, пожалуйста, {rest.rstrip('?')}?"
    verb = m.group("verb").lower()
    if verb in ("назвать", "сообщить", "уточнить", "сказать", "продиктовать", "описать", "назовёт", "назовет", "сообщит"):
        return _topic(rest, "ru"), f"Подскажите, пожалуйста, {rest.rstrip('?')}?"
    if verb in ("запустить", "сделать замер", "сделать", "замерить"):
        return _topic(rest, "ru"), f"Не могли бы вы {verb} {rest} и сообщить результат?"
    if verb in ("посмотреть", "посмотрите", "посмотрит"):
        return _topic(rest, "ru"), f"Посмотрите, пожалуйста, {rest} — что там видно?"
    # «Убедитесь в настройках телефона, что он поддерживает eSIM»: where to look, then what to find there
    where = re.match(r"(?P<where>(?:в|во|на|через|по)\s+[^,]{2,60}),\s*что\s+(?P<state>.+)$", rest, _I)
    if where and verb in ("убедитесь", "проверьте") and _whether_ru(where.group("state")):
        return (_topic(rest, "ru"),
                f"Проверьте, пожалуйста, {where.group('where')}: {_whether_ru(where.group('state'))}?")
    if verb == "убедитесь":
        body = re.sub(r"^что\s+", "", rest, flags=_I)
        return _topic(body, "ru"), f"Подскажите, пожалуйста, {_whether_ru(body) or body}?"
    that = re.match(r"что\s+(?P<state>.+)$", rest, _I)
    whether = _whether_ru(that.group("state")) if that and verb.startswith("провер") else None
    if whether:  # «Проверьте, что кабель вставлен» -> «Проверьте, пожалуйста: вставлен ли кабель?»
        return _topic(rest, "ru"), f"Проверьте, пожалуйста: {whether}?"
    if re.search(r"прежде,?\s+чем|перед\s+тем,?\s+как", rest, _I):
        return None  # «Проверьте каждую цифру, прежде чем продолжить»: advice for the next time
    return _topic(rest, "ru"), f"Проверьте, пожалуйста, {rest} — что вы видите?"


# where a check's sentence goes on to the next instruction: "and" + an imperative with its object
# ("and note it in the summary", "and keep the receipt", "or prepare a plan"; "and contact details" is a noun phrase)
# ("or transfer the balance" may be the customer's choice: after "or", only the agent's own acts)
_THEN = re.compile(r"(?:,\s*|\s+)(?:(?:and|then|and then)\s+(?=(?:note|record|log|write|add|update|mark|call|offer|"
                   r"escalate|transfer|wait|contact|provide|explain|inform|advise|proceed|keep|ask|try|opt|prepare|"
                   r"save|submit|request|review|retry)\s+(?:it|this|that|them|the|a|an|their|your|"
                   r"down|in|for|to|with|out)\b|(?:explain|inform|advise|mention)\s+\w)|or\s+(?=(?:note|record|log|escalate|contact|explain|inform|advise|"
                   r"proceed|prepare)\s+(?:it|this|that|them|the|a|an|their|your|to|with)\b))"
                   r"|(?:,\s*|\s+)(?:и|или|затем|а затем|потом)\s+(?=\w+(?:ите|йте)(?:сь)?(?!\w))", _I)


# where a check's sentence says why it is made: "..., as it may interfere with MMS", "... which
# might affect connection quality", "... to make sure it is overdue", «..., так как ...», «..., чтобы ...»
_WHY_TAIL = re.compile(r"(?:,\s*|\s+)(?:as|since|because)\s+(?:it|this|that|they|these|those)\b"
                       r"|\s+(?:to make sure|to ensure|so that|so as to|in order to)\b"
                       r"|,?\s+which\s+(?:might|may|can|could|would|will|often|usually)\s"
                       r"|,\s*(?:так как|потому что|поскольку|чтобы|чтоб)(?!\w)"
                       r"|,\s*(?:который|которая|которое|которые)\s+(?:может|могут|мешает|мешают|влияет|влияют)(?!\w)", _I)


class _Trimmed:
    """A match whose `rest` stops where an explanation starts ("Check the cable in the WAN
    port: pull it out ...", "... — без повреждений") or says why the check is made
    ("..., as it may interfere with MMS"): the check is what comes before."""

    def __init__(self, m: re.Match):
        self._m = m

    def group(self, name: str) -> str:
        value = self._m.group(name)
        if name == "rest":
            value = _THEN.split(value, maxsplit=1)[0]  # "..., and note it in the summary": a second instruction
            why = _WHY_TAIL.search(value)
            value = value[: why.start()] if why and _names_something(value[: why.start()]) else value
            head = re.split(r"\s*(?::|;|\s[—–]\s)\s*", value, maxsplit=1)[0]
            # the head must name something: "the date" and "дату" do ("Проверьте дату: ..."),
            # "it" does not; a word count would cut English heads and keep whole Russian ones
            value = head if _names_something(head) else value
        return value


def _names_something(text: str) -> bool:
    return any(w not in _TOPIC_STOP_EN and w not in _TOPIC_STOP_RU and not w.isdigit()
               for w in re.findall(r"[\w'-]+", text.lower()))


_CHECKS: list[tuple[str, re.Pattern]] = [
    ("en", _ASK_EN), ("en", _ASK_WH_EN), ("en", _ASK_FOR_EN), ("en", _CHECK_EN),
    ("ru", _ASK_RU), ("ru", _CLARIFY_RU), ("ru", _CHECK_RU),
]


_STEP_PATTERNS = (_CHECK_EN, _CHECK_RU)

# what a customer-facing article asks the reader to give ("tell us the exact address and your
# phone model", "укажите номер договора и дату платежа"): each item is a fact the desk needs
_REQUEST_EN = re.compile(r"\b(?:(?:tell|send|give|show)\s+us|let us know|have ready)\s+|"
                         # a sentence that opens by asking for the reader's details: "Give your contract number,
                         # the service address and ...", "Provide your account number" (a bare "Give the reason
                         # ..." tells the agent what to say)
                         r"^(?:please\s+)?(?P<initial>give|provide|include|state|quote|mention)\s+(?=your\s)|"
                         # "write to us in the chat with the date and amount of the charge"
                         r"\b(?:write|send|message|contact|call|email)\s+(?:to\s+)?us\b(?:[^.;:]|\.(?=\S)){0,80}?\s(?:with|giving|"
                         r"stating|quoting)\s+(?=(?:the|your)\s)", _I)
_REQUEST_RU = re.compile(r"(?<!\w)(?:сообщите|назовите|укажите|напишите|пришлите|продиктуйте|приготовьте|расскажите|"
                         r"указав|с указанием)(?:\s+нам)?[,:]?\s+", _I)
# what a request names that is not a fact of the case ("call us with your questions")
_NOT_A_FACT = re.compile(r"^(?:(?:the|your|any|all)\s+)?(?:questions?|problems?|issues?|requests?|concerns?|feedback|"
                         r"(?:more\s+)?details|what happened|вопрос\w*|проблем\w*|обращени\w*|пожелани\w*|подробност\w*|"
                         r"что (?:случилось|произошло))$", _I)
# a purpose or a reason that ends a request ("..., so we don't ask twice", "чтобы ...")
_PURPOSE_TAIL = re.compile(r"^(?:so|so that|because|since|чтобы|потому|тогда)\b", _I)
# where a request ends: another instruction ("... and call us"), a clause of its own
_NEXT_EN = re.compile(r"(?:,\s*|\s+)(?:and|or|then)\s+(?=(?:call|write|visit|come|go|send|tell|let|attach|"
                      r"include|wait|contact)\b|(?:we|we'll|i|i'll|it|they|you'll|someone|a specialist)\b)|"
                      r"[;:()]|\s[—–]\s|[.!?](?:\s|$)", _I)
_NEXT_RU = re.compile(r"(?:,\s*|\s+)(?:и|или|либо|а|затем)\s+(?=\w+(?:ите|йте)\b|(?:мы|я|вам|вас|специалист)\b)|"
                      r"[;:()]|\s[—–]\s|[.!?](?:\s|$)", _I)
# an object that is a channel, not a fact ("tell us in the chat", "напишите нам в чат")
_CHANNEL = re.compile(r"^(?:in|on|at|by|via|to|through|over|from|about|and|or|в|во|на|по|через|с|со|к|о|об|обо|и|или)\b",
                      _I)
# an item that only adds to the one before it ("адрес полностью, с номером дома")
_WITH = re.compile(r"^(?:with|including|с|со|включая)\s", _I)
# an item that points back ("укажите его в назначении платежа", "only that"), an adverb of how or
# when ("сообщите нам вовремя"), or the desk's own number or address to give out: nothing to ask
_POINTS_BACK = re.compile(r"^(?:(?:only|только)\s+)?(?:it|them|this|that|these|those|его|её|ее|их|это|этот|эта|эту|эти|то)\b"
                          r"|^(?:вовремя|заранее|сразу|срочно|обязательно|подробно|ч[её]тко|in advance|in time|"
                          r"immediately|promptly|right away|as soon as possible)$"
                          r"|\+?\d[\d\s()-]{6,}\d|\b(?:https?://|www\.)|\b[\w-]+\.(?:example|com|ru|org|net)\b", _I)
_QUOTES = {"«": "»", "“": "”", "„": "“"}
# "только то, что нужно отделу", "only that which ...": the clause after it belongs to it
_ANTECEDENT = re.compile(r"(?:(?:only|только)\s+)?(?:то|это|that|those)", _I)


def _quoted(text: str, at: int) -> bool:
    """Whether text[at] sits inside a quotation: an example of what to say ("Good: «... send
    the result»"), not an instruction."""
    before, after = text[:at], text[at:]
    # a sentence that closes a quotation it did not open is that quotation's tail
    return any(before.count(o) > before.count(c) or after.count(c) > after.count(o) for o, c in _QUOTES.items()) \
        or before.count('"') % 2 == 1


# an item that only qualifies the one before it ("время, когда пропала связь")
_RELATIVE = re.compile(r"^(?:(?:by|on|at|to|with|from|in|for|through)\s+(?:which|whom)|"
                       r"(?:по|в|во|на|с|со|к|о|об|для|из|от|у|за|при|через)\s+котор\w+|"
                       r"when|which|that|where|who|whom|whose|so|because|since|если|когда|котор\w+|где|чтобы|"
                       r"как|куда|тогда|потому)\b", _I)


def _shared_complement(items: list[str], lang: str) -> list[str]:
    """"the date and amount of the charge", "дату и сумму списания": a bare noun joined by
    "and" to the next item shares that item's complement ("the date of the charge", "дату
    списания"). In English the sign is the second noun's missing determiner (one "the" for
    both); in Russian, a one-word item before a noun with a verbal-noun genitive ("списания",
    "подключения", "оплаты")."""
    if len(items) < 2:
        return items
    out = list(items)
    for i in range(len(out) - 1):
        first, second = out[i].split(), out[i + 1].split()
        if lang == "en":
            m = re.match(r"^(?!(?:the|your|a|an|their|his|her|its|our|my|any|some|when|which|what|whether|how|where)\b)"
                         r"\w[\w-]*\s+(?P<comp>of\s+.+)$", out[i + 1], _I)
            if m and len(first) == 2 and first[0].lower() in ("the", "your") and " of " not in out[i]:
                out[i] = f"{out[i]} {m.group('comp')}"
                out[i + 1] = f"{first[0]} {out[i + 1]}"
        elif (len(first) == 1 and len(second) == 2 and not _RELATIVE.match(out[i + 1])
              and re.search(r"(?:ния|тия|ты|жа|ки)$", second[1], _I)):
            out[i] = f"{out[i]} {second[1]}"
    return out


def requests_of(sentence: str, lang: str) -> list[tuple[str, str]]:
    """(topic, question) of each thing a sentence asks the reader to tell the desk, in its
    order; [] when it asks for nothing (a channel, "write to us in the chat", is not a fact)."""
    text = sentence.strip().strip("*").strip()
    if text.endswith("?") or _AGENT_SIDE.search(text):
        return []
    text = re.sub(r"\([^)]*\)", "", text)  # "(10 digits, starts with 77)": a hint, not an item
    verb, stop = (_REQUEST_RU, _NEXT_RU) if lang == "ru" else (_REQUEST_EN, _NEXT_EN)
    joiner = r",\s*(?:и\s+)?|\s+и\s+" if lang == "ru" else r",\s*(?:and\s+)?|\s+and\s+"
    out: list[tuple[str, str]] = []
    for m in verb.finditer(text):
        if _quoted(text, m.start()):
            continue
        rest = text[m.end():]
        rest = rest[: n.start()] if (n := stop.search(rest)) else rest
        rest = rest.strip(" ,.")
        if not rest or _CHANNEL.match(rest) or len(rest.split()) > 30 or _META.search(rest):
            continue
        items: list[str] = []
        clause = False  # the last item is (or ends in) a clause: "when the service went down"
        parts = re.split(f"({joiner})", rest)
        for item, sep in zip(parts[::2], [","] + parts[1::2]):
            item = item.strip()
            if _PURPOSE_TAIL.match(item):
                break  # the rest says why, not what
            bare_and = not sep.strip(" ,") or "," not in sep  # "X and Y", not "X, and Y" / "X, Y"
            # "время, когда пропала связь" qualifies the item before; "and which devices" is one of its own
            if items and (_RELATIVE.match(item) or _WITH.match(item) or _ANTECEDENT.fullmatch(items[-1])) \
                    and not re.search(r"\b(and|и)\b", sep):
                items[-1] = f"{items[-1]}, {item}"
                clause = True
            elif items and clause and bare_and and item:
                # a clause goes on past a bare "and": "when the service disappeared and came back",
                # "когда пропала и когда появилась связь" are one item
                items[-1] = f"{items[-1]} {sep.strip()} {item}"
            elif item:
                items.append(item)
                clause = bool(_RELATIVE.match(item))
        items = _shared_complement(items, lang)
        for item in items:
            if _NOT_A_FACT.match(item) or _POINTS_BACK.search(item) or (m.group("initial") if lang == "en" else None) and re.search(
                    r"\s(?:to|into|onto|back to)\s+(?:the|a|an|your|our|us)\b", item, _I):
                continue  # "Give the router to the technician": a thing handed over, not a fact told
            topic = _topic(item, lang)
            if len(topic) >= 4 and len(item.split()) <= 12:
                out.append((topic, f"Подскажите, пожалуйста, {item}?" if lang == "ru" else f"Could you tell me {item}?"))
    return out


# after the colon of an ask, a short list of the possible answers: "A, B or C", «A, B или C»
# (a comma between digits is a decimal one: «2,4 ГГц»)
_OPTION_LIST = re.compile(r"^(?P<before>[^:]+):\s*(?P<items>[^:;!?]+?)\s*(?:[.;!?](?:\s|$)|$)")
_OPTION_SPLIT = re.compile(r"\s*,(?!\d)\s*(?:(?:or|and|или|и|либо)\s+)?|\s+(?:or|and|или|и|либо)\s+", re.I)


def listed_answers(sentence: str) -> list[str]:
    """The answers an ask lists after its colon ("Ask for the robot model: Buzz 3, Buzz 5 Pro
    or Glide W1" -> Buzz 3, Buzz 5 Pro, Glide W1): two to eight short names (capitalised, quoted
    or numbered: a product, a plan, a model), after one thing asked for. Not the parts of an
    answer ("which class they want: name, club, date"), not examples for half of a double ask
    ("when it started and what changed: a new router, ...")."""
    m = _OPTION_LIST.match(sentence.replace("*", "").strip())
    if not m or re.search(r"\b(?:and|и)\b", m.group("before"), re.I):
        return []
    raw = [i.strip() for i in _OPTION_SPLIT.split(m.group("items"))]
    items = [i.strip("\"'«»“”") for i in raw]
    if not 2 <= len(items) <= 8 or any(not i or len(i.split()) > 4 for i in items):
        return []
    if not all(re.match(r"[\"'«“]|[A-ZА-ЯЁ0-9]", r) for r in raw):
        return []
    return items


def check_of(sentence: str, lang: str) -> tuple[str, str, str] | None:
    """(topic, question, form) when the sentence tells the agent (or the reader) to
    establish something, else None."""
    text = sentence.strip().strip("*").strip()
    if text.endswith("?") or _AGENT_SIDE.search(text) or _DEFINITION.match(text):
        return None
    labelled = _LABEL.match(text)
    if labelled:
        # "Check Authorization Holds: Ask the customer if they have any recent holds": the label names
        # the step, its text says what to ask (a check of the agent's own, "Verify ...", says no question)
        told = check_of(labelled.group("body"), lang)
        if told and told[2] == "ask":
            return told
    for pattern_lang, pattern in _CHECKS:
        if pattern_lang != lang:
            continue
        m = pattern.match(text)
        if not m:
            continue
        if _META.search(m.group("rest")) or re.match(r"^если\b", m.group("rest"), _I) \
                or _LIST_REF.search(_Trimmed(m).group("rest")):
            return None
        made = _question_en(_Trimmed(m), pattern) if lang == "en" else _question_ru(_Trimmed(m), pattern)
        question = _tidy(made[1]) if made and made[0] else None
        if question:
            return made[0], question, "step" if pattern in _STEP_PATTERNS else "ask"
        return None
    return None


_LABEL = re.compile(r"^(?P<label>[^:.?!]{3,60}?)\*{0,2}:\*{0,2}\s+(?P<body>\S.*)$")


# a code of letters and digits ("9K2X7M4P1N8Q3R5T6A"): the reference the agent compares with, a secret
_SECRET = re.compile(r"(?<![\w-])(?=[A-ZА-Я0-9]*\d)(?=[A-ZА-Я0-9]*[A-ZА-Я])[A-ZА-Я0-9]{8,}(?![\w-])")


def _tidy(question: str) -> str | None:
    """A question with a template's placeholder left in ("meets $[value not available]") asks
    nothing, nor one that would read out a code the agent checks against ("Verify the code
    exactly matches 9K2X7M4P1N8Q3R5T6A": asking it tells the customer the answer); one cut
    inside a parenthesis ("(required?") ends before it."""
    if re.search(r"\[[^\]]*\]", question) or _SECRET.search(question):
        return None
    body, mark, tail = question.partition("?")
    if body.count("(") > body.count(")"):
        body = body[: body.rfind("(")].rstrip(" ,;:")
    return f"{body}{mark}{tail}" if len(body.split()) >= 2 else None


# --- decision points: the branches of a workflow -------------------------------------------

_BRANCH_EN = re.compile(r"^\s*if\s+(?P<subj>(?:the\s+|your\s+)?[\w' /-]{2,40}?)\s+(?:is|are|shows?(?: as)?|stays?|"
                        r"remains?|returns?|turns?|says)\s+(?P<state>[^:,.;]{1,40}?)\s*[:.,]?\s*$", _I)
_BRANCH_RU = re.compile(r"^\s*если\s+(?P<subj>[\w -]{2,40}?)\s+(?:горит|мигает|светится|показывает|не горит|"
                        r"становится|становятся|стал[аио]?|гаснет|погас\w*|"
                        r"включ[её]н\w*|выключ\w*|стоит|равна|равен|—)\s*(?P<state>[^:,.;]{0,40}?)\s*[:.,]?\s*$", _I)
# where the customer is, with no verb in Russian: "Если клиент за границей:", "Если абонент не в роуминге:"
_BRANCH_WHO_RU = re.compile(rf"^\s*если\s+(?P<subj>{_WHO_RU})\s+(?:сейчас\s+|находится\s+)*"
                            r"(?P<state>(?:не\s+)?(?:в|во|на|за|у)\s+[^:,.;]{1,40}?)\s*[:.,]?\s*$", _I)


# the customer named in the third person: the reader is the agent
# ("the user manual" or "as a customer, you ..." is not that: the customer must be acted on, or a clause's subject)
_AGENT_READER_EN = re.compile(rf"\b(?:ask|tell|have|help|guide|let|inform|remind|advise|instruct)\s+{_WHO_EN}\b|"
                              r"\bthe\s+(?:user|customer|caller)\s+(?:is|has|can|cannot|should|will|says|reports|wants|needs|"
                              r"may|provided|does|did)\b", _I)
_AGENT_READER_RU = re.compile(rf"(?<!\w)(?:попросите|спросите|уточните|сообщите|предложите)\s+(?:у\s+)?(?:клиент|абонент|пользовател)\w*", _I)
# a participle that is the state itself: "Если мобильные данные выключены:"
_BRANCH_STATE_RU = re.compile(r"^\s*если\s+(?P<subj>[\w -]{2,40}?)\s+"
                              r"(?P<state>(?:не\s+)?(?:включ[её]н\w*|выключ[её]н\w*|отключ[её]н\w*))\s*[:.,]?\s*$", _I)


def _branch(text: str, lang: str) -> re.Match | None:
    """A branch outcome's subject and state ("If Airplane Mode is ON", «Если клиент за границей»)."""
    if lang != "ru":
        return _BRANCH_EN.match(text)
    return _BRANCH_STATE_RU.match(text) or _BRANCH_RU.match(text) or _BRANCH_WHO_RU.match(text)


def _the_customer(subj: str, lang: str) -> bool:
    """The subject of a branch is the customer ("the user", «клиент»): its states are the check."""
    return (_you_ru(subj) if lang == "ru" else _you_en(subj)).lower() in ("you", "вы")


def _decisions(sentences: list[tuple[int, str]], lang: str) -> list[tuple[list[int], str, list[str], str]]:
    """(positions, subject, states, first sentence) of decision points: two or more
    conditions on the same subject ("If Airplane Mode is ON:" / "If Airplane Mode is OFF:")."""
    found: dict[str, tuple[list[int], str, list[str], str]] = {}
    for pos, sentence in sentences:
        text = sentence.strip().strip("*")
        m = _branch(text, lang)
        clause = None if m else _IF_CLAUSE.match(text)
        if clause:
            # "If the Internet light turns red, the problem is the line": the outcome is the condition,
            # without what happens meanwhile ("stays green while devices lose the connection")
            cond = re.split(r"\s+(?:while|whereas|although|пока|хотя|а при этом)\s+", clause.group("cond"))[0]
            m = _branch(f"{'если' if lang == 'ru' else 'if'} {cond}", lang)
        if not m:
            continue
        subj = " ".join(m.group("subj").split())
        key = subj.lower().removeprefix("the ").removeprefix("your ")
        if clause and re.match(r"^(?:you|we|they|it|i|вы|мы|они|он|она|оно|я)\b", key):
            continue  # "If you believe ...": a judgement, not a state to read
        # "the Internet light" and, in the next sentence, "Internet": one subject named shorter
        key = next((k for k, v in found.items() if pos - v[0][-1] <= 2 and (set(k.split()) <= set(key.split())
                                                                           or set(key.split()) <= set(k.split()))), key)
        # "If status is PENDING → Card not yet activated": the state ends where the arrow to its outcome starts
        state = " ".join(re.split(r"\s*(?:→|->|=>)", m.group("state"))[0].split())
        if not state or _AGENT_SIDE.search(subj) or re.fullmatch(r"true|false", state, _I):
            continue  # "If pin_locked is TRUE": a field of the agent's tools, not a state the customer sees
        if re.match(r"[«\"']?(?:yes|no|да|нет)\b", state, _I) and (any(_the_customer(" ".join(subj.split()[:n]), lang) for n in (1, 2)) or re.search(
                r"\b(?:answer|reply|says|said)\b|ответ|говорит|сказал", subj, _I)):
            continue  # "If the customer says YES / NO": the answer to the question before, not a new one
        if key in found:
            found[key][0].append(pos)
            found[key][2].append(state)
        else:
            found[key] = ([pos], subj, [state], sentence)
    return [v for v in found.values() if len(v[2]) >= 2]


def branches(sentences: list[tuple[int, str]], lang: str) -> list[tuple[int, str, list[str], str]]:
    """(position, subject, states, first sentence) of the decision points of a workflow."""
    return [(positions[0], subj, states, first) for positions, subj, states, first in _decisions(sentences, lang)]


def condition_parts(condition: str, lang: str) -> tuple[str, list[str]] | None:
    """(topic, [state]) of a branch outcome ("Data Roaming is OFF" -> ("data roaming",
    ["OFF"]); "the user is traveling" -> ("traveling", ["traveling"])), for telling whether
    the customer's words meet it; None when it is not a subject-and-state condition."""
    m = _branch(f"{'если' if lang == 'ru' else 'if'} {condition}", lang)
    if not m:
        return None
    subj, state = " ".join(m.group("subj").split()), " ".join(m.group("state").split())
    return _topic(state if _the_customer(subj, lang) else subj, lang), [state]


def _branch_question(subj: str, states: list[str], lang: str) -> str:
    # ON / OFF / MISSING in a workflow are emphasis, not names
    # "ON but not working", "LOCKED with PIN/PUK": the question asks for the state, not its qualifier
    states = [re.split(r"\s+(?:but|and|with|yet|но|и|с)\s+", s, maxsplit=1)[0] for s in states]
    states = [re.sub(r"\b[A-Z]{2,}\b", lambda w: w.group(0).lower() if len(w.group(0)) > 3 or w.group(0) in ("ON", "OFF")
                     else w.group(0), s) for s in dict.fromkeys(states)]
    plain = [s for s in states if not any(o != s and o.startswith(f"{s} ") for o in states)]
    positive = [s for s in plain if not s.lower().startswith(("not ", "не "))]
    negative = [s for s in plain if s not in positive]
    if len(positive) == 1 and len(negative) == 1 and negative[0].lower().split(maxsplit=1)[-1] == positive[0].lower():
        plain = positive  # "not traveling" / "traveling", in either order: one yes-no question
    options = plain[0] if len(plain) == 1 else ", ".join(plain[:3][:-1]) + (" или " if lang == "ru" else " or ") + plain[:3][-1]
    if lang == "ru":
        if _the_customer(subj, lang):
            return f"Подскажите, пожалуйста, вы сейчас {options}?"
        return f"Подскажите, пожалуйста: {subj} — {options}?"
    subject = _you_en(subj)
    if subject.lower() == "you":
        return f"Are you {options}?"
    if subject.split()[0].lower() not in ("the", "your"):
        subject = f"your {subject}" if subject[0].islower() else subject
    return f"Is {subject} {options}?"


# --- escalation sentences -------------------------------------------------------------------

_HANDOFF_EN = re.compile(
    r"\b(transfer(?:s|red)?|escalat(?:e|es|ed)|hand(?:s|ed)? (?:it |the case |the call |them )?(?:over|off)|"
    r"pass(?:es|ed)? (?:it |the case )?(?:on )?|refer(?:s|red)?|route[sd]?|forward(?:s|ed)?|connect(?:s|ed)?)\b[^.;]{0,60}?"
    # to or with the one who takes over ("to our security team", "with a live agent"), not any person
    # mentioned after the verb ("refer someone to open an account ... the person you refer receives $35")
    r"\b(?:to|with)\s+(?:a |an |the |our |your )?(?:[\w-]+\s+){0,2}?(human|person|live agent|human agent|agent|specialist|"
    r"supervisor|manager|second line|2nd line|tier 2|technical support|tech support|support team|team|department|engineer)\b", _I)
# the case itself handed to a team named by its own name ("escalate to Billing", "forward the ticket to
# Logistics", «передайте обращение в биллинг»): the object says it is the case, whoever takes it
# (a team, not someone of the customer's, "pass the request to a friend", nor an address the customer
# writes to: "направьте претензию на complaints@...")
_TEAM_EN = r"(?!(?:a|an|someone|somebody|anyone|another|other|your|his|her|their|my|friend|relative)\b|[\w.-]*@)([\w-]+)"
_CASE_HANDED_EN = (
    re.compile(r"\b(transfer(?:s|red)?|escalat(?:e|es|ed)|pass(?:es|ed)?|refer(?:s|red)?|route[sd]?|forward(?:s|ed)?|"
               r"hand(?:s|ed)?)\s+(?:(?:the|this|that|such)\s+)?(?:case|ticket|request|conversation|chat|"
               rf"call|enquiry|inquiry|query)s?\s+(?:on\s+|over\s+)?to\s+(?:the\s+|our\s+)?{_TEAM_EN}", _I),
    re.compile(rf"\b(escalat(?:e|es|ed))\s+(?:it\s+|them\s+)?to\s+(?:the\s+|our\s+)?{_TEAM_EN}", _I))
_CASE_HANDED_RU = re.compile(
    r"(переда(?:й|йте|ть|[её]тся|ется|ют|ст|дут|дим|[её]м|[её]т)|переведите|перевести|перевед[её]м|переведут|"
    r"направьте|направить|направим|направля\w*|эскалир\w*)\s+(?:(?:эт|так|его|её|такое)\w*\s+)?"
    r"(?:обращени\w*|запрос\w*|заявк\w*|дело|тикет\w*|диалог\w*|чат\w*|разговор\w*|звон\w*)\s+"
    r"(?:в|во|на|к)\s+(?!(?:друг|трет|родствен|знаком|сосед|себ|мен|него|неё|нее)\w*|[\w.-]*@)([\w-]+)", _I)


# to escalate is to hand the case up, whoever takes it: "or escalate internally if the condition persists",
# "escalate with logs if ...", «эскалируйте, если ...»; as an instruction or what is done with the case,
# not "if the dispute escalates" (grows)
_ESCALATE_EN = re.compile(r"(?:(?:^|[,;:]\s*|\b(?:or|and|then|must|should|please|to|will|we|always|immediately)\s+)(?=escalate\b)|"
                          r"\b(?:is|are|be|been|gets?)\s+(?=escalated\b))(escalated?)\b", _I)
_ESCALATE_RU = re.compile(r"(эскалируйте|эскалировать|эскалируем|эскалируется|эскалирует|эскалируют)(?!\w)", _I)


def _handoff(text: str, lang: str) -> re.Match | None:
    """Where a sentence says the case goes to a person: group 1 is the verb, the last group
    who takes it (the verb itself when no one is named)."""
    if lang == "ru":
        return _HANDOFF_RU.search(text) or _CASE_HANDED_RU.search(text) or _ESCALATE_RU.search(text)
    return _HANDOFF_EN.search(text) or next((m for rx in _CASE_HANDED_EN if (m := rx.search(text))), None) \
        or _ESCALATE_EN.search(text)


# only a person decides: "only a senior specialist can approve a return", "only the billing team
# decides on it", "is decided only by the complaints team"; what the customer asks for is then theirs
_PERSON_EN = (r"(?:a |an |the |our )?(?:[\w-]+ ){0,2}?(human|person|agent|specialist|supervisor|manager|staff member|"
              r"operator|team|department)s?\b")
_ONLY_EN = re.compile(rf"\bonly {_PERSON_EN}[^.;]{{0,20}}?\b(can|may|is allowed to|are allowed to|decides?|approves?)\b"
                      r"\s*(?P<what>[^.;]*)", _I)
_DECIDED_BY_EN = re.compile(rf"\b(?:decided|made|approved|granted|taken)\s+only\s+by\s+{_PERSON_EN}", _I)
_HANDOFF_RU = re.compile(
    # the instruction and the promise alike: «передайте», «оператор передаст», «мы передадим»
    r"(переда(й|йте|ть|[её]тся|ется|ют|ст|дут|дим|[её]м|[её]т)|переведите|перевести|перевед[её]м|переведут|переключите|"
    r"эскалируйте|эскалир\w*|направьте|направить|направим|"
    r"передача)[^.;]{0,60}?(специалист\w*|оператор\w*|сотрудник\w*|втор\w* лини\w*|2-?\w* лини\w*|руководител\w*|"
    r"отдел\w*|технической поддержк\w*|техподдержк\w*|инженер\w*|человек\w*)", _I)
_PERSON_RU = r"(?:\w+\s+)?(оператор|специалист|сотрудник|человек|руководител|менеджер|отдел|служб)\w*"
_ONLY_RU = re.compile(rf"только\s+{_PERSON_RU}(?:\s+[а-яё]+(?:ов|ев|ей|ых|их|ия|ии|а|ы))?\s+(может|могут|вправе|решает|"
                      r"решают|имеет право|принимает решение|одобряет|согласует)\s*(?P<what>[^.;]*)", _I)
_DECIDED_BY_RU = re.compile(rf"(?:принима\w+|реша\w+|одобря\w+|согласу\w+)\s+только\s+{_PERSON_RU}", _I)


def _only_person(text: str, lang: str) -> re.Match | None:
    only, by = (_ONLY_RU, _DECIDED_BY_RU) if lang == "ru" else (_ONLY_EN, _DECIDED_BY_EN)
    return only.search(text) or by.search(text)


def decided_by_person(sentence: str, lang: str) -> bool:
    """The sentence says only a person decides or may do something ("only the billing team
    decides on it", «решение принимает только отдел расчётов»): what the customer asks for there
    goes to that person."""
    return _only_person(sentence, lang) is not None


# the case itself is said to need a person, no one named: "This requires immediate escalation",
# "Такие обращения требуют немедленной эскалации"
_NEEDS_EN = re.compile(r"\b(requires?|needs?|must be given|calls? for)\s+(?:an?\s+)?(?:immediate\s+|urgent\s+|manual\s+)?"
                       r"(escalation|transfer to (?:a |an )?(?:human|person|live agent|specialist))\b", _I)
_NEEDS_RU = re.compile(r"(требу\w*|необходим\w*|нужн\w*)\s+(?:немедленн\w*\s+|срочн\w*\s+)?"
                       r"(эскалаци\w*|передач\w*\s+(?:специалист|оператор|сотрудник|человек)\w*)", _I)


def _tool_words(text: str) -> str:
    """The names of tools an agent is told to use, read as words: "use transfer_to_human_agents"
    says "transfer to human agents" (tool names are English whatever the text's language)."""
    return " ".join(re.sub(r"_+", " ", w) for w in re.findall(r"[A-Za-z]+(?:_+[A-Za-z0-9]+)+", text))


_CONDITION = re.compile(r"\b(?:if and only if|if|when|whenever|unless|once|in case)\b\s+(?P<cond>[^.;]+)|"
                        r"(?:^|\s)(?:если|когда|в случае,? если|в случае)\s+(?P<cond_ru>[^.;]+)", _I)
_REASON_WORDS: list[tuple[HandoffReason, re.Pattern]] = [
    ("fraud_or_security", re.compile(r"fraud|scam|stolen|hack|unauthori[sz]ed|мошенн|взлом|кража|несанкционир", _I)),
    ("legal_or_regulatory_threat", re.compile(r"\b(legal|lawyer|court|regulator)|юрист|суд|регулятор", _I)),
    ("complaint_compensation", re.compile(r"compensat|complain|refund of damages|компенсац|претенз|жалоб", _I)),
    ("account_verification_required", re.compile(r"identity|verif\w+ (fails|failed)|cannot (be )?verif|not (be )?verified|"
                                                 r"личност|верификац", _I)),
    ("vulnerable_customer", re.compile(r"vulnerab|bereave|disabilit|уязвим|инвалид", _I)),
    ("explicit_human_request", re.compile(r"(asks?|requests?|wants?|demands?) (for |to (speak|talk) (to|with) )?(a )?"
                                          r"(human|person|real|live)|просит (позвать |соединить с )?(человек|оператор|"
                                          r"живого)", _I)),
]


_GENERIC = set(tokenize("still not no none resolved resolve working work works issue issues problem problems persist "
                        "persists case cases help helped helps fixed fix after steps step above all checking checked condition situation "
                        "this that it remains remain не нет всё все ещё еще решено решена решён помогло помогает "
                        "проблема проблемы остаётся остается работает шаги шагов выше это"))


def _vague(condition: str) -> bool:
    """"If this is not the case", "if still not resolved": a condition that names nothing a
    conversation could meet."""
    return not (set(tokenize(condition)) - _GENERIC)


# how the customer gets in touch: "if you write to us in the chat instead" is no condition of the case
_CHANNEL_WORDS = set(tokenize("you your us we contact contacts write writes writing call calls calling phone telephone "
                              "chat e-mail email mail office app website site online instead through via by "
                              "вы вас вам нам нас мы пишете напишете написали звоните позвоните позвонили обращаетесь "
                              "обратитесь обратились связываетесь чат чате телефон телефону почта почту офис офисе "
                              "приложение приложении сайт сайте вместо через"))


def _channel_only(condition: str) -> bool:
    return not (set(tokenize(condition)) - _GENERIC - _CHANNEL_WORDS - function_terms())


# a condition ends where what to do then begins: "If it is hard for you to get to an office, contact
# support", «Если вам трудно добраться до офиса, обратитесь в поддержку»
_DO_EN = re.compile(r",\s+(?:please\s+|then\s+|just\s+)?(?:contact|call|write|follow|ask|tell|use|go|visit|send|open|"
                    r"try|retry|wait|explain|offer|proceed|inform|let|see|make|take|give|keep|stop|select|choose|click|"
                    r"capture|note|record|log|document|collect|gather|check|verify|confirm|escalate|transfer|"
                    r"press|restart|reboot|do not|don't|never|always)\b", _I)
_DO_RU = re.compile(r",\s+(?:пожалуйста,?\s+|то\s+|тогда\s+|сначала\s+)?\w+(?:ите|йте)(?:сь)?(?!\w)", _I)


def _condition_only(condition: str, lang: str) -> str:
    return (_DO_RU if lang == "ru" else _DO_EN).split(condition, maxsplit=1)[0].strip(" ,")


# a heading that says what to do, not what happened: "How to send a request", "Block it straight
# away" (a verb and its object), «Как подать запрос», «Сразу заблокируйте доступ»
_HOW_TO = re.compile(r"^(?:how (?:to|do|can|should)|what to do|как|что делать)\b", _I)
_VERB_OBJECT_EN = re.compile(r"^([a-z]+(?<!ing))\s+(?:it|them|your|the|a|an|this|that|these|those|all|our|everything)\b", _I)
_IMPERATIVE_WORD_RU = re.compile(r"^(?:\w+\s+)?(?P<verb>[а-яё]+(?:ите|йте|ьте)(?:сь)?)\b", _I)


def _imperative_ru(heading: str) -> bool:
    """«Сразу заблокируйте доступ», not «На сайте» or «О кредите» (nouns that end the same way)."""
    m = _IMPERATIVE_WORD_RU.match(heading)
    return bool(m) and any("impr" in p.tag for p in _morph().parse(m.group("verb").lower()))


def _instruction(heading: str) -> bool:
    verb = _VERB_OBJECT_EN.match(heading)
    return bool(_HOW_TO.match(heading) or _imperative_ru(heading)
                or verb and not set(tokenize(verb.group(1))) <= function_terms())  # not "If your ...", "On the ..."


@functools.lru_cache(maxsize=4096)  # asked for every sentence of a section with the same heading and title
def _situation(heading: str, title: str) -> str:
    """What a handoff sentence with no condition of its own is about: its section, or the whole
    document's subject when the section only says that it hands off ("When to escalate",
    "Эскалация") or what to do ("Block it straight away"), or there is none ("Incident:
    duplicate charges ... This requires immediate escalation")."""
    named = [t for t in (" ".join(heading.split()), " ".join(title.split()))
             if t and not re.search(r"escalat|transfer|handoff|hand.off|эскалац|передач", t, _I)]
    # both say what to do: the document's subject, as its title words it, is the wider one
    return next((t for t in named if not _instruction(t)), named[-1] if named else "")


def rule_of(sentence: str, heading_condition: str, lang: str, situation: str = "") -> tuple[HandoffReason, str] | None:
    """(reason, condition) when the sentence says a person takes over, else None. The
    condition is the sentence's own if/when clause, or the branch it is listed under; a
    sentence that only says the case needs escalation or names the transfer tool to use
    ("This requires immediate escalation", "use transfer_to_human_agents") and has neither
    is about its `situation` (the section or document it stands in)."""
    text = sentence.strip().strip("*").strip()
    only = _only_person(text, lang)
    handoff = _handoff(text, lang)
    if handoff and not only and lang == "en" and re.match(
            r"\s+(?:the |your |a |an |some )?(?:money|funds|balance|payment|amount|\d|number|sim|data|credit)",
            text[handoff.end(1):], _I):
        return None  # "transfer money to ...", "transfer the number to ..." move things, not the case
    if handoff and lang == "ru" and (re.match(r"\s+(?:(?:ваш|свой|этот)\w*\s+)?(?:договор|номер|деньг|средств|баланс|"
                                              r"сим|показани|данн|остаток)", text[handoff.end(1):], _I)
                                     or re.search(r"(?:друг|трет)\w+\s+\S*$", text[handoff.end(1):handoff.start(handoff.lastindex)])):
        return None  # «передать договор ...», «передать его другому человеку»: a thing handed to someone else
    needs = None if handoff else (_NEEDS_RU if lang == "ru" else _NEEDS_EN).search(text) \
        or _HANDOFF_EN.search(_tool_words(text))
    handoff = handoff or needs
    if not only and not handoff:
        return None
    cond = _CONDITION.search(text)
    if cond and (re.match(r"to\s", cond.group("cond") or "", _I) or handoff and cond.end() < handoff.start()
                 and re.search(r"\b(?:otherwise|else)\b|иначе|в противном случае", text[cond.end():handoff.start()], _I)):
        return None  # "When to clear vs. when to escalate": no condition; "proceed if X; otherwise escalate": not X
    if cond:
        # a clause set off by dashes ends the condition: "if you were in hospital – we can look into it"
        condition = re.split(r"\s[–—]\s", (cond.group("cond") or cond.group("cond_ru") or ""))[0].strip(" ,:")
        # the condition ends where the handoff itself is said (", transfer ...", ", обращение передаётся ...")
        condition = re.split(r"[,:]\s*(?:\w+\s+){0,3}?(?:transfer|escalat|hand|pass|refer|forward|route|connect|переда|переведите|"
                             r"перевод|эскалир|направ)", condition, flags=_I)[0]
        condition = _condition_only(condition, lang)
        if not _vague(condition) and _channel_only(condition):
            # "If you write to us in the chat instead, the agent passes your case to the fraud team": the
            # case is the section's, the condition only how the customer got in touch
            condition, cond = situation, None
    elif only:
        what = (only.groupdict().get("what") or "").strip()
        # "only the billing team decides on it": what "it" is, the section says
        condition = what if len(what.split()) >= 2 and not _vague(what) else heading_condition or situation
    else:
        condition = heading_condition or (situation if needs else "")
        if not heading_condition and re.search(r"\btools?\b|инструмент", condition, _I):
            return None  # a section on the transfer tools ("Required Agent Discoverable Tools"): how, not when
    if not condition or len(condition.split()) < 2 or _vague(condition):
        return None
    said = _handoff(f"{condition} {_tool_words(condition)}", lang)
    if cond and said and not re.search(r"\b(?:request|ask|want|demand|insist)\w*|просит|требует|хочет",
                                       condition[: said.start()], _I):
        return None  # "When using the transfer tool, select ...", "Use when the transfer is due to ...": how, not when
    reason: HandoffReason = "policy_requires_human"
    for code, rx in _REASON_WORDS:
        if rx.search(text) or rx.search(condition):
            reason = code
            break
    return reason, " ".join(condition.split())


_LIST_LEAD = re.compile(r"\b(?:when|if|whenever|in (?:any of )?(?:these|the following) (?:cases|situations))\s*:\s*$|"
                        r"(?:^|\s)(?:если|когда|в (?:следующих|этих|таких) случаях)\s*:\s*$", _I)


def list_lead(sentence: str, lang: str) -> tuple[HandoffReason, str] | None:
    """(reason, sentence) when the line hands the case over on conditions listed below it
    ("Escalate to the security team when:", «Передайте обращение специалисту, если:»)."""
    text = sentence.strip().strip("*").strip()
    if not _LIST_LEAD.search(text) or not _handoff(text, lang):
        return None
    reason: HandoffReason = next((code for code, rx in _REASON_WORDS if rx.search(text)), "policy_requires_human")
    return reason, text


def listed_rule(lead: tuple[HandoffReason, str], item: str, lang: str) -> tuple[HandoffReason, str] | None:
    """A rule from one bullet under a list lead: the bullet is the condition ("Customer cannot
    verify their identity"); its reason is the lead's, or one the bullet names."""
    condition = " ".join(re.sub(r"\([^)]*\)", "", item).strip(" .;:,*").split())
    if len(condition.split()) < 2 or _vague(condition) or condition.endswith("?") or _AGENT_SIDE.search(condition):
        return None  # (a field of the agent's tools, "card_status = 'frozen'", is nothing the customer says)
    reason = next((code for code, rx in _REASON_WORDS if rx.search(condition)), lead[0])
    return reason, condition


# --- references to other parts of a workflow ------------------------------------------------

_PART_EN = r"(?:path|section|procedure|chapter|part|flow|workflow|appendix)"
_PART_RU = r"(?:раздел|пункт|сценари|процедур|путь|пути|глав|приложени)\w*"
_LINK_EN = re.compile(rf"^(?:first,?\s+)?(?:follow|use|complete|go through|run through|apply|start with)\s+(?:the\s+)?"
                      rf"(?P<label>{_PART_EN}\s+\d+(?:\.\d+)*)\b", _I)
_LINK_RU = re.compile(rf"^(?:сначала\s+)?(?:выполните|пройдите|следуйте|используйте|примените|начните с)\s+"
                      rf"(?:(?:по|шаги|шагам|действия)\s+)*(?P<label>{_PART_RU}\s+\d+(?:\.\d+)*)", _I)


def link_of(sentence: str, lang: str) -> str | None:
    """The label of the part a step sends the agent through first ("Follow Path 1
    troubleshooting steps first" -> "Path 1"), else None."""
    m = (_LINK_RU if lang == "ru" else _LINK_EN).match(sentence.strip().strip("*"))
    return " ".join(m.group("label").split()) if m else None


_PURPOSE = re.compile(r"\b(?:to|in order to)\s+(?:check|verify|confirm|see|find out|test)\s+(?:if|whether|that)?\s*"
                      r"(?P<en>[^.;:]+)|чтобы\s+(?:проверить|убедиться|выяснить|понять)[,]?\s*(?:ли|что)?\s*(?P<ru>[^.;:]+)", _I)


def link_purpose(sentence: str) -> str:
    """What a step goes through another part for ("Use Path 2.1 ... to check if mobile data
    connectivity is working" -> "mobile data connectivity is working"); "" when it does not say."""
    m = _PURPOSE.search(sentence)
    return (m.group("en") or m.group("ru") or "").strip() if m else ""


def resolve_link(label: str, titles: dict[str, str], exclude: str = "") -> str | None:
    """The document a label names: the one whose title carries the label as a name ("Path
    1: No Service", not "Path 1.2" or "Path 10"), first by id; None when no title does."""
    word, number = label.rsplit(" ", 1)
    stem = re.escape(word[:5].lower())
    rx = re.compile(rf"(?<!\w){stem}\w*\s+{re.escape(number)}(?![\d.]*\d)(?!\w)", _I)
    found = sorted(sid for sid, title in titles.items() if sid != exclude and rx.search(title))
    return found[0] if found else None


# --- the document --------------------------------------------------------------------------

def _id(source_id: str, kind: str, text: str) -> str:
    return hashlib.sha1(f"{source_id}\x1f{kind}\x1f{text}".encode()).hexdigest()[:16]


_IF_LINE = re.compile(r"^\s*(?:if|если)\s+(?P<cond>[^:]+):\s*$", _I)
# "If the speed test returns 'no connection', mobile data is unavailable." / "Если ..., ..."
_IF_CLAUSE = re.compile(r"^\s*(?:if|если)\s+(?P<cond>[^,:;]{3,80}?)\s*,\s*(?P<rest>.*)$", _I)


def _routing(sentence: str, nested: bool, clause: str, outcome: str, lang: str) -> tuple[str, str, str] | None:
    """(label, condition, what the condition means) of a step that sends the agent to another
    part under a condition: "If X, follow Path 2", a "Follow Path 2" bullet under an "If X,
    Y." line (Y, where it states a thing's state, is what X means: "mobile data is
    unavailable"), or under an outcome line ("If Data Roaming is OFF:")."""
    c = _IF_CLAUSE.match(sentence.strip("*"))
    if c and not nested:
        label = link_of(c.group("rest"), lang)
        return (label, c.group("cond").strip(), "") if label else None
    condition = clause if nested else outcome
    label = link_of(sentence, lang) if condition else None
    if not label:
        return None
    line = _IF_CLAUSE.match(clause) if nested else None
    means = line.group("rest").strip(" .;*") if line else ""
    return label, line.group("cond").strip() if line else condition, means if states_in(means)[0] else ""


# A "sentence" longer than this (a line of an export with no full stop) is not read for checks
# and rules: the longest in the demo desk and tau-telecom is 322 characters.
_LONGEST_SENTENCE = 2000


def derive(doc: SourceDocument) -> list[Derived]:
    """Checks and rules found in one document, in its order. Past tickets give none here
    (what agents asked in them is learnt from the tickets' questions)."""
    if doc.doc_type != "article" or doc.lang not in ("en", "ru"):
        return []
    found: list[Derived] = []
    seen_topics: set[tuple[str, str]] = set()
    seen_rules: set[str] = set()
    every = _units(doc)
    sentences = [u[:4] for u in every]
    numbered = [(i, s) for i, (s, *_) in enumerate(sentences)]
    listed: tuple[HandoffReason, str] | None = None  # "Escalate to the security team when:": its bullets are conditions
    # lines that state one outcome of a decision point ("If Airplane Mode is ON:")
    outcome_lines = {pos for positions, *_ in _decisions(numbered, doc.lang) for pos in positions}
    branch_condition = ""
    after_outcome = False
    codes = _code_sections(sentences)
    code = ""  # the code whose section this is ("## E-101: no signal"): its checks wait for that code
    clause = ""  # the last top-level "If X, ..." line: its nested bullets act on its condition
    for pos, (sentence, heading, is_heading, nested) in enumerate(sentences):
        if len(sentence) > _LONGEST_SENTENCE:
            continue  # no check or rule is that long; reading it costs time that grows with its square
        if listed and every[pos][4] and not nested:
            rule = listed_rule(listed, sentence, doc.lang)
            if rule and rule[1] not in seen_rules:
                seen_rules.add(rule[1])
                # the source says it in two lines: the lead that hands over and the bullet that says when
                found.append(DerivedRule(id=_id(doc.id, "rule", sentence + rule[1]), source_id=doc.id, lang=doc.lang,
                                         position=pos, reason=rule[0], condition=rule[1],
                                         sentence=f"{listed[1]} {sentence}", heading=heading,
                                         request=decided_by_person(listed[1], doc.lang)))
            continue
        if not nested:
            listed = None  # the list ends at a heading or a line that is no bullet
        m = _IF_LINE.match(sentence.strip("*"))
        if m:
            branch_condition = _condition_only(m.group("cond").strip(), doc.lang)
            after_outcome = pos in outcome_lines
        elif is_heading:
            branch_condition, after_outcome = "", False
        if is_heading:
            code = codes.get(pos, "")
        if is_heading or not nested:
            c = None if is_heading else _IF_CLAUSE.match(sentence.strip("*"))
            clause = sentence.strip("*") if c else ""  # the whole line: the condition and what it means
        label = None if (nested or branch_condition or is_heading) else link_of(sentence, doc.lang)
        if label:
            # a step of the workflow itself (not one branch of it) that runs another part first
            found.append(DerivedLink(id=_id(doc.id, "link", sentence), source_id=doc.id, lang=doc.lang,
                                     position=pos, target=label, sentence=sentence, heading=heading))
            continue
        routed = _routing(sentence, nested, clause, branch_condition if after_outcome else "", doc.lang)
        if routed:
            # a routing step: which part of the workflow to follow once the condition is known
            found.append(DerivedLink(id=_id(doc.id, "route", f"{sentence}\x1f{routed[1]}"), source_id=doc.id,
                                     lang=doc.lang, position=pos, target=routed[0], condition=routed[1],
                                     means=routed[2], sentence=sentence, heading=heading))
            continue
        check = check_of(sentence, doc.lang)
        own_condition = ""
        if check is None and not (nested or is_heading or branch_condition):
            # "If the robot still does not charge, ask the customer for the error code": an ask under its own
            # condition, asked once the customer's words meet it (a self-help step under one is what to do next)
            # in English the ask must name the customer: "ask for a new code and try again" is the reader's own step
            # (a Russian ask, «уточните», «спросите», is the agent's already)
            c = _IF_CLAUSE.match(sentence.strip("*"))
            named = c and (doc.lang == "ru" or _AGENT_READER_EN.match(c.group("rest")))
            told = check_of(c.group("rest"), doc.lang) if named else None
            if told and told[2] == "ask":
                check, own_condition = told, c.group("cond").strip()
        if check and nested:
            continue  # a step under another step's own condition: what to do next, not a first question
        if check:
            topic, question, form = check
            # what to check once a branch's outcome is known ("If the user is traveling: ask whether roaming
            # is on") is a follow-up, asked when the customer's words meet that outcome
            condition = own_condition or (branch_condition if after_outcome else code)
            if (topic, condition) not in seen_topics:
                seen_topics.add((topic, condition))
                found.append(DerivedCheck(id=_id(doc.id, "check", sentence), source_id=doc.id, lang=doc.lang,
                                          position=pos, topic=topic, question=question, form=form,
                                          sentence=sentence, heading="" if is_heading else heading,
                                          condition=condition, condition_from="sentence" if own_condition else "branch",
                                          options=listed_answers(sentence) if form == "ask" else []))
            continue
        asked = [] if nested or is_heading else requests_of(sentence, doc.lang)
        for topic, question in asked:
            condition = branch_condition if after_outcome else code
            if (topic, condition) not in seen_topics:
                seen_topics.add((topic, condition))
                # written to the reader, like a self-help step: it ranks below what the agent is told to ask
                found.append(DerivedCheck(id=_id(doc.id, "request", f"{sentence}\x1f{topic}"), source_id=doc.id,
                                          lang=doc.lang, position=pos, topic=topic, question=question, form="step",
                                          sentence=sentence, heading=heading, condition=condition))
        if asked:
            continue
        rule = rule_of(sentence, branch_condition, doc.lang, situation=_situation(heading, doc.title))
        listed = None if rule else list_lead(sentence, doc.lang)
        if rule and rule[1] not in seen_rules:
            seen_rules.add(rule[1])
            found.append(DerivedRule(id=_id(doc.id, "rule", sentence + rule[1]), source_id=doc.id, lang=doc.lang,
                                     position=pos, reason=rule[0], condition=rule[1], sentence=sentence,
                                     heading=heading, request=decided_by_person(sentence, doc.lang)))
    if codes:
        # sections named by codes ("E-101: no signal", "E-203: ...") are the branches of one decision:
        # which code the customer sees; the text does not tell the agent to ask it, so it ranks as a step
        first = min(codes)
        found.append(DerivedCheck(id=_id(doc.id, "codes", " ".join(codes.values())), source_id=doc.id, lang=doc.lang,
                                  position=first, topic="код ошибки" if doc.lang == "ru" else "error code",
                                  question=_codes_question(list(dict.fromkeys(codes.values())), doc.lang), form="step",
                                  sentence=sentences[first][0], heading=sentences[first][0],
                                  states=list(dict.fromkeys(codes.values()))))
    # a text that speaks of the customer in the third person ("Ask the user ...") is written to the
    # agent: there "If you are able to lift the suspension" is the agent's own decision, not a question
    to_agent = any(re.search(_AGENT_READER_RU if doc.lang == "ru" else _AGENT_READER_EN, s) for s, *_ in sentences)
    agents = set()  # the sections whose decision is the agent's: their heading is not a question either
    # what the agent looks up itself ("Check if, for the line associated with ..., the data usage has exceeded
    # the limit"): a decision in that step on what it names ("If Data Usage is EXCEEDED") decides on the lookup
    lookups = [(heading, set(tokenize(s))) for s, heading, is_heading, _ in sentences
               if not is_heading and _AGENT_SIDE.search(s) and any(p.match(s.strip("*- ")) for lang, p in _CHECKS
                                                                   if lang == doc.lang)]
    for pos, subj, states, sentence in branches(numbered, doc.lang):
        subject = set(tokenize(subj))
        if to_agent and re.fullmatch(r"(?:you|вы)", subj.strip(), _I) or not _the_customer(subj, doc.lang) and any(
                heading == sentences[pos][1] and subject and subject <= words for heading, words in lookups):
            agents.add(sentences[pos][1])
            continue
        # "If the user is traveling / not traveling": the states are what is checked
        topic = _topic(" ".join(states) if _the_customer(subj, doc.lang) else subj, doc.lang)
        # a heading naming the same check ("Verify if user is traveling") gives way to its branches below
        if topic and not any(isinstance(d, DerivedCheck) and d.topic == topic and not d.condition
                             and not sentences[d.position][2] for d in found):
            seen_topics.add((topic, ""))
            found.append(DerivedCheck(id=_id(doc.id, "branch", subj), source_id=doc.id, lang=doc.lang, position=pos,
                                      topic=topic, question=_branch_question(subj, states, doc.lang), form="branch",
                                      sentence=sentence, heading=sentences[pos][1],
                                      states=list(dict.fromkeys(states))))
    # a heading that names a check ("Check Airplane Mode") gives way to the sentences under it; under a
    # heading whose text is the agent's own work ("Use the get_closure_history tool to ...", "Ask the
    # customer ..."), the heading ("Check for Previous Retention Attempts") is a step of it, not a question
    named = {sentences[d.position][0] for d in found
             if isinstance(d, DerivedCheck) and not d.heading and sentences[d.position][2]}
    agents |= {heading for s, heading, is_heading, _ in sentences if heading in named and not is_heading and (
        _AGENT_SIDE.search(s) or re.search(_AGENT_READER_RU if doc.lang == "ru" else _AGENT_READER_EN, s))}
    # a procedure whose steps call the agent's tools ("Use close_bank_account_7392 to close the account") is
    # the agent's: its steps ("Verify pre-closure requirements are met") are its own checks, not questions
    tooled = {heading for s, heading, is_heading, _ in sentences if not is_heading and _TOOL.search(s)}
    found = [d for d in found if not (isinstance(d, DerivedCheck) and d.form == "step" and not d.states
                                      and sentences[d.position][1] in tooled and not sentences[d.position][2]
                                      and not _ABOUT_CUSTOMER.search(d.sentence))]
    body_sections = {d.heading for d in found if isinstance(d, (DerivedCheck, DerivedLink)) and d.heading} | agents
    found = [d for d in found if not (isinstance(d, DerivedCheck) and not d.heading
                                      and sentences[d.position][2] and sentences[d.position][0] in body_sections)]
    return _answers_decided(sorted(found, key=lambda d: d.position), sentences)


# a code that names a section: "E-101", "ERR 42", "Ошибка E-305", an appliance's "E1" or "F3"; the text
# must say it is a code (capital letters: "iOS 17" or "Page 12" is no code; one digit only joined:
# "TIER 1" or "STEP 2" is a heading's number)
_CODE = r"[A-ZА-ЯЁ]{1,4}(?:[- ]?\d{2,5}|-?\d)"
_CODE_HEADING = re.compile(rf"^(?:(?i:error|code|ошибка|код)\s+)?(?P<code>{_CODE})(?![\w-])")
_CODE_WORDS = re.compile(r"\b(?:errors?|codes?|error codes?)\b|ошибк|(?<!\w)код(?:ы|а|ов)?\b", _I)


def _code_sections(sentences: list[tuple[str, str, bool, bool]]) -> dict[int, str]:
    """heading position -> code, where two or more headings of a document are named by
    different codes and the document speaks of errors or codes ("## E-101: no signal",
    "## E-203: subscription inactive"); {} otherwise."""
    found = {pos: m.group("code").upper() for pos, (s, _, is_heading, _) in enumerate(sentences)
             if is_heading and (m := _CODE_HEADING.match(s)) and re.search(r"\d", m.group("code"))}
    if len(set(found.values())) < 2 or not any(_CODE_WORDS.search(s) for s, *_ in sentences):
        return {}
    return found


def code_key(text: str) -> str:
    """A code as compared: case, separators and Cyrillic look-alike letters aside ("е-305" is "E305")."""
    return text.upper().translate(str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")).replace("-", "").replace(" ", "")


def is_code(condition: str) -> bool:
    return bool(re.fullmatch(_CODE, condition.strip()))


def _codes_question(codes: list[str], lang: str) -> str:
    shown = codes[:3]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + (" или " if lang == "ru" else " or ") + shown[-1]
    if lang == "ru":
        return f"Видите ли вы код ошибки или сообщение, например {listed}? Какой именно?"
    return f"Do you see an error code or message, for example {listed}? Which one?"


def codes_in(text: str, known: Iterable[str] = ()) -> set[str]:
    """The codes a customer's words name ("на экране Е-305", "e101" -> {"E305"}, {"E101"}); typed in
    small letters only when joined to the digits ("page 12" is no code). A code of one digit counts
    only when it is one of the `known` ones (the desk's own: "E1" in "the display shows E1"), since a
    customer's "PS5" or "S9" is a device as often as a code."""
    known_keys = {code_key(k) for k in known}
    return {c for c in _written_codes(text) if re.search(r"\d\d", c) or c in known_keys}


def _written_codes(text: str) -> set[str]:
    return {code_key(m.group(0)) for m in re.finditer(rf"(?<!\w){_CODE}(?![\w-])", text, _I)
            if re.search(r"[^\W\d_]", m.group(0)) and (" " not in m.group(0) or re.sub(r"[\d -]", "", m.group(0)).isupper())}


def desk_codes(text: str) -> set[str]:
    """Every code a desk's own text names, one digit too ("if E1 stays after a reboot"): the
    known codes a customer's words are read against (`codes_in`)."""
    return _written_codes(text)


def _answers_decided(found: list[Derived], sentences: list[tuple[str, str, bool, bool]]) -> list[Derived]:
    """"Ask whether X. If A: ... If B: ...": the branches decide on the answer to the ask
    just before them in the same step, when the step names what they decide on ("Verify if
    user is traveling", "You want to know if it's missing, locked, or active"). The two are
    then one fact: established by the ask's question (the source's own wording), named by the
    decision's subject and read by its states, under the ask's condition. Asking both spends
    two of the few questions on one."""
    out: list[Derived] = []
    for d in found:
        last = next((x for x in reversed(out) if isinstance(x, DerivedCheck)), None)
        if (isinstance(d, DerivedCheck) and d.form == "branch" and last is not None and last.form == "ask"
                and not last.states and last.heading and last.heading == d.heading
                and set(tokenize(f"{d.topic} {' '.join(d.states)}")) & set(tokenize(" ".join(
                    [last.heading] + [sentences[i][0] for i in range(last.position, d.position)])))):
            out[out.index(last)] = last.model_copy(update={"topic": d.topic, "states": d.states})
            continue
        out.append(d)
    return out
