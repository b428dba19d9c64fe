"""`copilot bench derive`: what deriving checks, rules and links adds to an ingest.

Deriving runs once per new or changed document at ingest (and again for every document
when the derivation rules change). Measured on real help-desk text, not generated
noise: the articles of the demo desk and of the tau-telecom manual, repeated under new
ids up to the requested number of documents, derived one by one in this process.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from knowledge_base.derive import derive
from knowledge_base.documents import SourceDocument
from knowledge_base.loaders import discover, load_file

DEMO = Path(__file__).resolve().parents[2] / "knowledge_base" / "demo" / "articles"
TELECOM = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "tau_telecom" / "kb"


class DeriveBench(BaseModel):
    documents: int
    distinct: int
    sources: list[str]
    total_s: float
    per_document_ms_mean: float
    per_document_ms_p95: float
    derived_items: int


def _articles(folders: list[Path]) -> list[SourceDocument]:
    files, _ = discover([f for f in folders if f.is_dir()])
    return [d for f in files for d in load_file(f, 20_000_000).documents if d.doc_type == "article"]


def run(documents: int = 10_000, folders: tuple[Path, ...] = (DEMO, TELECOM)) -> DeriveBench:
    base = _articles(list(folders))
    if not base:
        raise FileNotFoundError(f"no articles in {', '.join(map(str, folders))}")
    times, items = [], 0
    for i in range(documents):
        doc = base[i % len(base)]
        doc = doc.model_copy(update={"id": f"{doc.id}-{i // len(base)}"})
        t = time.perf_counter()
        items += len(derive(doc))
        times.append((time.perf_counter() - t) * 1000)
    labels = {DEMO: "the demo desk", TELECOM: "the tau-telecom manual"}
    return DeriveBench(documents=documents, distinct=len(base),
                       sources=[labels.get(f, str(f)) for f in folders if f.is_dir()],
                       total_s=round(sum(times) / 1000, 2), per_document_ms_mean=round(float(np.mean(times)), 3),
                       per_document_ms_p95=round(float(np.percentile(times, 95)), 3), derived_items=items)


def markdown(b: DeriveBench) -> str:
    return ("## Deriving checks and rules at ingest\n\n"
            f"{b.documents:,} documents: the {b.distinct} articles of {' and '.join(b.sources)} repeated under new ids, "
            "derived one by one (the work ingest adds per new or changed document).\n\n"
            "| documents | total | per document, mean | per document, p95 | items derived |\n|---:|---:|---:|---:|---:|\n"
            f"| {b.documents:,} | {b.total_s} s | {b.per_document_ms_mean} ms | {b.per_document_ms_p95} ms | "
            f"{b.derived_items:,} |\n\nFor scale: embedding runs at about 10 chunks/s here (see the ingest rows above), "
            "so deriving is a small share of an ingest.")
