"""The ``/api/`` routes: thin translations of HTTP to the workflows every face calls
(:mod:`synthcust.workflows`: fit, split, sample, evaluate, personas, scenario, A/B test,
interview; see ``state.py``), with the CLI's defaults (:mod:`synthcust.workflows.defaults`).

Nothing here returns real rows: datasets are described by their schema, PII findings and
counts; models answer with synthetic rows; reports, personas and scenarios with aggregates.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from synthcust._utils.validation import unknown_column_message
from synthcust.exceptions import DataError, SynthcustError
from synthcust.io import LimitError, read_table, to_csv_text
from synthcust.privacy import infer_schema_with_pii
from synthcust.schema import Schema
from synthcust.schema.validate import validate
from synthcust.service.interview import ask, availability
from synthcust.service.scenario import run_abtest_route, run_scenario
from synthcust.service.state import ServiceState, rows_json
from synthcust.service.uploads import Upload, UploadError, receive_upload
from synthcust.workflows import defaults
from synthcust.workflows.sample import sample as sample_workflow

router = APIRouter(prefix="/api")

Name = Annotated[str, Field(max_length=200)]
Rule = Annotated[str, Field(max_length=1000)]
IdPath = Annotated[str, Path(max_length=64, description="a generated id")]
ModelPath = Annotated[int, Path(ge=1, le=2**62, description="a model id")]


def _state(request: Request) -> ServiceState:
    return request.app.state.service


def _job_out(job: Any) -> dict[str, Any]:
    d = job.to_dict()
    d.pop("key", None)
    return d


# ---------------------------------------------------------------------------- request bodies
class SchemaIn(BaseModel):
    schema_: dict[str, Any] = Field(alias="schema", description="a schema dict (Schema.to_dict)")


class FitIn(BaseModel):
    dataset: str = Field(min_length=1, max_length=64, description="a dataset id")
    synthesizer: str | None = Field(
        None, max_length=40,
        description="a name from GET /api/synthesizers; none: the default every face fits "
        "(dp_marginal when dp_epsilon is given)",
    )  # fmt: skip
    seed: int = Field(defaults.SEED, ge=0, le=2**31 - 1)
    target: str | None = Field(
        None, max_length=200,
        description="target column: the split is stratified by it and evaluations measure "
        "utility (train on synthetic, test on real) for it",
    )  # fmt: skip
    dp_epsilon: float | None = Field(
        None, gt=0, le=1000,
        description="fit under (epsilon, delta)-differential privacy, charged to the dataset's "
        "privacy budget in the workspace ledger (refused with 403 over budget)",
    )  # fmt: skip
    dp_delta: float = Field(defaults.DP_DELTA, gt=0, lt=1,
                            description="delta for dp_epsilon (< 1/rows)")  # fmt: skip
    bounds: dict[Name, tuple[float | str, float | str]] | None = Field(
        None, max_length=500,
        description="public bounds per numeric/date column for dp_marginal, "
        "{column: [low, high]} (or lower/upper in the schema)",
    )  # fmt: skip
    constraints: list[Rule] = Field(
        default_factory=list, max_length=50,
        description="rules every synthetic row obeys, e.g. 'last_order >= first_order'",
    )  # fmt: skip
    segments: dict[Name, Rule] = Field(
        default_factory=dict, max_length=50,
        description="named segments to sample from later, {name: rule}",
    )  # fmt: skip


class SampleIn(BaseModel):
    n: int = Field(100, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    conditions: dict[str, str | float | int | bool] = Field(
        default_factory=dict, description="column -> the value every synthetic row takes",
    )  # fmt: skip
    segment: str | None = Field(None, max_length=200, description="a segment named at fit time")
    where: str | None = Field(None, max_length=1000, description="an ad-hoc rule: 'age < 30'")
    gate: bool = Field(
        False, description="check the rows against the privacy gate (on the model's real train "
        "and holdout rows) first; refused with 400 when they fail it",
    )  # fmt: skip
    format: str = Field("json", pattern="^(json|csv)$")
    raw_csv: bool = Field(
        False, description="CSV only: cells as they are; by default a cell starting with "
        "= + - @ (a spreadsheet formula) gets a ' in front",
    )  # fmt: skip


class EvaluateIn(BaseModel):
    target: str | None = Field(
        None, max_length=200,
        description="target column for utility (TSTR); default: the fit's target",
    )  # fmt: skip
    seed: int = Field(defaults.SEED, ge=0, le=2**31 - 1)


class PersonasIn(BaseModel):
    k: int | None = Field(None, ge=2, le=12)
    max_k: int = Field(6, ge=2, le=12)
    members: int = Field(3, ge=0, le=20)
    seed: int = Field(defaults.SEED, ge=0, le=2**31 - 1)
    kpi: list[str] = Field(default_factory=list, max_length=5,
                           description="KPIs pinned on every card: column or column=level")


class ScenarioIn(BaseModel):
    choice: str = Field("choice", min_length=1, max_length=200)
    price_prefix: str = Field("price.", min_length=1, max_length=200)
    price: dict[str, float] = Field(
        default_factory=dict, description="alternative -> price change in percent (-90..+300)"
    )
    n: int = Field(2000, ge=50, le=50_000, description="synthetic customers simulated")
    seed: int = Field(defaults.SEED, ge=0, le=2**31 - 1)


class ABTestIn(BaseModel):
    choice: str = Field("choice", min_length=1, max_length=200)
    price_prefix: str = Field("price.", min_length=1, max_length=200)
    variants: list[Annotated[str, Field(max_length=500)]] = Field(
        min_length=2, max_length=6,
        description="the first is the control: e.g. ['A:', 'B:price.a=-10%']",
    )
    focal: str | None = Field(None, max_length=200, description="alternative that converts")
    n: int = Field(2000, ge=50, le=50_000, description="synthetic customers simulated")
    seed: int = Field(defaults.SEED, ge=0, le=2**31 - 1)


class InterviewIn(BaseModel):
    persona: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=2000)


# ---------------------------------------------------------------------------- datasets
@router.get("/datasets", summary="List uploaded datasets (metadata only)")
def list_datasets(request: Request) -> dict[str, Any]:
    return {"datasets": [e.public() for e in _state(request).store.datasets()]}


_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        }}},
    }
}  # fmt: skip


@router.post("/datasets", status_code=201, openapi_extra=_UPLOAD_DOC,
             summary="Upload a CSV/TSV/Parquet file (multipart field 'file')")  # fmt: skip
async def upload_dataset(request: Request) -> dict[str, Any]:
    st = _state(request)
    if not st.upload_slots.acquire(blocking=False):
        raise UploadError(503, "too many uploads at once; retry in a few seconds")
    try:
        up = await receive_upload(request, st.data_dir / "uploads", st.max_upload_bytes,
                                  read_timeout=st.upload_timeout_s)  # fmt: skip
    except ClientDisconnect:  # the client left: nothing was kept, nobody reads the answer
        return Response(status_code=400)  # type: ignore[return-value]
    finally:
        st.upload_slots.release()
    try:
        entry = await run_in_threadpool(_ingest, st, up)
    finally:
        up.path.unlink(missing_ok=True)
    return entry.public()


def _ingest(st: ServiceState, up: Upload) -> Any:
    tmp = up.path.with_name(up.path.stem + up.extension)  # readers pick the format by suffix
    up.path.replace(tmp)
    try:
        try:
            df = read_table(tmp, limits=st.read_limits)
        except LimitError as e:  # over a read limit: 413, the message names it and its flag
            raise UploadError(413, str(e).replace(str(tmp), up.filename)) from None
        except Exception as e:  # the reader's errors, and parser errors it did not translate
            what = "" if isinstance(e, SynthcustError) else f"{type(e).__name__}: "
            msg = (what + str(e)).replace(str(tmp), up.filename)  # never show server paths
            msg = msg.replace(tmp.name, up.filename)
            if up.filename not in msg:
                msg = f"{up.filename}: {msg}"
            raise UploadError(400, msg) from None
        if len(df) < 2:
            raise UploadError(400, f"{up.filename!r} has {len(df)} data row(s); a model needs "
                                   "at least 2")  # fmt: skip
        schema = infer_schema_with_pii(df)
        pii = {c.name: {"kind": str(c.pii), "evidence": c.note} for c in schema if c.pii}
        tmp.replace(up.path)
        return st.save_upload_entry(up, df, schema, pii)
    finally:
        tmp.unlink(missing_ok=True)


@router.get("/datasets/{dataset_id}", summary="One dataset's metadata")
def get_dataset(request: Request, dataset_id: IdPath) -> dict[str, Any]:
    return _state(request).store.dataset(dataset_id).public()


@router.get("/datasets/{dataset_id}/schema", summary="The schema and PII findings to review")
def get_schema(request: Request, dataset_id: IdPath) -> dict[str, Any]:
    e = _state(request).store.dataset(dataset_id)
    return {"dataset": e.id, "schema": e.schema, "pii": e.pii,
            "policies": ["drop", "hash", "fake", "generalise", "redact", "keep"]}  # fmt: skip


@router.put("/datasets/{dataset_id}/schema", summary="Replace the schema (checked on the data)")
def put_schema(request: Request, dataset_id: IdPath, body: SchemaIn) -> dict[str, Any]:
    st = _state(request)
    st.store.dataset(dataset_id)
    try:
        schema = Schema.from_dict(body.schema_)
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"the schema cannot be read: {e}") from None
    errors = [str(p) for p in validate(st.frame(dataset_id), schema) if p.severity == "error"]
    if errors:
        raise DataError("the schema does not fit the data: " + "; ".join(errors[:10]))
    st.store.set_schema(dataset_id, schema.to_dict())
    return get_schema(request, dataset_id)


@router.post("/datasets/{dataset_id}/personas", status_code=202,
             summary="Find personas (background job; result: cards)")  # fmt: skip
def start_personas(request: Request, dataset_id: IdPath, body: PersonasIn) -> dict[str, Any]:
    st = _state(request)
    st.store.dataset(dataset_id)
    params = {"dataset": dataset_id, **body.model_dump()}
    return _job_out(st.submit("personas", f"personas:{dataset_id}", params, st.personas_job))


# ---------------------------------------------------------------------------- fits and jobs
#: what the page says about each synthesizer (a face's wording; the models are the library's)
SYNTH_NOTES = {
    "autoregressive": "an autoregressive network: best fidelity, slower",
    "copula": "a Gaussian copula: fastest, no torch needed",
    "ctgan": "a conditional GAN (CTGAN)",
    "tvae": "a tabular variational autoencoder (TVAE)",
    "dp_marginal": "differentially private marginals on a tree (MST)",
}


@router.get("/synthesizers", summary="The synthesizers and the default every face fits")
def synthesizers(request: Request) -> dict[str, Any]:
    """The synthesizer names, the default (the CLI's and the library's) and the DP default."""
    names = defaults.available_synthesizers()
    return {"default": defaults.default_synthesizer(), "dp_default": defaults.DP_SYNTHESIZER,
            "available": names,
            "descriptions": {n: SYNTH_NOTES.get(n, n) for n in names}}  # fmt: skip


@router.post("/fits", status_code=202,
             summary="Fit a synthesizer (background job); DP fits charged to the ledger")
def start_fit(request: Request, body: FitIn) -> dict[str, Any]:
    st = _state(request)
    entry = st.store.dataset(body.dataset)
    names = defaults.available_synthesizers()
    if body.synthesizer is not None and body.synthesizer not in names:
        raise DataError(f"unknown synthesizer {body.synthesizer!r}; available: "
                        f"{', '.join(names)}")  # fmt: skip
    _check_target(entry.schema, body.target)
    # a DP fit answers once its parameters are checked and its epsilon charged: refused over
    # the budget with 403 and the ledger's message (nothing charged, no model)
    job = st.submit("fit", f"fit:{body.dataset}", body.model_dump(), st.fit_job,
                    wait_checks=body.dp_epsilon is not None)  # fmt: skip
    return _job_out(job)


def _check_target(schema: dict[str, Any], target: str | None) -> None:
    names = [c["name"] for c in schema.get("columns", [])]
    if target is not None and target not in names:
        raise DataError(f"target: {unknown_column_message(target, names)}")


@router.get("/jobs", summary="Recent jobs, newest first")
def list_jobs(request: Request) -> dict[str, Any]:
    return {"jobs": [_job_out(j) for j in _state(request).store.list()]}


@router.get("/jobs/{job_id}", summary="A job's status, progress and result")
def get_job(request: Request, job_id: IdPath) -> dict[str, Any]:
    return _job_out(_state(request).store.get(job_id))


@router.get("/jobs/{job_id}/events", summary="Server-sent events until the job ends",
            response_class=StreamingResponse)  # fmt: skip
async def job_events(request: Request, job_id: IdPath) -> StreamingResponse:
    st = _state(request)
    await run_in_threadpool(st.store.get, job_id)  # 404 before the stream starts

    async def events() -> Any:
        last = None
        while True:
            job = await run_in_threadpool(st.store.get, job_id)
            d = _job_out(job)
            now = (d["status"], d["progress"], d["message"])
            if now != last:
                last = now
                yield f"event: job\ndata: {json.dumps(d, default=str)}\n\n"
            if d["status"] in ("done", "failed") or await request.is_disconnected():
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/jobs/{job_id}/report.html", summary="The evaluation report of an evaluate job",
            response_class=Response)  # fmt: skip
def job_report(request: Request, job_id: IdPath) -> Response:
    st = _state(request)
    job = st.store.get(job_id)
    path = st.data_dir / "reports" / f"{job.id}.html"
    if job.kind != "evaluate" or job.status != "done" or not path.exists():
        raise DataError(f"job {job_id} has no report (it is a {job.kind} job, {job.status})")
    return Response(path.read_bytes(), media_type="text/html")


# ---------------------------------------------------------------------------- models
@router.get("/models", summary="Fitted models")
def list_models(request: Request) -> dict[str, Any]:
    st = _state(request)
    out = [{"id": m.id, "synthesizer": m.synthesizer, "dataset": m.params.get("service_dataset"),
            "created": m.created, "train_rows": m.params.get("train_rows"),
            "target": m.params.get("target")}
           for m in st.ws.models() if m.params.get("service_dataset")]  # fmt: skip
    return {"models": out}


@router.post("/models/{model_id}/sample", summary="Synthetic rows (JSON or CSV)")
def sample(request: Request, model_id: ModelPath, body: SampleIn) -> Response:
    """Synthetic rows through :func:`synthcust.workflows.sample.sample`."""
    st = _state(request)
    model = st.model(model_id)
    gate = st.model_split(model_id) if body.gate else None
    df = sample_workflow(model, body.n, conditions=body.conditions or None, segment=body.segment,
                         where=body.where, random_state=body.seed, gate=gate)  # fmt: skip
    if body.format == "csv":
        return Response(to_csv_text(df, raw_csv=body.raw_csv), media_type="text/csv")
    text = f'{{"model_id": {model_id}, "n": {len(df)}, "rows": {rows_json(df)}}}'
    return Response(text, media_type="application/json")


@router.post("/models/{model_id}/evaluate", status_code=202,
             summary="Evaluate against the held-out real rows (job; report HTML + JSON)")
def start_evaluate(request: Request, model_id: ModelPath, body: EvaluateIn) -> dict[str, Any]:
    st = _state(request)
    rec = st.model_record(model_id)
    _check_target(st.store.dataset(rec.params["service_dataset"]).schema, body.target)
    params = {"model_id": model_id, **body.model_dump()}
    return _job_out(st.submit("evaluate", f"evaluate:{model_id}", params, st.evaluate_job))


@router.post("/models/{model_id}/scenario",
             summary="Price what-if: shares per alternative over synthetic customers")
def scenario(request: Request, model_id: ModelPath, body: ScenarioIn) -> dict[str, Any]:
    return run_scenario(_state(request), model_id, body)


@router.post("/models/{model_id}/abtest",
             summary="Virtual A/B test: conversion per variant over synthetic customers")
def abtest(request: Request, model_id: ModelPath, body: ABTestIn) -> dict[str, Any]:
    return run_abtest_route(_state(request), model_id, body)


# ---------------------------------------------------------------------------- interviews
@router.get("/interview/status", summary="Whether persona interviews are available")
def interview_status(request: Request) -> dict[str, Any]:
    ok, why = availability(_state(request))
    return {"available": ok, "reason": why}


@router.post("/personas/{job_id}/interview", summary="Ask a persona (from a personas job)")
def interview(request: Request, job_id: IdPath, body: InterviewIn) -> dict[str, Any]:
    return ask(_state(request), job_id, body.persona, body.question)


__all__ = ["router"]
_ = UploadError
