"""Checks and handoff rules derived from the knowledge base (copilot/ui/pages/proposals.py).
Looked up as "proposals.<key>"."""

from __future__ import annotations

EN = {
    "title": "Derived checks and rules",
    "intro": "Found at ingest in the articles' own text. ",
    "mode_all": "Pending ones are already used; approve, edit or reject them.",
    "mode_approved": "Only approved ones are used (COPILOT_ANAMNESIS__DERIVED=approved).",
    "status": "Status",
    "kind": "Kind",
    "kind_check": "Questions (checks)",
    "kind_rule": "Handoff rules",
    "kind_link": "Paths followed first",
    "search_hint": "source or words",
    "shown": "{n} shown",
    "approve_all": "Approve all {n} shown",
    "reviewed_by": " · reviewed by {who}",
    "source": "Source: {sentence}",
    "follow_up": "Follow-up: asked once the customer's words meet \"{condition}\"",
    "question": "Question to the customer",
    "routing": "Routing: once the customer's words meet \"{condition}\", the questions come from this path "
               "instead of the article that matched",
    "routing_means": "Routing: once the customer's words meet \"{condition}\" or say \"{means}\", the questions "
                     "come from this path instead of the article that matched",
    "path_title": "The path's article is titled",
    "first_from": "Its checks are asked first from the article titled",
    "reason": "Reason: {reason}",
    "applies_when": "Applies when",
    "applies_asked": "Applies when the customer asks for this (only a person decides; no diagnosis first)",
    "first_100": "The first 100 are shown: narrow the list with the search.",
}

RU = {
    "title": "Выведенные проверки и правила",
    "intro": "Найдены при загрузке в тексте самих статей. ",
    "mode_all": "Ожидающие проверки уже используются; одобрите, исправьте или отклоните их.",
    "mode_approved": "Используются только одобренные (COPILOT_ANAMNESIS__DERIVED=approved).",
    "status": "Статус",
    "kind": "Вид",
    "kind_check": "Вопросы (проверки)",
    "kind_rule": "Правила передачи сотруднику",
    "kind_link": "Пути, которые проходят первыми",
    "search_hint": "источник или слова",
    "shown": "Показано: {n}",
    "approve_all": "Одобрить все показанные ({n})",
    "reviewed_by": " · проверил(а) {who}",
    "source": "Источник: {sentence}",
    "follow_up": "Уточнение: задаётся, когда слова клиента подходят под «{condition}»",
    "question": "Вопрос клиенту",
    "routing": "Маршрут: когда слова клиента подходят под «{condition}», вопросы берутся из этого пути, "
               "а не из найденной статьи",
    "routing_means": "Маршрут: когда слова клиента подходят под «{condition}» или говорят «{means}», вопросы "
                     "берутся из этого пути, а не из найденной статьи",
    "path_title": "Заголовок статьи пути",
    "first_from": "Сначала задаются проверки из статьи с заголовком",
    "reason": "Причина: {reason}",
    "applies_when": "Применяется, когда",
    "applies_asked": "Применяется, когда клиент просит об этом (решает только сотрудник; без диагностики)",
    "first_100": "Показаны первые 100: сузьте список поиском.",
}
