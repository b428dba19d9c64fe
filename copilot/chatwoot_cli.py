"""`copilot chatwoot export|import`: past Chatwoot conversations into the knowledge base.

`export` reads the account's resolved conversations through Chatwoot's API and writes one
JSON file per conversation (`{"conversation": ..., "messages": [...]}`, the API's own
shapes) into a folder, rewriting only those whose `last_activity_at` changed. `import`
ingests such files or folders: each resolved conversation becomes a resolution card (a
past ticket), and the ingest skips cards that did not change, so both steps are incremental.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

chatwoot_app = typer.Typer(help="Chatwoot: export past conversations and import them as resolution cards.",
                           no_args_is_help=True)


def export_conversations(chatwoot, folder: Path, limit: int | None = None) -> tuple[int, int]:
    """(written, unchanged): one file per resolved conversation, named by its id."""
    folder.mkdir(parents=True, exist_ok=True)
    written = unchanged = 0
    for conversation in chatwoot.conversations("resolved"):
        if limit is not None and written + unchanged >= limit:
            break
        cid = conversation.get("id")
        if not isinstance(cid, int):
            continue
        target = folder / f"chatwoot-{chatwoot.settings.account_id}-{cid}.json"
        if target.is_file():
            try:
                old = json.loads(target.read_text(encoding="utf-8")).get("conversation", {})
            except (ValueError, OSError, AttributeError):
                old = {}
            if old.get("last_activity_at") == conversation.get("last_activity_at") is not None:
                unchanged += 1
                continue
        _, messages = chatwoot.messages(str(cid))
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"conversation": conversation, "messages": messages}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
        tmp.replace(target)
        written += 1
    return written, unchanged


@chatwoot_app.command("export")
def export(
    out_dir: Path = typer.Option(..., "--out", help="Folder for the conversation files (created if missing)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most this many conversations."),
) -> None:
    """Write the account's resolved conversations as JSON files (only changed ones are rewritten)."""
    from copilot.cli import fail, out
    from copilot.config import get_settings
    from copilot.connectors.base import ConnectorError
    from copilot.connectors.chatwoot import connector

    try:
        chatwoot = connector(get_settings())
        try:
            written, unchanged = export_conversations(chatwoot, out_dir, limit)
        finally:
            chatwoot.close()
    except (ConnectorError, OSError) as exc:
        fail(str(exc))
    out.print(f"exported {written}, unchanged {unchanged} conversations to {out_dir}", highlight=False)


@chatwoot_app.command("import")
def import_(
    paths: list[Path] = typer.Argument(..., help="Exported conversation files (.json, .jsonl) or folders of them."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: <data dir>/index)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    """Ingest exported conversations as resolution cards (resolved ones; open ones wait)."""
    from copilot.cli import fail, ingest

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    ingest(paths=paths, index=index, reset=False, as_json=as_json)
