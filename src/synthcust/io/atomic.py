"""Atomic file replacement: a destination is either the old file or the complete new one.

Every writer in synthcust (tables, saved models, reports) goes through :func:`atomic_path`, so
a crash, a full disk or an exception half-way never leaves a truncated file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from synthcust.exceptions import WriteError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "resolve_dest"]

_TEMP_SUFFIX = ".tmp"
# Errors from os.link meaning "this file system has no hard links", not "the file exists".
_NO_LINK_ERRNOS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS}


def resolve_dest(dest: str | os.PathLike[str]) -> Path:
    """Return the real path a write to ``dest`` should replace, checking it can be written.

    Symlinks are followed so the link survives and its target is replaced, as ``open(dest, "w")``
    would do.

    Raises
    ------
    WriteError
        If ``dest`` is a directory or its directory does not exist.
    """
    target = Path(os.path.realpath(Path(dest).expanduser()))
    if target.is_dir():
        raise WriteError(f"cannot write {target}: it is a directory. Give a file name instead.")
    if not target.parent.is_dir():
        raise WriteError(
            f"cannot write {target}: the directory {target.parent} does not exist. "
            "Create it first (synthcust does not create directories for you)."
        )
    return target


def _create_temp(target: Path, private: bool = False) -> Path:
    # Not tempfile.mkstemp: that creates the file 0600, and os.replace would hand those
    # permissions to the destination. Opening with 0o666 lets the user's umask apply, exactly as
    # a plain open(dest, "w") would; O_EXCL keeps the same no-clobber guarantee as mkstemp.
    # ``private`` files (models, uploads: they hold what was learnt from real people) are 0600.
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise WriteError(
                f"cannot write {target}: a temporary file cannot be created in "
                f"{target.parent} ({exc.strerror or exc}). Check the directory is writable."
            ) from exc
        os.close(fd)
        return tmp
    raise WriteError(f"cannot write {target}: no free temporary file name in {target.parent}.")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable on POSIX. Windows and some network file systems cannot
    # open or fsync a directory; the data file is already synced, so skipping is safe there.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _install(tmp: Path, target: Path, overwrite: bool, private: bool = False) -> None:
    """Move the finished temp file onto ``target``."""
    if target.exists() and not private:
        # Replacing a file keeps its permissions, as open(dest, "w") would.
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
    try:
        if overwrite:
            os.replace(tmp, target)
            return
        try:
            # link() fails if target exists, atomically: no window between check and rename.
            os.link(tmp, target)
        except FileExistsError:
            raise WriteError(
                f"{target} already exists and overwrite=False. Pass overwrite=True to replace "
                "it, or choose another file name."
            ) from None
        except OSError as exc:
            if exc.errno not in _NO_LINK_ERRNOS:
                raise
            if target.exists():  # no hard links here: fall back to check-then-rename
                raise WriteError(
                    f"{target} already exists and overwrite=False. Pass overwrite=True to "
                    "replace it, or choose another file name."
                ) from None
            os.replace(tmp, target)
            return
        # The data is installed under target; a leftover second link is only untidy.
        with contextlib.suppress(OSError):
            tmp.unlink()
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(
            f"cannot replace {target}: {exc.strerror or exc}. The previous file, if any, is "
            "unchanged."
        ) from exc


@contextlib.contextmanager
def atomic_path(
    dest: str | os.PathLike[str], *, overwrite: bool = True, private: bool = False
) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on clean exit it replaces ``dest`` atomically.

    Write the complete file to the yielded path (it exists, empty). On leaving the block the
    file is fsynced and renamed onto ``dest``; if the block raises, the temporary file is
    deleted, the exception propagates unchanged and ``dest`` is left byte-identical.

    Parameters
    ----------
    dest : str or PathLike
        The file to create or replace. Its directory must exist.
    overwrite : bool, default True
        If False and ``dest`` exists, raise :class:`WriteError` (checked atomically at the end).
    private : bool, default False
        Create the file readable and writable by its owner only (0600), also when it replaces
        a wider file. Otherwise the umask applies and a replaced file keeps its mode.

    Raises
    ------
    WriteError
        If ``dest`` cannot be written or exists while ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "model.bin") as tmp:
    ...     _ = tmp.write_bytes(b"weights")
    >>> (d / "model.bin").read_bytes()
    b'weights'
    """
    target = resolve_dest(dest)
    if not overwrite and target.exists():
        raise WriteError(
            f"{target} already exists and overwrite=False. Pass overwrite=True to replace it, "
            "or choose another file name."
        )
    tmp = _create_temp(target, private)
    try:
        yield tmp
        _fsync_file(tmp)
        _install(tmp, target, overwrite, private)
    except BaseException:
        # BaseException too: Ctrl-C half-way must not leave a stray temp file either.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(
    dest: str | os.PathLike[str], data: bytes, *, overwrite: bool = True, private: bool = False
) -> Path:
    """Write ``data`` to ``dest`` atomically and return the path written (0600 if ``private``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_bytes(pathlib.Path(tempfile.mkdtemp()) / "a.bin", b"xyz")
    >>> p.read_bytes()
    b'xyz'
    """
    with atomic_path(dest, overwrite=overwrite, private=private) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise WriteError(
                f"cannot write {dest}: {exc.strerror or exc}. The previous file, if any, is "
                "unchanged."
            ) from exc
    return resolve_dest(dest)


def atomic_write_text(
    dest: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", overwrite: bool = True
) -> Path:
    """Write ``text`` to ``dest`` atomically (``"\\n"`` line endings kept as given).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "r.html", "<p>hi</p>")
    >>> p.read_text()
    '<p>hi</p>'
    """
    return atomic_write_bytes(dest, text.encode(encoding), overwrite=overwrite)


_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}" + re.escape(_TEMP_SUFFIX) + "$")


def sweep_stale_temps(folder: str | os.PathLike[str], older_than_s: float = 3600.0) -> int:
    """Delete the temporary files of writes killed half-way (``kill -9``, power loss).

    Only files named as :func:`atomic_path` names them (``.NAME.<12 hex>.tmp``) and untouched
    for ``older_than_s`` seconds are removed, so a write in progress elsewhere is never hit.

    Parameters
    ----------
    folder : str or PathLike
        The folder to sweep (not recursive); a missing folder sweeps nothing.
    older_than_s : float, default 3600
        Minimum age, from the file's modification time.

    Returns
    -------
    int
        The number of files removed.
    """
    root = Path(folder)
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for p in root.iterdir():
        if not _TEMP_NAME.match(p.name):
            continue
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink() and p.stat().st_mtime < cutoff:
                p.unlink()
                removed += 1
    return removed
