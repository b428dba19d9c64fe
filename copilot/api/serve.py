"""What `copilot serve` does: write the OpenAPI schema, mint a token, or run uvicorn."""

from __future__ import annotations

import json
import os
from pathlib import Path

from copilot.api.tokens import RANK, new_token
from copilot.config import Settings
from copilot.errors import BadInputError, ConfigError


def openapi_text() -> str:
    """The schema as committed in docs/openapi.json (it does not depend on configuration)."""
    from copilot.api.app import create_app

    return json.dumps(create_app(Settings()).openapi(), indent=2, ensure_ascii=False) + "\n"


def write_openapi(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(openapi_text(), encoding="utf-8")


def mint(spec: str) -> tuple[str, str]:
    """'NAME:ROLE' -> (the token, shown once; its configuration entry as JSON)."""
    name, _, role = spec.partition(":")
    if not name.strip() or role not in RANK:
        raise BadInputError(f"--new-token wants NAME:ROLE with ROLE one of {', '.join(RANK)}, not '{spec}'")
    token, entry = new_token(name.strip(), role)  # type: ignore[arg-type]
    return token, entry.model_dump_json()


def check_servable(settings: Settings) -> None:
    """Refuse to start what could only answer errors: no tokens, or an empty index."""
    if not settings.api.tokens:
        raise ConfigError("no API tokens configured: create one with `copilot serve --new-token NAME:ROLE` and put "
                          "its entry in COPILOT_API__TOKENS (a JSON list) or [[api.tokens]] in copilot.toml")
    check_index(settings)


def check_index(settings: Settings) -> None:
    from knowledge_base.docstore import DocStore

    assert settings.index_dir is not None
    docstore = DocStore(settings.index_dir / "docstore.sqlite")
    try:
        if docstore.count_documents() == 0:
            raise ConfigError(f"the index in {settings.index_dir} is empty; run `copilot ingest PATH` first")
    finally:
        docstore.close()


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    """uvicorn with the app factory; each worker process reads the same configuration (the
    index folder chosen on the command line reaches them through the environment)."""
    import uvicorn

    os.environ["COPILOT_INDEX_DIR"] = str(settings.index_dir)
    uvicorn.run("copilot.api:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", timeout_graceful_shutdown=10,
                timeout_worker_healthcheck=settings.api.worker_healthcheck_s)
