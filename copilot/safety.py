"""Safety: instructions hidden in customer or knowledge-base text detected and flagged.
Personal data masking lives in copilot.masking.
"""

from __future__ import annotations

import re
import unicodedata

from knowledge_base.instructions import Finding, InstructionDetector, hard_evidence, narrative_verb

_I = re.I | re.U


# --- instructions inside data -------------------------------------------------------------

_INJECTION = re.compile("|".join(f"(?:{p})" for p in [
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(previous|prior|above|earlier|all|your|the)\b.{0,20}\b(instructions?|rules?|prompts?|guidelines?|directions?)",
    r"\b(you are now|from now on you|act as|pretend (to be|you are)|you must now)\b",
    # (a line opening with a role label is knowledge_base.instructions' role_tag, which knows a form's fields)
    r"\b(system|developer|admin)\s*(prompt|mode|message|override)\b", r"<\s*/?\s*(system|instructions?)\s*>",
    r"\b(print|show|reveal|repeat|output)\b.{0,20}\b(your|the|system)\b.{0,10}\b(prompt|instructions?)\b",
    r"\b(i am|i'm|as) (the |a |your )?([\w-]+ ){0,3}(manager|supervisor|admin|administrator|director|ceo)\b.{0,40}\b(authori[sz]e|allow|approve|order|permit)\b",
    r"\b(promise|confirm|guarantee|approve)\b.{0,30}\b(full|100 ?%|complete)\b.{0,15}\b(refund|compensation|waiver)\b",
    r"\bwaive (the|all|my) (fee|debt|charges?)\b",
    r"(игнорир|забуд|не обращай внимания|отмени)\w*.{0,30}(предыдущ|прошл|все|свои|эти|системн)\w*.{0,20}(инструкц|правил|указани|промпт)",
    r"(теперь ты|ты теперь|представь,? что ты|веди себя как|действуй как)",
    r"(системн\w* (промпт|сообщени|режим)|режим\w* (администратора|разработчика|админа))",
    r"(выведи|покажи|повтори|напиши)\w*.{0,20}(свой|свои|системн)\w*.{0,10}(промпт|инструкц)",
    r"я ([\w-]+ ){0,3}(руководител|начальник|администратор|директор|менеджер)\w*.{0,40}(разрешаю|приказываю|одобряю|подтверждаю|велю)",
    r"(пообещай|подтверди|гарантируй|одобри)\w*.{0,30}(полн|100 ?%|весь|всю)\w*.{0,15}(возврат|компенсац|списани)",
    r"спиши (мне )?(весь |мой )?(долг|задолженность)",
]), _I | re.M)


_OVERRIDE_VERB = re.compile(r"ignore|disregard|forget|override|игнорир|забуд|не обращай|отмени", _I)


def injection_evidence(text: str) -> str | None:
    """The words that look like an instruction to the model, or None: the conclusive
    shapes of knowledge_base.instructions, then the older wordings kept here (an authority
    claim, an order to waive a debt); an override verb told of the speaker's own acts is not
    one (`narrative_verb`)."""
    found = hard_evidence(text)
    if found:
        return found
    for m in _INJECTION.finditer(text):
        # an override told of the speaker's own acts ("я проигнорировал все инструкции") is a narrative
        if _OVERRIDE_VERB.match(m.group(0)) and narrative_verb(text, m.start()):
            continue
        return " ".join(m.group(0).split())[:80]
    return None


def customer_injection(turns: list[str], detector: InstructionDetector | None,
                       budget: int | None = None) -> Finding | None:
    """The first customer turn that speaks to the model: the detector's structure and
    classifier, else the wordings of `injection_evidence`."""
    return screen_customer(turns, detector, budget)[0]


def screen_customer(turns: list[str], detector: InstructionDetector | None,
                    budget: int | None = None) -> tuple[Finding | None, int]:
    """`customer_injection` and how many sentences were over the classifier's `budget`
    (judged by the patterns only)."""
    screening = detector.screen(turns, "customer", budget) if detector is not None else None
    found = screening.findings if screening is not None else [None] * len(turns)
    unjudged = screening.unjudged if screening is not None else 0
    for turn, finding in zip(turns, found):
        if finding is not None:
            return finding, unjudged
        evidence = injection_evidence(turn)
        if evidence:
            return Finding(turn, evidence, "structure"), unjudged
    return None, unjudged


# a tag naming a conversation role or a prompt part: in a draft or a note it is shown marked,
# in a prompt it cannot open or close a section
_ROLE_TAG = re.compile(r"<\s*(/?)\s*(system|assistant|user|customer|agent|operator|developer|source|sources|"
                       r"instructions?|prompt|context|facts?|conversation|im_start|im_end|\|im_start\||\|im_end\|)\s*>",
                       _I)


def mark_role_tags(text: str) -> str:
    """`</customer><system>` -> `[tag /customer][tag system]`: visible to a reader, inert in a prompt."""
    return _ROLE_TAG.sub(lambda m: f"[tag {m.group(1)}{m.group(2).strip('|').lower()}]", text)


def fence(label: str, text: str) -> str:
    """Wrap untrusted text as data for a prompt; any role tag inside is neutralised."""
    cleaned = mark_role_tags(text)
    cleaned = re.sub(rf"</?\s*{label}\s*>", "", cleaned, flags=re.I)
    return f"<{label}>\n{cleaned}\n</{label}>"


# --- the customer's profile -----------------------------------------------------------------

_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.-](?=[^\W\d_]))*", re.U)


def greeting_name(name: str | None, max_chars: int) -> str | None:
    """The part of a profile name that may go into the greeting: up to three name-like
    words (letters, inner hyphens and apostrophes) from its start, within `max_chars`;
    whatever follows (a sentence, a number, a tag) is left out, and a name with no such
    start, or one word longer than the bound, gives no name at all. The profile comes from
    a helpdesk form the customer may have filled in: its text is data, never a sentence."""
    if not name:
        return None
    head = unicodedata.normalize("NFKC", name[: max_chars * 4]).strip()
    words: list[str] = []
    pos = 0
    while len(words) < 3:
        m = _NAME_WORD.match(head, pos)
        if m is None:
            break
        candidate = " ".join([*words, m.group(0)])
        if len(candidate) > max_chars:
            break
        words.append(m.group(0))
        pos = m.end()
        gap = re.match(r"[ \t]+", head[pos:])
        if gap is None:
            break
        pos += gap.end()
    return " ".join(words) or None


# --- promises a model must not make to a customer who tried to instruct it -------------------

_PROMISE = re.compile("|".join(f"(?:{p})" for p in [
    r"\b(?:refund|refunded|reimburs\w*|money back|discount|compensat\w*|bonus|free of charge|for free|waive\w*|"
    r"write off|credit (?:you|your account)|guarantee\w*|we (?:will|'ll) (?:return|pay|credit|cancel))\b",
    r"\b(?:within|in) (?:\d+|one|two|three|a few|24|48) (?:business |working )?(?:hours?|days?|weeks?)\b",
    r"\bby (?:tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|the end of)\b",
    r"\d+ ?%",
    r"возврат\w*|верн(?:ём|ем|ут|уть)\w*|возмест\w*|компенсац\w*|компенсир\w*|скидк\w*|бонус\w*|бесплатн\w*|"
    r"гарантир\w*|гаранти[яю]\w*|спиш(?:ем|ём)\w*|списать долг|начисл(?:им|ю)\w*|"
    r"в течение \d+|за \d+ (?:дн|час|недел)\w*|до (?:завтра|понедельника|вторника|среды|четверга|пятницы|конца)",
]), _I)


def promise_in(sentence: str) -> str | None:
    """The words by which a sentence promises the customer something (a refund, a
    discount, compensation, a guarantee, a deadline), or None."""
    m = _PROMISE.search(sentence)
    return m.group(0) if m else None
