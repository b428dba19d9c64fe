"""Knowledge-base text written to the agent, not to the customer, on a knowledge base whose
documents say nothing of their audience (a help-centre export, a manual, tau-banking's JSONL).

Front matter's `audience: internal` keeps a whole document out of drafts; without it the
index takes every document as customer-facing, and an agent's manual mixed in would be copied
into the reply: "Ask the customer to confirm the code", "log_verification", "agents must ...".
A sentence is the agent's when it acts on the customer in the third person (ask, tell, warn
the customer; «попросите клиента»), names the agent's tools (an identifier like `pin_locked`,
a call like `unlock()`) or an internal document, tells agents what they must do, or says what not
to reveal; a passage is when its title or heading says it is internal ("Internal: ...", "(Internal)",
not "internal storage"). Third-person terms written to the customer
("The subscriber pays by the 25th", "Support agents cannot promise you an amount") stay.
"""

# knowledge_base/derive.py has its own "written to the agent" patterns (`_AGENT_READER_*`, `_AGENT_SIDE`) with
# another job: deciding who a whole text speaks to, where "the customer is/has ..." counts; in a reply that would
# drop terms written to customers in the third person, and `\w_\w` would drop "my_account" in a link.

from __future__ import annotations

import re

_I = re.I | re.U

_WHO_EN = r"(?:the\s+|a\s+)?(?:customer|user|caller|client|account holder|cardholder|member)s?"
_WHO_RU = r"(?:клиент|абонент|пользовател|звонящ|заявител)\w*"
_TO_AGENT = re.compile(
    rf"\b(?:ask|tell|warn|inform|advise|remind|instruct|transfer|escalate|direct)\s+{_WHO_EN}\b"
    rf"|^\W*(?:warn|tell|inform|advise|remind|ask)\s+{_WHO_EN}\s*[:—-]"
    r"|\b(?:agents?|representatives?|operators?)\s+(?:must|should|need to|are required to)\b"
    # the agent reads the customer's data or acts on what they say: "Look up the customer's accounts",
    # "If customer wants to continue, ..."
    r"|\b(?:look up|pull up|check|verify|review|open)\s+(?:the\s+)?(?:customer|user|caller)'s\b"
    r"|\bif\s+(?:the\s+)?(?:customer|user|caller)\s+(?:wants|asks|says|insists|requests|confirms|agrees|declines|refuses)\b"
    r"|\b(?:do not|don't|never)\s+(?:reveal|disclose)\b"
    rf"|(?<!\w)(?:попросите|спросите|уточните|сообщите|предложите|объясните|предупредите|переведите|направьте)\s+"
    rf"(?:у\s+)?{_WHO_RU}"
    rf"|(?<!\w)не\s+(?:сообщайте|раскрывайте|называйте)\s+{_WHO_RU}"
    r"|(?<!\w)(?:оператор|сотрудник|специалист)\w*\s+(?:обязан|должен|должны)(?!\w)", _I)
# an identifier of a tool or a field ("log_verification", "pin_locked = TRUE") or a call ("unlock()")
# (a whole word: "my_account" inside a link or an address is the customer's to use)
_TOOL = re.compile(r"(?<![\w./@:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./@-])|\b[a-z_]\w*\((?:\)|\"|')")
# a text marked internal ("Internal: PIN Lock Protocol", "Special Codes (Internal)", "for internal use only"),
# not the word's other senses ("internal storage", «внутренняя память»); nor "for agents", «для операторов»:
# quick answers for agents are written to be sent to customers
_INTERNAL = re.compile(r"(?:^|[\s'\"(\[])internal\s*[:)\]]|\binternal(?: [\w-]+){0,3}? (?:use|only|protocol|procedure|document|guide|"
                       r"policy|policies|notes?|codes?|tool)\b|(?<!\w)(?:для|только для) (?:внутреннего|служебного) "
                       r"(?:использования|пользования)|\((?:внутренн|служебн)\w*\)|(?<!\w)(?:внутренн|служебн)\w* "
                       r"(?:регламент|инструкци|документ|протокол|процедур)\w*", _I)


def for_agents(sentence: str) -> bool:
    """The sentence speaks to the agent (or names the agent's tools, or an internal document):
    not for a reply."""
    return bool(_TO_AGENT.search(sentence) or _TOOL.search(sentence) or _INTERNAL.search(sentence))


def internal_section(*names: str) -> bool:
    """A document title or heading that marks the text under it as internal."""
    return any(_INTERNAL.search(n or "") for n in names)
