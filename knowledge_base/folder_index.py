"""An index of its own for a folder of knowledge a team brings (an eval desk, a calibration
desk): kept under `<data_dir>/desks/<name>-<hash of its files>` and ingested as a user would,
so a second run finds every document unchanged and reuses it; a new chunker, derivation or
screening version redoes only what it changes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

from knowledge_base.errors import SourceError
from knowledge_base.settings import KnowledgeBaseSettings

S = TypeVar("S", bound=KnowledgeBaseSettings)


def kb_fingerprint(kb: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in kb.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(kb)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def folder_index(settings: S, kb: Path, name: str) -> tuple[S, int]:
    """Settings whose index holds `kb` (ingested if it is not yet), and its document count."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    if not kb.is_dir():
        raise SourceError(str(kb), "no knowledge folder (a desk folder holds kb/ and its cases or queries)")
    own = settings.model_copy(update={"index_dir": settings.data_dir / "desks" / f"{name}-{kb_fingerprint(kb)}" / "index"})
    index = KnowledgeIndex(own)
    try:
        report = Ingestor(index).run([kb])
        if report.failed:
            raise SourceError(str(kb), f"{report.failed} files did not ingest: {'; '.join(report.errors[:3])}")
        return own, index.docstore.count_documents()
    finally:
        index.close()
