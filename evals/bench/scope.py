"""Off-topic is not a handoff: requests outside what the business does get a polite
refusal, questions inside its domain that the knowledge base does not answer keep the
handoff, and covered questions are answered.

Data: `evals/datasets/scope/out_of_scope.jsonl` (hand-written, 100 messages: off-domain
requests and in-domain questions the demo desk does not cover, both languages, dev/test)
next to the demo desk's own eval cases of the same split (everything they ask is inside
the domain). Retrieval-only: the model decides neither.

What every desk takes (a disputed charge, a refund, closing the account, a complaint) is
never off-topic, even where the articles are all troubleshooting: `run_without_billing`
asks `evals/datasets/scope/desk_business.jsonl` (hand-written, 40 messages, both
languages, dev/test) of a copy of the demo desk with its money and account articles left
out, next to the off-domain requests of the same split, which must still be refused.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from copilot.config import Settings
from copilot.engine import OFF_TOPIC, Copilot, build_query
from copilot.jsonl import read_records
from copilot.schema import Conversation, Message
from evals.dataset import DATASETS, load_dataset
from knowledge_base.errors import SourceError

SCOPE_FILE = DATASETS / "scope" / "out_of_scope.jsonl"
DESK_FILE = DATASETS / "scope" / "desk_business.jsonl"
# articles tagged with any of these are about the customer's money, contract or account
MONEY_AND_ACCOUNT = frozenset({"billing", "payment", "refund", "charges", "compensation", "complaint", "account",
                               "termination", "pause", "debt", "promotion", "personal-data", "password"})


class ScopeCase(BaseModel):
    id: str
    split: Literal["dev", "test"]
    language: Literal["en", "ru"]
    kind: Literal["off_domain", "in_domain_uncovered", "desk_business"]
    text: str = Field(min_length=1)
    origin: str = "hand-written"


def load_scope(split: str, path: Path = SCOPE_FILE) -> list[ScopeCase]:
    return [case for _, case in read_records(path, ScopeCase, "case") if split == "all" or case.split == split]


def dev_queries() -> tuple[list[dict], list[dict]]:
    """The dev split as calibration queries {query, lang}: the demo desk's covered dev cases
    (what the engine searches for) in scope; its not-covered ones and the scope set's dev rows out."""
    inside, outside = [], []
    for c in load_dataset([DATASETS], "dev"):
        (outside if c.tags.category == "not_covered" else inside).append(
            {"query": build_query(c.conversation), "lang": c.language})
    outside += [{"query": c.text, "lang": c.language} for c in load_scope("dev")]
    return inside, outside


class Outcome(BaseModel):
    id: str
    language: str
    kind: str          # off_domain | in_domain_uncovered | covered
    refused: bool      # answered as off-topic
    handoff: bool
    not_covered: bool = False  # judged outside what the knowledge base answers (off-topic included)
    reason: str = ""           # why, as the suggestion says it


class ScopeResult(BaseModel):
    split: str
    outcomes: list[Outcome]
    articles: int | None = None  # the articles of the knowledge base asked, when it is a copy

    def rate(self, lang: str, kind: str, what: str) -> tuple[int, int]:
        rows = [o for o in self.outcomes if o.language == lang and o.kind == kind]
        return sum(getattr(o, what) for o in rows), len(rows)

    def not_covered(self, lang: str) -> tuple[float | None, float | None, int, int]:
        """'Not covered' precision and recall (uncovered: both scope kinds; covered: the demo
        cases), and covered cases judged not covered, out of how many."""
        rows = [o for o in self.outcomes if o.language == lang]
        said = [o for o in rows if o.not_covered]
        uncovered = [o for o in rows if o.kind != "covered"]
        covered = [o for o in rows if o.kind == "covered"]
        precision = round(sum(o.kind != "covered" for o in said) / len(said), 3) if said else None
        recall = round(sum(o.not_covered for o in uncovered) / len(uncovered), 3) if uncovered else None
        return precision, recall, sum(o.not_covered for o in covered), len(covered)

    def precision(self, lang: str) -> float | None:
        refused = [o for o in self.outcomes if o.language == lang and o.refused]
        return round(sum(o.kind == "off_domain" for o in refused) / len(refused), 3) if refused else None


def _items(cases: list[ScopeCase]) -> list[tuple[str, str, str, Conversation]]:
    return [(c.id, c.language, c.kind, Conversation(messages=[Message(role="customer", text=c.text)])) for c in cases]


def run(settings: Settings, split: str = "test") -> ScopeResult:
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
    items = _items(load_scope(split))
    items += [(c.id, c.language, "covered", c.conversation) for c in load_dataset([DATASETS], split)
              if c.tags.category != "not_covered"]  # everything else the demo cases ask is inside the domain
    return ScopeResult(split=split, outcomes=_outcomes(Copilot(settings), items))


def without_money_and_account(source: Path, target: Path) -> int:
    """Copy the desk's articles whose tags say nothing of money, contract or account (no
    imports, no past tickets: they talk about bills too); the number copied. Front matter
    that cannot be read stops with the loader's one-line error naming the file."""
    from knowledge_base.loaders import _split_front_matter

    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted((source / "articles").glob("*.md")):
        meta, _, _ = _split_front_matter(str(path), path.read_text(encoding="utf-8"))
        if not MONEY_AND_ACCOUNT & set(meta.get("tags") or []):
            (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
            copied += 1
    return copied


def run_without_billing(settings: Settings, workdir: Path, split: str = "test") -> ScopeResult:
    """The desk-business requests and the off-domain ones of `split` on a copy of the demo
    desk without its money and account articles, in its own index under `workdir`."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    kb = workdir / "kb"
    copied = without_money_and_account(settings.demo_kb, kb)
    if not copied:
        raise SourceError(str(settings.demo_kb / "articles"), "no article without a money or account tag to ask")
    bare = settings.model_copy(update={"index_dir": workdir / "index",
                                       "llm": settings.llm.model_copy(update={"enabled": False})})
    index = KnowledgeIndex(bare)
    report = Ingestor(index).run([kb], reset=True)
    if report.failed:
        index.close()
        raise SourceError(str(kb), f"the copy of the desk did not ingest: {report.errors[0]}")
    cases = load_scope(split, DESK_FILE) + [c for c in load_scope(split) if c.kind == "off_domain"]
    return ScopeResult(split=split, outcomes=_outcomes(Copilot(bare, index=index), _items(cases)), articles=copied)


def _outcomes(copilot: Copilot, items: list[tuple[str, str, str, Conversation]]) -> list[Outcome]:
    outcomes = []
    try:
        for case_id, lang, kind, conversation in items:
            s = copilot.suggest(conversation)
            outcomes.append(Outcome(id=case_id, language=lang, kind=kind, refused=s.intent.label == OFF_TOPIC,
                                    handoff=s.handoff.needed, not_covered=not s.coverage.covered,
                                    reason=s.coverage.reason))
    finally:
        copilot.close()
    return outcomes


def summary(r: ScopeResult) -> str:
    """One line per language for the terminal."""
    lines = []
    for lang in sorted({o.language for o in r.outcomes}):
        off, off_n = r.rate(lang, "off_domain", "refused")
        inside, inside_n = r.rate(lang, "in_domain_uncovered", "refused")
        cov, cov_n = r.rate(lang, "covered", "refused")
        precision, recall, wrong, covered = r.not_covered(lang)
        lines.append(f"{r.split} {lang}: off-domain refused {off}/{off_n}, in-domain uncovered refused {inside}/{inside_n}, "
                     f"covered refused {cov}/{cov_n}, refusal precision {r.precision(lang)}; 'not covered' precision "
                     f"{precision}, recall {recall}, covered judged not covered {wrong}/{covered}")
    return "\n".join(lines)


def _pct(n: int, total: int) -> str:
    return f"{n}/{total} ({n / total:.2f})" if total else "n/a"


def markdown(r: ScopeResult) -> str:
    rows = ["| language | off-domain refused, no handoff | off-domain handed off | in-domain uncovered refused "
            "(should not be) | in-domain uncovered handed off | covered refused (should not be) | refusal precision |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    by_lang: dict[str, list[str]] = defaultdict(list)
    for lang in sorted({o.language for o in r.outcomes}):
        refused_clean = [o for o in r.outcomes if o.language == lang and o.kind == "off_domain"
                         and o.refused and not o.handoff]
        off_total = r.rate(lang, "off_domain", "refused")[1]
        by_lang[lang] = [
            _pct(len(refused_clean), off_total), _pct(*r.rate(lang, "off_domain", "handoff")),
            _pct(*r.rate(lang, "in_domain_uncovered", "refused")), _pct(*r.rate(lang, "in_domain_uncovered", "handoff")),
            _pct(*r.rate(lang, "covered", "refused")), str(r.precision(lang))]
        rows.append(f"| {lang} | " + " | ".join(by_lang[lang]) + " |")
    coverage = ["| language | 'not covered' precision | 'not covered' recall | in-domain uncovered judged not covered "
                "| covered judged not covered (should not be) |", "|---|---:|---:|---:|---:|"]
    for lang in sorted({o.language for o in r.outcomes}):
        precision, recall, wrong_covered, covered = r.not_covered(lang)
        coverage.append(f"| {lang} | {precision} | {recall} | {_pct(*r.rate(lang, 'in_domain_uncovered', 'not_covered'))} "
                        f"| {_pct(wrong_covered, covered)} |")
    missed = [o for o in r.outcomes if (o.kind != "covered") != o.not_covered]
    # the reasons quote the customer's words: given for dev only, the test split's text stays out of the docs
    missed_text = ", ".join(f"{o.id} ({o.kind}{': ' + o.reason if o.reason and r.split == 'dev' else ''})"
                            for o in missed[:20]) or "none"
    wrong = [o for o in r.outcomes if (o.kind == "off_domain") != o.refused]
    lose = ", ".join(f"{o.id} ({'refused' if o.refused else 'not refused'}, {o.kind})" for o in wrong[:20]) or "none"
    return (f"## Off-topic requests (refusal, not handoff), {r.split} split\n\n"
            f"`{SCOPE_FILE.relative_to(DATASETS.parent.parent)}` ({r.split} split): requests outside what a "
            "telecom provider does and questions inside its domain that the demo desk does not answer, with the "
            f"demo desk's own {r.split} cases (all inside its domain) beside them; retrieval-only. An off-domain "
            "request should get a refusal with no handoff; the others should never be refused.\n\n"
            + "\n".join(rows) + f"\n\nWhere we lose ({len(wrong)} cases): {lose}.\n\n"
            "### Coverage: 'the knowledge base does not cover this'\n\n"
            "Not covered = the suggestion's `coverage.covered` is false (off-topic included); uncovered = both "
            "kinds of the scope set, covered = the demo cases. Precision: of the cases judged not covered, the "
            "share truly uncovered; recall: of the uncovered, the share judged so.\n\n"
            + "\n".join(coverage) + f"\n\nWrong coverage judgements ({len(missed)}): {missed_text}.")


def desk_summary(r: ScopeResult) -> str:
    """One line per language for the run without billing articles."""
    return "\n".join(
        f"{r.split} {lang}, desk without money and account articles: desk-business requests refused "
        "{}/{}, off-domain refused {}/{}".format(*r.rate(lang, "desk_business", "refused"),
                                                 *r.rate(lang, "off_domain", "refused"))
        for lang in sorted({o.language for o in r.outcomes}))


def desk_markdown(r: ScopeResult) -> str:
    rows = ["| language | desk-business requests refused (should not be) | desk-business requests handed off "
            "| off-domain requests refused |", "|---|---:|---:|---:|"]
    for lang in sorted({o.language for o in r.outcomes}):
        rows.append(f"| {lang} | {_pct(*r.rate(lang, 'desk_business', 'refused'))} "
                    f"| {_pct(*r.rate(lang, 'desk_business', 'handoff'))} | {_pct(*r.rate(lang, 'off_domain', 'refused'))} |")
    wrong = [o for o in r.outcomes if (o.kind == "off_domain") != o.refused]
    lose = ", ".join(f"{o.id} ({'refused' if o.refused else 'not refused'}, {o.kind})" for o in wrong[:20]) or "none"
    kept = f"the {r.articles} articles" if r.articles is not None else "the articles"
    return (f"## Requests every desk takes, on a desk whose articles say nothing of them, {r.split} split\n\n"
            f"`{DESK_FILE.relative_to(DATASETS.parent.parent)}` ({r.split} split): a disputed charge, a refund, "
            "closing the account, a complaint, the customer's details; asked of a copy of the demo desk that keeps "
            f"only {kept} with no money or account tag (`{', '.join(sorted(MONEY_AND_ACCOUNT))}`; no imports, no "
            "past tickets), next to the off-domain requests of the same split. They should be handed to a person "
            "(nothing there answers them), never refused as off-topic; the off-domain ones should still be "
            "refused. Retrieval-only.\n\n" + "\n".join(rows) + f"\n\nWhere we lose ({len(wrong)} cases): {lose}.")
