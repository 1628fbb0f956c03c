"""HTTP service: API flow, security, jobs in the workspace store, and every bad input of the
issue (oversized upload, wrong type, unparsable CSV, missing/invalid token, unknown job,
concurrent fits, a client disconnecting mid-upload)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the service extra (fastapi) is not installed")
pytest.importorskip("python_multipart", reason="python-multipart is not installed")
from fastapi.testclient import TestClient

from synthcust.service import create_app
from synthcust.store.jobs import JobStore
from synthcust.store.workspace import Workspace

TOKEN = "test-token-123"
H = {"Authorization": f"Bearer {TOKEN}"}


def customers(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Customers with planted e-mails and a 3-brand choice that reacts to price (MNL)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(1, 3, (n, 3))
    v = np.array([0.5, 0.0, -0.3]) - 1.5 * p
    pr = np.exp(v) / np.exp(v).sum(1, keepdims=True)
    ch = np.array(["a", "b", "c"])[(pr.cumsum(1) > rng.uniform(size=(n, 1))).argmax(1)]
    return pd.DataFrame({
        "email": [f"person{i}@example.com" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "income": rng.normal(50, 10, n).round(1),
        "region": rng.choice(["north", "south", "east"], n),
        "price.a": p[:, 0].round(2), "price.b": p[:, 1].round(2), "price.c": p[:, 2].round(2),
        "choice": ch,
    })  # fmt: skip


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


@pytest.fixture
def app(tmp_path):
    return create_app(tmp_path / "ws", tmp_path / "data", TOKEN, max_upload_mb=1.0)


@pytest.fixture(autouse=True)
def _folders(tmp_path):
    (tmp_path / "ws").mkdir()


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def upload(client, data: bytes, name="customers.csv", ctype="text/csv", headers=H):
    return client.post("/api/datasets", files={"file": (name, data, ctype)}, headers=headers)


def wait(client, job_id: str, timeout: float = 60) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}", headers=H).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def uploads_dir(app) -> Path:
    return app.state.service.data_dir / "uploads"


# ----------------------------------------------------------------------------- security
def test_token_required_and_errors_are_json(client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = client.get("/api/datasets", headers=headers)
        assert r.status_code == 401
        assert "token" in r.json()["error"]
        assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/datasets", headers=H).json() == {"datasets": []}
    # the spec and the page are public; security headers are set
    spec = client.get("/openapi.json").json()
    assert "/api/datasets" in spec["paths"] and "/api/fits" in spec["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "<h1>synthcust</h1>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/../../etc/passwd").status_code == 404


def test_token_generated_once_and_stored_hashed(tmp_path):
    a1 = create_app(tmp_path / "ws", tmp_path / "d")
    tok = a1.state.new_token
    assert tok and len(tok) >= 40
    stored = (tmp_path / "ws" / "service_token.json").read_text()
    assert tok not in stored and json.loads(stored)["algorithm"] == "sha256"
    a2 = create_app(tmp_path / "ws", tmp_path / "d")
    assert a2.state.new_token is None  # printed only the first time
    with TestClient(a2) as c:
        assert c.get("/api/jobs", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
        assert c.get("/api/jobs", headers=H).status_code == 401


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    app = create_app(tmp_path / "ws", tmp_path / "d", TOKEN, rate=0.5, burst=3)
    with TestClient(app) as c:
        codes = [c.get("/api/jobs", headers=H).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        r = c.get("/api/jobs", headers=H)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "too many requests" in r.json()["error"]


def test_token_guessing_is_slowed_down(client):
    codes = [client.get("/api/jobs", headers={"Authorization": f"Bearer guess{i}"}).status_code
             for i in range(35)]  # fmt: skip
    assert codes[:30] == [401] * 30 and set(codes[30:]) == {429}


def test_too_many_parallel_uploads_is_503(client, app):
    st = app.state.service
    held = 0
    while st.upload_slots.acquire(blocking=False):
        held += 1
    try:
        r = upload(client, csv_bytes(customers(20)))
        assert r.status_code == 503 and "too many uploads" in r.json()["error"]
    finally:
        for _ in range(held):
            st.upload_slots.release()
    assert upload(client, csv_bytes(customers(20))).status_code == 201


def test_cors_is_off_by_default(client):
    r = client.get("/api/jobs", headers={**H, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_internal_errors_hide_the_traceback(client, app, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret internals /srv/path")

    monkeypatch.setattr(app.state.service, "model_record", boom)
    r = client.post("/api/models/1/sample", json={"n": 5}, headers=H)
    assert r.status_code == 500
    assert r.json() == {"error": "internal error (RuntimeError); see the server log"}


# ----------------------------------------------------------------------------- uploads
def test_upload_registers_without_serving_real_rows(client, app):
    df = customers()
    r = upload(client, csv_bytes(df), name="../../etc/cust omers.csv")
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["name"] == "cust omers.csv" and d["n_rows"] == 300 and d["n_cols"] == 8
    assert "file" not in d  # the generated file name is never shown
    files = list(uploads_dir(app).iterdir())
    assert [f.name for f in files] == [d["id"] + ".csv"]  # generated name, inside the folder
    sch = client.get(f"/api/datasets/{d['id']}/schema", headers=H).json()
    assert sch["pii"]["email"]["kind"] == "email"
    listing = client.get("/api/datasets", headers=H).text
    for text in (listing, json.dumps(sch)):
        assert "person1@example.com" not in text  # no real value leaks
    # the dataset is in the workspace catalog too
    ws = app.state.service.ws
    assert [x.fingerprint for x in ws.datasets()] == [d["fingerprint"]]


def test_oversized_upload_is_413_and_leaves_nothing(client, app):
    big = csv_bytes(customers(30_000))  # > 1 MB
    assert len(big) > 2**20
    r = upload(client, big)
    assert r.status_code == 413 and "limit" in r.json()["error"]
    assert list(uploads_dir(app).iterdir()) == []
    assert client.get("/api/datasets", headers=H).json()["datasets"] == []


@pytest.mark.parametrize(
    ("name", "ctype", "data", "why"),
    [
        ("picture.png", "image/png", b"\x89PNG....", "only .csv"),
        ("data.csv", "image/png", b"a,b\n1,2\n2,3\n", "not a csv content type"),
        ("data.parquet", "application/octet-stream", b"a,b\n1,2\n", "not a Parquet file"),
        ("data.csv", "text/csv", b"PAR1\x00\x01binary", "binary bytes"),
    ],
)
def test_wrong_type_is_415(client, app, name, ctype, data, why):
    r = upload(client, data, name=name, ctype=ctype)
    assert r.status_code == 415, r.text
    assert why.split()[-1] in r.json()["error"]
    assert list(uploads_dir(app).iterdir()) == []


def test_non_multipart_body_is_415(client):
    r = client.post("/api/datasets", json={"file": "a,b"}, headers=H)
    assert r.status_code == 415 and "multipart/form-data" in r.json()["error"]


def test_unparsable_csv_error_names_the_file_not_the_server_path(client, app):
    r = upload(client, b"a,b\n1,2\n3,4,5,6\n", name="broken.csv")
    assert r.status_code == 400
    msg = r.json()["error"]
    assert "broken.csv" in msg and "line 3 has 4 fields" in msg
    assert str(app.state.service.data_dir) not in msg and ".upload-" not in msg
    assert list(uploads_dir(app).iterdir()) == []
    assert client.get("/api/datasets", headers=H).json()["datasets"] == []


def test_schema_edit_is_checked_and_stored(client):
    did = upload(client, csv_bytes(customers())).json()["id"]
    sch = client.get(f"/api/datasets/{did}/schema", headers=H).json()["schema"]
    for c in sch["columns"]:
        if c["name"] == "email":
            c["pii_policy"] = "hash"
    r = client.put(f"/api/datasets/{did}/schema", json={"schema": sch}, headers=H)
    assert r.status_code == 200, r.text
    email = next(c for c in r.json()["schema"]["columns"] if c["name"] == "email")
    assert email["pii_policy"] == "hash"
    bad = {"columns": [{"name": "no_such_column", "kind": "numeric"}]}
    r = client.put(f"/api/datasets/{did}/schema", json={"schema": bad}, headers=H)
    assert r.status_code == 400 and "no_such_column" in r.json()["error"]


# ----------------------------------------------------------------------------- jobs
def test_unknown_ids_are_404(client):
    for path in ("/api/jobs/jffffffffffffffff", "/api/jobs/nope", "/api/datasets/nope/schema"):
        r = client.get(path, headers=H)
        assert r.status_code == 404 and "no " in r.json()["error"], path
    assert client.post("/api/models/999/sample", json={"n": 3}, headers=H).status_code == 404
    r = client.post("/api/fits", json={"dataset": "dnothere"}, headers=H)
    assert r.status_code == 404


def test_concurrent_fits_on_one_dataset_are_409(client, app):
    did = upload(client, csv_bytes(customers())).json()["id"]
    st = app.state.service
    gate = threading.Event()
    real_fit = st.fit_job

    def slow_fit(job, progress):
        gate.wait(20)
        return real_fit(job, progress)

    st.fit_job = slow_fit
    codes: list[int] = []

    def post() -> None:
        codes.append(client.post("/api/fits", json={"dataset": did}, headers=H).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [202] + [409] * 5
    r = client.post("/api/fits", json={"dataset": did}, headers=H)
    assert r.status_code == 409 and "already running" in r.json()["error"]
    gate.set()
    job = client.get("/api/jobs", headers=H).json()["jobs"][0]
    assert wait(client, job["id"])["status"] == "done"
    # once it is done a new fit may start
    assert client.post("/api/fits", json={"dataset": did}, headers=H).status_code == 202


def test_running_job_is_failed_after_a_restart(tmp_path):
    ws = Workspace(tmp_path / "ws")
    job = JobStore(ws).create("fit", key="fit:dx", params={"dataset": "dx"})
    JobStore(ws).update(job.id, status="running", progress=0.4)
    ws.close()
    app = create_app(tmp_path / "ws", tmp_path / "d", TOKEN)  # a new server on the same store
    assert app.state.recovered_jobs == 1
    with TestClient(app) as c:
        j = c.get(f"/api/jobs/{job.id}", headers=H).json()
    assert j["status"] == "failed" and "server stopped" in j["error"]


def test_full_flow_fit_sample_evaluate_scenario_personas_interview(tmp_path):
    from synthcust.llm import FakeBackend

    app = create_app(tmp_path / "ws", tmp_path / "d", TOKEN,
                     llm_backend=FakeBackend(["I compare prices first [R1]."]))  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as client:
        did = upload(client, csv_bytes(customers())).json()["id"]
        job = client.post("/api/fits", json={"dataset": did, "seed": 1}, headers=H).json()
        assert job["status"] == "queued"
        done = wait(client, job["id"])
        assert done["status"] == "done", done
        res = done["result"]
        assert res["pii_handled"] == {"email": "drop"}
        assert (res["train_rows"], res["holdout_rows"]) == (240, 60)
        mid = res["model_id"]
        # server-sent events end with the final state
        ev = client.get(f"/api/jobs/{job['id']}/events", headers=H)
        assert ev.headers["content-type"].startswith("text/event-stream")
        assert '"status": "done"' in ev.text

        r = client.post(f"/api/models/{mid}/sample", json={"n": 50, "seed": 3}, headers=H)
        body = r.json()
        assert body["n"] == 50 and len(body["rows"]) == 50
        assert "email" not in body["rows"][0] and "price.a" in body["rows"][0]
        r2 = client.post(f"/api/models/{mid}/sample", json={"n": 50, "seed": 3}, headers=H)
        assert r2.json() == body  # seeded
        csv = client.post(f"/api/models/{mid}/sample", json={"n": 5, "format": "csv"}, headers=H)
        assert csv.headers["content-type"].startswith("text/csv")
        assert len(csv.text.strip().splitlines()) == 6
        r = client.post(f"/api/models/{mid}/sample", json={"n": 0}, headers=H)
        assert r.status_code == 422 and "n" in r.json()["error"]

        sc0 = client.post(f"/api/models/{mid}/scenario", json={}, headers=H).json()
        assert sc0["alternatives"] == ["a", "b", "c"]
        sc = client.post(f"/api/models/{mid}/scenario", json={"price": {"a": 20}}, headers=H)
        shares = {s["alternative"]: s for s in sc.json()["shares"]}
        assert abs(sum(s["scenario"] for s in shares.values()) - 1) < 1e-6
        assert shares["a"]["scenario"] < shares["a"]["base"]  # dearer -> fewer choose it
        assert shares["b"]["scenario"] > shares["b"]["base"]
        r = client.post(f"/api/models/{mid}/scenario", json={"price": {"zz": 5}}, headers=H)
        assert r.status_code == 400 and "zz" in r.json()["error"]

        ab = client.post(f"/api/models/{mid}/abtest", headers=H,
                         json={"variants": ["A:", "B:price.a=-20%"], "focal": "a"})  # fmt: skip
        assert ab.status_code == 200, ab.text
        conv = {r["variant"]: r["conversion"] for r in ab.json()["conversion"]}
        assert conv["B"] > conv["A"]  # cheaper 'a' converts more
        assert "rests_on" not in ab.json()

        ej = client.post(f"/api/models/{mid}/evaluate", json={}, headers=H).json()
        pj = client.post(f"/api/datasets/{did}/personas", json={"k": 2, "members": 2},
                         headers=H).json()  # fmt: skip
        e = wait(client, ej["id"], 120)
        assert e["status"] == "done", e
        keys = {m["key"] for m in e["result"]["report"]["scorecard"]}
        assert "detection_auc" in keys or len(keys) >= 3
        html = client.get(e["result"]["html"], headers=H)
        assert html.status_code == 200 and "<html" in html.text.lower()
        p = wait(client, pj["id"], 120)
        assert p["status"] == "done", p
        cards = p["result"]["cards"]
        assert cards["k"] == 2 and len(cards["personas"]) == 2
        assert "person1@example.com" not in json.dumps(p["result"])

        assert client.get("/api/interview/status", headers=H).json()["available"] is True
        pid = cards["personas"][0]["id"]
        a = client.post(f"/api/personas/{pj['id']}/interview",
                        json={"persona": pid, "question": "How do you pick a brand?"},
                        headers=H).json()  # fmt: skip
        assert "I compare prices first" in a["answer"]
        r = client.post(f"/api/personas/{ej['id']}/interview",
                        json={"persona": pid, "question": "hi"}, headers=H)  # fmt: skip
        assert r.status_code == 400 and "not a finished personas job" in r.json()["error"]
        models = client.get("/api/models", headers=H).json()["models"]
        assert [m["id"] for m in models] == [mid]


def test_interview_unavailable_is_503_with_reason(client, monkeypatch):
    monkeypatch.delenv("SYNTHCUST_LLM_BASE_URL", raising=False)
    import synthcust.llm as llm

    monkeypatch.setattr(llm, "offline_available", lambda: False)
    st = client.get("/api/interview/status", headers=H).json()
    assert st["available"] is False and "not available" in st["reason"]


# ----------------------------------------------------------------------------- real server
class Server:
    """uvicorn on a free loopback port, in a thread; stopped by :meth:`stop`."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="error"))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        end = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < end, "server did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def server(app):
    pytest.importorskip("uvicorn", reason="uvicorn is not installed")
    s = Server(app)
    yield s
    s.stop()


def test_disconnect_mid_upload_registers_nothing(server, app):
    import httpx

    body = csv_bytes(customers(5000))
    boundary = "----synthcustboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()  # fmt: skip
    total = len(head) + len(body) + len(f"\r\n--{boundary}--\r\n")
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall((f"POST /api/datasets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}"
                   f"\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                   f"Content-Length: {total}\r\n\r\n").encode() + head + body[:60_000])
        time.sleep(0.3)  # the server has started writing the upload to disk
        assert any(uploads_dir(app).iterdir())
    # the client is gone: the partial file is removed, nothing registered
    end = time.monotonic() + 10
    while any(uploads_dir(app).iterdir()) and time.monotonic() < end:
        time.sleep(0.05)
    assert list(uploads_dir(app).iterdir()) == []
    r = httpx.get(server.url + "/api/datasets", headers=H)
    assert r.json() == {"datasets": []}
    # and the server still takes a whole upload
    r = httpx.post(server.url + "/api/datasets", headers=H,
                   files={"file": ("c.csv", csv_bytes(customers(100)), "text/csv")})
    assert r.status_code == 201


def test_cli_serve_has_help():
    from typer.testing import CliRunner

    import synthcust.cli.service  # noqa: F401 - registers `serve`
    from synthcust.cli import app

    r = CliRunner().invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output and "127.0.0.1" in r.output


def test_partial_upload_left_by_a_killed_server_is_removed_on_start(tmp_path):
    up = tmp_path / "data" / "uploads"
    up.mkdir(parents=True)
    (up / ".upload-0123456789abcdef.part").write_bytes(b"a,b\n1,")
    app = create_app(tmp_path / "ws", tmp_path / "data", TOKEN)
    assert list(up.iterdir()) == []
    assert app.state.service.store.datasets() == []


def test_openapi_declares_bearer_auth(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/datasets"]["post"]["security"] == [{"bearer": []}]
    body = spec["paths"]["/api/datasets"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body


_SLOW_SERVER = """
import sys, time, uvicorn
from synthcust.service import create_app
from synthcust.service.state import ServiceState

def slow_fit(self, job, progress):
    progress(0.3, "fitting (slowed down by the test)")
    time.sleep(120)

ServiceState.fit_job = slow_fit
app = create_app(sys.argv[1], sys.argv[2], sys.argv[3])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[4]), log_level="error")
"""


def test_server_killed_mid_fit_marks_the_job_failed_on_restart(tmp_path):
    import signal
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_SERVER, str(tmp_path / "ws"),
                             str(tmp_path / "d"), TOKEN, str(port)])  # fmt: skip
    try:
        end = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < end, "server did not start"
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        did = httpx.post(url + "/api/datasets", headers=H, files={
            "file": ("c.csv", csv_bytes(customers(50)), "text/csv")}).json()["id"]
        jid = httpx.post(url + "/api/fits", headers=H, json={"dataset": did}).json()["id"]
        while httpx.get(f"{url}/api/jobs/{jid}", headers=H).json()["progress"] < 0.3:
            assert time.monotonic() < end
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)  # the server dies mid-fit
        proc.wait(10)
    app = create_app(tmp_path / "ws", tmp_path / "d", TOKEN)
    with TestClient(app) as c:
        job = c.get(f"/api/jobs/{jid}", headers=H).json()
        assert job["status"] == "failed" and "server stopped" in job["error"]
        # the dataset survived, and a new fit may start (the dead one no longer blocks it)
        assert [d["id"] for d in c.get("/api/datasets", headers=H).json()["datasets"]] == [did]
        new = c.post("/api/fits", json={"dataset": did}, headers=H)
        assert new.status_code == 202
        assert wait(c, new.json()["id"])["status"] == "done"


# ----------------------------------------------------------------------------- one core
# The service is a face over synthcust.workflows: the same default model, the same DP ledger,
# the same evaluation as the command line and the library.
BOUNDS = {"age": [18, 80], "income": [0, 100], "price.a": [1, 3], "price.b": [1, 3],
          "price.c": [1, 3]}  # fmt: skip


def test_default_synthesizer_is_the_workflows_default(client):
    from synthcust.workflows.defaults import default_synthesizer

    r = client.get("/api/synthesizers", headers=H)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["default"] == default_synthesizer()
    assert body["dp_default"] == "dp_marginal"
    assert body["default"] in body["available"] and "copula" in body["available"]
    spec = client.get("/openapi.json").json()
    fit = spec["components"]["schemas"]["FitIn"]["properties"]
    assert fit["synthesizer"].get("default") is None  # no face-specific default
    assert {"target", "dp_epsilon", "dp_delta", "bounds"} <= set(fit)


def test_fit_with_a_target_shows_utility_in_the_evaluation(client):
    did = upload(client, csv_bytes(customers())).json()["id"]
    fit = {"dataset": did, "synthesizer": "copula", "target": "choice"}
    job = client.post("/api/fits", json=fit, headers=H)
    assert job.status_code == 202, job.text
    done = wait(client, job.json()["id"])
    assert done["status"] == "done", done
    res = done["result"]
    assert res["target"] == "choice" and res["synthesizer"] == "copula"
    # no target in the request: the evaluation uses the fit's
    ej = client.post(f"/api/models/{res['model_id']}/evaluate", json={}, headers=H).json()
    e = wait(client, ej["id"], 120)
    assert e["status"] == "done", e
    assert e["result"]["target"] == "choice"
    card = {m["key"]: m for m in e["result"]["report"]["scorecard"]}
    assert card["tstr_auc"]["value"] is not None and 0 < card["tstr_auc"]["value"] <= 1
    assert "TSTR" in card["tstr_auc"]["label"]
    # an unknown target is refused before a job starts
    r = client.post(f"/api/models/{res['model_id']}/evaluate", json={"target": "nope"}, headers=H)
    assert r.status_code == 400 and "nope" in r.json()["error"]


def test_dp_fit_is_charged_to_the_ledger_and_refused_over_budget(
    client, app, tmp_path, capsys, monkeypatch
):
    from _cli import run

    data = tmp_path / "customers.csv"
    customers().to_csv(data, index=False)
    did = upload(client, data.read_bytes()).json()["id"]
    fp = client.get(f"/api/datasets/{did}", headers=H).json()["fingerprint"]
    ws = app.state.service.ws
    # bad parameters are refused before anything is charged
    r = client.post("/api/fits", json={"dataset": did, "dp_epsilon": 0}, headers=H)
    assert r.status_code == 422
    r = client.post("/api/fits", json={"dataset": did, "dp_epsilon": 6}, headers=H)
    assert r.status_code == 400 and "public bounds" in r.json()["error"], r.text
    assert ws.ledger(fp) == []

    r = client.post("/api/fits", headers=H,
                    json={"dataset": did, "dp_epsilon": 6, "bounds": BOUNDS})  # fmt: skip
    assert r.status_code == 202, r.text
    done = wait(client, r.json()["id"], 120)
    assert done["status"] == "done", done
    res = done["result"]
    assert res["synthesizer"] == "dp_marginal"  # no synthesizer named: the DP default
    assert res["privacy"]["epsilon"] == 6
    assert (res["privacy"]["budget_left"], res["privacy"]["budget_total"]) == (4, 10)
    entries = ws.ledger(fp)
    assert [(e.epsilon, e.status, e.synthesizer) for e in entries] == [
        (6.0, "committed", "dp_marginal")
    ]
    assert entries[0].model_id == res["model_id"]
    rows = client.post(f"/api/models/{res['model_id']}/sample", json={"n": 20}, headers=H)
    assert rows.status_code == 200 and len(rows.json()["rows"]) == 20  # sampling is free
    assert len(ws.ledger(fp)) == 1

    # over budget: refused in the answer, nothing charged or fitted, the CLI's message
    over = {"dataset": did, "dp_epsilon": 6, "bounds": BOUNDS}
    r = client.post("/api/fits", json=over, headers=H)
    assert r.status_code == 403, r.text
    msg = r.json()["error"]
    assert "privacy budget exceeded" in msg and "only 4 of 10 is left" in msg
    assert len(ws.ledger(fp)) == 1
    jobs = client.get("/api/jobs", headers=H).json()["jobs"]  # newest first
    assert [j["status"] for j in jobs] == ["failed", "done", "failed"]
    assert jobs[0]["error"] == msg
    models = client.get("/api/models", headers=H).json()["models"]
    assert [m["id"] for m in models] == [res["model_id"]]
    bounds = [x for c, (lo, hi) in BOUNDS.items() for x in ("--bound", f"{c}={lo}..{hi}")]
    cli = ["fit", data, "-o", tmp_path / "m.synthcust", "--workspace", tmp_path / "ws",
           "--dp-epsilon", 6, *bounds]  # fmt: skip
    code, _, err = run(cli, capsys, monkeypatch)
    assert code == 1
    assert " ".join(msg.split()) in " ".join(err.split())
    assert len(ws.ledger(fp)) == 1


def test_evaluation_equals_the_library_on_the_same_split_and_seed(client, tmp_path):
    from synthcust.io import read_table
    from synthcust.workflows.evaluate import evaluate_model
    from synthcust.workflows.fit import fit
    from synthcust.workflows.split import split

    data = tmp_path / "customers.csv"
    customers().to_csv(data, index=False)
    did = upload(client, data.read_bytes()).json()["id"]
    job = client.post("/api/fits", json={"dataset": did, "synthesizer": "copula",
                                         "target": "choice", "seed": 0}, headers=H)  # fmt: skip
    res = wait(client, job.json()["id"])["result"]
    ej = client.post(f"/api/models/{res['model_id']}/evaluate", json={"seed": 0}, headers=H)
    served = {m["key"]: m["value"] for m in wait(client, ej.json()["id"], 120)["result"][
        "report"]["scorecard"]}  # fmt: skip

    train, holdout = split(read_table(data), target="choice", random_state=0)
    model = fit(train, synthesizer="copula", target="choice", random_state=0).model
    report = evaluate_model(model, train, holdout, target="choice", random_state=0)
    library = {m.key: m.value for m in report.scorecard()}
    assert "tstr_auc" in library and served.keys() == library.keys()
    for key, value in library.items():
        assert served[key] == pytest.approx(value, abs=1e-9), key


def test_fit_segments_and_constraints_then_sample_by_segment_where_and_gate(client):
    did = upload(client, csv_bytes(customers())).json()["id"]
    body = {"dataset": did, "synthesizer": "copula", "segments": {"young": "age < 30"},
            "constraints": ["age >= 18"]}  # fmt: skip
    done = wait(client, client.post("/api/fits", json=body, headers=H).json()["id"])
    assert done["status"] == "done", done
    mid = done["result"]["model_id"]

    def rows(**kw):
        r = client.post(f"/api/models/{mid}/sample", json={"n": 40, "seed": 1, **kw}, headers=H)
        assert r.status_code == 200, r.text
        return pd.DataFrame(r.json()["rows"])

    assert (rows(segment="young")["age"] < 30).all()
    assert (rows(where="region == 'north'")["region"] == "north").all()
    assert (rows(gate=True)["age"] >= 18).all()
    r = client.post(f"/api/models/{mid}/sample", json={"n": 5, "segment": "old"}, headers=H)
    assert r.status_code == 400 and "old" in r.json()["error"]
    r = client.post("/api/fits", headers=H, json={"dataset": did, "synthesizer": "copula",
                                                  "constraints": ["nope > 1"]})  # fmt: skip
    failed = wait(client, r.json()["id"])
    assert failed["status"] == "failed" and "nope" in failed["error"]
