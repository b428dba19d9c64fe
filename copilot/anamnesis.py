"""Anamnesis: the clarifying questions for the facts this kind of problem needs and the
customer has not given yet, at most three, most informative first.

What a problem needs comes from the matched article's `required_facts` (in the article's
order, which is the diagnostic order) and from what agents asked in similar past
tickets (a fact agents keep asking for is worth asking). Facts the customer already
gave, in any turn or in the profile, are never asked again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from copilot.facts import FACTS, FactDef, GivenFact, facts_asked
from copilot.schema import Question
from knowledge_base.documents import RequiredFact

MAX_QUESTIONS = 3


@dataclass
class ArticleFacts:
    source_id: str
    required_facts: list[RequiredFact]


def candidate_facts(articles: list[ArticleFacts], ticket_questions: list[list[str]],
                    facts: dict[str, FactDef] = FACTS) -> dict[str, float]:
    """fact key -> informativeness score."""
    scores: dict[str, float] = {}
    for rank, article in enumerate(articles):
        for i, fact in enumerate(article.required_facts):
            key = fact.fact
            # the first article leads; within an article earlier facts matter more
            scores[key] = max(scores.get(key, 0.0), (1.0 - 0.4 * rank) - 0.08 * i)
    asked = Counter(key for questions in ticket_questions
                    for key in {k for q in questions for k in facts_asked(q, facts)})
    for key, count in asked.items():
        if key in scores:
            scores[key] += 0.05 * count
        elif count >= 2 and key in facts:  # agents keep asking it though no article lists it
            scores[key] = 0.3 + 0.05 * count
    return scores


def questions(language: str, articles: list[ArticleFacts], ticket_questions: list[list[str]],
              given: dict[str, GivenFact], limit: int = MAX_QUESTIONS,
              facts: dict[str, FactDef] = FACTS) -> list[Question]:
    scores = candidate_facts(articles, ticket_questions, facts)
    wording: dict[str, RequiredFact] = {}
    for article in reversed(articles):  # the best article's wording wins
        for fact in article.required_facts:
            wording[fact.fact] = fact
    missing = sorted((k for k in scores if k not in given), key=lambda k: -scores[k])
    out: list[Question] = []
    for key in missing[:limit]:
        spec = wording.get(key)
        default = facts.get(key)
        text = (spec.question.get(language) if spec else None) or (default.question.get(language) if default else None)
        if not text:
            continue
        why = (spec.why if spec else "") or (default.why.get(language, "") if default else "")
        out.append(Question(fact=key, text=text, why=why))
    return out
