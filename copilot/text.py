"""Text helpers shared by drafting, verification, evals and the panel: sentences,
citation markers, checkable entities (numbers, dates, phones, links, names), negation and
whether a sentence states a fact at all."""

from __future__ import annotations

import re
from typing import Callable, Sequence

from copilot.masking import INTL_PHONE, NANP_PHONE
from copilot.number_words import words_to_digits
from knowledge_base.derive import code_key
from knowledge_base.tables import ROW, RULE
from knowledge_base.tables import cells as table_cells
from knowledge_base.tokenizer import tokenize
from knowledge_base.wrapping import unwrap

_CITE = re.compile(r"\s*\[(\d{1,2})\]")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|approx|no|tel|т\.е|т\.д|т\.п|т\.к|ул|д|кв|г|руб|мин|пр|пер|стр|тел|им|др|пн|вт|ср|чт|пт|сб|вс|см|напр|рис)\.)$", re.I)
# a sentence may end inside emphasis or quotes: "**...started.** The fee"
_SPLIT = re.compile(r"(?<=[.!?…])(?:\*\*|__|[»\"')\]])*\s+|\n+")

# An error or status code as manuals and customers of any desk write it: capitals, then digits
# ("E-101", "E01", "W3", "ERR42", «Е-305» with a Cyrillic look-alike), or a hex status ("0x80070005").
# Case-sensitive: "page 12" and "iPhone 15" are no codes.
CODE = r"(?-i:(?<![\w-])[A-ZА-ЯЁ]{1,4}-?\d{1,5}(?![\w-]))|(?i:(?<![\w-])0x[0-9a-f]{4,8}(?![\w-]))"
# ... written as one the customer sees: with a dash ("E-101"), or next to a word that says it is a
# code or is shown ("error W3", "it shows E01", «пишет Е01», "E01 on the display", "error 651"); a
# bare "S23" is a phone model as often as a code
_CODE_SEEN = (r"\b(?:errors?|codes?|faults?|shows?|showing|displays?|displaying|screen|says|reads|flashes)|ошибк\w*|код\w*|"
              r"экран\w*|диспле\w*|пиш(?:ет|ут)|показыва\w*|высвечива\w*|выда(?:ёт|ет|ют)|гор(?:ит|ят)")
SHOWN_CODE = (rf"(?-i:(?<![\w-])[A-ZА-ЯЁ]{{1,4}}-\d{{1,5}}(?![\w-]))|(?:{_CODE_SEEN})\W{{1,3}}(?:\w{{1,5}}\W{{1,3}})?(?:{CODE})"
              rf"|(?:{CODE})\W{{1,3}}(?:errors?\b|codes?\b|on the (?:screen|display)|ошибк\w*|код\w*|на (?:экране|дисплее))"
              r"|\b(?:error|ошибк\w*)\W{1,3}(?:code\W{1,3}|№\s?|#)?\d{3,5}\b")  # "error 651", «ошибка 691»

# A phone number as a customer or an article of any country writes it: international ("+44 20 7946 0958",
# "+7 (916) 123-45-67"), Russian with the trunk 8 ("8 800 555-35-35"), North American with its
# separators ("(212) 555-0142", "1-800-555-0199"); a bare run of ten digits is as often an order number
PHONE = (rf"{INTL_PHONE}"
         r"|(?<![\w+.,])8[\s(\-]*\d{3}[\s)\-]*\d{3}[\s.\-]*\d{2}[\s.\-]*\d{2}(?![\d]|[.,]\d)"
         rf"|{NANP_PHONE}")


def phone_key(number: str) -> str:
    """One phone number however it is written: its last ten digits ("+7 916 ..." = "8 916 ...",
    "+1 212 ..." = "(212) ...")."""
    return re.sub(r"\D", "", number)[-10:]


_ENTITY_RXS = [
    ("link", re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:example|ru|com|org|net)(?:/[\w/.-]*)?\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)),
    ("phone", re.compile(PHONE)),
    ("code", re.compile(CODE)),
    ("time", re.compile(r"\b\d{1,2}:\d{2}\b")),
    ("number", re.compile(r"\d+(?:[\s\u00a0\u202f,.]\d{3})*(?:[.,]\d+)?")),
]
_NEGATION = re.compile(r"\b(not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|without|none|nor|unable)\b|"
                       r"(?<![\w-])(не|нет|нельзя|никогда|ни|без|невозможно)(?![\w-])", re.I)
_NON_FACTUAL = re.compile(
    r"^(hello|hi|good (morning|afternoon|evening)|dear|thank(s| you)|i'?m (so )?sorry|sorry|we apologi[sz]e|i understand|"
    r"i see|i'?m happy to help|happy to help|have a (nice|good|great) day|best regards|kind regards|you'?re welcome|"
    r"здравствуйте|добрый (день|вечер|утро)|привет|спасибо|благодарю|извините|простите|приносим извинения|понимаю|"
    r"сожалеем|рад\w* помочь|хорошего дня|всего доброго|пожалуйста, обращайтесь)\b", re.I)



_STEP_NUMBER = re.compile(r"(?:^|(?<=:)\s+)\d{1,2}[.)]$")
_STEP_OPENS = re.compile(r"(?:^|(?<=:)\s+)\d{1,2}\)\s+(?=\S)")


def _pieces(text: str) -> list[str]:
    """The text cut at sentence ends and line breaks, a table row kept whole however many
    sentences its cells hold ("| E40 | Suction blocked | Empty the dustbin. Check the channel. |")."""
    out: list[str] = []
    for line in text.split("\n"):
        out.extend([line] if ROW.match(line) else _SPLIT.split(line))
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences, with a citation written after the full stop ("... days. [2]") moved back
    to the sentence it belongs to, abbreviations ("ул.", "e.g.") not ending one, and a
    line break where the source wrapped a paragraph not ending one either."""
    raw = [p.strip(" -•*\t") for p in _pieces(unwrap(text.strip())) if p and p.strip(" -•*\t")]
    out: list[str] = []
    for i, part in enumerate(raw):
        if ROW.match(part):
            out.append(part)
            continue
        # a step's number ("1. Open ...", "To reset it: 1. Open ...", "2) Tap ...") marks the list, it states nothing
        if i + 1 < len(raw):
            part = _STEP_NUMBER.sub("", part)
        part = _STEP_OPENS.sub(lambda m: " " if m.start() else "", part)
        if not part:
            continue
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


# a list item that goes on from the line above it, in lower case: "the money left on your balance ..."
_LIST_ITEM = re.compile(r"^\s*(?:\*\*|__)?[a-zа-яё]")
# a clause that a comma closes ("When the contract ends, ..."); «после расторжения» is no clause
_CONDITIONAL_LEAD = re.compile(r"^(?:when|if|once|after|before|whenever|если|когда|как только)(?!\w)", re.I)


def list_leads(sentences: Sequence[str]) -> list[str]:
    """For each sentence, the line ending in a colon that leads it when it is an item of the
    list below that line ("When the contract ends:" for "the money left on your balance is
    refunded on request;"), else "". Items go on in lower case; the list ends at any other line."""
    out: list[str] = []
    lead = ""
    for sentence in sentences:
        if lead and _LIST_ITEM.match(sentence):
            out.append(lead)
            continue
        out.append("")
        text = sentence.rstrip()
        lead = text if text.rstrip("*_").endswith(":") and not text.startswith("#") and len(text.split()) >= 2 else ""
    return out


# what a sentence opens with when it goes on from the one before it: an example of it, a
# pronoun for what it named, the next step, its consequence ("For example, if ...", "It is
# reviewed within 5 days", "Then ...", «Например, ...», «Это ...», «Поэтому ...»)
_LEANS = re.compile(
    r"^[\s*_]*(?:for (?:example|instance)|e\.g\.|however|also|otherwise|instead|in (?:that|this|such a) case|"
    r"then|after that|therefore|that'?s why|this|that|these|those|it|its|they|their|such|"
    r"например|к примеру|однако|также|тоже|иначе|вместо этого|в (?:этом|таком|том) случае|тогда|затем|потом|"
    r"после этого|поэтому|при этом|кроме того|эт(?:о|от|а|и|ой|ого|им|у)|так(?:ой|ая|ое|ие)|"
    r"он|она|оно|они|его|её|ее|их)(?!\w)", re.I)


def leans_on_previous(sentence: str) -> bool:
    """The sentence reads as a continuation of the one before it in its text ("For example,
    if there was no service for 30 hours, ...", "It is reviewed within 5 business days"):
    quoted alone, it says something of nothing the reply has named."""
    return bool(_LEANS.match(sentence))


def with_lead(lead: str, item: str) -> str:
    """A list item read with the line that leads it, so that a quoted item keeps its condition:
    "When the contract ends, the money left on your balance is refunded on request." """
    lead = re.sub(r"\*\*|__", "", lead).rstrip().rstrip(":").rstrip()  # "**When the contract ends:**"
    # "Keep in mind that:" goes straight on; a clause takes a comma; anything else keeps its colon
    joint = " " if re.search(r"(?<!\w)(?:that|что|чтобы)$", lead, re.I) else \
        ", " if _CONDITIONAL_LEAD.match(lead.lstrip()) else ": "
    item = item.strip().rstrip(";,.").rstrip()
    return f"{lead}{joint}{item}" + ("" if item.endswith(("?", "!")) else ".")


def _header_word(cell: str) -> str:
    """"Price" reads "price" inside a sentence; "SIM", "Wi-Fi" keep their capitals."""
    return cell[0].lower() + cell[1:] if len(cell) > 1 and cell[1].islower() else cell


def table_rows(sentences: Sequence[str]) -> list[str]:
    """For each sentence, the table row it is read as a sentence of its own with the table's
    header ("| Mobile Max | 40 GB | 700 RUB |" under "| Plan | Data | Price |" is
    "Mobile Max: data — 40 GB; price — 700 RUB."), else "". A row of a table whose
    header is not in the text (a passage that starts inside the table) is left out: its
    cells alone do not say what they are."""
    out = [""] * len(sentences)
    header: list[str] | None = None
    for i, sentence in enumerate(sentences):
        if not ROW.match(sentence) or RULE.match(sentence):
            if not RULE.match(sentence):
                header = None
            continue
        cells = table_cells(sentence)
        # an HTML table without <th> converts with an empty header: its first row names the cells
        if i + 1 < len(sentences) and RULE.match(sentences[i + 1]) or header is not None and not any(header):
            header = cells
            continue
        if header is None or len(cells) != len(header) or not cells[0]:
            continue
        pairs = [(h, c) for h, c in zip(header[1:], cells[1:]) if c.strip("—–- ")]
        if not pairs:
            continue
        if len(header) == 2:
            body = pairs[0][1]
        else:
            body = "; ".join(f"{_header_word(h)} — {c}" if h else c for h, c in pairs)
        out[i] = f"{cells[0]}: {body}".rstrip(" .") + "."
    return out


def citations_of(sentence: str) -> list[int]:
    return [int(n) for n in _CITE.findall(sentence)]


def strip_citations(sentence: str) -> str:
    return re.sub(r"\s+([.!?,;:])", r"\1", _CITE.sub("", sentence)).strip()


class EntityRecognizer:
    """Checkable facts in a text, normalised ("4 990" = "4,990" = "4990"; "десяти" = "10",
    "two hundred and fifty" = "250"):
    links, phones, error codes, times and numbers, plus the names a desk sells (plan and
    product names, from its configuration) so that a swapped plan is a wrong fact."""

    def __init__(self, names: Sequence[str] = ()):
        kinds = list(_ENTITY_RXS)
        if names:  # before codes, times and numbers: "Home 300" and "Router AX3000" are one name each
            kinds.insert(2, ("plan", re.compile("|".join(f"(?:{n})" for n in names), re.I)))
        self._kinds = kinds

    def __call__(self, text: str) -> set[str]:
        text = words_to_digits(text)  # "fifty roubles" is the amount "50 roubles"
        found: set[str] = set()
        for kind, rx in self._kinds:
            for m in rx.finditer(text):
                value = m.group(0).lower().rstrip(".")
                if kind == "phone":
                    value = phone_key(value)
                elif kind == "number":
                    value = re.sub(r"[\s\u00a0\u202f]", "", value)
                    value = re.sub(r"(?<=\d)[,.](?=\d{3}\b)", "", value)
                elif kind == "code":  # "E-101", "e101" and «Е-101» are one code
                    value = code_key(value).lower()
                found.add(f"{kind}:{value}")
                text = text.replace(m.group(0), " ")  # a phone's digits are not also numbers
        return found


EntityFn = Callable[[str], set[str]]
# without a desk's names: what every knowledge base has
entities: EntityFn = EntityRecognizer()


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
