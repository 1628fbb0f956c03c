"""Validity diagnostics on Adult: synthcust's score and SDV's DiagnosticReport on one sample.

Fits synthcust's ``copula`` on the Adult train split (80/20 stratified, seed 0, as
bench_copula.py), samples ``len(train)`` rows and scores them with
:func:`synthcust.evaluation.validity.evaluate_validity`. When SDV is installed in
``.venv-bench`` the same real train rows and sample (written as CSV) are scored there with
``run_diagnostic`` and ``Metadata`` detected from the real rows.

    .venv/bin/python bench/bench_validity.py [--data-dir ../shared/data] [--max-rows N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_PY = HERE.parent / ".venv-bench" / "bin" / "python"

_SDV_SNIPPET = r"""
import json, sys, warnings
import pandas as pd
warnings.simplefilter("ignore")
import sdv
from sdv.metadata import Metadata
try:
    from sdv.evaluation.single_table import run_diagnostic
except ImportError:  # SDV 2.x
    from sdv.evaluation import run_diagnostic
real, synth = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
if hasattr(Metadata, "detect_from_dataframe"):
    md = Metadata.detect_from_dataframe(real, table_name="adult")
else:
    md = Metadata.detect_from_dataframes({"adult": real})
rep = run_diagnostic(real, synth, md, verbose=False)
props = rep.get_properties()
print(json.dumps({
    "sdv_version": sdv.__version__,
    "score": float(rep.get_score()),
    "properties": {
        r["Property"]: None if pd.isna(r["Score"]) else float(r["Score"])
        for _, r in props.iterrows()
    },
}))
"""


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE))
    from bench_copula import DATASETS, DEFAULT_DATA_DIR, load_dataset, split
    from synthcust.evaluation.validity import evaluate_validity
    from synthcust.synthesizers import REGISTRY

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-sdv", action="store_true", help="skip SDV's DiagnosticReport")
    args = ap.parse_args(argv)

    df = load_dataset("adult", args.data_dir)
    train, _ = split(df, DATASETS["adult"].target, args.max_rows)
    train = train.reset_index(drop=True)
    model = REGISTRY["copula"](random_state=args.seed).fit(train)
    synth = model.sample(len(train), random_state=args.seed)
    t0 = time.perf_counter()
    sec = evaluate_validity(train, synth, model.schema_)
    took = time.perf_counter() - t0
    out: dict = {
        "rows_train": len(train),
        "rows_synthetic": len(synth),
        "synthcust": {
            "seconds": round(took, 3),
            **{m.key: m.value for m in sec.metrics},
            "failures": sec.extra["failures"],
        },
    }
    if not args.no_sdv and BENCH_PY.exists():
        with tempfile.TemporaryDirectory() as tmp:
            rp, sp = Path(tmp) / "real.csv", Path(tmp) / "synth.csv"
            train.to_csv(rp, index=False)
            synth.to_csv(sp, index=False)
            res = subprocess.run(
                [str(BENCH_PY), "-c", _SDV_SNIPPET, str(rp), str(sp)],
                capture_output=True,
                text=True,
                check=False,
            )
        if res.returncode == 0:
            out["sdv"] = json.loads(res.stdout.strip().splitlines()[-1])
        else:
            out["sdv"] = {"error": res.stderr.strip().splitlines()[-1:]}
    else:
        out["sdv"] = None
    print(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
