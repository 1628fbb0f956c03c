"""Persona members: are the synthetic members of persona X members of X? (issue 19 item 2)

For Adult, Bank and the demo world (``synthcust.demo.simulate_customers``), this script
segments the customers (``PersonaSegmenter``, k chosen by BIC over ``--k-range``), fits the
persona model (the flagship synthesizer, persona label first, KPI right after; see
``synthcust.personas.members``) and, for every persona, draws ``--members`` members with
``sample_persona`` (the default: draws the segmenter assigns to another persona are rejected,
per KPI value). Per persona it reports:

* ``assigned_back``: share of the delivered members the segmenter assigns to X (goal >= 0.90);
* ``raw_agreement``: share of the model's raw conditional draws assigned to X (the acceptance
  rate of the rejection step, i.e. what the model alone achieves);
* the KPI rate (Adult ``income = >50K``, Bank ``y = yes``, demo ``churned = True``) of the
  members vs the real persona's rate and its Wilson 95% CI (goal: inside). Members are taken
  per KPI value in the real persona's proportions, counted at fit; ``--kpi-quota model`` uses
  the network's own proportions (from its raw draws) instead;
* ``profile_tvd``: the persona's whole profile, mean over the segmenter's columns of the total
  variation distance between the members and the real persona (numbers in deciles of the real
  column, missing a bin of its own), next to ``halves_tvd``, the same distance between two
  random halves of the real persona (the noise floor at that size);
* the useless baseline: ``--members`` rows drawn from the same model *unconditionally*; its
  share assigned to X is about X's size, its KPI rate the population's, and its profile
  distance ``baseline_tvd``.

Run ``.venv/bin/python bench/bench_persona_members.py [--quick] [--json OUT.json]``; default
settings (8,000 rows of Adult and Bank, 4,000 demo customers, k over 2..8, 2,000 members per
persona) take a few minutes on 2 CPU cores; ``--quick`` (1,500 rows, k = 3, 300 members) is the
CI setting. Adult and Bank are skipped (with a message) when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthcust.demo import simulate_customers
from synthcust.personas import PersonaSegmenter, fit_persona_model, sample_persona
from synthcust.personas.kpi import kpi_stats, parse_kpi
from synthcust.personas.members import persona_agreement
from synthcust.workflows.defaults import default_synthesizer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS = ("adult", "bank", "demo")


@dataclass
class PersonaRow:
    """The figures of one persona."""

    dataset: str
    persona: str
    size: int
    share: float
    assigned_back: float
    raw_agreement: float
    kpi: str
    real_rate: float
    real_low: float
    real_high: float
    member_rate: float
    inside_ci: bool
    baseline_assigned: float
    baseline_rate: float
    baseline_inside_ci: bool
    profile_tvd: float
    halves_tvd: float
    baseline_tvd: float
    members: int
    seconds: float


def load(name: str, rows: int, seed: int = 0) -> tuple[pd.DataFrame, str] | None:
    """``rows`` customers of ``name`` and its KPI, or None when the data is absent."""
    if name == "demo":
        return simulate_customers(rows, random_state=seed, with_pii=False), "churned"
    if name == "adult":
        parts = [DATA / "adult" / f"adult_{s}.csv.gz" for s in ("train", "test")]
        if not all(p.is_file() for p in parts):
            return None
        df = pd.concat([pd.read_csv(p, na_values="?", skipinitialspace=True) for p in parts],
                       ignore_index=True)
        kpi = "income"
    else:
        path = DATA / "bank" / "bank_full.csv.gz"
        if not path.is_file():
            return None
        df, kpi = pd.read_csv(path), "y"
    if rows < len(df):
        df = df.sample(rows, random_state=seed).reset_index(drop=True)
    return df, kpi


def _codes(s: pd.Series, edges: np.ndarray | None) -> pd.Series:
    """A column as comparable cells: decile bin of a number or date, else its text."""
    if edges is None:
        return s.astype(str).where(s.notna(), "nan")
    x = _numbers(s)
    return pd.Series(np.digitize(x, edges), index=s.index).astype(str).where(np.isfinite(x),
                                                                              "nan")


def _numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.to_datetime(s).astype("int64").where(s.notna()).to_numpy(dtype=float)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def profile_edges(df: pd.DataFrame, cols: list[str]) -> dict[str, np.ndarray | None]:
    """Decile edges of the numeric and date columns (None: compared by category)."""
    out: dict[str, np.ndarray | None] = {}
    for c in cols:
        s = df[c]
        num = (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)) \
            or pd.api.types.is_datetime64_any_dtype(s)
        out[c] = np.unique(np.nanquantile(_numbers(s), np.linspace(0.1, 0.9, 9))) \
            if num and s.nunique() > 10 else None
    return out


def profile_tvd(a: pd.DataFrame, b: pd.DataFrame, edges: dict[str, np.ndarray | None]) -> float:
    """Mean over columns of the total variation distance between two sets of rows."""
    out = []
    for c, e in edges.items():
        pa = _codes(a[c], e).value_counts(normalize=True)
        pb = _codes(b[c], e).value_counts(normalize=True)
        out.append(0.5 * float(pa.sub(pb, fill_value=0).abs().sum()))
    return float(np.mean(out))


def run_dataset(name: str, rows: int, k: int | None, k_range: tuple[int, int], members: int,
                synthesizer: str, params: dict | None, seed: int = 0,
                kpi_quota: str = "data") -> list[PersonaRow]:
    """Every persona's figures on one dataset (empty when its data is absent)."""
    got = load(name, rows, seed)
    if got is None:
        print(f"{name}: skipped (no data under {DATA})", flush=True)
        return []
    df, kpi = got
    t0 = time.perf_counter()
    seg = PersonaSegmenter(k=k, k_range=k_range, n_init=2, random_state=seed).fit(df)
    spec = parse_kpi(df, kpi)
    real = kpi_stats(df, spec, seg.labels_, seg.personas_)
    model = fit_persona_model(df, seg, seg.labels_, synthesizer=synthesizer, kpi=[spec.column],
                              params=params, random_state=seed)
    fit_s = time.perf_counter() - t0
    print(f"{name}: {len(df):,} rows, k = {seg.k_}, {synthesizer} fitted, "
          f"segment + fit {fit_s:.0f} s", flush=True)
    agree = persona_agreement(model, members, random_state=seed + 1)
    base = model.synth_.sample(members, random_state=seed + 2)
    base_lab = seg.predict(base)
    base_rate = float(np.nanmean(spec.values(base)))
    edges = profile_edges(df, seg.columns_)
    rng = np.random.default_rng(seed)
    out = []
    for i, pid in enumerate(seg.personas_):
        t = time.perf_counter()
        m = sample_persona(model, members, pid, random_state=seed + 10 + i, with_names=False,
                           kpi_quota=kpi_quota)
        r = real[i]
        rate = float(np.nanmean(spec.values(m)))
        mine = df[seg.labels_ == pid]
        half = rng.permutation(len(mine)) < len(mine) // 2
        tvd = (profile_tvd(m, mine, edges), profile_tvd(mine[half], mine[~half], edges),
               profile_tvd(base, mine, edges))
        out.append(PersonaRow(
            name, pid, r.n, r.n / len(df), float((seg.predict(m) == pid).mean()), agree[pid],
            spec.label, r.value, r.low, r.high, rate, bool(r.low <= rate <= r.high),
            float((base_lab == pid).mean()), base_rate, bool(r.low <= base_rate <= r.high),
            *tvd, members, time.perf_counter() - t,
        ))
    return out


def show(rows: list[PersonaRow]) -> None:
    """A plain table of the figures."""
    print(f"{'data':6} {'persona':7} {'size':>6} {'back':>5} {'raw':>5} "
          f"{'real KPI (95% CI)':>20} {'members':>8} {'in':>3} {'base back':>9} "
          f"{'base KPI':>8} {'TVD':>5} {'halves':>6} {'base TVD':>8}")
    for r in rows:
        ci = f"{r.real_rate:.3f} ({r.real_low:.3f}-{r.real_high:.3f})"
        print(f"{r.dataset:6} {r.persona:7} {r.size:>6,} {r.assigned_back:>5.2f} "
              f"{r.raw_agreement:>5.2f} {ci:>20} {r.member_rate:>8.3f} "
              f"{'yes' if r.inside_ci else 'NO':>3} {r.baseline_assigned:>9.2f} "
              f"{r.baseline_rate:>8.3f} {r.profile_tvd:>5.3f} {r.halves_tvd:>6.3f} "
              f"{r.baseline_tvd:>8.3f}")


def summary(rows: list[PersonaRow]) -> dict:
    """Per dataset: personas, how many meet each goal, the worst figures."""
    out = {}
    for name in dict.fromkeys(r.dataset for r in rows):
        rs = [r for r in rows if r.dataset == name]
        out[name] = {
            "personas": len(rs),
            "assigned_back_min": min(r.assigned_back for r in rs),
            "assigned_back_goal_met": sum(r.assigned_back >= 0.9 for r in rs),
            "raw_agreement_min": min(r.raw_agreement for r in rs),
            "kpi_inside_ci": sum(r.inside_ci for r in rs),
            "baseline_assigned_mean": float(np.mean([r.baseline_assigned for r in rs])),
            "baseline_kpi_inside_ci": sum(r.baseline_inside_ci for r in rs),
            "profile_tvd_mean": float(np.mean([r.profile_tvd for r in rs])),
            "halves_tvd_mean": float(np.mean([r.halves_tvd for r in rs])),
            "baseline_tvd_mean": float(np.mean([r.baseline_tvd for r in rs])),
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns (and optionally writes) the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small CI setting")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--rows", type=int, default=None, help="rows per dataset (default 8,000; "
                    "demo 4,000; quick 1,500)")
    ap.add_argument("--members", type=int, default=None, help="members per persona")
    ap.add_argument("--synthesizer", default=None, help="default: the flagship")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kpi-quota", choices=("data", "model"), default="data",
                    help="members per KPI value: the real persona's shares (default) or the "
                    "model's own")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    a = ap.parse_args(argv)
    synth = a.synthesizer or default_synthesizer()
    members = a.members or (300 if a.quick else 2000)
    k, k_range = (3, (3, 3)) if a.quick else (None, (2, 8))
    params = {"epochs": 15} if a.quick and synth == "autoregressive" else None
    rows: list[PersonaRow] = []
    t0 = time.perf_counter()
    for name in a.datasets.split(","):
        n = a.rows or (1500 if a.quick else (4000 if name == "demo" else 8000))
        rows += run_dataset(name, n, k, k_range, members, synth, params, a.seed, a.kpi_quota)
    show(rows)
    res = {"settings": {"quick": a.quick, "members": members, "synthesizer": synth,
                        "k": k, "k_range": list(k_range), "seed": a.seed, "params": params,
                        "kpi_quota": a.kpi_quota, "rows": a.rows,
                        "cpu": os.cpu_count(), "seconds": time.perf_counter() - t0},
           "summary": summary(rows), "personas": [asdict(r) for r in rows]}
    print(json.dumps(res["summary"], indent=1))
    if a.json:
        a.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
