"""Readers for database sources: DuckDB files and SQLAlchemy URLs.

Both resolve a table by name (exact, then case-insensitive, listing what exists when it is
missing) or run a query, and push ``limit`` down to the database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from synthcust.exceptions import ReadError
from synthcust.io.sniff import is_url, require_file

__all__ = ["provenance", "read_duckdb", "read_sql", "shown"]

_MAX_LISTED = 20


def shown(source: object) -> str:
    """Return ``source`` fit for a message: database URLs with the password masked."""
    if is_url(source):
        try:
            import sqlalchemy as sa

            return sa.engine.make_url(str(source)).render_as_string(hide_password=True)
        except Exception:  # not a valid URL: no password to hide worth crashing over
            return str(source).split("@")[-1]
    return str(source)


def provenance(path: object, fmt: str, **extra: Any) -> dict[str, Any]:
    """Return the ``df.attrs["synthcust_source"]`` record of where a frame was read from."""
    # Files are recorded absolute, so the provenance still points at them from elsewhere.
    where = str(path) if is_url(str(path)) else os.path.abspath(str(path))
    prov: dict[str, Any] = {"path": where, "format": fmt, "delimiter": None, "encoding": None}
    prov.update(extra)
    return prov


def _listing(names: list[str]) -> str:
    listed = ", ".join(map(repr, names[:_MAX_LISTED]))
    more = len(names) - _MAX_LISTED
    return listed + (f" and {more} more" if more > 0 else "") if names else "none"


def _pick_table(available: list[str], table: str | None, where: str) -> str:
    """Resolve ``table`` among ``available`` (exact, then case-insensitive) or raise."""
    if table is None:
        if len(available) == 1:
            return available[0]
        if not available:
            raise ReadError(f"{where} holds no tables. Pass query= or point to another database.")
        raise ReadError(
            f"{where} holds {len(available)} tables ({_listing(available)}): pass table= to "
            "choose one, or query='SELECT ...'."
        )
    if table in available:
        return table
    folded = [name for name in available if name.lower() == table.lower()]
    if len(folded) == 1:
        return folded[0]
    raise ReadError(
        f"{where} has no table {table!r}. Tables there: {_listing(available)}. Pass one of "
        "them as table=."
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_duckdb(
    path: Path, table: str | None, query: str | None, fetch: int | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise ReadError(
            f"{path} cannot be opened as a DuckDB database ({exc}). If another program holds "
            "it open for writing, close that program; if it is not DuckDB, check the file."
        ) from exc
    chosen = None
    try:
        if query is not None:
            rel = con.sql(query)
            if rel is None:
                raise ReadError(f"{path}: the query returned no result set. Pass a SELECT.")
        else:
            rows = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
            ).fetchall()
            qualified = {(n if s == "main" else f"{s}.{n}"): (s, n) for s, n in rows}
            chosen = _pick_table(list(qualified), table, str(path))
            schema, name = qualified[chosen]
            rel = con.sql(f"SELECT * FROM {_quote_ident(schema)}.{_quote_ident(name)}")
        if fetch is not None:
            rel = rel.limit(fetch)
        df = rel.df()
    except duckdb.Error as exc:
        raise ReadError(f"{path}: DuckDB could not read {chosen or 'the query'}: {exc}") from exc
    finally:
        con.close()
    return df, provenance(path, "duckdb", table=chosen, query=query)


def read_sql(
    url: str, table: str | None, query: str | None, fetch: int | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ReadError(
            f"{shown(url)} is not a valid database URL ({exc}). Write it like "
            "'sqlite:///path/to/file.db' or 'postgresql://user@host/dbname'."
        ) from exc
    masked = parsed.render_as_string(hide_password=True)
    backend, database = parsed.get_backend_name(), parsed.database
    on_disk = database is not None and database not in ("", ":memory:")
    on_disk = on_disk and not str(database).startswith("file:")
    if backend == "duckdb" and database is not None and on_disk:
        return read_duckdb(require_file(database), table, query, fetch)
    if backend == "sqlite" and database is not None and on_disk:
        require_file(database)  # else SQLite would silently create an empty database there
    try:
        engine = sa.create_engine(parsed)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise ReadError(
            f"cannot open {masked}: its database driver is not installed ({exc}). Install the "
            f"driver for {backend} (e.g. pip install psycopg for PostgreSQL)."
        ) from exc
    chosen = schema = None
    try:
        with engine.connect() as conn:
            if query is None:
                chosen, schema = _pick_sql_table(sa.inspect(conn), table, masked)
                stmt = sa.select(sa.Table(chosen, sa.MetaData(), autoload_with=conn, schema=schema))
                if fetch is not None:
                    stmt = stmt.limit(fetch)
                df = pd.read_sql(stmt, conn)
            elif fetch is None:
                # A plain string goes to the driver as is: no ':name' bind-parameter parsing.
                df = pd.read_sql(query, conn)
            else:
                # Stream and keep the first chunk: a limit without rewriting the user's SQL.
                df = next(iter(pd.read_sql(query, conn, chunksize=fetch)))
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        # pandas wraps the SQLAlchemy error of a string query; the driver's words are innermost.
        inner = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else exc
        cause = getattr(inner, "orig", None) or inner or exc
        raise ReadError(
            f"{masked}: could not read {repr(chosen) if chosen else 'the query'} ({cause}). "
            "Check the URL, the table name and the SQL."
        ) from exc
    finally:
        engine.dispose()
    if chosen is not None and schema is not None:
        chosen = f"{schema}.{chosen}"
    return df, provenance(masked, "sql", table=chosen, query=query)


def _pick_sql_table(inspector: Any, table: str | None, masked: str) -> tuple[str, str | None]:
    names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
    if table is not None and table not in names and "." in table:
        # 'schema.table', as PostgreSQL users write it.
        schema, _, bare = table.partition(".")
        in_schema = inspector.get_table_names(schema=schema) + inspector.get_view_names(
            schema=schema
        )
        return _pick_table(sorted(in_schema), bare, f"{masked} (schema {schema!r})"), schema
    return _pick_table(names, table, masked), None
