"""The layout follows the data flow of DESIGN.md: the knowledge base stands alone, only the
apps (the CLI and the panel pages) import the eval suite, and no product module knows the
demo desk (its name, plans and phone numbers live in knowledge_base/demo/desk.yaml)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import DEMO_KB, REPO, demo_desk

APPS = {REPO / "copilot" / "cli.py", REPO / "copilot" / "ui", REPO / "app.py"}


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if ".venv" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _is_app(path: Path) -> bool:
    return any(path == app or app in path.parents for app in APPS)


def test_the_knowledge_base_imports_nothing_from_the_application_or_the_evals():
    offenders = {str(p.relative_to(REPO)): sorted(n for n in _imports(p) if n.split(".")[0] in ("copilot", "evals"))
                 for p in _modules(REPO / "knowledge_base")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_apps_import_the_eval_suite():
    offenders = [str(p.relative_to(REPO)) for p in _modules(REPO / "copilot")
                 if not _is_app(p) and any(n.split(".")[0] == "evals" for n in _imports(p))]
    assert offenders == []


def test_no_product_module_names_the_demo_desk():
    desk = demo_desk()
    names = [re.compile(p, re.I) for p in desk.plan_names]
    brand = desk.name.split()[0]  # the provider's name, as the desk file gives it
    phones = {re.sub(r"\D", "", m) for route in desk.routes.values() for text in route.promise.values()
              for m in re.findall(r"\+?\d[\d\s()-]{8,}\d", text)}
    contract = desk.contract_pattern()
    found = []
    product = [p for p in _modules(REPO / "copilot") + _modules(REPO / "knowledge_base") if DEMO_KB not in p.parents]
    for path in product:
        text = path.read_text(encoding="utf-8")
        digits = re.sub(r"\D", "", text)
        for label, hit in [("brand", re.search(rf"\b{re.escape(brand)}\b", text, re.I)),
                           ("plan", next((m for rx in names if (m := rx.search(text))), None)),
                           ("phone", next((p for p in phones if p in digits), None)),
                           ("contract format", desk.contract_number and desk.contract_number in text),
                           ("contract number", contract and contract.search(text))]:
            if hit:
                found.append(f"{path.relative_to(REPO)}: {label}")
    assert found == []
    assert phones and names and brand  # the check above checked something
