"""The documentation's promises: its code runs, its links hold, the site builds strictly.

* Every ```python block of ``docs/**/*.md`` runs (``README.md``'s runs in ``test_readme.py``),
  page by page in order (a page's blocks share one namespace, as a reader runs them), in an
  empty temporary folder that holds ``customers.csv`` (1,500 demo customers). A block
  preceded by a line ``<!-- skip: REASON -->`` is not run; it is allowed only where the block
  needs the shared benchmark data (``../shared/data``) or a network, and the reason says so.
* Every ``synthcust COMMAND`` the docs show exists in the CLI, with the options they give it.
* Every ``docs/methods/metrics.md#ANCHOR`` cited in ``src/`` exists.
* ``mkdocs build --strict`` passes (skipped with a reason when mkdocs is not installed).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP = re.compile(r"<!--\s*skip:\s*(.+?)\s*-->")
#: optional dependencies a page may need; without them its blocks are skipped, with the reason
OPTIONAL = {"torch", "dask", "distributed", "gymnasium", "imblearn", "fastapi", "opacus"}


def load_cli_ref():
    """The docs' mkdocs hook, which writes the CLI reference (imported by path: not a package)."""
    spec = importlib.util.spec_from_file_location("cli_ref", DOCS / "hooks" / "cli_ref.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def fenced_blocks(text: str) -> list[tuple[str, str, str]]:
    """(language, code, the last non-blank line before the fence) of every fenced block.

    Fences are paired in order, line by line (a closing fence is never taken for an opening).
    """
    out: list[tuple[str, str, str]] = []
    lang, body, before, last = None, [], "", ""
    for line in text.splitlines():
        stripped = line.strip()
        if lang is None:
            if stripped.startswith("```"):
                lang, body, before = stripped[3:].strip().split(" ")[0], [], last
            elif stripped:
                last = stripped
        elif stripped == "```":
            out.append((lang, "\n".join(body) + "\n", before))
            lang, last = None, ""
        else:
            body.append(line)
    return out


def python_blocks(path: Path) -> list[tuple[str, str | None]]:
    """(code, skip reason or None) for every python block of ``path``, in order."""
    out = []
    for lang, code, before in fenced_blocks(path.read_text(encoding="utf-8")):
        if lang == "python":
            skip = SKIP.fullmatch(before)
            out.append((code, skip.group(1) if skip else None))
    return out


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


#: README.md's one example runs in tests/test_readme.py (with its own checks), not twice
PAGES_WITH_CODE = [p for p in pages() if python_blocks(p) and p.name != "README.md"]


@pytest.fixture
def demo_folder(tmp_path, monkeypatch):
    from synthcust.demo import simulate_customers

    simulate_customers(1500, random_state=0).to_csv(tmp_path / "customers.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check_evaluation(ns: dict, folder: Path) -> None:
    rep = ns["report"]
    assert {"fidelity", "detection", "utility", "privacy"} <= set(rep.sections)
    assert (folder / "report.html").exists() and (folder / "report.json").exists()


def _check_constraints(ns: dict, folder: Path) -> None:
    out = ns["synthetic"]
    assert len(out) == 2_000 and out.customer_id.is_unique
    assert out.customer_id.str.fullmatch(r"C\d{6}").all() and out.age.between(18, 100).all()


def _check_core(ns: dict, folder: Path) -> None:
    assert len(ns["synthetic"]) == 10_000
    assert (ns["women_30s"]["gender"] == "female").all()
    assert (folder / "synthetic.parquet").exists()


def _check_getting_started(ns: dict, folder: Path) -> None:
    assert "email" not in ns["synthetic"].columns  # the planted PII never reached the model
    assert {"fidelity", "detection", "utility", "privacy"} <= set(ns["report"].sections)


#: what some pages' examples must leave behind, beyond running without error
CHECKS = {
    "docs/guides/evaluation.md": _check_evaluation,
    "docs/guides/constraints.md": _check_constraints,
    "docs/guides/core.md": _check_core,
    "docs/getting-started.md": _check_getting_started,
}


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=_rel)
def test_python_blocks_run(page: Path, demo_folder: Path):
    """Every python block of the page runs as written, in order, in one namespace."""
    ns: dict = {"__name__": "docs"}
    ran = 0
    for i, (code, skip) in enumerate(python_blocks(page)):
        if skip:
            assert re.search(r"shared|network|download", skip), (
                f"{_rel(page)} block {i}: skip only for ../shared data or a network: {skip!r}"
            )
            continue
        try:
            exec(compile(code, f"{_rel(page)} (python block {i})", "exec"), ns)
        except ModuleNotFoundError as e:
            if e.name and e.name.split(".")[0] in OPTIONAL:
                pytest.skip(f"{_rel(page)} needs the optional dependency {e.name}")
            raise
        ran += 1
    if ran:
        check = CHECKS.get(_rel(page))
        if check:
            check(ns, demo_folder)


def test_skip_markers_are_rare_and_explained():
    """Only blocks that need the shared data or a network are skipped."""
    skipped = [(p, s) for p in pages() for _c, s in python_blocks(p) if s]
    assert len(skipped) <= 3, skipped


def test_docs_commands_exist():
    """Every ``synthcust COMMAND`` written in the docs' and README's code blocks is a command."""
    paths = set(load_cli_ref().command_paths())
    tops = {p.split()[0] for p in paths}
    used = {
        line.split()[1] for _page, line in _command_lines() if re.match(r"[a-z]", line.split()[1])
    }
    assert used and used <= tops, sorted(used - tops)


def _resolves(dotted: str) -> bool:
    """Whether ``synthcust.a.b.C`` imports: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for name in parts[i:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_docs_python_paths_exist():
    """Every ``synthcust.module.name`` the docs mention still imports (modules move and split)."""
    files = [*pages(), ROOT / "CONTRIBUTING.md"]
    refs = {
        (ref, _rel(p))
        for p in files
        for ref in re.findall(r"synthcust(?:\.[A-Za-z_]\w*)+", p.read_text(encoding="utf-8"))
        if not ref.startswith("synthcust.json")  # the model file's metadata member
    }
    missing = sorted((ref, page) for ref, page in refs if not _resolves(ref))
    assert not missing, missing


def test_every_command_has_a_reference_section():
    """The generated CLI reference has a section (an anchor) and help text for every command."""
    ref = load_cli_ref()
    md = ref.cli_markdown()
    paths = ref.command_paths()
    assert {"fit", "sample", "evaluate", "demo"} <= set(paths)
    for path in paths:
        assert f"{{#{ref.anchor(path)}}}" in md, path
        section = md.split(f"{{#{ref.anchor(path)}}}", 1)[1].split("\n#", 1)[0]
        assert "```text\nsynthcust " + path in section, path
        # a line of help between the usage block and the tables
        helptext = section.split("```", 3)[-1].strip().split("\n| ")[0].strip()
        assert helptext and not helptext.startswith("|"), f"synthcust {path} has no help text"


def test_metric_citations_in_code_resolve():
    """``docs/methods/metrics.md#ANCHOR`` cited in the code names a heading of that page."""
    page = (DOCS / "methods" / "metrics.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r"\{#([\w-]+)\}", page))
    cited = set()
    for f in (ROOT / "src").rglob("*.py"):
        cited |= set(re.findall(r"metrics\.md#([\w-]+)", f.read_text(encoding="utf-8")))
    assert cited <= anchors, sorted(cited - anchors)


def test_readme_and_docs_links_point_to_files():
    """Relative links of README.md (into docs/) point to files that exist."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, missing


def test_mkdocs_build_strict(tmp_path):
    """The site builds with ``mkdocs build --strict`` (warnings, broken links and anchors fail)."""
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs / mkdocs-material are not installed (pip install -e '.[docs]')")
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "cli.html").exists()


def _command_lines() -> list[tuple[str, str]]:
    """(page, command line) for every ``synthcust ...`` line of the docs' shell blocks and every
    inline code span that starts with ``synthcust`` (``synthcust COMMAND`` placeholders aside)."""
    out = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for lang, block, _before in fenced_blocks(text):
            if lang not in ("", "bash", "text", "console"):
                continue
            block = re.sub(r"\\\n\s*", " ", block)  # continued lines
            for line in block.splitlines():
                line = line.split(" #")[0].strip()
                if line.startswith("synthcust "):
                    out.append((_rel(page), line))
        prose = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.S | re.M)
        for span in re.findall(r"`(synthcust [^`]+)`", prose):
            if re.match(r"synthcust ([a-z-]|--)", span):
                out.append((_rel(page), span))
    return out


def test_docs_command_options_exist():
    """Every ``--option`` on a documented command line is an option of that command."""
    options = load_cli_ref().command_options()
    lines = _command_lines()
    assert len(lines) > 30
    bad = []
    for page, line in lines:
        line = line.replace("[", " ").replace("]", " ")
        try:
            tokens = shlex.split(line)[1:]
        except ValueError:  # an unbalanced quote in prose: words are enough to find options
            tokens = line.split()[1:]
        path: list[str] = []
        while tokens and " ".join([*path, tokens[0]]) in options:
            path.append(tokens.pop(0))
        allowed = options[" ".join(path)] | options[""]
        for t in tokens:
            if t.startswith("-") and not re.match(r"^-\d", t) and t.split("=")[0] not in allowed:
                bad.append((page, " ".join(path), t.split("=")[0]))
    assert not bad, bad
