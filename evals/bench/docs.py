"""Writes benchmark results into `docs/benchmarks.md`, one section per benchmark, each
with the command that produced it, so re-running one benchmark never erases another."""

from __future__ import annotations

import json
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

HEADER = """# Benchmarks

Every section below is written by the command it names; re-run the command to refresh it.
Numbers are from this project's machine class (2 CPU cores, no GPU) unless a section says
otherwise. Where we lose, the section says so.
"""


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def update_section(name: str, command: str, body: str, path: Path | None = None) -> Path:
    """Replace (or append) the section `name`, stamped with the command and the machine."""
    if path is None:
        from copilot.config import get_settings

        path = get_settings().benchmarks_file
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- {name}:start -->\n{body.strip()}\n\n"
             f"_Produced by `{command}` on {stamp} ({machine()})._\n<!-- {name}:end -->")
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def merge_points(name: str, key: str, points: list[dict], command: str, path: Path | None = None) -> list[dict]:
    """Every point of benchmark `name` ever written, one per value of `key` (the newest
    wins), kept in the JSON file beside benchmarks.md; each point carries the command and
    the time that produced it. Lets a long run (100k chunks) add a row to a short one."""
    if path is None:
        from copilot.config import get_settings

        path = get_settings().benchmarks_file.with_suffix(".json")
    store = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kept = {str(p[key]): p for p in store.get(name, [])}
    for p in points:
        kept[str(p[key])] = {**p, "command": command, "measured": stamp, "machine": machine()}
    store[name] = sorted(kept.values(), key=lambda p: p[key])
    path.write_text(json.dumps(store, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return store[name]
