#!/usr/bin/env python
"""Bounded load test of the HTTP service on loopback: concurrent sample requests, 0 errors.

A server process (``uvicorn``, one worker, ``synthcust.service.create_app``) is started on a
free loopback port with a fresh workspace. The client (this process) uploads
``simulate_customers(--rows)``, fits the copula through the API (background job, polled), then
fires ``--concurrency`` POST ``/api/models/{id}/sample`` requests (``--n`` rows each) at once
from one ``httpx.AsyncClient`` (one connection per request), ``--rounds`` times. Each request's
latency is the wall time from send to the full JSON body. Any non-200 answer or transport error
counts as an error; the run fails (exit 1) when there is one.

Reported: errors, requests/s over each round, latency p50/p90/p99/max (ms), the server's CPU
count. Results: ``bench/results/service_load_<date>.json`` and ``.md``.

Usage::

    python bench/bench_service.py                     # 200 concurrent x 3 rounds
    python bench/bench_service.py --concurrency 50 --rounds 1 --quick
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

TOKEN = "bench-token"
SERVER = """
import sys, uvicorn
from synthcust.service import create_app
app = create_app(sys.argv[1], sys.argv[2], sys.argv[3], rate=100000, burst=100000)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[4]), log_level="warning")
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def _prepare(url: str, rows: int) -> int:
    from synthcust.demo.world import simulate_customers

    h = {"Authorization": f"Bearer {TOKEN}"}
    buf = io.BytesIO()
    simulate_customers(rows, random_state=0).to_csv(buf, index=False)
    with httpx.Client(base_url=url, headers=h, timeout=120) as c:
        r = c.post("/api/datasets", files={"file": ("customers.csv", buf.getvalue(), "text/csv")})
        r.raise_for_status()
        # the copula by name: the service's default (the workflow's) may be a slower model,
        # and this benchmark measures serving, with the figures it always had
        job = c.post("/api/fits", json={"dataset": r.json()["id"], "synthesizer": "copula"}).json()
        while job["status"] not in ("done", "failed"):
            time.sleep(0.2)
            job = c.get(f"/api/jobs/{job['id']}").json()
        if job["status"] != "done":
            raise SystemExit(f"fit failed: {job['error']}")
        return int(job["result"]["model_id"])


async def _round(url: str, model_id: int, concurrency: int, n: int) -> tuple[list, list, float]:
    h = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=h, timeout=120, limits=limits) as c:

        async def one(i: int) -> tuple[float, str | None]:
            t = time.perf_counter()
            try:
                r = await c.post(f"/api/models/{model_id}/sample", json={"n": n, "seed": i})
                ok = r.status_code == 200 and len(r.json()["rows"]) == n
                err = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as e:
                err = f"{type(e).__name__}: {e}"
            return time.perf_counter() - t, err

        t0 = time.perf_counter()
        res = await asyncio.gather(*(one(i) for i in range(concurrency)))
        wall = time.perf_counter() - t0
    return [r[0] for r in res], [r[1] for r in res if r[1]], wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=100, help="rows per sample request")
    ap.add_argument("--rows", type=int, default=2000, help="rows of the uploaded dataset")
    ap.add_argument("--quick", action="store_true", help="tag the result files _quick")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthcust-bench-service-"))
    (tmp / "ws").mkdir()
    port = _port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp / "ws"), str(tmp / "data"),
                             TOKEN, str(port)])  # fmt: skip
    try:
        _wait_up(url, proc)
        model_id = _prepare(url, a.rows)
        lat: list[float] = []
        errors: list[str] = []
        rps = []
        for _ in range(a.rounds):
            ls, es, wall = asyncio.run(_round(url, model_id, a.concurrency, a.n))
            lat += ls
            errors += es
            rps.append(a.concurrency / wall)
    finally:
        proc.terminate()
        proc.wait(10)
    ms = np.array(lat) * 1000
    out = {
        "date": _dt.date.today().isoformat(),
        "setup": {"concurrency": a.concurrency, "rounds": a.rounds, "rows_per_request": a.n,
                  "dataset_rows": a.rows, "synthesizer": "copula", "server": "uvicorn, 1 process",
                  "cpus": os.cpu_count(), "transport": "HTTP/1.1 on loopback, httpx.AsyncClient"},
        "requests": len(lat),
        "errors": len(errors),
        "error_examples": errors[:5],
        "requests_per_s": [round(x, 1) for x in rps],
        "latency_ms": {q: round(float(np.percentile(ms, int(q[1:]))), 1)
                       for q in ("p50", "p90", "p99")} | {"max": round(float(ms.max()), 1)},
    }  # fmt: skip
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    stem = f"service_load_{out['date']}" + ("_quick" if a.quick else "")
    (res / f"{stem}.json").write_text(json.dumps(out, indent=1) + "\n")
    L = out["latency_ms"]
    md = (f"# Service load test ({out['date']})\n\n"
          f"{a.concurrency} concurrent `POST /api/models/{{id}}/sample` (n={a.n}) x {a.rounds} "
          f"rounds on loopback; uvicorn, one process; {os.cpu_count()} CPUs shared with the "
          "client.\n\n| requests | errors | req/s per round | p50 ms | p90 ms | p99 ms | max ms |"
          "\n|---|---|---|---|---|---|---|\n"
          f"| {out['requests']} | {out['errors']} | {', '.join(map(str, out['requests_per_s']))} "
          f"| {L['p50']} | {L['p90']} | {L['p99']} | {L['max']} |\n")  # fmt: skip
    (res / f"{stem}.md").write_text(md)
    print(md)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
