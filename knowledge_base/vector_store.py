"""The vector index: Chroma, in the index folder or on a Chroma server, through
langchain-chroma with our own embedder (chromadb's default one would download a model)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from knowledge_base.settings import VectorStoreSettings
from knowledge_base.errors import ConfigError
from knowledge_base.documents import Chunk, SearchFilters
from knowledge_base.embeddings import EmbeddingModel

def _chroma_settings() -> ChromaSettings:
    # a fresh object per client: chromadb writes the client's mode (folder or HTTP) into it
    return ChromaSettings(anonymized_telemetry=False)


def make_client(settings: VectorStoreSettings, index_dir: Path) -> Any:
    """A Chroma client for the configured mode."""
    if settings.mode == "persistent":
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=_chroma_settings())
    try:
        client = chromadb.HttpClient(host=settings.host, port=settings.port, ssl=settings.ssl,
                                     settings=_chroma_settings())
        client.heartbeat()
    except Exception as exc:  # connection refused, DNS, TLS: all the same to the user
        raise ConfigError(
            f"cannot reach the Chroma server at {settings.host}:{settings.port} ({type(exc).__name__}); "
            "start it with `chroma run --host 127.0.0.1 --port PORT --path DIR` or set "
            "COPILOT_VECTOR_STORE__MODE=persistent"
        ) from None
    return client


def chroma_where(filters: SearchFilters | None) -> dict | None:
    """The same filters the lexical index applies, as a Chroma `where` clause."""
    if filters is None:
        return None
    clauses: list[dict] = []
    if filters.lang:
        clauses.append({"lang": filters.lang})
    if filters.doc_type:
        clauses.append({"doc_type": filters.doc_type})
    if filters.audience:
        clauses.append({"audience": filters.audience})
    if filters.tags:
        tag_clauses = [{f"tag_{t}": True} for t in filters.tags]
        clauses.append(tag_clauses[0] if len(tag_clauses) == 1 else {"$or": tag_clauses})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class VectorIndex:
    """Chunks by id in one Chroma collection per embedding model.

    An embedded (folder) Chroma keeps its HNSW graph in memory and does not see what
    another process (a `copilot ingest` beside the running panel) wrote; `reopen()` loads
    it afresh. `connect` makes the client, so a reopen gets a new one."""

    def __init__(self, connect: Callable[[], Any], collection: str, embedding: EmbeddingModel,
                 overfetch: int = 4, filter_in_chroma_below: int = 5000):
        self.embedding = embedding
        self.overfetch = overfetch
        self.filter_in_chroma_below = filter_in_chroma_below
        self._connect = connect
        self._name = f"{collection}__{embedding.model_id}".replace("/", "_")[:60]
        self._lock = threading.RLock()
        self._open()

    def _open(self) -> None:
        self.client = self._connect()
        self.store = Chroma(
            client=self.client,
            collection_name=self._name,
            embedding_function=self.embedding.embeddings,
            collection_metadata={"hnsw:space": "cosine"},
        )
        self.collection = self.store._collection

    def close(self) -> None:
        """Release the client; for a folder this drops chromadb's per-process cached
        system, so the next open reads the folder again."""
        with self._lock:
            close = getattr(self.client, "close", None)
            if close:
                close()

    def reopen(self) -> None:
        with self._lock:
            self.close()
            self._open()

    @staticmethod
    def _metadata(chunk: Chunk) -> dict:
        meta: dict = {"source_id": chunk.source_id, "lang": chunk.lang, "doc_type": chunk.doc_type,
                      "audience": chunk.audience}
        meta.update({f"tag_{t}": True for t in chunk.tags})
        return meta

    def upsert(self, chunks: list[Chunk]) -> None:
        if chunks:
            with self._lock:
                self.store.add_texts(
                    texts=[c.index_text for c in chunks],
                    metadatas=[self._metadata(c) for c in chunks],
                    ids=[c.chunk_id for c in chunks],
                )

    def delete(self, ids: list[str]) -> None:
        with self._lock:
            for i in range(0, len(ids), 5000):
                self.store.delete(ids=ids[i : i + 5000])

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset, page = 0, 10000
        while True:
            with self._lock:
                got = self.collection.get(include=[], limit=page, offset=offset)["ids"]
            ids.update(got)
            if len(got) < page:
                return ids
            offset += page

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        """The stored vectors of these chunks (those the collection holds)."""
        if not ids:
            return {}
        with self._lock:
            got = self.collection.get(ids=ids, include=["embeddings"])
        return {cid: [float(x) for x in v] for cid, v in zip(got["ids"], got["embeddings"])}

    def count(self) -> int:
        with self._lock:
            return self.collection.count()

    def search(self, query: str, n: int, filters: SearchFilters | None = None,
               vector: list[float] | None = None,
               keep: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; pass `vector` to reuse a query embedding.

        On a large collection filters are applied to an over-fetched unfiltered result:
        Chroma's own `where` scans the collection (a few ms at 1k chunks, hundreds at 100k,
        docs/benchmarks.md), while fetching `overfetch * n` neighbours costs about the same
        at any size. When at least `n` of them pass the filters they are exactly the `n`
        nearest that pass; only when fewer do (a rare tag) is Chroma asked to filter after
        all. `keep` tells which ids pass (the lexical index holds every chunk's metadata in
        memory); without it the metadata comes from Chroma, which costs a few ms more."""
        vector = vector if vector is not None else self.embedding.embeddings.embed_query(query)
        if filters is None or filters.is_empty():
            return self._query(vector, n, None)
        # the size decides the path; with `keep` the over-fetch itself shows a small collection
        if keep is None and self.count() < self.filter_in_chroma_below:
            return self._query(vector, n, chroma_where(filters))
        wanted = n * self.overfetch
        if keep is not None:
            fetched = self._query(vector, wanted, None)
            kept = [(cid, sim) for cid, sim in fetched if keep(cid)]
        else:
            fetched = self._query(vector, wanted, None, with_meta=True)
            kept = [(cid, sim) for cid, sim, meta in fetched if matches(meta, filters)]
        if len(kept) >= n or len(fetched) < wanted:  # enough, or the whole collection seen
            return kept[:n]
        return self._query(vector, n, chroma_where(filters))

    def _query(self, vector: list[float], n: int, where: dict | None, with_meta: bool = False) -> list:
        with self._lock:
            res = self.collection.query(query_embeddings=[vector], n_results=n, where=where,
                                        include=["distances", "metadatas"] if with_meta else ["distances"])
        ids, dists = res["ids"][0], res["distances"][0]
        if with_meta:
            return [(cid, 1.0 - float(d), m or {}) for cid, d, m in zip(ids, dists, res["metadatas"][0])]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists)]


def matches(meta: dict, filters: SearchFilters) -> bool:
    """The filters of `chroma_where`, checked on one chunk's metadata."""
    return ((not filters.lang or meta.get("lang") == filters.lang)
            and (not filters.doc_type or meta.get("doc_type") == filters.doc_type)
            and (not filters.audience or meta.get("audience") == filters.audience)
            and (not filters.tags or any(meta.get(f"tag_{t}") for t in filters.tags)))
