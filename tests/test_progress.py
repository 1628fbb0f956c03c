"""Progress and honesty for long work: status lines off a terminal, the workflows' progress
callables, and a fit stopped by its time budget saying so (issue 19 item 5)."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from synthcust.exceptions import TrainingBudgetWarning
from synthcust.synthesizers.neural import training
from synthcust.synthesizers.neural.training import Ticker, TrainLog, progress_to


class _Clock:
    """A fake ``time.perf_counter`` moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(training.time, "perf_counter", c)
    return c


def test_plain_status_lines_every_interval_once_work_runs_long(clock):
    out = io.StringIO()  # not a terminal
    t = Ticker(100, "autoregressive", None, stream=out)
    for epoch in range(1, 101):
        clock.t += 0.5  # 50 s of training in all
        t.update(epoch, f"loss {1 / epoch:.4f}")
    t.close("done, 100 epochs")
    lines = out.getvalue().splitlines()
    # one line per 10 s (not one per epoch), then how it ended
    assert 4 <= len(lines) <= 6, lines
    assert lines[0].startswith("synthcust: autoregressive: epoch 20/100, loss 0.0500, 10 s")
    assert lines[-1] == "synthcust: autoregressive: done, 100 epochs, 50 s"


def test_short_work_is_quiet_and_false_silences(clock):
    out = io.StringIO()
    t = Ticker(10, "tvae", None, stream=out)
    for e in range(1, 11):
        clock.t += 0.1
        t.update(e)
    t.close()
    assert out.getvalue() == ""  # a 1 s fit prints nothing
    t = Ticker(10, "tvae", False, stream=out)
    clock.t += 60
    t.update(5)
    t.close()
    assert out.getvalue() == ""


def test_progress_to_routes_loops_to_the_workflow_callable(clock):
    seen: list[str] = []
    with progress_to(seen.append):
        t = Ticker(50_000, "sampling autoregressive", unit="rows", stream=io.StringIO())
        for done in range(10_000, 50_001, 10_000):
            clock.t += 4
            t.update(done)
        t.close()
    # a callable hears at once, then at the off-terminal interval, and the end
    assert seen[0] == "sampling autoregressive: 10,000/50,000 rows, 4 s"
    assert seen[-1] == "sampling autoregressive: done, 20 s"
    assert 3 <= len(seen) <= 4
    # outside the block nothing is routed there any more
    Ticker(5, "x").close()
    assert seen[-1] == "sampling autoregressive: done, 20 s"


def test_budget_warning_only_before_convergence():
    falling = TrainLog(epochs_run=7, val_loss=[0.9, 0.8, 0.7], stopped="time_budget",
                       epochs_planned=300, budget_s=60.0)  # fmt: skip
    msg = falling.budget_warning("autoregressive")
    assert msg == (
        "autoregressive: stopped by max_training_time=60 s at epoch 7 of 300 (validation loss "
        "still falling); the model may be under-trained: raise max_training_time or lower epochs"
    )
    flat = TrainLog(epochs_run=9, val_loss=[0.9, 0.5, 0.6, 0.61, 0.6], stopped="time_budget")
    assert flat.budget_warning() is None  # it had converged: nothing to say
    assert TrainLog(stopped="early_stopping").budget_warning() is None
    # an old log (no planned epochs or budget) still gives a readable warning
    old = {"epochs_run": 3, "best_epoch": None, "train_loss": [1.0], "val_loss": [],
           "stopped": "time_budget", "seconds": 1.0}  # fmt: skip
    old = TrainLog.from_dict(old)
    assert "no validation split" in (old.budget_warning() or "")


def test_fit_stopped_by_its_budget_warns_and_the_model_keeps_it(tmp_path):
    pytest.importorskip("torch")
    from synthcust.synthesizers.fitted import load_model
    from synthcust.workflows.fit import fit

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit(
            df,
            synthesizer="tvae",
            synthesizer_params={"epochs": 100_000, "max_training_time": 0.5},
            random_state=0,
            progress=seen.append,
        )
    budget = [w for w in caught if issubclass(w.category, TrainingBudgetWarning)]
    assert len(budget) == 1
    assert "max_training_time=0.5 s" in str(budget[0].message)
    assert "of 100000" in str(budget[0].message)
    assert res.model.training_warnings == [str(budget[0].message).replace("TVAE", "tvae")]
    # the training's status reached the workflow's progress callable
    assert any(m.startswith("TVAE: epoch 1/100000") for m in seen), seen
    assert any("stopped by the time budget" in m for m in seen), seen
    path = res.model.save(tmp_path / "m.synthcust")
    assert load_model(path).training_warnings == res.model.training_warnings


def test_heartbeat_says_a_long_step_still_runs_unless_a_ticker_counts():
    import time

    from synthcust.synthesizers.neural.training import heartbeat

    seen: list[str] = []
    with progress_to(seen.append), heartbeat("fitting copula on 9 rows", interval=0.02):
        time.sleep(0.2)
    assert len(seen) >= 3
    assert re.fullmatch(r"fitting copula on 9 rows, \d+ s so far", seen[0]), seen[0]
    quiet: list[str] = []
    with progress_to(quiet.append), heartbeat("x", interval=0.02):
        t = Ticker(10, "tvae", False)  # a loop that counts its own steps
        time.sleep(0.15)
        t.close()
    assert quiet == []
    out = io.StringIO()  # no callable: plain lines
    with heartbeat("sampling 9 rows", interval=0.02, stream=out):
        time.sleep(0.1)
    assert out.getvalue().startswith("synthcust: sampling 9 rows, ")


def test_sampling_reports_through_the_workflow_callable(monkeypatch):
    from synthcust.demo.world import simulate_customers
    from synthcust.workflows.fit import fit
    from synthcust.workflows.sample import sample

    model = fit(simulate_customers(300, random_state=0), synthesizer="copula").model
    monkeypatch.setattr(training, "STATUS_INTERVAL", 0.001)  # every step is "long" here
    seen: list[str] = []
    sample(model, 20_000, random_state=0, progress=seen.append)
    assert seen[0] == "sampling 20,000 rows"
    assert any(m.startswith("sampling 20,000 rows (copula), ") for m in seen[1:]), seen
