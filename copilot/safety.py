"""Safety: instructions hidden in customer or knowledge-base text detected and flagged.
Personal data masking lives in copilot.masking.
"""

from __future__ import annotations

import re

_I = re.I | re.U


# --- instructions inside data -------------------------------------------------------------

_INJECTION = re.compile("|".join(f"(?:{p})" for p in [
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(previous|prior|above|earlier|all|your|the)\b.{0,20}\b(instructions?|rules?|prompts?|guidelines?|directions?)",
    r"\b(you are now|from now on you|act as|pretend (to be|you are)|you must now)\b",
    r"\b(system|developer|admin)\s*(prompt|mode|message|override)\b", r"^\s*(system|assistant|developer)\s*:", r"<\s*/?\s*(system|instructions?)\s*>",
    r"\b(print|show|reveal|repeat|output)\b.{0,20}\b(your|the|system)\b.{0,10}\b(prompt|instructions?)\b",
    r"\b(i am|i'm|as) (the |a |your )?(manager|supervisor|admin|administrator|director|ceo)\b.{0,40}\b(authori[sz]e|allow|approve|order|permit)\b",
    r"\b(promise|confirm|guarantee|approve)\b.{0,30}\b(full|100 ?%|complete)\b.{0,15}\b(refund|compensation|waiver)\b",
    r"\bwaive (the|all|my) (fee|debt|charges?)\b",
    r"(игнорир|забуд|не обращай внимания|отмени)\w*.{0,30}(предыдущ|прошл|все|свои|эти|системн)\w*.{0,20}(инструкц|правил|указани|промпт)",
    r"(теперь ты|ты теперь|представь,? что ты|веди себя как|действуй как)",
    r"(системн\w* (промпт|сообщени|режим)|режим\w* (администратора|разработчика|админа))",
    r"(выведи|покажи|повтори|напиши)\w*.{0,20}(свой|свои|системн)\w*.{0,10}(промпт|инструкц)",
    r"я (руководител|начальник|администратор|директор|менеджер)\w*.{0,40}(разрешаю|приказываю|одобряю|подтверждаю|велю)",
    r"(пообещай|подтверди|гарантируй|одобри)\w*.{0,30}(полн|100 ?%|весь|всю)\w*.{0,15}(возврат|компенсац|списани)",
    r"спиши (мне )?(весь |мой )?(долг|задолженность)",
]), _I | re.M)


def injection_evidence(text: str) -> str | None:
    """The words that look like an instruction to the model, or None."""
    m = _INJECTION.search(text)
    return " ".join(m.group(0).split())[:80] if m else None


def fence(label: str, text: str) -> str:
    """Wrap untrusted text as data for a prompt; any closing tag inside is neutralised."""
    cleaned = re.sub(rf"</?\s*{label}\s*>", "", text, flags=re.I)
    return f"<{label}>\n{cleaned}\n</{label}>"
