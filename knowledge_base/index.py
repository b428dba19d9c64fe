"""The knowledge index: docstore + vector index + lexical index over one id space, opened
together from the configured index folder."""

from __future__ import annotations

from knowledge_base.settings import KnowledgeBaseSettings
from knowledge_base.errors import IndexMismatchError
from knowledge_base.docstore import DocStore
from knowledge_base.embeddings import EmbeddingModel, make_embeddings
from knowledge_base.lexical import LexicalIndex
from knowledge_base.vector_store import VectorIndex, make_client


class KnowledgeIndex:
    def __init__(self, settings: KnowledgeBaseSettings, embedding: EmbeddingModel | None = None):
        assert settings.index_dir is not None
        self.settings = settings
        self.index_dir = settings.index_dir
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.docstore = DocStore(self.index_dir / "docstore.sqlite")
        self.embedding = embedding or make_embeddings(settings.embedding, cache_dir=settings.cache_dir)
        self.vector = VectorIndex(
            lambda: make_client(settings.vector_store, self.index_dir),
            settings.vector_store.collection,
            self.embedding,
            overfetch=settings.retrieval.vector_overfetch,
            filter_in_chroma_below=settings.retrieval.chroma_filter_below,
        )
        self._vector_generation = self.docstore.generation()
        self.lexical = LexicalIndex(self.index_dir / "bm25")
        self.lexical.load()

    @property
    def vector_target(self) -> str:
        """Where the vectors live; a different target means they must be (re)written."""
        vs = self.settings.vector_store
        where = "folder" if vs.mode == "persistent" else f"http://{vs.host}:{vs.port}"
        return f"{where}/{vs.collection}/{self.embedding.model_id}"

    def built_with(self) -> str | None:
        return self.docstore.get_meta("embedding_model")

    def check_searchable(self) -> None:
        """Refuse to search vectors of one model with queries of another."""
        built = self.built_with()
        if built and built != self.embedding.model_id and self.docstore.count_documents():
            raise IndexMismatchError(
                f"the index in {self.index_dir} was built with embeddings '{built}' but the "
                f"configuration uses '{self.embedding.model_id}'; run `copilot ingest` again "
                "to re-embed, or set COPILOT_EMBEDDING__BACKEND back"
            )

    def mark_current(self) -> None:
        """This process wrote the latest changes: its vector index already holds them."""
        self._vector_generation = self.docstore.generation()

    def follow_other_writers(self) -> bool:
        """Pick up an ingest made by another process since we last looked: the lexical
        index reloads its live generation, and a folder Chroma, whose graph is held in
        memory, is reopened. True when the vector index was reopened."""
        self.lexical.load()
        gen = self.docstore.generation()
        if gen == self._vector_generation:
            return False
        self._vector_generation = gen
        if self.settings.vector_store.mode != "persistent":
            return False  # a server serves every writer's data
        self.vector.reopen()
        return True

    def refresh_lexical(self) -> bool:
        """Rebuild the lexical index if the docstore changed since it was built."""
        gen = self.docstore.generation()
        if self.lexical.current_generation() == gen:
            self.lexical.load()
            return False
        self.lexical.build(self.docstore.lexical_rows(), gen)
        return True

    def close(self) -> None:
        self.vector.close()
        self.docstore.close()
