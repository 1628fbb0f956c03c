"""Issue 20, items 6-7: private files at rest, no leaked upload parts, stale temp files swept."""

from __future__ import annotations

import os
import stat
import time

import numpy as np
import pandas as pd
import pytest

from synthcust.io import atomic_write_bytes, sweep_stale_temps, write_table
from synthcust.store import Workspace
from synthcust.synthesizers import REGISTRY


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_models_are_written_owner_only_even_over_a_wider_file(tmp_path) -> None:
    df = pd.DataFrame({"a": np.arange(50.0), "b": ["x", "y"] * 25})
    model = REGISTRY["copula"](random_state=0).fit(df)
    path = tmp_path / "m.synthcust"
    path.write_bytes(b"old")
    path.chmod(0o644)
    model.save(path)
    assert _mode(path) == 0o600


def test_tables_keep_the_umask_and_private_bytes_are_0600(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        t = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        b = atomic_write_bytes(tmp_path / "b.bin", b"x", private=True)
    finally:
        os.umask(umask)
    assert _mode(t) == 0o644 and _mode(b) == 0o600


def test_a_new_workspace_and_its_wal_are_owner_only(tmp_path) -> None:
    with Workspace(tmp_path / "ws.db") as ws:
        ws.register_dataset(pd.DataFrame({"a": range(10)}))
        files = [p for p in tmp_path.iterdir() if p.name.startswith("ws.db")]
        modes = {p.name: oct(_mode(p)) for p in files}
        assert files and all(_mode(p) == 0o600 for p in files), modes


def test_stale_temp_files_are_swept_fresh_ones_and_others_kept(tmp_path) -> None:
    stale = tmp_path / ".model.synthcust.0123456789ab.tmp"
    fresh = tmp_path / ".other.csv.abcdefabcdef.tmp"
    mine = tmp_path / "notes.tmp"
    for p in (stale, fresh, mine):
        p.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    os.utime(mine, (old, old))
    assert sweep_stale_temps(tmp_path) == 1
    assert not stale.exists() and fresh.exists() and mine.exists()
    assert sweep_stale_temps(tmp_path / "missing") == 0


def test_service_folders_are_private_and_a_long_boundary_is_a_400_without_leftovers(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from synthcust.service import create_app

    (tmp_path / "ws").mkdir()
    app = create_app(tmp_path / "ws", tmp_path / "data", "tok", max_upload_mb=1.0)
    with TestClient(app, raise_server_exceptions=False) as client:
        for sub in ("uploads", "models", "reports"):
            assert _mode(tmp_path / "data" / sub) == 0o700
        boundary = "b" * 300
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"x.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n"
                f"\r\n--{boundary}--\r\n").encode()  # fmt: skip
        r = client.post(
            "/api/datasets",
            content=body,
            headers={
                "Authorization": "Bearer tok",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert r.status_code == 400 and "boundary" in r.json()["error"], r.text
    assert not list((tmp_path / "data" / "uploads").glob(".upload-*"))
