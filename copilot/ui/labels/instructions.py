"""Knowledge-base passages flagged as instructions to the model
(copilot/ui/pages/instructions.py). Looked up as "instructions.<key>"."""

from __future__ import annotations

EN = {
    "title": "Instructions in the knowledge base",
    "intro": "Passages that address the model instead of the reader, found at ingest. They are never quoted into a "
             "draft nor given to the model; edit the source and ingest it again to clear the flag.",
    "search_hint": "source or words",
    "shown": "{shown} of {total} flagged passages shown",
    "none": "No passage of the knowledge base carries instructions to the model.",
    "found_by": "found by {by}",
    "why": "Why: {why}",
}

RU = {
    "title": "Указания в базе знаний",
    "intro": "Фрагменты, которые обращаются к модели, а не к читателю; найдены при загрузке. Они никогда не "
             "цитируются в черновике и не передаются модели; исправьте источник и загрузите его снова, чтобы "
             "снять отметку.",
    "search_hint": "источник или слова",
    "shown": "Показано отмеченных фрагментов: {shown} из {total}",
    "none": "Ни один фрагмент базы знаний не содержит указаний модели.",
    "found_by": "нашёл: {by}",
    "why": "Почему: {why}",
}
