"""Schemathesis against the service's OpenAPI spec: generated requests (bounded examples) to
every operation never get a server error, and every error answer is JSON ``{"error": ...}``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service extra (fastapi) is not installed")
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, settings  # noqa: E402

from synthcust.service import create_app  # noqa: E402

TOKEN = "schema-token"
_DIR = Path(tempfile.mkdtemp(prefix="synthcust-schemathesis-"))
(_DIR / "ws").mkdir()
APP = create_app(_DIR / "ws", _DIR / "data", TOKEN, max_upload_mb=0.5, burst=100_000,
                 rate=10_000)  # fmt: skip
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def teardown_module() -> None:
    APP.state.service.close()
    shutil.rmtree(_DIR, ignore_errors=True)


def _json_error(ctx, response, case) -> bool:
    """Every 4xx/5xx answer is a JSON object with an 'error' message (no stack trace)."""
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body
        assert "Traceback" not in body["error"]
    return True


@schema.parametrize()
@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_api_never_errors(case):
    from schemathesis.checks import not_a_server_error

    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    case.validate_response(response, checks=[not_a_server_error])
    _json_error(None, response, case)
