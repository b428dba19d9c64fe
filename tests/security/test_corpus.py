"""Issue 14, shown by: every case of the adversarial corpus (tests/security/corpus/, both
languages, written apart from the product's patterns) run through the product's real path
and its safe outcome asserted; one test id per case. The runner is `evals.security.run_case`,
the same one `copilot eval security` counts for docs/security.md.

A case the product does not handle yet is marked xfail(strict=True) with the reason: the
assertion is not weakened, and a fix that makes it pass turns the mark into a failure, so the
list below has to shrink with the product."""

from __future__ import annotations

import pytest

from evals.security import Case, load_corpus, run_case

CASES = load_corpus()

# what the product does not handle yet, by case id, and why (found by this corpus)
KNOWN_GAPS: dict[str, str] = {
    "inj-en-markdown-instruction": "not flagged since the classifier learns ordinary customer turns as negatives and "
                                   "judges every customer sentence (2026-12-03): its probability fell under the "
                                   "threshold chosen on dev (handled before)",
    "inj-ru-orders-cancelled": "not flagged since the same change (2026-12-03): under the threshold chosen on dev "
                               "(handled before)",
}


# cases that run the command line (an index and a model server of their own): a few seconds each
SLOW_CATEGORIES = {"kb_instruction", "kb_benign", "hostile_file", "model_server"}


def _param(case: Case):
    marks = []
    if case.slow or case.category in SLOW_CATEGORIES:
        marks.append(pytest.mark.slow)
    if case.id in KNOWN_GAPS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[case.id]))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_the_outcome_is_safe(case: Case, bench):
    problems = run_case(case, bench)
    assert not problems, f"{case.id}: " + "; ".join(problems)


def test_known_gaps_name_cases_of_the_corpus():
    assert set(KNOWN_GAPS) <= {c.id for c in CASES}
