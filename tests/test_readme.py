"""The README's promises: its first two commands, its Python example, the commands it names."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_cli_ref():
    """The docs' mkdocs hook that writes the CLI reference from the app (docs/hooks/cli_ref.py)."""
    spec = importlib.util.spec_from_file_location("cli_ref", ROOT / "docs" / "hooks" / "cli_ref.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _first_block() -> list[str]:
    block = re.search(r"```\n(.*?)```", _readme(), re.S).group(1)
    return [ln.split("#")[0].strip() for ln in block.splitlines() if ln.split("#")[0].strip()]


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def test_readme_opens_with_demo_and_test_commands():
    assert _first_block() == ["make demo", "make test"]


def test_readme_first_commands_are_makefile_targets():
    """The two commands of a fresh machine are the Makefile's demo and test targets."""
    targets = _make_targets()
    for cmd in _first_block():
        assert cmd.split()[0] == "make" and cmd.split()[1] in targets, cmd
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:.*\n\t.*synthcust demo", make, re.M)  # the demo runs the CLI
    assert re.search(r"^test:", make, re.M)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make demo" in ci


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["demo", "test", "docs", "bench"])
def test_make_targets_exist(target):
    r = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if target == "demo":
        assert "synthcust demo" in r.stdout


def test_readme_is_short():
    assert len(_readme().splitlines()) < 200


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python example runs as written and evaluates against the real holdout."""
    [code] = re.findall(r"```python\n(.*?)```", _readme(), re.S)
    assert len(code.strip().splitlines()) <= 15
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), ns)
    assert len(ns["synthetic"]) == len(ns["train"])
    assert "email" not in ns["synthetic"].columns  # planted PII found and dropped
    assert {"fidelity", "detection", "utility", "privacy"} <= set(ns["report"].sections)


def test_readme_cli_commands_exist():
    """Every ``synthcust COMMAND`` the README shows is a command of the CLI."""
    used = set(re.findall(r"^synthcust ([a-z][\w-]*)", _readme(), re.M))
    paths = load_cli_ref().command_paths()
    assert used and used <= {p.split()[0] for p in paths}


def test_every_cli_command_is_in_the_generated_reference():
    """Each command and group has its own section in the CLI reference page built from the app."""
    ref = load_cli_ref()
    md = ref.cli_markdown()
    for path in ref.command_paths():
        assert f"`synthcust {path}` {{#{ref.anchor(path)}}}" in md, path
