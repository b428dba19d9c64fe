"""Personal data masked before it leaves the process, is stored or reaches a log.

One detector per kind of data, each by format and, where the format alone is ambiguous,
by the words around it: a 16-digit order number is not a card unless the Luhn checksum
holds or the customer calls it a card; "4509 654321" is a passport only next to the words
that say so. Masking keeps the kind of data ("[CARD]", "[PHONE]") so the model and the
reader still know what was there. A desk's contract numbers (its configured format) are
kept: the case needs them and they identify a contract, not a person. Values the
knowledge base itself publishes (the desk's own hotline) can be passed as `public`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

_I = re.I | re.U


def _inn_ok(digits: str) -> bool:
    """Checksum of a Russian taxpayer number (10 digits for companies, 12 for people)."""
    def check(ds: str, weights: list[int]) -> int:
        return sum(int(d) * w for d, w in zip(ds, weights)) % 11 % 10

    if len(digits) == 10:
        return check(digits, [2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(digits[9])
    if len(digits) == 12:
        return (check(digits, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(digits[10])
                and check(digits, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(digits[11]))
    return False


def _snils_ok(digits: str) -> bool:
    if len(digits) != 11:
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    control = total % 101
    control = 0 if control == 100 else control
    return control == int(digits[9:])


def luhn_ok(digits: str) -> bool:
    """The check digit every payment card carries."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


# --- what each kind looks like --------------------------------------------------------------

# words that say what a number is, in the few words before it
_CARD_WORDS = re.compile(r"(card|карт\w*|visa|mastercard|мир\b|cvv|pan\b)\W*(?:\w+\W+){0,3}$", _I)
_PHONE_WORDS = re.compile(r"(phone|mobile|cell|call|text me|whatsapp|telegram|tel\b|тел\w*|моб\w*|звон\w*|позвон\w*"
                          r"|номер\w* для связи|контакт\w*)\W*(?:\w+\W+){0,3}$", _I)
_NOT_PHONE_WORDS = re.compile(r"(order|invoice|ticket|request|tracking|parcel|account|contract|заказ\w*|счет\w*|сч[её]т\w*"
                              r"|заявк\w*|договор\w*|посылк\w*|трек\w*|№|#)\W*(?:\w+\W+){0,2}$", _I)
# a passport (or another identity document) is named before its number: "паспорт", "серия ...",
# "документ, удостоверяющий личность" (any form of both words), "passport", "series",
# "identity card"; or right after it: "4509 654321 (паспорт)"
_PASSPORT_NAMES = (r"паспорт\w*|passport|сери[яиюей]|series|удостовер\w* личност\w*|identity (?:card|document)"
                   r"|id (?:card|document)|proof of identity")
_PASSPORT_NAME = re.compile(_PASSPORT_NAMES, _I)
_PASSPORT_WORDS = re.compile(rf"(?:{_PASSPORT_NAMES})[^\n]{{0,30}}$", _I)
_PASSPORT_AFTER = re.compile(rf"^[^\w\n]{{0,4}}(?:{_PASSPORT_NAMES})", _I)
# a label that says the number is something else, nearer to it than the passport word:
# "passport fee paid, order 4509 654321" is an order
_NOT_PASSPORT_WORDS = re.compile(r"(?:order|invoice|ticket|request|tracking|parcel|account|contract|заказ\w*"
                                 r"|сч[её]т\w*|заявк\w*|договор\w*|посылк\w*|трек\w*)", _I)
_SNILS_WORDS = re.compile(r"(снилс|snils|страхов\w* (номер|свидетельств)|insurance number)[^\d\n]{0,20}$", _I)

_AT = r"(?:\s*@\s*|\s*[\[({<]\s*(?:at|собака|собачка)\s*[\])}>]\s*)"
_DOT = r"(?:\.|\s*[\[({<]\s*(?:dot|точка)\s*[\])}>]\s*)"
_WORD_AT, _WORD_DOT = r"\s+(?:at|собака|собачка)\s+", r"\s+(?:dot|точка)\s+"
# "name@mail.ru", "name [at] mail.ru", "name (собака) mail (точка) ru", "name at mail dot ru";
# "I looked at speedtest.net" is not an address
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]*\w(?:{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}"
                    rf"|{_WORD_AT}[\w-]+(?:{_WORD_DOT}[\w-]+)*{_WORD_DOT})[a-zа-я]{{2,10}}(?![\w-])", _I)
_PLAIN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", _I)

# digits in groups, any separator style: "4111 1111 1111 1111", "4111.1111.1111.1111", "4111-1111-..."
_SEP = r"[ \u00a0.\-_/]?"
# international: "+7 916 123-45-67", "+44 (0)20 7946 0958"; brackets only round the code after the
# country's, so "+7 495 123-45-67 (24/7)" ends before "(24" (also the verifier's, copilot/text.py PHONE)
INTL_PHONE = (r"(?<![\w+])\+(?=(?:[\s\u00a0.\-()]{0,3}\d){8})\s?\d{1,3}(?:[\s\u00a0.\-]?\(\d{1,4}\))?"
              r"(?:[\s\u00a0.\-]?\d{1,4}){2,5}(?!\d)")
_INTL_PHONE = re.compile(INTL_PHONE)
_CARD = re.compile(rf"(?<![\d.,])\d(?:{_SEP}\d){{12,18}}(?![\d]|[.,]\d)")
_RU_PHONE = re.compile(r"(?<![\w+.,])(?:8|7)[\s(\-]*\d{3}[\s)\-]*\d{3}[\s.\-]*\d{2}[\s.\-]*\d{2}(?![\d]|[.,]\d)")
# written the North American way: "415.555.2671", "(212) 555-0142", "1-800-555-0199" (also read by the
# verifier as one number, copilot/text.py PHONE)
NANP_PHONE = r"(?<![\w+.,/:-])(?:1[\s.\-])?(?:\(\d{3}\)\s?|\d{3}[.\-])\d{3}[\s.\-]\d{4}(?![\d]|[.,]\d)"
_NANP_PHONE = re.compile(NANP_PHONE)
# a bare ten digits: "9161234567", "(916) 123-45-67", "(212) 555-0142"
_TEN_PHONE = re.compile(r"(?<![\w+.,/:-])(?:\(\d{3}\)\s?|\d{3}[\s.\-]?)\d{3}[\s.\-]?\d{2}[\s.\-]?\d{2}(?![\d]|[.,:/-]\d)")
# a Russian passport: a 4-digit series (written "4509" or "45 09") and a 6-digit number, together,
# side by side, or apart with their names ("серия 4509, номер 654321", "series 4509 No. 654321");
# other countries': up to two letters and 7-9 digits
# (separators bounded: unbounded runs of blanks on both sides of an optional comma backtrack in
# time growing with the square of the run)
_PASSPORT = re.compile(r"(?<![\d\w])(\d{2}[ \u00a0]?\d{2}[ \u00a0]{0,3}[,;]?[ \u00a0]{0,3}"
                       r"(?:(?:№|n|no\.?|nr\.?|number|номер|ном\.)[ \u00a0]{0,3}[:.]?[ \u00a0]{0,3})?\d{6}"
                       r"|[A-ZА-Я]{0,2}\s?\d{7,9})(?![\d\w])", _I)
# IBAN (ISO 13616): country code, two check digits, up to 30 letters and digits of the domestic
# account, written together or in groups of four; found by that shape, taken only when the
# length is the country's and the ISO 7064 mod-97 checksum holds
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}"
                   r"|(?:[ \u00a0][A-Za-z0-9]{4}){2,7}(?:[ \u00a0][A-Za-z0-9]{1,3})?)(?![A-Za-z0-9])")
# IBAN lengths of the countries of the SWIFT IBAN registry; another country's code is taken at
# any length the standard allows (15-34)
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_SNILS_FORMATTED = re.compile(r"(?<![\d.,])\d{3}[- ]\d{3}[- ]\d{3}[- ]\d{2}(?![\d]|[.,]\d)")
_SNILS = re.compile(r"(?<![\d.,])\d{3}\s?\d{3}\s?\d{3}\s?\d{2}(?![\d]|[.,]\d)")
_INN_LABELLED = re.compile(r"(?:ИНН|INN|taxpayer (?:id|number))\D{0,12}(\d{10}|\d{12})(?!\d)", _I)
_INN = re.compile(r"(?<!\d)(\d{12}|\d{10})(?!\d)")


def iban_ok(value: str) -> bool:
    """An IBAN (spaces allowed) whose length fits its country and whose mod-97 checksum holds."""
    iban = re.sub(r"[ \u00a0]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban) or not 2 <= int(iban[2:4]) <= 98:
        return False
    if len(iban) != _IBAN_LENGTHS.get(iban[:2], len(iban)):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban_in(candidate: str) -> str | None:
    """The IBAN a match of `_IBAN` starts with: the whole match, or (groups of four) the
    longest run of its first groups that is one, since the word after an IBAN can look
    like a group ("ES.. 1332 this")."""
    ends = [g.end() for g in re.finditer(r"\S+", candidate)]
    for end in reversed(ends):
        if iban_ok(candidate[:end]):
            return candidate[:end]
    return None


@dataclass
class MaskResult:
    text: str
    found: dict[str, int] = field(default_factory=dict)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _before(text: str, m: re.Match, chars: int = 40) -> str:
    return text[max(0, m.start() - chars) : m.start()]


def public_values(texts: Iterable[str]) -> set[str]:
    """What the given (published) texts contain that a detector would take for personal
    data, normalised: the desk's hotline in a cited article stays in a draft."""
    values: set[str] = set()
    for text in texts:
        for rx in (_INTL_PHONE, _RU_PHONE, _NANP_PHONE, _TEN_PHONE, _CARD):
            values |= {_digits(m.group(0)) for m in rx.finditer(text)}
        values |= {m.group(0).lower() for m in _PLAIN_EMAIL.finditer(text)}
        values |= {re.sub(r"\s", "", iban).upper() for m in _IBAN.finditer(text) if (iban := _iban_in(m.group(0)))}
    return values


def mask_pii(text: str, keep: re.Pattern | None = None, public: set[str] | frozenset[str] = frozenset()) -> MaskResult:
    """Replace card numbers, IBANs, e-mails, phone numbers, passport numbers, SNILS and INN
    with placeholders. Bare 10-12 digit runs count as INN/SNILS only when their checksum holds
    or a label says so, so order and contract numbers survive; `keep` (the desk's
    contract-number format) is never taken for a phone or an INN; `public` values (see
    `public_values`) are left as they are."""
    found: dict[str, int] = {}

    def kept(digits: str) -> bool:
        return (keep is not None and bool(keep.fullmatch(digits))) or digits in public

    def sub(pattern: re.Pattern, label: str, check: Callable[[str, re.Match, str], bool] | None = None,
            group: int = 0) -> None:
        nonlocal text

        def repl(m: re.Match) -> str:
            value = m.group(group)
            if check and not check(_digits(value), m, text):
                return m.group(0)
            found[label] = found.get(label, 0) + 1
            return m.group(0).replace(value, f"[{label}]")

        text = pattern.sub(repl, text)

    def iban(m: re.Match) -> str:
        value = _iban_in(m.group(0))
        if value is None or re.sub(r"\s", "", value).upper() in public:
            return m.group(0)
        found["IBAN"] = found.get("IBAN", 0) + 1
        return "[IBAN]" + m.group(0)[len(value):]

    def passport(d: str, m: re.Match, t: str) -> bool:
        """Named a passport before the number (and not relabelled since) or right after it."""
        before = _before(t, m)
        named = _PASSPORT_WORDS.search(before)
        if named:
            last_name = [x.start() for x in _PASSPORT_NAME.finditer(before)][-1]
            other = [x.start() for x in _NOT_PASSPORT_WORDS.finditer(before)]
            if other and other[-1] > last_name:
                named = None
        return bool(named or _PASSPORT_AFTER.search(t[m.end(): m.end() + 40])) and not kept(d)

    sub(_EMAIL, "EMAIL", lambda d, m, t: m.group(0).lower() not in public)
    text = _IBAN.sub(iban, text)  # before the digit runs inside it are taken for cards or phones
    sub(_SNILS_FORMATTED, "SNILS")
    sub(_INN_LABELLED, "INN", group=1)
    # passport: the number's format and the words around it
    sub(_PASSPORT, "PASSPORT", passport)
    sub(_SNILS, "SNILS", lambda d, m, t: _snils_ok(d) or bool(_SNILS_WORDS.search(_before(t, m))))
    sub(_INTL_PHONE, "PHONE", lambda d, m, t: 8 <= len(d) <= 15 and not kept(d))
    # a card: 13-19 digits whose check digit holds, or any such run the customer calls a card
    sub(_CARD, "CARD", lambda d, m, t: 13 <= len(d) <= 19 and not kept(d)
        and (luhn_ok(d) or bool(_CARD_WORDS.search(_before(t, m)))))
    sub(_RU_PHONE, "PHONE", lambda d, m, t: not kept(d) and not _NOT_PHONE_WORDS.search(_before(t, m, 25)))
    # written the North American way ("415.555.2671", "1-415-555-2671"): a phone wherever it stands,
    # say alone as the phone a customer gave, unless labelled an order
    sub(_NANP_PHONE, "PHONE", lambda d, m, t: not kept(d) and not _NOT_PHONE_WORDS.search(_before(t, m, 25)))
    # ten bare digits: a mobile number (9xx) or one the customer calls a phone, unless labelled an order
    sub(_TEN_PHONE, "PHONE", lambda d, m, t: not kept(d) and not _NOT_PHONE_WORDS.search(_before(t, m, 25))
        and (d.startswith("9") or m.group(0).startswith("(") or bool(_PHONE_WORDS.search(_before(t, m)))))
    sub(_INN, "INN", lambda d, m, t: _inn_ok(d) and not kept(d))
    return MaskResult(text, found)


def mask_tree(value: Any, mask: Callable[[str], str], skip: frozenset[str] = frozenset()) -> Any:
    """Every string in a JSON-like value masked, except under the keys in `skip` (text the
    knowledge base supplied, e.g. citation quotes)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [mask_tree(v, mask, skip) for v in value]
    if isinstance(value, dict):
        return {k: v if k in skip else mask_tree(v, mask, skip) for k, v in value.items()}
    return value


# --- secrets in messages ------------------------------------------------------------------

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.I)
# a key, token or password after its label, and provider-style keys on their own
_SECRET = re.compile(r"(?i)\b(bearer\s+|authorization\s*[=:]\s*|api[_-]?key\s*[=:]\s*|token\s*[=:]\s*"
                     r"|password\s*[=:]\s*|secret\s*[=:]\s*)[^\s'\",;}]+|\bsk-[A-Za-z0-9_-]{16,}")


def _bare_url(url: str) -> str:
    """An endpoint without user name, password, query string or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not parseable: nothing of it is shown
        return "[URL]"
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scrub(text: str, keep: re.Pattern | None = None) -> str:
    """A message as it may be shown, logged or stored: endpoints without credentials, keys
    and tokens replaced by [SECRET], personal data masked (a model's error body can echo
    the customer's card number)."""
    text = _URL.sub(lambda m: _bare_url(m.group(0)), text)
    text = _SECRET.sub(lambda m: f"{m.group(1) or ''}[SECRET]", text)
    return mask_pii(text, keep).text


def _scrub_record(record: logging.LogRecord) -> None:
    record.msg, record.args = scrub(record.getMessage()), None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))


def scrub_logs(prefixes: tuple[str, ...] = ("copilot", "knowledge_base")) -> None:
    """Every log record of the product's loggers (these names and their children, present
    and future) scrubbed as it is made, tracebacks included, before any handler sees it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "scrubs", None) == prefixes:
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.split(".")[0] in prefixes:
            _scrub_record(record)
        return record

    factory.scrubs = prefixes  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


scrub_logs()
