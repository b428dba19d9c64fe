"""Stored proposals are derived again only when DERIVE_VERSION changes (knowledge_base/ingest.py),
so a change to the derivation rules that leaves the version alone leaves every existing
index on the old proposals: reviews kept for items the new rules no longer make, new checks
never seen. This test fingerprints what the rules derive from real knowledge bases (the demo
desk, and the outside benchmarks where they sit beside the repo) and fails when the output
moves under an unchanged version.

After a deliberate rule change: bump DERIVE_VERSION, then
    .venv/bin/python tests/test_derive_version.py --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge_base.derive import DERIVE_VERSION, derive  # noqa: E402
from knowledge_base.loaders import discover, load_file  # noqa: E402

FINGERPRINT = Path(__file__).with_name("data") / "derive_fingerprint.json"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
CORPORA = {
    "demo desk": ROOT / "knowledge_base" / "demo",
    "tau-telecom": BENCHMARKS / "tau_telecom" / "kb",
    "tau-banking": BENCHMARKS / "tau_banking" / "documents.jsonl",
}


def fingerprint(path: Path) -> str:
    """sha256 of every item derived from every document under `path`, in document-id order."""
    files, _ = discover([path])
    docs = sorted((d for f in files for d in load_file(f, 20_000_000).documents), key=lambda d: d.id)
    digest = hashlib.sha256()
    for doc in docs:
        for item in derive(doc):
            digest.update(json.dumps(item.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _stored() -> dict:
    return json.loads(FINGERPRINT.read_text())


@pytest.mark.parametrize("name", list(CORPORA))
def test_derived_items_change_only_with_a_new_derive_version(name: str) -> None:
    path = CORPORA[name]
    if not path.exists():
        pytest.skip(f"{path} is not here")
    stored = _stored()
    assert stored["version"] == DERIVE_VERSION, (
        f"DERIVE_VERSION is {DERIVE_VERSION} but the fingerprint was taken at {stored['version']}: "
        "run `.venv/bin/python tests/test_derive_version.py --write`")
    assert fingerprint(path) == stored["corpora"][name], (
        f"what derive() makes of {name} changed while DERIVE_VERSION stayed {DERIVE_VERSION}: existing indexes "
        "would keep the old proposals. Bump DERIVE_VERSION, then run `.venv/bin/python tests/test_derive_version.py --write`")


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    missing = [n for n, p in CORPORA.items() if not p.exists()]
    if missing:
        sys.exit(f"cannot write the fingerprint without {', '.join(missing)}")
    FINGERPRINT.write_text(json.dumps({"version": DERIVE_VERSION,
                                       "corpora": {n: fingerprint(p) for n, p in CORPORA.items()}}, indent=2) + "\n")
    print(f"wrote {FINGERPRINT.relative_to(ROOT)} at DERIVE_VERSION {DERIVE_VERSION}")
