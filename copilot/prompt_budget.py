"""Fitting the numbered facts into the model's prompt with tiktoken, most relevant first."""

from __future__ import annotations

from knowledge_base.chunking import count_tokens, encoding


def fit_to_budget(passages: list[tuple[int, str]], budget_tokens: int) -> list[tuple[int, str]]:
    """Keep passages in order while they fit; cut the first one that does not fit (if at
    least 40 tokens of room remain) and drop the rest."""
    kept: list[tuple[int, str]] = []
    used = 0
    for n, text in passages:
        size = count_tokens(text)
        if used + size <= budget_tokens:
            kept.append((n, text))
            used += size
            continue
        room = budget_tokens - used
        if room >= 40:
            enc = encoding()
            kept.append((n, enc.decode(enc.encode(text, disallowed_special=())[:room]) + " …"))
        break
    return kept
