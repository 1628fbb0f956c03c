"""mkdocs hook: the command-line reference, generated from the Typer app at build time.

The page ``reference/cli.md`` holds the marker ``<!-- cli-reference -->``; this hook replaces it
with every command of ``synthcust.cli.app``: usage, help and options, found by walking the click
command tree (``typer.main.get_command``), nested groups included. Nothing depends on which
module defines a command, so the page follows the CLI as it is split into sub-apps.

Docstring style is checked where the code is written (ruff, review), not by the site build: two
kinds of mkdocstrings messages about docstrings in ``src/`` (griffe cannot parse a line of a
numpydoc section; a ``[x]`` in prose that autorefs takes for a cross-reference) are demoted from
warnings to INFO, so ``mkdocs build --strict`` fails on the docs' own broken links, anchors and
pages, not on another package's docstring markup. The build still prints them (INFO).

Docstrings are reStructuredText-flavoured numpydoc: a small Markdown preprocessor (added to the
site's Markdown extensions, so mkdocstrings uses it too) turns doctest lines (``>>>``) into
``pycon`` code blocks and Sphinx roles (``:func:`x` ``) into code spans.

The hook also publishes the repository's ``CHANGELOG.md`` and ``CONTRIBUTING.md`` as the pages
``changelog.md`` and ``contributing.md`` (generated files, so there is one copy of each).

``tests/test_docs.py`` and ``tests/test_readme.py`` import :func:`command_paths` and
:func:`cli_markdown` from this file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

MARKER = "<!-- cli-reference -->"
ROOT = Path(__file__).resolve().parents[2]
ROOT_PAGES = {"changelog.md": "CHANGELOG.md", "contributing.md": "CONTRIBUTING.md"}
#: (logger, pattern): docstring messages about src/ that are reported at INFO, not WARNING
DOCSTRING_NOISE = (
    ("mkdocs.plugins.griffe", re.compile(r"src/synthcust/\S+: Could not parse line")),
    (
        "mkdocs.plugins.mkdocs_autorefs._internal.plugin",
        re.compile(r"from \S*src/synthcust/\S+: .*Could not find cross-reference target"),
    ),
)


class _DemoteDocstringNoise(logging.Filter):
    def __init__(self, pattern: re.Pattern) -> None:
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and self.pattern.search(record.getMessage()):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


for _name, _pattern in DOCSTRING_NOISE:
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _DemoteDocstringNoise) for f in _logger.filters):
        _logger.addFilter(_DemoteDocstringNoise(_pattern))


def _root_command():
    import typer

    from synthcust.cli import app

    return typer.main.get_command(app)


def _walk(cmd, ctx, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object, object]]:
    """Yield (path, command, context) for ``cmd`` and, depth first, every command under it.

    Duck-typed (a group is what has ``list_commands``): Typer may ship its own copy of click.
    """
    yield path, cmd, ctx
    if _is_group(cmd):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            sub_ctx = sub.context_class(sub, info_name=name, parent=ctx)
            yield from _walk(sub, sub_ctx, (*path, name))


def _is_group(cmd) -> bool:
    return hasattr(cmd, "list_commands")


def _root_context():
    root = _root_command()
    return root, root.context_class(root, info_name="synthcust")


def command_paths() -> list[str]:
    """Every command and group, as typed after ``synthcust`` (``"constraints suggest"``)."""
    root, ctx = _root_context()
    return [" ".join(p) for p, _c, _x in _walk(root, ctx, ()) if p]


def command_options() -> dict[str, set[str]]:
    """Every command path (``""`` for ``synthcust`` itself) -> the option names it accepts."""
    root, ctx = _root_context()
    out: dict[str, set[str]] = {}
    for path, cmd, _cctx in _walk(root, ctx, ()):
        names = {"--help"}
        for p in cmd.params:
            if p.param_type_name == "option":
                names |= {*p.opts, *p.secondary_opts}
        out[" ".join(path)] = names
    return out


def anchor(path: str) -> str:
    """The page anchor of a command path: ``"constraints suggest"`` -> ``"constraints-suggest"``."""
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def _clean(text: str | None) -> str:
    """Help text as Markdown: rich markup removed, pipes escaped for tables."""
    text = re.sub(
        r"\[/?(bold|red|green|yellow|dim|italic|cyan|magenta|blue)[^\]]*\]", "", text or ""
    )
    return text.strip()


def _cell(text: str) -> str:
    return " ".join(_clean(text).split()).replace("|", "\\|")


def _param_rows(cmd, ctx) -> tuple[list[str], list[str]]:
    """Table rows for the arguments and the options, from click's own help records."""
    args, opts = [], []
    for p in cmd.params:
        record = p.get_help_record(ctx) if hasattr(p, "get_help_record") else None
        if getattr(p, "hidden", False) or record is None:
            if p.param_type_name == "argument":  # click gives arguments no record
                args.append(f"| `{(p.name or '').upper()}` | {_cell(getattr(p, 'help', ''))} |")
            continue
        names, helptext = record
        row = f"| `{_cell(names).replace(chr(92) + '|', '|')}` | {_cell(helptext)} |"
        (args if p.param_type_name == "argument" else opts).append(row)
    return args, opts


def cli_markdown() -> str:
    """The whole command-line reference as Markdown, one section per command and group."""
    root, ctx = _root_context()
    out: list[str] = []
    for path, cmd, cctx in _walk(root, ctx, ()):
        name = " ".join(("synthcust", *path))
        level = "#" * min(2 + max(len(path) - 1, 0), 4)
        ident = anchor(" ".join(path)) if path else "synthcust"
        out.append(f"{level} `{name}` {{#{ident}}}\n")
        # typer writes required arguments as {NAME}; the usage line reads better without braces
        usage = re.sub(r"\{([A-Z_]+)\}", r"\1", " ".join(cmd.collect_usage_pieces(cctx)))
        out.append(f"```text\n{cctx.command_path} {usage}\n```\n")
        helptext = _clean(cmd.help)
        if helptext:
            out.append(helptext.replace("\b\n", "") + "\n")
        args, opts = _param_rows(cmd, cctx)
        if args:
            out.append("| argument | description |\n|---|---|\n" + "\n".join(args) + "\n")
        if opts:
            out.append("| option | description |\n|---|---|\n" + "\n".join(opts) + "\n")
        if _is_group(cmd):
            subs = list(cmd.list_commands(cctx))
            links = ", ".join(f"[`{s}`](#{anchor(' '.join((*path, s)))})" for s in subs)
            out.append(f"Commands: {links}.\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- docstring markup
_ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|attr|data|exc|obj|ref):`~?([^`]+)`")


def _docstring_lines(lines: list[str]) -> list[str]:
    """Doctest runs -> fenced ``pycon`` blocks; Sphinx roles -> code spans (outside fences)."""
    out: list[str] = []
    fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and line.lstrip().startswith(">>> "):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            out += ["", f"{indent}```pycon", *(indent + b for b in block), f"{indent}```", ""]
            continue
        out.append(line if fence else _ROLE.sub(r"`\1`", line))
        i += 1
    return out


def _markdown_extension():
    from markdown import Extension
    from markdown.preprocessors import Preprocessor

    class _Docstrings(Preprocessor):
        def run(self, lines: list[str]) -> list[str]:
            return _docstring_lines(lines)

    class DocstringMarkup(Extension):
        def extendMarkdown(self, md):
            md.preprocessors.register(_Docstrings(md), "synthcust_docstrings", 27)

    return DocstringMarkup()


# --------------------------------------------------------------------------- mkdocs events
try:  # run before mkdocstrings reads the Markdown extensions
    from mkdocs.plugins import event_priority
except ImportError:  # pragma: no cover

    def event_priority(_priority):
        return lambda f: f


@event_priority(100)
def on_config(config):
    """Add the docstring-markup preprocessor to the site's Markdown extensions."""
    config.markdown_extensions.append(_markdown_extension())
    return config


def on_files(files, config):
    """Publish CHANGELOG.md and CONTRIBUTING.md from the repository root as site pages."""
    from mkdocs.structure.files import File

    for page, source in ROOT_PAGES.items():
        path = ROOT / source
        if path.exists() and files.get_file_from_path(page) is None:
            text = path.read_text(encoding="utf-8")
            # links into docs/ from the repository root become links inside the site
            text = re.sub(r"\]\(docs/", "](", text)
            files.append(File.generated(config, page, content=text))
    return files


def on_page_markdown(markdown, page, config, files):
    """Replace the marker on the CLI reference page by the generated reference."""
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_markdown())
    return markdown
