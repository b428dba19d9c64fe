"""Knowledge-base text read as whole sentences: a paragraph a source wrapped at a fixed
width is joined back (no draft quotes half a sentence, no check split over two lines is
lost; lists, labels and marked line breaks stay lines), and a list item is quoted with the
line that leads it ("When the contract ends:"), so that it keeps its condition."""

from __future__ import annotations

from copilot.draft import candidate_sentences
from copilot.text import list_leads, split_sentences, with_lead
from copilot.config import VerificationSettings
from copilot.verify import Verifier
from knowledge_base.derive import DerivedCheck, derive
from knowledge_base.documents import SearchHit, SourceDocument
from knowledge_base.wrapping import unwrap

WRAPPED_EN = ("From now on the payment reminders go to the new number. If the old SIM is still in your other\n"
              "phone, open my.volna.example, click **Notification settings** and turn off the SMS copy to\n"
              "the old number. The change applies within 10 minutes.")
WRAPPED_RU = ("Если вы забыли и пароль, откройте my.volna.example, нажмите «Забыли пароль» и введите код,\n"
              "который придёт на новый номер. Код действует 10 минут.")


def test_a_wrapped_paragraph_splits_into_whole_sentences_in_both_languages():
    assert split_sentences(WRAPPED_EN) == [
        "From now on the payment reminders go to the new number.",
        "If the old SIM is still in your other phone, open my.volna.example, click **Notification settings** and "
        "turn off the SMS copy to the old number.",
        "The change applies within 10 minutes."]
    assert split_sentences(WRAPPED_RU) == [
        "Если вы забыли и пароль, откройте my.volna.example, нажмите «Забыли пароль» и введите код, "
        "который придёт на новый номер.",
        "Код действует 10 минут."]


def test_a_line_wrapped_before_a_capitalised_word_goes_on_when_the_line_is_as_long_as_a_wrap():
    text = ("Come to any office with your passport and the new number. Offices are open Mon-Sat\n"
            "9:00-20:00. Call the fraud line from any phone if your card was stolen: dial\n"
            "**+7 800 700-12-35** (24/7).")
    assert split_sentences(text) == [
        "Come to any office with your passport and the new number.",
        "Offices are open Mon-Sat 9:00-20:00.",
        "Call the fraud line from any phone if your card was stolen: dial **+7 800 700-12-35** (24/7)."]


def test_lists_labels_headings_tables_marked_breaks_and_code_stay_lines():
    cases = [
        # a short line with no full stop is a label, not half a sentence
        "Payment not credited (EN)\nSorry the payment hasn't shown up yet.",
        # list items, with and without a full stop, and a bold label after one
        "You will need:\n- the new phone number or e-mail\n- your passport, if you are going to an office\n"
        "**If Airplane Mode is OFF:**\n- Proceed to Step 2",
        # a Markdown hard break (two trailing spaces) marks a line that must stay one
        "- Less than 3 months: 2 points, which the scoring adds to the total for the account  \n"
        "Note: coverage is subject to the policy terms.",
        # ... and so do a trailing backslash and a trailing tab, however long the line
        "The replacement card is sent to the address on file, and it arrives in about five days\\\n"
        "Tracking starts once it has shipped.",
        "The replacement card is sent to the address on file, and it arrives in about five days\t\n"
        "Tracking starts once it has shipped.",
        "## Fees and charges for a replacement card ordered by phone\nThe fee is 100 RUB.",
        "| plan | price |\n|---|---|\n| S | 390 |",
        "```\nresult = get_user_dispute_history(user_id,\n    limit=5)\n```\nthen read the result.",
    ]
    for text in cases:
        assert unwrap(text) == text, text


def test_a_list_item_goes_on_in_its_indented_next_line():
    text = "- If the light on the router is red for more than ten minutes after the restart,\n  call us."
    assert unwrap(text) == "- If the light on the router is red for more than ten minutes after the restart, call us."


def test_a_draft_never_quotes_half_of_a_wrapped_sentence():
    hit = SearchHit(source_id="phone", chunk_id="phone::0", title="Changing the contact phone", text=WRAPPED_EN,
                    score=1.0, found_by=["lexical"], lang="en", doc_type="article")
    quoted = [c[3] for c in candidate_sentences([hit])]
    assert ("If the old SIM is still in your other phone, open my.volna.example, click Notification settings and "
            "turn off the SMS copy to the old number.") in quoted
    assert all(s[0].isupper() for s in quoted), quoted


def test_the_verifier_binds_facts_of_one_sentence_wrapped_over_three_lines():
    # read line by line, 390 and 150 were two lines apart: "never together" in the passage
    passage = ("The Mobile S plan costs 390 RUB a month and includes 10 GB of data for calls, browsing and\n"
               "messaging anywhere in the home region, and for any plan an extra package of mobile\n"
               "data costs 150 RUB.\n\nThe Mobile M plan costs 590 RUB a month.")
    support = Verifier(VerificationSettings()).support(
        "The Mobile S plan costs 390 RUB a month and an extra package of data costs 150 RUB.", passage)
    assert support.missing == []


def test_derivation_finds_a_check_wrapped_over_two_lines_in_both_languages():
    en = SourceDocument(id="guide", title="Guide", lang="en", text=(
        "## No mobile data\nAsk the customer to check whether mobile data is switched on in the\n"
        "phone's settings.\n"))
    ru = SourceDocument(id="guide-ru", title="Руководство", lang="ru", text=(
        "## Нет мобильного интернета\nПопросите клиента проверить, включена ли передача данных в\n"
        "настройках телефона.\n"))
    for document, words in ((en, "mobile data switched on in the phone's settings"),
                            (ru, "передача данных в настройках телефона")):
        questions = [d.question for d in derive(document) if isinstance(d, DerivedCheck)]
        assert any(words in q for q in questions), questions


LISTS = {
    "en": ("When the contract ends:\n- the money left on your balance is refunded on request, to the card you paid from;\n"
           "- rented equipment must be returned within 30 days.\nWe will help you plan the move.",
           ["When the contract ends, the money left on your balance is refunded on request, to the card you paid from.",
            "When the contract ends, rented equipment must be returned within 30 days."]),
    "ru": ("После расторжения договора:\n- остаток денег на балансе вернём по заявлению на ту карту, с которой вы платили;\n"
           "- арендованное оборудование нужно вернуть в течение 30 дней.\nМы поможем спланировать переезд.",
           ["После расторжения договора: остаток денег на балансе вернём по заявлению на ту карту, с которой вы платили.",
            "После расторжения договора: арендованное оборудование нужно вернуть в течение 30 дней."]),
}


def test_a_quoted_list_item_keeps_the_line_that_leads_it_in_both_languages():
    for lang, (text, expected) in LISTS.items():
        hit = SearchHit(source_id="moving", chunk_id="moving::0", title="Moving", text=text, score=1.0,
                        found_by=["lexical"], lang=lang, doc_type="article")
        quoted = [c[3] for c in candidate_sentences([hit])]
        assert [q for q in quoted if q in expected] == expected, quoted
        # the lead alone ends in a colon and is never quoted; the sentence after the list is no item
        assert not any(q.endswith(":") for q in quoted)


def test_a_list_ends_at_a_line_that_is_no_item_and_a_lead_reads_on_as_the_text_says_it():
    sentences = split_sentences("Keep in mind that:\n- the box stays yours;\n**If it is late:**\n- a fee is charged.\nDone.")
    assert list_leads(sentences) == ["", "Keep in mind that:", "", "If it is late:", ""]
    assert with_lead("Keep in mind that:", "the box stays yours;") == "Keep in mind that the box stays yours."
    assert with_lead("**If it is late:**", "a fee is charged.") == "If it is late, a fee is charged."
    assert with_lead("Monthly fees:", "home internet: 550 RUB;") == "Monthly fees: home internet: 550 RUB."
    assert with_lead("Если код не пришёл:", "проверьте, не в спаме ли письмо!") == \
        "Если код не пришёл, проверьте, не в спаме ли письмо!"


def test_the_verifier_binds_a_list_items_fact_to_the_fact_of_its_lead():
    # "30 days" is in the lead, "300 RUB" two lines below it: one statement, not two unrelated ones
    passage = ("Returned equipment is accepted for 30 days after the contract ends:\n- at any office, free of charge;\n"
               "- by courier pickup, which costs 300 RUB.")
    sentence = with_lead("Returned equipment is accepted for 30 days after the contract ends:",
                         "by courier pickup, which costs 300 RUB.")
    assert Verifier(VerificationSettings()).support(sentence, passage).missing == []


def test_a_quoted_list_item_is_checked_against_the_item_with_its_lead_not_without_it():
    # the lead's negation is the quoted sentence's: against the bare item it read as "negation differs"
    cases = [("Не все платежи поступают сразу:", "банковский перевод по номеру договора — в течение 3 рабочих дней.",
              "Не все платежи поступают сразу:\n- банковская карта или СБП — сразу;\n"
              "- банковский перевод по номеру договора — в течение 3 рабочих дней."),
             ("Not every payment arrives at once:", "a bank transfer by contract number takes up to 3 business days.",
              "Not every payment arrives at once:\n- a card or SBP payment is credited instantly;\n"
              "- a bank transfer by contract number takes up to 3 business days.")]
    verifier = Verifier(VerificationSettings())
    for lead, item, passage in cases:
        support = verifier.support(with_lead(lead, item), passage)
        assert not support.negation_mismatch and verifier.supported(support), support


def test_a_steps_number_is_no_sentence_and_no_fact_in_either_language():
    assert split_sentences("1. Call the fraud line. It works 24/7.\n2. Tell them what happened.") == [
        "Call the fraud line.", "It works 24/7.", "Tell them what happened."]
    assert split_sentences("Чтобы сбросить пароль: 1. Откройте приложение. 2) Нажмите «Профиль».") == [
        "Чтобы сбросить пароль:", "Откройте приложение.", "Нажмите «Профиль»."]
    # a number that ends a sentence is what the sentence says
    assert split_sentences("Call us on day 1. Then wait.") == ["Call us on day 1.", "Then wait."]
    assert split_sentences("Choose option 2.") == ["Choose option 2."]
    # «см.» ("see") points on, it ends no sentence
    assert split_sentences("Если индикатор красный, дело в подключении — см. статью «Нет интернета дома». Ждите.") == [
        "Если индикатор красный, дело в подключении — см. статью «Нет интернета дома».", "Ждите."]


def test_a_model_reply_with_numbered_steps_loses_no_sentence_to_the_step_numbers():
    # "To reset it: 1." read as a sentence stating an uncited number, and was taken out as invented
    passage = "To reset the password, open the app and tap Profile, then tap Forgot password."
    for reply in ("Hello! To reset it: 1. Open the app and tap Profile [1]. 2. Tap Forgot password [1].",
                  "Hello! To reset it: 1) Open the app and tap Profile [1]. 2) Tap Forgot password [1]."):
        text, grounding = Verifier(VerificationSettings()).verify(reply, {1: passage})
        assert grounding.removed == 0 and grounding.unsupported == 0 and grounding.supported == 2
        assert text == "Hello! To reset it: Open the app and tap Profile [1]. Tap Forgot password [1]."

