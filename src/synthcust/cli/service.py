"""``synthcust serve``: the HTTP service and web page (needs the ``service`` extra).

A Typer sub-app with no logic of its own: the options go to
:func:`synthcust.service.create_app`, which serves the workflows every face shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthcust.cli import common
from synthcust.cli.common import console
from synthcust.exceptions import SynthcustError
from synthcust.io import ReadLimits

#: this module's commands (mounted on the root app)
app = typer.Typer(no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback by default; 0.0.0.0 = everyone).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workspace: Annotated[
        str | None,
        typer.Option(help="Workspace file, folder or postgresql:// URL (default ~/.synthcust)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for uploads, models, reports (default: beside the workspace)."),
    ] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted upload, in MB.")] = 200.0,
    rate: Annotated[float, typer.Option(help="Requests per second allowed per token.")] = 50.0,
    burst: Annotated[int, typer.Option(help="Requests at once allowed per token.")] = 400,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="Origin allowed to call the API from a browser (repeatable; default "
                     "none: CORS off)."),
    ] = None,
    max_read_mb: Annotated[
        float, typer.Option(help="Largest upload once decompressed/decoded, in MB.")
    ] = 2048.0,
    max_rows: Annotated[int, typer.Option(help="Most rows one upload may hold.")] = 20_000_000,
    max_columns: Annotated[int, typer.Option(help="Most columns one upload may hold.")] = 2_000,
    max_cell_chars: Annotated[
        int, typer.Option(help="Most characters in one cell of an upload.")
    ] = 1_000_000,
    max_json_mb: Annotated[float, typer.Option(help="Largest JSON request body, in MB.")] = 10.0,
    upload_timeout: Annotated[
        float, typer.Option(help="Seconds an upload may stall before it is dropped (408).")
    ] = 30.0,
    trust_proxy: Annotated[
        bool,
        typer.Option(help="Take client addresses from X-Forwarded-For (only behind your own "
                          "reverse proxy; off: a client cannot pose as another)."),
    ] = False,
) -> None:
    """Serve the API (/api/, OpenAPI at /openapi.json) and the web page (/): the same
    workflows as the CLI (same default model; DP fits charged to the workspace's ledger).

    On the first start an API token is generated and printed once; only its hash is stored
    (service_token.json beside the workspace). Send it as 'Authorization: Bearer TOKEN'.
    """
    try:
        import uvicorn

        from synthcust.service import create_app
    except ImportError as e:
        raise SynthcustError(
            f"the service needs {e.name}: pip install 'synthcust[service]'"
        ) from None
    if max_upload_mb <= 0:
        raise SynthcustError(f"--max-upload-mb must be positive, got {max_upload_mb}")
    try:
        limits = ReadLimits(max_bytes=int(max_read_mb * 2**20), max_rows=max_rows,
                            max_columns=max_columns, max_cell_chars=max_cell_chars)  # fmt: skip
    except ValueError as e:
        raise SynthcustError(f"serve: {e}") from None
    application = create_app(
        workspace, data_dir, None, max_upload_mb, rate=rate, burst=burst,
        cors_origins=list(cors_origin or []) or None, read_limits=limits,
        max_json_mb=max_json_mb, upload_timeout_s=upload_timeout,
    )  # fmt: skip
    st = application.state
    if st.new_token:
        console.print(
            "API token (shown only now; only its hash is stored):\n"
            f"  [bold]{st.new_token}[/bold]\n"
            "Paste it into the web page, or send 'Authorization: Bearer <token>'.",
            highlight=False,
        )
    if st.recovered_jobs:
        console.print(f"{st.recovered_jobs} job(s) left running by a previous server were "
                      "marked failed", highlight=False)  # fmt: skip
    console.print(f"synthcust serving on http://{host}:{port}/ (OpenAPI: /openapi.json)",
                  highlight=False)  # fmt: skip
    uvicorn.run(application, host=host, port=port, log_level="warning",
                proxy_headers=trust_proxy)  # fmt: skip


# mounted on the root app until synthcust.cli.main mounts every command module's sub-app
common.app.add_typer(app)
