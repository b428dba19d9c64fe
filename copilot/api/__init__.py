"""`copilot serve`: the HTTP API helpdesks call (FastAPI on uvicorn)."""

from copilot.api.app import create_app

__all__ = ["create_app"]
