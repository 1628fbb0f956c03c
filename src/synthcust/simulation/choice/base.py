"""The base of the choice models: prediction, elasticities, WTP and persistence.

Persistence goes through :mod:`synthcust._utils.persist` (kind ``"choice"``): the metadata
(specification, names, fit statistics, ranges, provenance) as JSON and the coefficients,
covariance and reference levels as arrays. The JSON files of the first choice format
(``"format": "synthcust.choice"``) still load.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthcust._utils.persist import load_bundle, save_bundle
from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelError, ModelFileError, NotFittedError
from synthcust.simulation.choice.data import ChoiceData, ChoiceSpec, observed_ranges
from synthcust.simulation.choice.numerics import coef_arrays, param_names, softmax, utilities

__all__ = ["BUNDLE_KIND", "ChoiceModel", "load_model", "model_from_dict"]

#: the kind of the one model file format that choice models are saved as
BUNDLE_KIND = "choice"
#: the tag and version of the dict form (:meth:`ChoiceModel.to_dict`) and of the old JSON files
FORMAT = "synthcust.choice"
VERSION = 1
_ARRAY_KEYS = ("theta", "cov", "reference_levels", "covariate_means", "class_shares")
_MODEL_KINDS: dict[str, type[ChoiceModel]] = {}


class ChoiceModel:
    """Base of the choice models: fit, predict, elasticities, WTP, persistence.

    The scikit-learn contract: ``__init__`` only stores its arguments, ``fit(data)`` returns
    ``self`` and sets the fitted attributes (ending in ``_``: ``spec_``, ``names_``,
    ``theta_``, ``cov_``, ``loglik_``, ``n_obs_``, ``n_units_``, ``B_``, ``converged_``, ...),
    :meth:`save` / :meth:`load` go through the one model file format (kind ``"choice"``).
    """

    kind = "base"
    #: the ``__init__`` arguments, saved with the model and restored by :meth:`load`
    _params: tuple[str, ...] = ("max_iter", "tol")

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-9):
        self.max_iter = max_iter
        self.tol = tol

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _MODEL_KINDS[cls.kind] = cls

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments of this model (what :meth:`load` restores)."""
        return {k: getattr(self, k) for k in self._params}

    # subclasses set: spec_, names_, theta_, cov_, loglik_, n_obs_, B_ (C,K), converged_
    def _check_fitted(self) -> None:
        if not hasattr(self, "theta_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call fit(data) first")

    n_classes: int = 1

    def check_fitted(self) -> None:
        """Raise :class:`~synthcust.exceptions.NotFittedError` unless the model is fitted."""
        self._check_fitted()

    def class_rows(self, theta: np.ndarray) -> np.ndarray:
        """(C, K) per-class coefficient rows of the parameter vector ``theta``."""
        return self._class_rows(theta)

    def class_weights(self, data: ChoiceData, theta: np.ndarray | None = None,
                      posterior: bool = True) -> np.ndarray:  # fmt: skip
        """(N, C) class probabilities of every occasion of ``data`` under ``theta``.

        ``posterior`` uses each known household's posterior class probabilities (from the
        fit); otherwise the membership model's prior. A single-class model gives ones.
        """
        return self._class_weights(data, self.theta_ if theta is None else theta, posterior)

    def parameter_draws(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """(n_draws, K) parameter vectors from the estimate's normal approximation."""
        return self._draws(n_draws, rng)

    def _class_rows(self, theta: np.ndarray) -> np.ndarray:
        return theta[None, :]

    def _class_weights(self, data: ChoiceData, theta: np.ndarray, posterior: bool) -> np.ndarray:
        return np.ones((data.n, 1))

    def _check_data(self, data: ChoiceData) -> None:
        s = self.spec_
        if list(data.spec.alternatives) != list(s.alternatives) or list(
            data.spec.attribute_names
        ) != list(s.attribute_names):
            raise DataError(
                f"the data has alternatives {list(data.spec.alternatives)} and attributes "
                f"{data.spec.attribute_names}; the model was fitted on "
                f"{list(s.alternatives)} / {s.attribute_names}"
            )

    def class_probabilities(self, data: ChoiceData, theta: np.ndarray | None = None,
                            posterior: bool = True) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Class weights (N, C) and within-class choice probabilities (C, N, J)."""
        self._check_fitted()
        self._check_data(data)
        theta = self.theta_ if theta is None else theta
        asc, beta, G = coef_arrays(self.spec_, self._class_rows(theta))
        Pc = softmax(utilities(asc, beta, G, data.X, data.Z, data.avail))
        return self._class_weights(data, theta, posterior), Pc

    def predict_proba(self, data: ChoiceData, posterior: bool = True) -> np.ndarray:
        """(N, J) choice probabilities. Latent-class models use each known household's
        posterior class probabilities (from the fit) when ``posterior``; otherwise the prior."""
        w, Pc = self.class_probabilities(data, posterior=posterior)
        return np.einsum("nc,cnj->nj", w, Pc)

    def loglik(self, data: ChoiceData, posterior: bool = True) -> float:
        """Log-likelihood of the observed choices of ``data``."""
        P = self.predict_proba(data, posterior)
        return float(np.log(np.clip(P[np.arange(data.n), data.y], 1e-300, None)).sum())

    @property
    def se_(self) -> np.ndarray:
        """Standard errors of the estimates (square roots of the covariance diagonal)."""
        self._check_fitted()
        return np.sqrt(np.clip(np.diag(self.cov_), 0, None))

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates with standard errors, z, p-values and Wald confidence intervals."""
        se = self.se_
        z = self.theta_ / np.where(se > 0, se, np.nan)
        q = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame(
            {
                "estimate": self.theta_,
                "std_err": se,
                "z": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "ci_low": self.theta_ - q * se,
                "ci_high": self.theta_ + q * se,
            },
            index=pd.Index(self.names_, name="parameter"),
        )

    @property
    def aic_(self) -> float:
        """Akaike's information criterion, ``-2 loglik + 2 parameters``."""
        return -2 * self.loglik_ + 2 * len(self.theta_)

    @property
    def bic_(self) -> float:
        """Bayesian information criterion, ``-2 loglik + parameters x log(units)``."""
        return -2 * self.loglik_ + len(self.theta_) * math.log(self.n_units_)

    def _draws(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        return rng.multivariate_normal(self.theta_, self.cov_, size=n_draws, method="eigh")

    def elasticities(self, data: ChoiceData, *, n_draws: int = 200, level: float = 0.95,
                     random_state: int | None = 0) -> dict[str, pd.DataFrame]:  # fmt: skip
        """Aggregate price elasticities at the observed prices of ``data``.

        ``E[j, k]`` is the % change of alternative ``j``'s expected demand for a 1% rise of
        alternative ``k``'s price at every occasion: ``sum_n sum_c w_nc P_ncj b_c (1[j=k] -
        P_nck) p_nk / sum_n P_nj``. Returns ``{"estimate", "low", "high"}`` J x J frames; the
        interval is the percentile interval over ``n_draws`` parameter draws from the
        estimate's normal approximation (latent-class weights held at the estimate).
        """
        self._check_fitted()
        if self.spec_.price is None:
            raise ModelError("the model has no price attribute; elasticities need one")
        pi = self.spec_.attribute_names.index(self.spec_.price)
        p = data.X[:, :, pi]

        def one(theta: np.ndarray, w: np.ndarray) -> np.ndarray:
            _, Pc = self.class_probabilities(data, theta, posterior=True)
            b = self._class_rows(theta)[:, len(self.spec_.alternatives) - 1 + pi]
            A = w.T[:, :, None] * Pc * b[:, None, None]
            S = np.einsum("nc,cnj->j", w, Pc)
            own = np.einsum("cnj,nj->j", A, p)
            cross = np.einsum("cnj,cnk,nk->jk", A, Pc, p, optimize=True)
            return (np.diag(own) - cross) / S[:, None]

        w0 = self._class_weights(data, self.theta_, True)
        est = one(self.theta_, w0)
        rng = resolve_rng(random_state)
        sims = np.stack([one(t, w0) for t in self._draws(n_draws, rng)]) if n_draws else None
        alts = list(self.spec_.alternatives)

        def frame(a: np.ndarray) -> pd.DataFrame:
            return pd.DataFrame(a, index=pd.Index(alts, name="demand of"),
                                columns=pd.Index(alts, name="price of"))  # fmt: skip

        out = {"estimate": frame(est)}
        if sims is not None:
            out["low"] = frame(np.quantile(sims, 0.5 - level / 2, axis=0))
            out["high"] = frame(np.quantile(sims, 0.5 + level / 2, axis=0))
        return out

    def wtp(self, level: float = 0.95) -> pd.DataFrame:
        """Willingness to pay: ``-b / b_price`` for every constant and attribute, per class,
        with delta-method standard errors and normal intervals, in the data's price units."""
        self._check_fitted()
        spec = self.spec_
        if spec.price is None:
            raise ModelError("the model has no price attribute; WTP needs one")
        J = len(spec.alternatives)
        K = len(param_names(spec))
        pk = J - 1 + spec.attribute_names.index(spec.price)
        q = stats.norm.ppf(0.5 + level / 2)
        rows = []
        base_names = param_names(spec)[: J - 1 + len(spec.attributes)]
        for c in range(self.n_classes):
            off = c * K
            bp = self.theta_[off + pk]
            for k, name in enumerate(base_names):
                if k == pk:
                    continue
                b = self.theta_[off + k]
                g = np.zeros(len(self.theta_))
                g[off + k], g[off + pk] = -1 / bp, b / bp**2
                se = float(np.sqrt(max(g @ self.cov_ @ g, 0)))
                w = -b / bp
                rows.append({"class": c + 1, "parameter": name, "wtp": w, "std_err": se,
                             "ci_low": w - q * se, "ci_high": w + q * se})  # fmt: skip
        out = pd.DataFrame(rows)
        if self.n_classes == 1:
            out = out.drop(columns="class")
        return out

    # ---- persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as a JSON-ready dict (also what simulations read its ranges and
        provenance from); :func:`~synthcust.simulation.choice.load_model` reads it back."""
        self._check_fitted()
        d = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "params": self.get_params(),
            "spec": self.spec_.to_dict(),
            "names": list(self.names_),
            "theta": self.theta_.tolist(),
            "cov": self.cov_.tolist(),
            "fit": {"loglik": float(self.loglik_), "n_obs": int(self.n_obs_),
                    "n_units": int(self.n_units_),
                    "converged": bool(self.converged_), "cov_type": self.cov_type_},
            "reference_levels": self.reference_levels_.tolist(),
            "covariate_means": self.covariate_means_.tolist(),
            "notes": list(self.notes_),
            "attribute_ranges": getattr(self, "attribute_ranges_", None),
        }  # fmt: skip
        if getattr(self, "provenance", None):
            d["provenance"] = dict(self.provenance)
        d.update(self._extra_dict())
        return d

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def _restore_extra(self, d: dict[str, Any]) -> None:
        """Set the subclass's own fitted attributes from :meth:`to_dict`'s form."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model as a synthcust model file (kind ``"choice"``), atomically.

        Parameters
        ----------
        path
            Destination file.

        Returns
        -------
        Path
            The path written.
        """
        d = self.to_dict()
        arrays = {k: np.asarray(d.pop(k), dtype=float) for k in _ARRAY_KEYS if k in d}
        posterior = d.pop("posterior", None)
        if posterior is not None:
            arrays["posterior_keys"] = np.asarray(list(posterior), dtype=str)
            arrays["posterior"] = np.asarray(list(posterior.values()), dtype=float).reshape(
                len(posterior), self.n_classes
            )
        for k in ("format", "version"):
            d.pop(k)
        d["model"] = d.pop("kind")
        return save_bundle(path, d, arrays, kind=BUNDLE_KIND)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ChoiceModel:
        """Read a model written by :meth:`save`.

        Files of the one model format (kind ``"choice"``) load, and so do the JSON files that
        synthcust wrote before it (``"format": "synthcust.choice"``): re-save them to convert.

        Parameters
        ----------
        path
            The model file.

        Returns
        -------
        ChoiceModel
            A fitted :class:`MultinomialLogit` or :class:`LatentClassLogit` (an instance of
            ``cls``).

        Raises
        ------
        ModelFileError
            When the file is missing, corrupt, of another kind or of a newer version.
        """
        p = Path(path)
        if not p.exists():
            raise ModelFileError(
                f"choice model file {str(p)!r} does not exist; create it with "
                "`synthcust choice fit`"
            )
        if p.is_file() and not zipfile.is_zipfile(p):
            d = _read_legacy_json(p)
        else:
            meta, arrays = load_bundle(p, kind=BUNDLE_KIND)
            d = _dict_from_bundle(meta, arrays)
        m = model_from_dict(d)
        if not isinstance(m, cls):
            raise ModelFileError(f"{str(p)!r} holds a {type(m).__name__}, not a {cls.__name__}")
        return m

    def _set_common(self, data: ChoiceData) -> None:
        self.spec_ = data.spec
        self.n_obs_ = data.n
        self.attribute_ranges_ = observed_ranges(data)
        self.reference_levels_ = data.X.mean(0)
        self.covariate_means_ = data.Z.mean(0) if data.Z.shape[1] else np.zeros(0)
        self.notes_ = list(data.notes)

    @staticmethod
    def _precheck(data: ChoiceData) -> None:
        if data.n == 0:
            raise DataError("no occasions to fit on")
        if (data.y < 0).any():
            raise DataError("every occasion needs a chosen alternative to fit a model")
        counts = np.bincount(data.y, minlength=len(data.spec.alternatives))
        never = [a for a, c in zip(data.spec.alternatives, counts, strict=True) if c == 0]
        if never:
            raise DataError(
                f"alternative(s) {never} are never chosen in the {data.n} occasions, so their "
                "constants cannot be estimated; drop them from the alternatives or add data"
            )


def _read_legacy_json(p: Path) -> dict[str, Any]:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{str(p)!r} is not a synthcust choice model") from e


def _dict_from_bundle(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The dict form of :meth:`ChoiceModel.to_dict` from a model file's contents."""
    d = {k: v for k, v in meta.items() if k not in ("format", "format_version", "kind")}
    d.update(format=FORMAT, version=VERSION, kind=d.pop("model", None))
    for k in _ARRAY_KEYS:
        if k in arrays:
            d[k] = arrays[k]
    if "posterior" in arrays:
        keys = arrays["posterior_keys"].tolist()
        d["posterior"] = dict(zip(keys, arrays["posterior"].tolist(), strict=True))
    return d


def model_from_dict(d: dict[str, Any]) -> ChoiceModel:
    """A fitted choice model from its dict form (:meth:`ChoiceModel.to_dict`).

    Parameters
    ----------
    d
        The dict form (tag ``"format": "synthcust.choice"``).

    Returns
    -------
    ChoiceModel
        The fitted model.

    Raises
    ------
    ModelFileError
        When ``d`` is not a choice model's dict, is corrupt, or of a newer version.
    """
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ModelFileError("not a synthcust choice model (format field missing or different)")
    if int(d.get("version", 0)) > VERSION:
        raise ModelFileError(f"choice model version {d['version']} is newer than {VERSION}")
    try:
        if d["kind"] not in _MODEL_KINDS:
            raise ModelFileError(f"unknown choice model kind {d['kind']!r}")
        cls = _MODEL_KINDS[d["kind"]]
        params = dict(d.get("params") or {})
        if "n_classes" in d and "n_classes" in cls._params:
            params["n_classes"] = int(d["n_classes"])
        m = cls(**params)
        m.spec_ = ChoiceSpec.from_dict(d["spec"])
        m.names_ = list(d["names"])
        m.theta_ = np.asarray(d["theta"], dtype=float)
        m.cov_ = np.asarray(d["cov"], dtype=float)
        f = d["fit"]
        m.loglik_, m.n_obs_, m.n_units_ = float(f["loglik"]), int(f["n_obs"]), int(f["n_units"])
        m.converged_, m.cov_type_ = bool(f["converged"]), f["cov_type"]
        m.reference_levels_ = np.asarray(d["reference_levels"], dtype=float)
        m.covariate_means_ = np.asarray(d["covariate_means"], dtype=float)
        m.notes_ = list(d.get("notes", []))
        if d.get("attribute_ranges") is not None:
            m.attribute_ranges_ = d["attribute_ranges"]
        if isinstance(d.get("provenance"), dict):
            m.provenance = dict(d["provenance"])
        m._restore_extra(d)
        m.B_ = m._class_rows(m.theta_)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"choice model file is corrupt ({type(e).__name__}: {e})") from e
    if m.cov_.shape != (len(m.theta_), len(m.theta_)) or len(m.names_) != len(m.theta_):
        raise ModelFileError("choice model file is corrupt (parameter sizes disagree)")
    return m


def load_model(path_or_dict: str | os.PathLike[str] | dict[str, Any]) -> ChoiceModel:
    """Load a choice model saved by :meth:`ChoiceModel.save` (or its dict form).

    Parameters
    ----------
    path_or_dict
        A model file (the one format, or an old JSON choice file) or a
        :meth:`ChoiceModel.to_dict` dict.

    Returns
    -------
    ChoiceModel
        The fitted model.
    """
    if isinstance(path_or_dict, dict):
        return model_from_dict(path_or_dict)
    return ChoiceModel.load(path_or_dict)
