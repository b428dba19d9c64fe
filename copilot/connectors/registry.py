"""Find the connector for a helpdesk by name; each lives in its own module, imported on use."""

from __future__ import annotations

import importlib

from copilot.config import Settings
from copilot.connectors.base import Connector, ConnectorError

# name -> module holding `connector(settings) -> Connector`
MODULES = {"rt": "copilot.connectors.rt", "chatwoot": "copilot.connectors.chatwoot"}


def connector_for(helpdesk: str, settings: Settings) -> Connector:
    module_name = MODULES.get(helpdesk)
    if module_name is None:
        raise ConnectorError(f"unknown helpdesk {helpdesk!r}; known: {', '.join(sorted(MODULES))}")
    return importlib.import_module(module_name).connector(settings)
