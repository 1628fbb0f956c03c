"""``synthcust interview`` and ``synthcust augment-text``: language-model features.

::

    synthcust interview PERSONAS_JSON PERSONA "question" [--evidence reviews.csv
        --text-col "Review Text" --persona-col persona --id-col id] [--backend offline|http]
        [--follow-up "..."] [--json]
    synthcust augment-text SEED.txt -n 20 -o OUT.txt [--negatives generic.txt]
        [--backend offline|http] [--report report.json]

Backends: ``offline`` (default; SmolLM2-135M-Instruct via llama-cpp-python, no network) or
``http`` (an OpenAI-compatible server from SYNTHCUST_LLM_BASE_URL / _MODEL / _API_KEY).
Replies are cached on disk (SYNTHCUST_LLM_CACHE, default ~/.cache/synthcust/llm); --no-cache
turns that off.

A Typer sub-app with no logic of its own: options go to :mod:`synthcust.workflows.llm`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from synthcust.cli.common import console, err_console, load_json, read_input
from synthcust.exceptions import SynthcustError
from synthcust.workflows import llm as wf

#: this module's commands (mounted on the root app by :mod:`synthcust.cli.root`)
app = typer.Typer(no_args_is_help=True)

_BACKEND_HELP = ("LLM backend: offline (SmolLM2-135M run locally, default) or http "
                 "(OpenAI-compatible server from SYNTHCUST_LLM_BASE_URL / _MODEL / _API_KEY).")


def _backend(name: str, cache: bool):
    if name not in wf.BACKENDS:
        raise SynthcustError(f"unknown --backend {name!r}; use offline or http")
    return wf.get_llm_backend(name, cache=cache)


@app.command("interview")
def interview(
    personas_json: Annotated[Path, typer.Argument(metavar="PERSONAS_JSON",
                                                  help="personas.json from personas segment.")],
    persona: Annotated[str, typer.Argument(metavar="PERSONA", help="Persona id or name.")],
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="What to ask.")],
    evidence: Annotated[str | None, typer.Option(
        help="Customer text to ground answers (CSV/Parquet/DuckDB/SQL URL).")] = None,
    text_col: Annotated[str | None, typer.Option(help="Column of --evidence with the text.")]
    = None,
    persona_col: Annotated[str | None, typer.Option(
        help="Column of --evidence holding each row's persona id (default: rows are shared "
        "by every persona).")] = None,
    id_col: Annotated[str | None, typer.Option(help="Column of record ids (default R<row>).")]
    = None,
    follow_up: Annotated[list[str] | None, typer.Option(
        "--follow-up", help="More questions in the same session (repeatable).")] = None,
    backend: Annotated[str, typer.Option(help=_BACKEND_HELP)] = "offline",
    method: Annotated[str, typer.Option(help="Retrieval: auto, embeddings or bm25.")] = "auto",
    k: Annotated[int, typer.Option(help="Evidence records per question.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the model's sampler.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answers as JSON.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not cache replies.")] = False,
) -> None:
    """Interview a persona: answers grounded in its card and retrieved customer text, with the
    record ids they rest on, a warning when evidence is thin, and PII redacted."""
    cards = load_json(personas_json, "personas")
    index = None
    if evidence is not None:
        if not text_col:
            raise SynthcustError("--evidence needs --text-col naming the text column")
        index = wf.evidence_index(read_input(evidence, None, None), text_col, id_col=id_col,
                                  persona_col=persona_col, method=method)
    session = wf.interview(cards, persona, [question, *(follow_up or [])],
                           _backend(backend, not no_cache), index=index, k=k, seed=seed)
    if as_json:
        console.print_json(json.dumps(session.transcript()))
        return
    for a in session.turns:
        console.print(f"[bold]Q:[/bold] {a.question}", highlight=False)
        console.print(f"[bold]{session.agent.id}:[/bold] {a.text}\n", highlight=False,
                      markup=False)


@app.command("augment-text")
def augment_text_cmd(
    seed_file: Annotated[Path, typer.Argument(metavar="SEED.txt",
                                              help="Approved copy, one line each (UTF-8).")],
    n: Annotated[int, typer.Option("-n", help="Lines to generate.")] = 20,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output text file.")] = Path(
        "augmented.txt"),
    negatives: Annotated[Path | None, typer.Option(
        help="Generic/off-brand lines for the classifier (default: built-in generic copy).")]
    = None,
    backend: Annotated[str, typer.Option(help=_BACKEND_HELP)] = "offline",
    threshold: Annotated[float, typer.Option(help="Min P(on-brand) to keep a line.")] = 0.5,
    dup_threshold: Annotated[float, typer.Option(
        help="Cosine similarity at or above which a line is a near-duplicate.")] = 0.9,
    max_attempts: Annotated[int | None, typer.Option(help="Generations at most (4 n).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the run report (JSON) here.")]
    = None,
    embedder: Annotated[str, typer.Option(
        help="Text features: auto (MiniLM when installed), minilm or tfidf.")] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not cache replies.")] = False,
) -> None:
    """Generate on-brand copy variations from approved lines, filtered by a brand-voice
    classifier and for near-duplicates; reports acceptance rate and diversity."""
    if embedder not in ("auto", "minilm", "tfidf"):
        raise SynthcustError(f"unknown --embedder {embedder!r}; use auto, minilm or tfidf")
    res = wf.augment_copy(seed_file, n, _backend(backend, not no_cache),
                          negatives_file=negatives, embedder=embedder, threshold=threshold,
                          dup_threshold=dup_threshold, max_attempts=max_attempts,
                          random_state=seed)
    wf.write_augment(res, out, report)
    c = res.classifier
    err_console.print(
        f"{len(res.accepted)} of {res.generated} generated lines accepted "
        f"({res.acceptance_rate:.0%}; rejected: {res.rejected}); brand-voice classifier "
        f"held-out precision {c.get('precision', float('nan')):.2f}, AUC "
        f"{c.get('roc_auc', float('nan')):.2f} (n={c.get('n_test')}); distinct-2 "
        f"{res.diversity['distinct_2']:.2f}, spread {res.diversity['spread']:.2f} "
        f"(seed {res.diversity['seed_spread']:.2f}); wrote {out}", highlight=False)

