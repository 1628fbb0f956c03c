"""Issue 20, items 2, 3 and 6: the service bounds what it reads and trusts."""

from __future__ import annotations

import asyncio
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("fastapi", reason="the service extra (fastapi) is not installed")
pytest.importorskip("python_multipart", reason="python-multipart is not installed")
from fastapi.testclient import TestClient
from starlette.requests import Request

from synthcust.io import ReadLimits
from synthcust.service import create_app
from synthcust.service.auth import RateLimiter
from synthcust.service.uploads import UploadError, receive_upload

TOKEN = "tok-hardening"
H = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path):
    (tmp_path / "ws").mkdir()
    app = create_app(tmp_path / "ws", tmp_path / "data", TOKEN, max_upload_mb=5.0,
                     read_limits=ReadLimits(max_rows=1_000, max_columns=50),
                     max_json_mb=0.01)  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _upload(client, name: str, data: bytes, ctype: str = "text/csv"):
    return client.post("/api/datasets", files={"file": (name, data, ctype)}, headers=H)


def test_uploads_over_a_read_limit_are_413_naming_the_limit(client, tmp_path) -> None:
    rows = "a,b\n" + "1,2\n" * 5_000  # 20 KB on the wire, over 1,000 rows
    r = _upload(client, "many.csv", rows.encode())
    assert r.status_code == 413 and "max_rows" in r.json()["error"] and "--max-rows" in r.json()[
        "error"
    ]
    assert "many.csv" in r.json()["error"] and str(tmp_path) not in r.json()["error"]
    wide = ",".join(f"c{i}" for i in range(60)) + "\n" + ",".join(["1"] * 60) + "\n"
    r = _upload(client, "wide.csv", (wide + wide.split("\n")[1] + "\n").encode())
    assert r.status_code == 413 and "max_columns" in r.json()["error"]
    assert not list((tmp_path / "data" / "uploads").iterdir())  # nothing kept


def test_nested_parquet_is_a_400_not_a_500(client, tmp_path) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2, 3], "tags": [["a"], ["b"], []]}), buf)
    r = _upload(client, "nested.parquet", buf.getvalue(), "application/octet-stream")
    assert r.status_code == 400 and "nested" in r.json()["error"], r.text
    assert not list((tmp_path / "data" / "uploads").iterdir())


def test_json_bodies_over_the_limit_are_413_with_or_without_a_length(client) -> None:
    big = b'{"n": 5, "where": "' + b"x" * 20_000 + b'"}'
    r = client.post("/api/models/1/sample", content=big,
                    headers={**H, "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and "--max-json-mb" in r.json()["error"]

    def chunked():
        for _ in range(40):
            yield b"x" * 1_000

    r = client.post("/api/models/1/sample", content=chunked(),
                    headers={**H, "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413
    small = client.post("/api/models/999/sample", json={"n": 5}, headers=H)
    assert small.status_code == 404  # under the limit: the route answers as before


def test_docs_page_points_to_the_spec_and_loads_nothing_from_a_cdn(client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and "/openapi.json" in r.text and "<script" not in r.text.lower()
    assert client.get("/openapi.json").status_code == 200


def test_the_failure_table_of_the_limiter_is_bounded() -> None:
    lim = RateLimiter(rate=1.0, burst=30)
    lim.max_keys = 100
    for i in range(1_000):
        lim.take(f"fail:10.0.{i // 256}.{i % 256}")
    assert len(lim) <= 100


def test_a_stalled_upload_is_dropped_with_408(tmp_path) -> None:
    async def scenario() -> None:
        sent = False

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"--b\r\n", "more_body": True}
            await asyncio.sleep(10)  # the client stalls
            return {"type": "http.request", "body": b"", "more_body": False}

        scope = {"type": "http", "method": "POST", "path": "/api/datasets",
                 "headers": [(b"content-type", b"multipart/form-data; boundary=b")]}  # fmt: skip
        with pytest.raises(UploadError) as e:
            await receive_upload(Request(scope, receive), tmp_path, 10_000, read_timeout=0.2)
        assert e.value.status == 408

    asyncio.run(scenario())
    assert not list(tmp_path.iterdir())


def test_serve_does_not_trust_forwarded_headers_unless_asked(tmp_path, monkeypatch) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    from typer.testing import CliRunner

    from synthcust.cli import app

    seen: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.append(k))
    (tmp_path / "ws").mkdir()
    args = ["serve", "--workspace", str(tmp_path / "ws"), "--data-dir", str(tmp_path / "d")]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert CliRunner().invoke(app, [*args, "--trust-proxy"]).exit_code == 0
    assert [k["proxy_headers"] for k in seen] == [False, True]
    bad = CliRunner().invoke(app, [*args, "--max-rows", "0"])
    assert bad.exit_code != 0 and "max_rows must be a positive" in str(bad.exception)
