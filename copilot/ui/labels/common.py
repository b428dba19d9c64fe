"""Words several pages share: filter choices, language names, what an operator did with a
suggestion. Looked up as "common.<key>"."""

from __future__ import annotations

EN = {
    "all": "all",
    "lang_ru": "Russian",
    "lang_en": "English",
    "search": "Search",
    "approve": "Approve",
    "reject": "Reject",
    "status_pending": "pending",
    "status_approved": "approved",
    "status_rejected": "rejected",
    "action_sent": "sent",
    "action_rejected": "rejected",
    "action_regenerated": "regenerated",
    "action_handed_off": "handed off",
    "action_none": "no action",
}

RU = {
    "all": "все",
    "lang_ru": "русский",
    "lang_en": "английский",
    "search": "Поиск",
    "approve": "Одобрить",
    "reject": "Отклонить",
    "status_pending": "на рассмотрении",
    "status_approved": "одобрено",
    "status_rejected": "отклонено",
    "action_sent": "отправлено",
    "action_rejected": "отклонено",
    "action_regenerated": "сгенерировано заново",
    "action_handed_off": "передано",
    "action_none": "нет действия",
}
