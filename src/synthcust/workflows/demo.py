"""``synthcust demo``: the whole first path on the bundled demo world.

simulate a retailer's customers (with planted PII) -> split train/holdout -> find and remove
PII -> fit the default synthesizer (autoregressive with torch, else the Gaussian copula) on
train -> sample -> write the synthetic customers, the model,
the schema, the PII report and a fidelity summary (per-column KL as docs/methods/metrics.md
defines it) -> check
that no planted PII value reached any output file.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.demo.world import DEMO_UNIQUE_PII_COLUMNS, simulate_customers
from synthcust.evaluation.evaluate import EvaluationReport, evaluate
from synthcust.evaluation.fidelity import KL_THRESHOLD, kl_per_column
from synthcust.exceptions import DataError, SynthcustError
from synthcust.io import write_table
from synthcust.io.atomic import atomic_write_text
from synthcust.reporting import write_report
from synthcust.synthesizers.fitted import SynthModel
from synthcust.workflows.fit import fit
from synthcust.workflows.split import split

__all__ = ["TARGET", "DemoResult", "run_demo"]

TARGET = "churned"


@dataclass
class DemoResult:
    """What the demo made: its summary (also in ``out/summary.json``) and what to show.

    Attributes
    ----------
    summary : dict
        Rows, per-column KL against the real holdout's, the scorecard, planted PII found.
    model : SynthModel
        The fitted model (also saved to ``out/model.synthcust``).
    report : EvaluationReport
        The evaluation against real holdout rows (``out/report.html``).
    kl_synthetic, kl_holdout : pandas.Series
        KL(real train || synthetic) and KL(real train || real holdout) per learned column.
    out : Path
        The output folder.
    """

    summary: dict[str, Any]
    model: SynthModel
    report: EvaluationReport
    kl_synthetic: pd.Series
    kl_holdout: pd.Series
    out: Path


def run_demo(
    out: str | os.PathLike,
    *,
    rows: int = 5000,
    n: int | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo: simulate, split, fit, sample, write, measure, check for leaks.

    Parameters
    ----------
    out : str or path
        The output folder (created).
    rows : int
        Real demo customers to simulate (at least 50).
    n : int, optional
        Synthetic customers (default: ``rows``).
    seed : int
        Seed of the demo world and the model.
    progress : callable, optional
        ``progress(message)`` at each step.

    Returns
    -------
    DemoResult

    Raises
    ------
    SynthcustError
        When a planted PII value reached an output file (a bug), after writing everything.
    """
    say = progress or (lambda _msg: None)
    if rows < 50:
        raise DataError(f"--rows must be at least 50 for a meaningful demo, got {rows}")
    n = rows if n is None else n
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SynthcustError(f"{out} exists and is not a folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    say("simulating the demo world")
    real = simulate_customers(rows, random_state=seed, with_pii=True)
    say("splitting train / holdout")
    train, holdout = split(real, target=TARGET, random_state=0)
    say(f"finding PII, fitting on {len(train):,} rows")
    model = fit(train, target=TARGET, random_state=seed).model
    say(f"sampling {n:,} synthetic customers")
    synth = model.sample(n, random_state=seed)
    say("writing outputs")
    write_table(synth, out / "synthetic_customers.csv")
    model.save(out / "model.synthcust")
    atomic_write_text(out / "schema.json", json.dumps(model.schema.to_dict(), indent=2) + "\n")
    atomic_write_text(
        out / "pii_report.json", json.dumps(model.pii.to_dict(), indent=2, default=str) + "\n"
    )
    say("measuring fidelity")
    # compare the columns learned as they were: PII-handled columns were changed on purpose
    # and ids are generated fresh, so neither has a real counterpart to be faithful to
    learned = [c for c in model.learned_columns if c in train.columns]
    kl_synth = kl_per_column(train, synth, columns=learned)
    kl_hold = kl_per_column(train, holdout, columns=learned)
    say("evaluating against real holdout data")
    report = evaluate(
        train[learned], synth[learned], holdout[learned], target=TARGET, random_state=seed
    )
    write_report(report, out / "report.html")
    leaks = _planted_pii_leaks(real, out)
    summary = _summary(model, real, train, holdout, synth, seed, kl_synth, kl_hold, report)
    summary["planted_pii_values_found_in_outputs"] = leaks
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    atomic_write_text(out / "summary.md", _markdown(summary))
    say("done")
    if leaks:
        raise SynthcustError(
            f"planted PII reached the output ({leaks} values); this is a bug — see {out}"
        )
    return DemoResult(summary, model, report, kl_synth, kl_hold, out)


def _summary(model, real, train, holdout, synth, seed, kl_synth, kl_hold, report) -> dict:
    return {
        "synthesizer": model.synthesizer.name,
        "rows_real": len(real),
        "rows_train": len(train),
        "rows_holdout": len(holdout),
        "rows_synthetic": len(synth),
        "seed": seed,
        "kl_method": (
            "KL(real train || synthetic) per column; numeric columns in 20 bins at the real "
            "train quantiles, categories as they are, missing its own bin, 1e-6 added to every "
            "bin (docs/methods/metrics.md#kl-divergence). "
            "Reference: KL(real train || real holdout)."
        ),
        "kl_synthetic": {k: round(float(v), 5) for k, v in kl_synth.items()},
        "kl_holdout_reference": {k: round(float(v), 5) for k, v in kl_hold.items()},
        "kl_max": float(kl_synth.max()),
        "kl_threshold": KL_THRESHOLD,
        "columns_over_threshold": [str(c) for c in kl_synth.index[kl_synth >= KL_THRESHOLD]],
        "pii": model.pii.to_dict(),
        "scorecard": [m.to_dict() for m in report.scorecard()],
        "privacy_gate_passed": None if report.gate is None else bool(report.gate.passed),
    }


def _planted_pii_leaks(real: pd.DataFrame, out: Path) -> int:
    """Count planted unique PII values (emails, phones, names, streets) found in any output file."""
    planted = set()
    for c in DEMO_UNIQUE_PII_COLUMNS:
        planted.update(real[c].astype(str).tolist())
    found = 0
    for f in out.iterdir():
        if f.suffix in (".csv", ".json", ".md", ".html"):
            text = f.read_text(encoding="utf-8", errors="replace")
            found += sum(1 for v in planted if v in text)
        elif f.suffix == ".synthcust":
            with zipfile.ZipFile(f) as zf:
                blob = b"".join(zf.read(name) for name in zf.namelist()).decode("latin-1")
            found += sum(1 for v in planted if v in blob)
    return found


def _markdown(s: dict[str, Any]) -> str:
    lines = [
        "# synthcust demo: fidelity summary",
        "",
        f"{s['rows_synthetic']:,} synthetic customers from the {s['synthesizer']} synthesizer "
        "fitted on "
        f"{s['rows_train']:,} simulated real customers (holdout {s['rows_holdout']:,}), "
        f"seed {s['seed']}.",
        "",
        f"Method: {s['kl_method']}",
        "",
        "| column | KL synthetic | KL holdout (reference) | < 0.12 |",
        "|---|---|---|---|",
    ]
    for c, v in s["kl_synthetic"].items():
        ok = "yes" if v < s["kl_threshold"] else "**no**"
        lines.append(f"| {c} | {v:.4f} | {s['kl_holdout_reference'][c]:.4f} | {ok} |")
    lines += [
        "",
        f"Planted PII values found in outputs: {s['planted_pii_values_found_in_outputs']}",
        "",
    ]
    return "\n".join(lines)
