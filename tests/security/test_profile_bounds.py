"""Issue 14, "profile fields are length-bounded": every text field of a customer's profile
(a form the customer may have filled in) is cut to a bound when the conversation is read, so
a huge contract number or plan name never reaches the facts, the stored suggestion or a prompt."""

from __future__ import annotations

import pytest

from copilot.schema import PROFILE_FIELD_MAX_CHARS, Conversation


@pytest.mark.parametrize("field", ["name", "contract_number", "plan"])
@pytest.mark.parametrize("text", ["Тариф «Домашний» " * 20_000, "A1" * 100_000])
def test_every_profile_text_field_is_cut_to_the_bound(field, text):
    conv = Conversation.model_validate({"messages": [{"role": "customer", "text": "Hello"}], "profile": {field: text}})
    kept = getattr(conv.profile, field)
    assert len(kept) <= PROFILE_FIELD_MAX_CHARS and text.startswith(kept)
