"""Which customer turns are answered, and whether they ask anything: only the turns since the
agent last wrote count ("my internet is down" then "hello?" is a customer waiting for an
answer, not a new greeting), and an acknowledgement after an agent's question is the
customer's answer."""

from __future__ import annotations

import re
from collections.abc import Callable

from copilot.facts import asking
from copilot.schema import Conversation
from copilot.small_talk.formulas import Act, act_of, clause_acts, sarcastic
from copilot.text import split_sentences

# judges the turns the formulas leave open: one act or None per text
Classify = Callable[[list[str]], list[Act | None]]

_CAPITALISED = re.compile(r"(?<=\w )[A-ZА-ЯЁ][a-zа-яё]+")  # inside a sentence: a name, not its first word
# "no", "yes, still red": a turn this short is an answer or a terse report, never left to the classifier;
# one this long says something (no greeting or thank-you of the training turns has more than 10 words),
# and a pasted transcript is not embedded for nothing
MIN_CLASSIFIED_WORDS = 3
MAX_CLASSIFIED_WORDS = 25


def pending_turns(conversation: Conversation) -> tuple[list[str], int]:
    """The customer's turns since the agent last wrote, and the index of that agent turn (-1: none)."""
    messages = conversation.messages
    last_agent = max((i for i, m in enumerate(messages) if m.role == "agent"), default=-1)
    return [m.text for m in messages[last_agent + 1:] if m.role == "customer" and m.text.strip()], last_agent


def asks_nothing(conversation: Conversation, classify: Classify | None = None) -> Act | None:
    """The conversation's pending customer turns ask nothing: 'greeting' when they only open
    the conversation or announce a question, 'closing' when they thank, say goodbye or
    acknowledge; None when any of them says something to answer. The formulas judge first;
    `classify` judges the turns with a clause that is no formula."""
    pending, last_agent = pending_turns(conversation)
    if not pending:
        return None
    messages = conversation.messages
    agent_asked = last_agent >= 0 and any(asking(s) for s in split_sentences(messages[last_agent].text))
    names = frozenset(w for m in messages[:last_agent + 1] for w in _CAPITALISED.findall(m.text.replace("ё", "е"))) \
        | frozenset((conversation.profile.name or "").replace("ё", "е").split())
    acts: list[Act | None] = []
    open_turns: list[str] = []
    for text in pending:
        if sarcastic(text):  # not for the formulas nor the classifier: "ну спасибо, очень помогли" is anger
            return None
        clauses = clause_acts(text, names)
        if clauses is not None:
            acts.append(act_of(clauses, answers_question=agent_asked, agent_spoke=last_agent >= 0))
        elif classify is not None and MIN_CLASSIFIED_WORDS <= len(text.split()) <= MAX_CLASSIFIED_WORDS:
            open_turns.append(text)
        else:
            return None
    if any(a is None for a in acts):
        return None
    if open_turns:
        judged = classify(open_turns)  # type: ignore[misc]
        if any(a is None for a in judged):
            return None
        acts += judged
    return "closing" if "closing" in acts else "greeting"
