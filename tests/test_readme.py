"""The README's promises: its first two commands, and the commands it documents."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _first_block() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```\n(.*?)```", text, re.S).group(1)
    return [ln.split("#")[0].strip() for ln in block.splitlines() if ln.split("#")[0].strip()]


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_constraints_example_runs(tmp_path, monkeypatch):
    """The README's constraints block runs as written and its rules hold."""
    from synthcust.demo.world import simulate_customers

    [code] = [b for b in _python_blocks() if "constraints=[" in b]
    simulate_customers(1500, random_state=0).to_csv(tmp_path / "customers.csv", index=False)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    out = ns["synthetic"]
    assert len(out) == 2_000 and out.customer_id.is_unique
    assert out.customer_id.str.fullmatch(r"C\d{6}").all() and out.age.between(18, 100).all()


def test_readme_opens_with_demo_and_test_commands():
    assert _first_block() == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make demo" in ci


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["demo", "test", "bench"])
def test_make_targets_exist(target):
    r = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if target == "demo":
        assert "synthcust demo" in r.stdout


def test_readme_cli_commands_exist():
    from synthcust.cli import app

    text = (ROOT / "README.md").read_text()
    used = set(re.findall(r"^synthcust (\w[\w-]*)", text, re.M))
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}  # command groups: synthcust constraints
    assert used and used <= names


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python API block runs as written (on demo customers)."""
    from synthcust.demo.world import simulate_customers

    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    simulate_customers(1500, random_state=0).to_csv(tmp_path / "customers.csv", index=False)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert len(ns["synthetic"]) == 10_000
    assert (ns["women_30s"]["gender"] == "female").all()
    assert (tmp_path / "synthetic.parquet").exists()


def test_readme_evaluation_example_runs(tmp_path, monkeypatch):
    """The README's evaluation block runs as written, after the API block (it reuses ``real``)."""
    from synthcust.demo.world import simulate_customers

    blocks = _python_blocks()
    api_code = blocks[0]
    [eval_code] = [b for b in blocks if "write_report" in b]
    simulate_customers(1500, random_state=0).to_csv(tmp_path / "customers.csv", index=False)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(api_code, "README.md", "exec"), ns)
    exec(compile(eval_code, "README.md", "exec"), ns)
    rep = ns["report"]
    assert {"fidelity", "detection", "utility", "privacy"} <= set(rep.sections)
    assert (tmp_path / "report.html").exists() and (tmp_path / "report.json").exists()


def _feature_blocks() -> list[str]:
    """Python blocks of the feature sections: each runs on its own (no demo file needed)."""
    core = ("write_report", "constraints=[")
    return [b for b in _python_blocks()[1:] if not any(k in b for k in core)]


@pytest.mark.parametrize("index", range(len(_feature_blocks())))
def test_readme_feature_examples_run(index, tmp_path, monkeypatch):
    """Every other Python block of the README runs as written, in an empty folder."""
    code = _feature_blocks()[index]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md (feature block {index})", "exec"), {"__name__": "readme"})
