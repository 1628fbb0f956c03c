"""The workspace store: datasets, models, runs and the privacy ledger in one embedded database.

Public API (details in :mod:`synthcust.store.workspace` and :mod:`synthcust.store.fingerprint`)::

    from synthcust.store import Workspace, fingerprint_frame, BudgetError

    ws = Workspace()                                  # $SYNTHCUST_HOME or ~/.synthcust
    ds = ws.register_dataset(df, name="customers.csv")
    with ws.charge(ds.fingerprint, epsilon=1.0, delta=1e-6, mechanism="MST (zCDP)") as c:
        ...                                           # the DP fit; the spend is already recorded
        c.model_id = ws.add_model(ds.fingerprint, "mst", "model.synthcust")
    ws.budget(ds.fingerprint).remaining               # 9.0 of the default 10

Composition is basic: epsilons and deltas add up per dataset. Sampling from a DP model is
post-processing and is never charged.
"""

from synthcust.store.fingerprint import FINGERPRINT_VERSION, dtype_family, fingerprint_frame
from synthcust.store.workspace import (
    DEFAULT_BUDGET,
    MAX_EPSILON,
    Budget,
    BudgetError,
    Charge,
    DatasetRecord,
    LedgerEntry,
    ModelRecord,
    PrivacyParameterError,
    RunRecord,
    Workspace,
    WorkspaceError,
    default_location,
    validate_privacy_parameters,
)

__all__ = [
    "DEFAULT_BUDGET",
    "FINGERPRINT_VERSION",
    "MAX_EPSILON",
    "Budget",
    "BudgetError",
    "Charge",
    "DatasetRecord",
    "LedgerEntry",
    "ModelRecord",
    "PrivacyParameterError",
    "RunRecord",
    "Workspace",
    "WorkspaceError",
    "default_location",
    "dtype_family",
    "fingerprint_frame",
    "validate_privacy_parameters",
]
