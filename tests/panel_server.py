"""Start the Streamlit panel for the browser tests with the test helpdesk
(tests/fake_helpdesk.py) registered under "fakedesk", the way a connector module is found
(copilot.connectors.registry.MODULES). Arguments are `streamlit run`'s after the app path."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from copilot.connectors import registry  # noqa: E402

registry.MODULES["fakedesk"] = "fake_helpdesk"

if __name__ == "__main__":
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(HERE.parent / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())
