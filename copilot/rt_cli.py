"""`copilot rt poll|import`: Request Tracker 5 without webhooks.

`poll` posts a suggestion as an internal comment on every new customer message in the
watched queues (see copilot/connectors/rt_poll.py); `import` turns resolved tickets into
resolution cards in the knowledge base, incrementally (copilot/connectors/rt_import.py).
RT's address and credentials: COPILOT_CONNECTORS__RT__URL, __TOKEN (or __USER, __PASSWORD).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer

rt_app = typer.Typer(help="Request Tracker 5: suggestions on new customer messages, resolved tickets into the "
                          "knowledge base.", no_args_is_help=True)


@rt_app.command("poll")
def poll(
    queue: Optional[list[str]] = typer.Option(None, "--queue", help="A queue to watch (repeatable; default: "
                                              "COPILOT_CONNECTORS__RT__QUEUES)."),
    once: bool = typer.Option(False, "--once", help="One pass, then exit."),
    interval: float = typer.Option(30.0, "--interval", min=1, help="Seconds between passes."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: <data dir>/index)."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Retrieval-only drafts, no model call."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per pass on stdout."),
) -> None:
    """Post a suggestion (internal comment) on each new customer message in the watched queues."""
    from copilot.cli import err, out, settings_for, user_errors
    from copilot.connectors import rt_poll

    def echo(report: rt_poll.PollReport) -> None:
        for line in report.errors:
            err.print(f"Error: {line}", highlight=False, markup=False)
        if as_json:
            print(json.dumps({"checked": report.tickets, "suggested": report.suggested, "errors": report.errors}),
                  flush=True)
        else:
            stamp = datetime.now().strftime("%H:%M:%S")
            out.print(f"{stamp} {report.summary()}", highlight=False, markup=False)
            for s in report.suggested:
                out.print(f"  ticket {s['ticket']}: suggestion for transaction {s['transaction']} posted "
                          f"(comment {s['comment']}, {s['citations']} citations)", highlight=False, markup=False)

    with user_errors():
        settings = settings_for(index)
        if no_llm:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
        poller = rt_poll.make_poller(settings, queue)
        try:
            rt_poll.run(poller, once, interval, echo)
        except KeyboardInterrupt:
            pass


@rt_app.command("import")
def import_(
    queue: Optional[str] = typer.Option(None, "--queue", help="Only this queue (default: every queue)."),
    since: Optional[datetime] = typer.Option(None, "--since", formats=["%Y-%m-%d"],
                                             help="Tickets updated since this date (default: since the last import)."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: <data dir>/index)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    """Resolved RT tickets as resolution cards in the knowledge base; re-runs add only new or changed ones."""
    from copilot.cli import err, out, settings_for, user_errors
    from copilot.connectors.rt_import import import_tickets

    with user_errors():
        since_day: date | None = since.date() if since else None
        result = import_tickets(settings_for(index), queue=queue, since=since_day)
    report = result.report
    for line in getattr(report, "errors", []):
        err.print(f"Error: {line}", highlight=False, markup=False)
    if as_json:
        print(json.dumps({"fetched": result.fetched, "skipped": result.skipped, "records": result.records,
                          "ingest": report.model_dump() if report is not None else None}, indent=2))
    else:
        out.print(result.summary(), highlight=False, markup=False)
    if report is not None and report.failed:
        raise typer.Exit(2)
