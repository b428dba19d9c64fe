"""Knowledge-base sentences that would contradict the conversation they are copied into:
a condition the customer already ruled out, a step they say they already took, or an
invitation to contact us through the channel the customer is already using.

An article says "If only one device has no internet, restart that device"; the customer
said "none of my devices can connect". Copying that sentence into the draft contradicts
them. Three kinds of ruled-out condition are caught, none needing domain knowledge:
scope (a condition about one X when the customer spoke of all or none of their Xs, or the
other way round, for the same X, compared by stem), a state (the condition says the light
is red or the balance negative, the customer said the light is green or the balance
positive) and polarity (the condition says the code does not arrive, the customer said it
arrives). A step is the same step under another verb ("reboot", "restart", "turn off and
on", "unplug the power" where the knowledge base defines a reboot so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN

from knowledge_base.states import NEG as _NEG
from knowledge_base.states import states_in as _states
from knowledge_base.tokenizer import tokenize

_I = re.I | re.U
_NOUN = r"(?P<rest>(?:[\w-]+\s+){0,1}[\w-]+)"
# "none of my devices", "not one device", "ни на одном устройстве", "все устройства"
_ALL = (re.compile(rf"\b(?:all|none|every|neither|not (?:a single|one)|no)\s+(?:of\s+)?(?:my|the|our|your)?\s*{_NOUN}", _I),
        re.compile(rf"(?<!\w)(?:вс(?:е|ех|ём|ем|еми)|ни\s+(?:на\s+|в\s+|с\s+)?одн\w*|никак\w*|кажд\w*)\s+"
                   rf"(?:мо\w*\s+|наш\w*\s+)?{_NOUN}", _I))
_ONE = (re.compile(rf"\b(?:only one|just one|a single|one)\s+(?:of\s+(?:my|the|our|your)\s+)?{_NOUN}", _I),
        re.compile(rf"(?<!\w)(?:только\s+(?:на\s+|в\s+|с\s+)?)?(?:одн(?:о|ом|а|ой|им|у)|единственн\w*)\s+{_NOUN}", _I))


def _stems(patterns: tuple[re.Pattern, ...], text: str, exclude: tuple[re.Pattern, ...] = ()) -> set[str]:
    for pattern in exclude:  # "ни на одном устройстве" is all of them, not one
        text = pattern.sub(" ", text)
    return {s for p in patterns for m in p.finditer(text) for s in tokenize(m.group("rest")) if len(s) > 2}


# every condition in a sentence, not only the one it opens with: "...; if it goes off, ..."
_CONDITION = re.compile(r"(?:^|(?<=[\s(:;,—]))(?:if|when|если|когда)\s+(?P<cond>[^,;:—.!?]+)", _I)
# a diagnosis stated as fact is a condition too: "E-203 usually means the balance is negative"
_MEANS = re.compile(r"(?<!\w)(?:means|indicates|означа\w*|значит)(?:,?\s+(?:that|что))?\s+(?P<cond>[^,;:—.!?]+)", _I)


# a condition stated without "if": the bold lead of a list item that splits cases, "- **It
# works in another phone**: the problem is in your phone", "- **Там тоже не работает** — ...";
# read from the knowledge base's own markup (split_sentences leaves "X**: Y" of "- **X**: Y")
_LEAD = re.compile(r"^[\s*•-]*(?P<cond>[^*:—–\n]+?\s[^*:—–\n]+?)\*\*\s*[:—–]")


def conditions(sentence: str) -> list[str]:
    """The conditions a sentence states: its if/when clauses, what it says a sign means and
    the bold lead of a list item ("**It works in another phone**: ...")."""
    lead = _LEAD.match(sentence)
    return ([lead.group("cond")] if lead else []) + [m.group("cond") for p in (_CONDITION, _MEANS)
                                                     for m in p.finditer(sentence)]


def _scope_ruled_out(cond: str, customer_text: str) -> bool:
    cond_one, cond_all = _stems(_ONE, cond, _ALL), _stems(_ALL, cond)
    said_one, said_all = _stems(_ONE, customer_text, _ALL), _stems(_ALL, customer_text)
    return bool(cond_one & said_all) or bool(cond_all & said_one)


_CLAUSE = re.compile(r"[.!?;,\n]+|\s(?:but|and then|а|но|однако)\s", _I)


def _subject(text: str) -> set[str]:
    return {t for t in tokenize(text) if len(t) > 2 and t not in {"not", "нет", "без"}}


def _customer_clauses(customer_text: str) -> list[tuple[dict[str, set[str]], set[str], str]]:
    """(states, subject stems, clause) of each clause; a clause that names no subject ("not
    blinking") takes the one before it."""
    out, last = [], set()
    for clause in _CLAUSE.split(customer_text):
        states, rest = _states(clause)
        subject = _subject(rest) or last
        out.append((states, subject, clause))
        last = subject
    return out


def _modifier(text: str, stem: str) -> str | None:
    """The content word right before `stem` in `text` ("internet" in "the Internet light")."""
    before = None
    for word in re.findall(r"[\w-]+", text):
        stems = tokenize(word)
        if stem in stems:
            return before
        before = stems[0] if stems else None
    return None


def _same_thing(a: str, b: str, shared: set[str]) -> bool:
    """Two clauses speak of the same thing: a shared stem that the two do not qualify
    differently ("the Internet light" is not "the Wi-Fi light")."""
    for stem in shared:
        mod_a, mod_b = _modifier(a, stem), _modifier(b, stem)
        if not (mod_a and mod_b and mod_a != mod_b):
            return True
    return False


def _state_ruled_out(cond: str, said: list[tuple[dict[str, set[str]], set[str], str]]) -> bool:
    """The condition asserts a state the customer said is otherwise, of the same thing."""
    states, rest = _states(cond)
    subject = _subject(rest)
    for cls, values in states.items():
        for s_states, s_subject, clause in said:
            if cls in s_states and not values & s_states[cls] and _same_thing(rest, _states(clause)[1], subject & s_subject):
                return True
    return False


def says_state(outcome: str, customer_text: str) -> bool:
    """The customer says of the outcome's thing the state the outcome names: "my mobile data
    isn't working" says "mobile data is unavailable", «не работает мобильный интернет» says
    «мобильный интернет недоступен»; "my mobile data is slow" says neither."""
    wanted, rest = _states(outcome)
    subject = _subject(rest)
    if not wanted or not subject:
        return False
    for s_states, s_subject, clause in _customer_clauses(customer_text):
        shared = subject & s_subject
        if len(shared) >= max(1, len(subject) / 2) and any(values & s_states.get(kind, set())
                                                            for kind, values in wanted.items()) \
                and _same_thing(rest, _states(clause)[1], shared):
            return True
    return False


def _denied_stems(text: str) -> set[str]:
    """Stems that a negation governs: "doesn't arrive", "не приходит", "no internet"."""
    out: set[str] = set()
    # "ничего нет в списке": a run of negations governs the words after the last
    for m in re.finditer(rf"(?<!\w)(?:{_NEG}(?!\w)\s+)+((?:[\w-]+\s+)?[\w-]+)", text.replace("n't", " not"), _I):
        out |= set(tokenize(m.group(1)))
    return out


def _polarity_ruled_out(cond: str, said: list[tuple[dict[str, set[str]], set[str], str]]) -> bool:
    """The condition denies what the customer affirmed of the same thing, or affirms what
    they denied: "if the code does not arrive" after "the code arrives"."""
    c_tokens, c_denied, c_said = _subject(cond), _denied_stems(cond), _asserted_stems(cond)
    for _, _, clause in said:
        # a condition states its case of the thing it names ("if your SIM works ..."); a customer
        # names things in passing ("my SIM card got bent" says nothing of the phone's "No SIM")
        k_tokens, k_denied, k_said = _subject(clause), _denied_stems(clause), _asserted_stems(clause, named=False)
        shared = c_tokens & k_tokens
        # the side that does not deny must say it, not name it ("connects", not "lost the connection")
        if len(shared) >= 2 and any(t in c_denied and t not in k_denied and t in k_said
                                    or t in k_denied and t not in c_denied and t in c_said for t in shared):
            return True
    return False


# a word that names an action or a state rather than saying it: "connection", "payment",
# "подключение", "доступность"
_NOMINAL = re.compile(r"(?:tion|sion|ment|ness|ity|ance|ence|ние|ния|нию|нием|нии|ость|ости|ство|ства)$", _I)


# a word right after one of these is named, not said: "my SIM card got bent" says nothing of
# whether there is a SIM, so it does not answer the phone's "No SIM"
_DETERMINER = re.compile(r"^(?:my|the|a|an|your|our|his|her|their|this|that|these|those|мо[йяеёи]\w*|наш\w*|ваш\w*|"
                         r"тво[йяеёи]\w*|эт[оаиу]\w*|этот)$", _I)


def _asserted_stems(text: str, named: bool = True) -> set[str]:
    """Stems of the words that are not nominalisations, nor (unless `named`) a word a
    determiner introduces."""
    words = re.findall(r"[\w-]+", text)
    return {t for i, word in enumerate(words) if not _NOMINAL.search(word)
            and (named or not (i and _DETERMINER.match(words[i - 1]))) for t in tokenize(word)}


def ruled_out(sentence: str, customer_text: str) -> bool:
    """A condition of the sentence is one the customer ruled out: on one X when they spoke of
    all their Xs (or the other way round), a state they said is otherwise, or the denial of
    what they affirmed (or the other way round)."""
    conds = conditions(sentence.strip())
    if not conds:
        return False
    said = _customer_clauses(customer_text)
    return any(_scope_ruled_out(c, customer_text) or _state_ruled_out(c, said) or _polarity_ruled_out(c, said)
               for c in conds)


def under_ruled_out_diagnosis(sentences: list[str], customer_text: str) -> set[int]:
    """Positions of the sentences that act on a diagnosis the customer ruled out: those
    after it up to the next heading ("This usually means the balance is negative. [...]
    Top up by bank card ..." when the customer said the balance is positive)."""
    out: set[int] = set()
    ruled = False
    for i, sentence in enumerate(sentences):
        if sentence.lstrip().startswith("#"):
            ruled = False
        elif ruled:
            out.add(i)
        elif _MEANS.search(sentence) and not _CONDITION.search(sentence) and ruled_out(sentence, customer_text):
            ruled = True
    return out


# A sentence that announces a retry on a day of the month ("autopay tries once more on the
# 27th") presupposes that day's attempt is still to come; a customer who reports on that day
# in the past tense ("the 27th didn't go through either", "27-го тоже не списалось") has it
# behind them.
_DAY = re.compile(r"(?<![\d.,:])(?P<d>[12]?\d|3[01])(?:-?(?:го|е|ое|st|nd|rd|th))(?![\w])", _I)
_RETRY = re.compile(r"\b(?:again|once more|retr(?:y|ies|ied)|(?:another|one more|a second) (?:attempt|try))\b|"
                    r"(?<!\w)(?:(?:ещё|еще)\s+(?:раз|одн\w*\s+попытк\w*)|снова|повторн\w*)(?!\w)", _I)
_PAST = re.compile(r"\b(?:(?!(?:need|speed|feed|seed|bleed)\b)[a-z]{2,}ed|did|didn't|wasn't|weren't|went|came|took)\b|"
                   r"(?<![а-яё])[а-яё]+[аеёиоуыяюш]л(?:а|о|и|ся|ась|ось|ись)?(?![а-яё])", _I)


def _days(text: str) -> set[str]:
    return {m.group("d") for m in _DAY.finditer(text)}


_FAILED = re.compile(rf"(?<!\w){_NEG}(?!\w)|n't\b|\b(?:failed|declined|rejected)\b|(?<!\w)(?:отклон\w*|сорвал\w*)", _I)


def retry_already_past(sentence: str, customer_text: str) -> bool:
    """The sentence announces a retry on a day the customer says already failed, in the past
    tense ("the 27th didn't go through either"); a retry they report as done ("today is the
    27th and it took the money") is what the sentence explains, and stays."""
    if not _RETRY.search(sentence):
        return False
    days = _days(sentence)
    if not days:
        return False
    for clause in _CLAUSE.split(customer_text):
        if days & _days(clause) and _PAST.search(clause) and _FAILED.search(clause):
            return True
    return False


# "write to us in the chat", "напишите нам в чат", "e-mail us", "call us", "позвоните"
_CONTACT = r"(?:write|message|text|contact|reach|ask|tell|chat with|напиш\w*|пиш\w*|обрат\w*|свяж\w*|сообщ\w*)"
_CHANNEL_WORDS = {
    "chat": rf"{_CONTACT}[^.!?]{{0,30}}(?<!\w)(?:chat|чат\w*)|(?<!\w)(?:в чат\w*|in (?:the )?chat)[^.!?]{{0,20}}{_CONTACT}",
    "email": rf"{_CONTACT}[^.!?]{{0,30}}(?<!\w)(?:e-?mail|почт\w*|письм\w*)|\be-?mail us\b",
    "phone": r"\b(?:call|phone|ring) us\b|(?<!\w)позвон\w*|(?<!\w)звонит\w*",
}
_CHANNELS = {name: re.compile(pattern, _I) for name, pattern in _CHANNEL_WORDS.items()}


_OTHER_CONTACT = re.compile(r"\+?\d[\d\s()-]{6,}\d|\b[\w.-]+@[\w.-]+\.\w+\b", _I)  # a phone number or an address


# "write to us", "contact support", "обратитесь к нам": no channel named, so the one the
# customer is on (in a conversation with us, an invitation to do what they are doing)
_GENERIC_CONTACT = re.compile(
    r"\b(?:write|message|contact|reach|get in touch)\s+(?:to\s+|with\s+)?(?:us|(?:our\s+)?support)\b|"
    r"(?<!\w)(?:напиш\w*|обрат\w*|свяж\w*)\s+(?:к\s+|с\s+|в\s+)?(?:нам|нами|поддержк\w*)(?!\w)", _I)
_CALL_US = re.compile(r"\b(?:call|phone|ring) us\b|(?<!\w)позвоните\s+нам(?!\w)", _I)


def sends_to_channel(sentence: str, channel: str | None) -> bool:
    """The sentence tells the customer to contact us through `channel`, the one they are
    on, or through no channel in particular, and offers nothing else ("write to us in the
    chat or call +7 800 ..." still gives a number worth having)."""
    pattern = _CHANNELS.get(channel or "")
    if not pattern or not (pattern.search(sentence) or _GENERIC_CONTACT.search(sentence)):
        return False
    others = any(p.search(sentence) for name, p in _CHANNELS.items() if name != channel)
    return not others and not _OTHER_CONTACT.search(sentence)


# another way to reach us inside one sentence: "..., or call +7 ...", "... либо позвоните ..."
_ALTERNATIVE = re.compile(r",?\s+(?:or|или|либо)\s+(?=(?:call|phone|ring|e-?mail|write|message|позвон\w*|звонит\w*|"
                          r"напиш\w*|пиш\w*|обрат\w*)(?!\w))", _I)
_LEADING_CONDITION = re.compile(r"^(?:(?:if|when|если|когда)\b[^,;:—]*,\s*)", _I)


def without_channel(sentence: str, channel: str | None) -> str:
    """The sentence without its invitation to contact us through `channel`, the one the
    customer is on, when it offers another way too: "Write to us in the chat or call +7 800
    ..." in a chat is "Call +7 800 ...". A leading condition stays ("If it still doesn't
    work, call ..."). Unchanged when there is no such invitation or nothing else to offer."""
    pattern = _CHANNELS.get(channel or "")
    if not pattern or not (pattern.search(sentence) or _GENERIC_CONTACT.search(sentence)):
        return sentence
    parts = _ALTERNATIVE.split(sentence.strip())
    if len(parts) < 2:
        return sentence
    lead = _LEADING_CONDITION.match(parts[0])

    def to_channel(part: str) -> bool:  # names the customer's channel, or none at all
        named = {name for name, p in _CHANNEL_NAMES.items() if p.search(part)}
        return bool(pattern.search(part)) or bool(_GENERIC_CONTACT.search(part)) and named <= {channel}

    keep = [p for p in parts if not to_channel(p)]
    if not keep or len(keep) == len(parts):
        return sentence
    body = " or ".join(keep) if re.search(r"[a-z]", keep[0][:3], _I) and not re.search(r"[а-яё]", keep[0], _I) \
        else " либо ".join(keep)
    body = body.rstrip(" .!") + "."
    if lead and not keep[0].startswith(lead.group(0)):
        return lead.group(0) + body
    return body[0].upper() + body[1:]


# a section that lists the ways to reach us: "How to reach us", "Contact us", "Как с нами связаться"
_CONTACT_HEADING = re.compile(r"\b(?:reach|contact|get in touch with)\s+us\b|\bcontacts?\b|"
                              r"(?<!\w)(?:(?:с\s+нами\s+)?связ(?:аться|ь)(?:\s+с\s+нами)?|контакт\w*)(?!\w)", _I)
_CHANNEL_NAMES = {
    "chat": re.compile(r"(?<!\w)(?:chat\w*|чат\w*)", _I),
    "email": re.compile(r"(?<!\w)(?:e-?mail|почт\w*|письм\w*)", _I),
    "phone": re.compile(r"(?<!\w)(?:call\w*|phone|позвон\w*|звон\w*)", _I),
}


# a contact list's line that starts with the channel: "Chat in the app over Wi-Fi", "В чате на сайте"
_CHANNEL_LINE = {
    "chat": re.compile(r"^[\W\d]*(?:(?:in|via|through|в|по|через)\s+)?(?:chat|чат)\w*(?!\w)", _I),
    "email": re.compile(r"^[\W\d]*(?:(?:by|via|through|по|на)\s+)?(?:e-?mail|почт\w*)(?!\w)", _I),
}


def contact_line(sentence: str, channel: str | None) -> bool:
    """A line of a list of ways to reach us that opens with the customer's own channel and
    gives no number or address ("Chat in the app over Wi-Fi or on the website"): even where
    the heading that named the list was cut off with it."""
    pattern = _CHANNEL_LINE.get(channel or "")
    return bool(pattern and pattern.search(sentence)) and not _OTHER_CONTACT.search(sentence)


def contact_heading(heading: str) -> bool:
    """The heading opens a list of the ways to contact us."""
    return bool(_CONTACT_HEADING.search(heading))


def names_only_channel(sentence: str, channel: str | None) -> bool:
    """Under a contact heading: the sentence names the customer's own channel as the way to
    reach us ("Chat in the app over Wi-Fi") and gives no number or address."""
    pattern = _CHANNEL_NAMES.get(channel or "")
    return bool(pattern and pattern.search(sentence)) and not _OTHER_CONTACT.search(sentence)


def invites_contact(sentence: str) -> bool:
    """The sentence asks the customer to get in touch with us (in the chat, by e-mail, by
    calling us or anyhow) and gives no number or address to do it with: beside a handoff
    promise, where we get in touch with them, a second route. A number stays: a customer
    who cannot wait (or cannot type) is better off with it."""
    asks = (_GENERIC_CONTACT.search(sentence) or _CALL_US.search(sentence)
            or _CHANNELS["chat"].search(sentence) or _CHANNELS["email"].search(sentence))
    return bool(asks) and not _OTHER_CONTACT.search(sentence)


# a step the customer already took: "Restart the router" after "I restarted the router
# twice", "Проверьте кабель" after "кабели проверил"; the step may follow a condition
# ("If it doesn't, unplug the router")
_AFTER_IF = r"^[\W\d]*(?:(?:if|when|если|когда)\b[^,;:.!?—]*,\s*)?"
_IMPERATIVE_RU = re.compile(_AFTER_IF + r"(?P<verb>[а-яё]+(?:ите|йте|ьте))(?:сь)?\b(?P<rest>(?:[^,;:.!?—]|\.(?=\w))*)", _I)
_IMPERATIVE_EN = re.compile(_AFTER_IF + r"(?P<verb>restart|reboot|check|make sure|ensure|verify|open|look|visit|go|see|"
                            r"unplug|plug|turn|switch|reset|update|reinstall|clear|close|move|connect|disconnect|remove|"
                            r"insert|pull|run|test|try|top up|pay)\b(?P<rest>(?:[^,;:.!?—]|\.(?=\w))*)", _I)
# what the customer says they did: a first-person past tense (English), a past-tense verb (Russian)
# ("Connected my PC to the router": chat English drops the "I")
_DONE_EN = re.compile(r"(?:\b(?:i|we)(?:'ve| have| had)?(?: already| also| even)? |(?:^|(?<=[.!?(]))\s*(?:already\s+)?)"
                      r"(?P<verb>[a-z]+ed|ran|reset|did|tried)\b(?P<rest>[^.!?,;]*)", _I)
_DONE_RU = re.compile(r"(?<![а-яё])(?P<verb>[а-яё]{4,}(?:ал|ял|ил|ел|ул)(?:а|и|ся|ась|ись)?)(?![а-яё])(?P<rest>[^.!?,;]*)", _I)
# "I've restarted the phone, flipped airplane mode on and off": the verbs listed after the first
_DONE_EN_MORE = re.compile(r"(?:,|\band\b|\bthen\b)\s+(?:also\s+|even\s+|then\s+)?(?P<verb>[a-z]+ed)\b(?P<rest>[^.!?,;]*)", _I)
_AUX = {"tri", "did"}  # "I tried restarting it" / "I did restart it": the step is in what follows
_AUX_RU = {"пробо", "попро"}  # «пробовала перезагрузить роутер», «попробовал перезагрузить»
# "I've rebooted the thing a hundred times", «перезагружала эту штуку»: a word for whatever
# device is at hand names no other object, so it stands for the step's own
_ANY_DEVICE = re.compile(r"^\s*(?:(?:the|this|that|my|our|эту|эта|это|этот|мою|мой|моё|мое)\s+)?"
                         r"(?:thing|thingy|device|gadget|штук[уаи]|штуковин\w*|устройств\w*|девайс\w*|аппарат\w*)(?!\w)", _I)
_IRREGULAR = {"ran": "run"}
_OBJECT_WORDS = {"it", "them", "this", "that", "the", "a", "an", "my", "our", "his", "her", "their", "another", "both"}

# one step, several words. The language's own: "restart" is "reboot", "turn it off and on"
# is a reboot, "выключить из розетки" is unplugging; step_definitions() reads what a
# knowledge base defines ("Reboot the router: unplug the power for 30 seconds").
_SAME_STEP: tuple[frozenset[str], ...] = (
    frozenset({"resta", "reboo", "перез"}),
    frozenset({"unplu", "pull", "выньт", "вынут", "выним", "вынул", "выдер", "вытащ", "вытас"}),
    frozenset({"check", "look", "прове", "посмо"}),
    frozenset({"turn", "switc", "flip", "flipp", "toggl"}),
)
_REPHRASE = (
    # "switched the router off and on again" -> "rebooted the router"
    (re.compile(r"\b(?:turn|switch|flip)(?P<ed>ed)?\s+(?P<obj>(?:[\w'-]+\s+){0,3}?)off\s+and\s+(?:back\s+)?on(?:\s+again)?\b", _I),
     lambda m: f"reboot{'ed' if m.group('ed') else ''} {m.group('obj')}"),
    # "выключил и включил роутер", "выключите телефон и включите снова" -> a reboot
    (re.compile(r"(?<![а-яё])выключ(?P<end>[а-яё]*)\s+(?P<obj>(?:[а-яё-]+\s+){0,2}?)и\s+(?:снова\s+|обратно\s+|потом\s+)?"
                r"включ[а-яё]*(?:\s+(?:снова|обратно|заново))?", _I),
     lambda m: f"перезагруз{m.group('end')} {m.group('obj')}"),
    # "выключала из розетки", «отключите от розетки» is unplugging
    (re.compile(r"(?<![а-яё])(?:вы|от)ключ(?P<end>[а-яё]*)(?P<obj>\s+(?:[а-яё-]+\s+){0,2}?(?:из|от)\s+розетк)", _I),
     lambda m: f"выдерн{m.group('end')}{m.group('obj')}"),
)
# where a knowledge base says what a step is: "Reboot the router: unplug the power ...",
# "to reboot, you just unplug the power", "Перезагрузите роутер: выньте ...". Both words
# must read as imperatives: a Russian imperative ending, or an English word before "the",
# "your", "it".
_W = r"[A-Za-zА-Яа-яЁё]+"
_DEFINED = (
    re.compile(rf"(?m)^[\W\d]*(?P<a>{_W})\s+(?P<obj>[\w-]+(?:\s+[\w-]+){{0,5}}?)\s*:\s*(?P<b>{_W})", _I),
    re.compile(rf"(?:^|[.!?:]\s+)(?:to|чтобы)\s+(?P<a>{_W})(?P<obj>(?:\s+[а-яё-]+)?),\s+(?:you\s+)?"
               rf"(?:just\s+|simply\s+|просто\s+)?(?P<b>{_W})", _I),
)
_OBJ_AFTER = re.compile(r"\s+(?:the|your|it|its|a|an|all)\b", _I)
_STOP_EN = frozenset(STOPWORDS_EN)
_LOOK = {"check", "open", "look", "visit", "go", "see", "прове", "откро", "посмо", "зайди", "загля"}
_SITE = re.compile(r"(?<![\w@.-])(?:[a-z0-9-]+\.)+[a-z]{2,}(?![\w-])", _I)
# a check, whose outcome the customer may already have told: "Check that the power adapter is
# firmly plugged in", "Make sure ...", «Проверьте, что ...», «Убедитесь, что ...»
_CHECK = {"check", "make", "ensur", "verif", "прове", "убеди"}
_OWNER = frozenset(tokenize("my your our his her its their ваш мой наш свой этот"))
_COPULA = re.compile(r"\b(?:is|are|was|were|seems?|looks?|stays?|sits?)\b|'s\b|'re\b", _I)
_CHECK_LEAD = re.compile(r"^\s*(?:(?:that|whether|if)\b|,?\s*(?:что|ли|есть ли|нет ли)(?![а-яё]))", _I)


@dataclass(frozen=True)
class StepDefinition:
    """A knowledge base's "Reboot the router: unplug the power ...": the step `verb` done to
    `objects` is the step `means`."""

    verb: str
    objects: frozenset[str]
    means: str


def _verb_key(word: str) -> str:
    """A verb's first letters, an English one stemmed first: "turned" is "turn", "opened" is
    "open" (five letters of "turned" are not "turn"); Russian forms share their first five
    letters ("перезагрузите", "перезагружал")."""
    word = word.lower().replace("ё", "е")
    if re.fullmatch(r"[a-z]+(?: sure)?", word):
        word = _IRREGULAR.get(word) or next(iter(tokenize(word)), word)
    return word[:5]


def _imperative(m: re.Match, name: str) -> bool:
    word = m.group(name)
    if re.fullmatch(r"[а-яё]+(?:ите|йте|ьте)", word, _I):
        return True
    return bool(re.fullmatch(r"[a-z]+", word, _I)) and word.lower() not in _STOP_EN and bool(
        _OBJ_AFTER.match(m.string, m.end(name)))


def step_definitions(texts: Iterable[str]) -> tuple[StepDefinition, ...]:
    """The steps knowledge-base texts define by another ("Reboot the router: unplug the
    power for 30 seconds", "Проверьте кабель в порту WAN: выньте его и вставьте")."""
    out = []
    for text in texts:
        for pattern in _DEFINED:
            for m in pattern.finditer(text):
                verb, means = _verb_key(m.group("a")), _verb_key(m.group("b"))
                if _imperative(m, "a") and _imperative(m, "b") and verb != means:
                    out.append(StepDefinition(verb, frozenset(tokenize(m.group("obj"))), means))
    return tuple(dict.fromkeys(out))


def _core(key: str) -> frozenset[str]:
    return next((g for g in _SAME_STEP if key in g), frozenset({key}))


def same_step(verb: str, objects: set[str], definitions: Iterable[StepDefinition] = ()) -> frozenset[str]:
    """Keys of the verbs that name the step `verb` done to `objects`: the language's own
    synonyms, and a definition's other verb where it speaks of the same object (rebooting
    the router is unplugging it; checking the cable is pulling it out and pushing it back,
    but checking the router lights is not)."""
    keys = set(_core(verb))
    for d in definitions:
        if d.objects and not d.objects & objects:
            continue
        if d.verb in _core(verb):
            keys |= _core(d.means)
        elif d.means in _core(verb):
            keys |= _core(d.verb)
    return frozenset(keys)


def _rephrase(text: str) -> str:
    for pattern, replace in _REPHRASE:
        text = pattern.sub(replace, text)
    return text


def already_done(sentence: str, customer_text: str, definitions: Iterable[StepDefinition] = ()) -> bool:
    """The sentence tells the customer to do a step they say they already did: the same verb
    (by its first letters, so "перезагрузите" meets "перезагружал", or one naming the same
    step: the language's own or by `definitions`) and a shared object; or to look at a site
    the customer already reported on ("Check status.example" after "nothing on status.example")."""
    sentence, customer_text = _rephrase(sentence.strip()), _rephrase(customer_text)
    m = _IMPERATIVE_EN.match(sentence) or _IMPERATIVE_RU.match(sentence)
    if not m:
        return False
    verb, objects = _verb_key(m.group("verb")), set(tokenize(m.group("rest")))
    if verb in _LOOK and _reported_on(_SITE.findall(m.group("rest")), customer_text):
        return True
    if verb in _CHECK and _told_outcome(_checked(sentence, m), customer_text):
        return True
    same = same_step(verb, objects, definitions)
    for done in (*_DONE_EN.finditer(customer_text), *_first_person_more(customer_text), *_DONE_RU.finditer(customer_text)):
        said = _verb_key(done.group("verb"))
        rest = done.group("rest")
        if said[:3] in _AUX or said in _AUX_RU:  # "tried restarting the router": the verb is the next word
            nxt = re.match(r"\W*(?:to\s+)?(\w+)", rest)
            # unless the next word is its object: "tried it in my husband's phone" is the step "try"
            if nxt and nxt.group(1).lower() not in _OBJECT_WORDS:
                said, rest = _verb_key(nxt.group(1)), rest[nxt.end():]
        window = f"{customer_text[max(0, done.start() - 60):done.start()]} {rest[:80]}"
        # a step that names no object ("Reboot: unplug the power ...") is the one in question
        if said in same and not _opposite(rest, m.group("rest")) \
                and (not objects or objects & set(tokenize(window)) or _ANY_DEVICE.match(rest)):
            return True
    return False


def _opposite(said: str, step: str) -> bool:
    """The two go opposite ways, each said in the next few words: "turned it on" is not "turn
    off" ("turned airplane mode off and on" is read as a reboot before this)."""
    a, b = (re.match(r"\s*(?:[\w'-]+\s+){0,3}?(on|off)\b", text, _I) for text in (said, step))
    return bool(a and b and a.group(1).lower() != b.group(1).lower())


# an answer that says yes, and a question about what the customer has done ("Have you tried
# rebooting the router?", "Did you check the cable?", «Вы перезагружали роутер?»)
_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|of course|already|i did|i have|we did|we have|"
                  r"да|ага|угу|конечно|уже)(?![\w'])", _I)
_ASKED_DONE_EN = re.compile(r"\b(?P<aux>have|did)\s+you\s+(?P<rest>[^?]+)\?", _I)
_ASKED_DONE_RU = re.compile(r"(?:^|(?<=[.!?]\s))(?:а\s+)?(?:вы\s+)?(?:уже\s+)?(?P<rest>[а-яё]+(?:ли|ла|ло)\b[^?]*)\?", _I)


def said_by_customer(messages: Iterable[tuple[str, str]]) -> str:
    """What the customer said, for the checks against contradicting them: their own turns,
    and each of the agent's questions about what they did that they answered yes to, as
    their own statement ("Have you tried rebooting the router?" - "Yes, twice" says "I have
    tried rebooting the router"; «Вы перезагружали роутер?» - «Да» says «перезагружали
    роутер»). `messages` are (role, text) in order."""
    out: list[str] = []
    last_agent = ""
    for role, text in messages:
        if role != "customer":
            last_agent = text
            continue
        if last_agent and _YES.match(text):
            out.extend(f"I {m.group('aux').lower()} {m.group('rest').strip()}." for m in _ASKED_DONE_EN.finditer(last_agent))
            out.extend(f"{m.group('rest').strip()}." for m in _ASKED_DONE_RU.finditer(last_agent)
                       if _DONE_RU.match(m.group("rest")))
        out.append(text)
        last_agent = ""
    return "\n".join(out)


def _reported_on(sites: list[str], customer_text: str) -> bool:
    """The customer reports on one of the sites: by its address, or as its first label's
    page ("status.example.org" is "the status page", "the status site")."""
    said = {s.lower() for s in _SITE.findall(customer_text)}
    for site in sites:
        label = site.split(".")[0]  # a name, not "my" of my.example.org nor "www"
        if site.lower() in said or len(label) >= 4 and re.search(rf"\b{re.escape(label)}\s+(?:page|site|website)\b",
                                                                 customer_text, _I):
            return True
    return False


def _checked(sentence: str, m: re.Match) -> str:
    """What a check looks at: its object ("your balance"), or the clause after «Проверьте, что»."""
    rest = m.group("rest")
    if not _subject(rest):
        rest = re.split(r"[.;:!?—]", sentence[m.end():], maxsplit=1)[0]
    return _CHECK_LEAD.sub("", rest)


def _reports(clause: str) -> bool:
    """The clause says how a thing is, not what someone did to it: "the adapter is firmly
    plugged in", «блок питания плотно вставлен»; not "I plugged the cable back", «кабель вынимала»."""
    if re.search(r"[а-яё]", clause, _I):
        return not _DONE_RU.search(clause)
    return bool(_COPULA.search(clause))


def _told_outcome(checked: str, customer_text: str) -> bool:
    """The customer states, of the thing a check looks at, what the check would find: "the power
    adapter is firmly plugged in" answers "Check that the power adapter is firmly plugged into the
    router", "my balance is positive" answers "Check your balance". A state of the thing (light
    colour, balance sign), or most of what the check names; not in a question, a condition or a
    denial ("the adapter isn't in"), and not the complaint itself ("my mobile data stopped
    working" says nothing of the mobile data settings)."""
    target = _subject(_states(checked)[1]) - _OWNER  # "your balance" is the balance
    if not target:
        return False
    # split at line ends too, not with split_sentences: chat messages often end without a full
    # stop, and one joined to the next message's question would be skipped as a question
    for sentence in re.split(r"(?<=[.!?\n])\s*", customer_text):
        if sentence.rstrip().endswith("?"):
            continue
        for clause in _CLAUSE.split(sentence):
            if re.search(rf"(?<!\w){_NEG}(?!\w)|n't\b|^\s*(?:if|when|если|когда)\b", clause, _I):
                continue
            states, rest = _states(clause)
            if "service" in states:
                continue
            shared = target & (_subject(rest) - _OWNER)
            if states and shared == target or len(shared) >= 2 and len(shared) >= len(target) / 2 and _reports(clause):
                return True
    return False


def explains(sentence: str) -> bool:
    """A statement that tells nothing to do and states no condition ("A Wi-Fi result tells you
    about Wi-Fi, not about the line."): written right after a step on its line, it is that
    step's reason, and goes with the step when the customer already took it."""
    s = sentence.strip()
    return not (_IMPERATIVE_EN.match(s) or _IMPERATIVE_RU.match(s) or conditions(s) or s.endswith("?"))


def _first_person_more(customer_text: str) -> list[re.Match]:
    """The past-tense verbs listed after a first-person one in the same sentence."""
    out = []
    for first in _DONE_EN.finditer(customer_text):
        end = re.search(r"[.!?]", customer_text[first.end():])
        stop = first.end() + (end.start() if end else len(customer_text))
        out.extend(_DONE_EN_MORE.finditer(customer_text, first.end(), stop))
    return out
