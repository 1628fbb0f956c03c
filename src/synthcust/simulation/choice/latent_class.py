"""The latent-class conditional logit over a household panel, fitted by EM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import DataError, ModelError
from synthcust.simulation.choice.base import ChoiceModel
from synthcust.simulation.choice.data import ChoiceData
from synthcust.simulation.choice.mnl import MultinomialLogit
from synthcust.simulation.choice.numerics import (
    check_identification,
    design,
    log_softmax,
    mnl_fgh,
    newton,
    param_names,
    ridge,
    softmax,
    sym_inv,
)

__all__ = ["LatentClassLogit", "select_n_classes"]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


@dataclass
class _Panel:
    """What every EM start shares: design ``D`` (N, J, K), one-hot choices ``Y``, household
    codes ``hh`` (N,), ``H`` households, the (H, N) household-sum matrix ``Msum``, household
    membership covariates ``W`` (H, R) and their class design ``Dm``, the pooled MNL start."""

    data: ChoiceData
    D: np.ndarray
    Y: np.ndarray
    hh: np.ndarray
    H: int
    Msum: sparse.csr_matrix
    W: np.ndarray
    Dm: np.ndarray
    pooled: np.ndarray
    notes: list[str] = field(default_factory=list)


class LatentClassLogit(ChoiceModel):
    """Latent-class conditional logit over households, fitted by EM.

    Each household belongs to one of ``n_classes`` classes for all its occasions; class ``c``
    has its own MNL coefficients. Membership probabilities are a multinomial logit on an
    intercept plus the household's persona (one-hot, from ``spec.persona``) and numeric
    ``spec.membership`` columns, so classes can be tied to personas. Several EM starts
    (k-means on household choice shares, then random) and the best log-likelihood is kept;
    classes are ordered by size. Covariance from the outer product of household scores.

    ``membership_penalty`` (default 0: maximum likelihood) adds a ridge penalty on the
    membership coefficients (a Gaussian prior of standard deviation ``1 / sqrt(penalty)``;
    0.16 gives 2.5, the weakly informative scale of Gelman et al. 2008). When a persona decides
    the class exactly (separation) the unpenalised coefficients and standard errors diverge;
    the penalty keeps both finite (also in the covariance). Its normal approximation is still
    wide in that case, since the likelihood is one-sided; the A/B code holds parameters with
    standard errors above 1000 at their estimate instead. The reported log-likelihood (and BIC)
    is the unpenalised one.
    """

    kind = "latent_class"
    _params = ("n_classes", "n_init", "max_iter", "tol", "random_state", "membership_penalty")

    def __init__(self, n_classes: int = 2, *, n_init: int = 3, max_iter: int = 300,
                 tol: float = 1e-7, random_state: int | None = 0,
                 membership_penalty: float = 0.0):  # fmt: skip
        super().__init__(max_iter=max_iter, tol=tol)
        self.n_classes = n_classes
        self.n_init = n_init
        self.random_state = random_state
        self.membership_penalty = membership_penalty

    # membership design -----------------------------------------------------
    def _membership_matrix(self, data: ChoiceData, fit: bool) -> np.ndarray:
        """(N, R) membership covariates per occasion: intercept, persona dummies, numerics."""
        cols = [np.ones(data.n)]
        if data.spec.persona is not None:
            if data.persona is None:
                raise DataError(f"persona column {data.spec.persona!r} is needed")
            if fit:
                self.persona_levels_ = sorted(pd.unique(data.persona).tolist())
            unknown = sorted(set(data.persona) - set(self.persona_levels_))
            if unknown:
                raise DataError(
                    f"persona(s) {unknown} do not exist in the model (known: "
                    f"{self.persona_levels_}); use one of those or refit with them"
                )
            for lev in self.persona_levels_[1:]:
                cols.append((data.persona == lev).astype(float))
        if data.M is not None:
            cols.extend(data.M.T)
        return np.column_stack(cols)

    def _member_names(self) -> list[str]:
        out = ["intercept"]
        if self.spec_.persona is not None:
            out += [f"{self.spec_.persona}={lev}" for lev in self.persona_levels_[1:]]
        return out + list(self.spec_.membership)

    def _class_rows(self, theta: np.ndarray) -> np.ndarray:
        C, K = self.n_classes, self.K_
        return theta[: C * K].reshape(C, K)

    def _eta(self, theta: np.ndarray) -> np.ndarray:
        C, K = self.n_classes, self.K_
        R = (len(theta) - C * K) // (C - 1) if C > 1 else 0
        eta = np.zeros((R, C))
        eta[:, 1:] = theta[C * K :].reshape(C - 1, R).T
        return eta

    def _class_weights(self, data: ChoiceData, theta: np.ndarray, posterior: bool) -> np.ndarray:
        W = self._membership_matrix(data, fit=False)
        prior = softmax(W @ self._eta(theta)) if self.n_classes > 1 else np.ones((data.n, 1))
        if posterior and data.household is not None and self.posterior_:
            keys = pd.Series(data.household).astype(str)
            known = keys.isin(self.posterior_.keys()).to_numpy()
            if known.any():
                post = np.array([self.posterior_[k] for k in keys[known]])
                prior = prior.copy()
                prior[known] = post
        return prior

    def fit(self, data: ChoiceData) -> LatentClassLogit:
        """Estimate by EM from several starts, keeping the best log-likelihood.

        Parameters
        ----------
        data
            The occasions, every one with a chosen alternative; households (``spec.household``)
            make the panel.

        Returns
        -------
        LatentClassLogit
            ``self``, fitted.
        """
        C = int(self.n_classes)
        if C < 1:
            raise ModelError(f"n_classes must be >= 1, not {self.n_classes}")
        self._precheck(data)
        D = design(data)
        names = param_names(data.spec)
        check_identification(D, data.avail, names)
        self.spec_ = data.spec
        self.K_ = D.shape[2]
        lam = float(self.membership_penalty)
        if not (np.isfinite(lam) and lam >= 0):
            raise ModelError(f"membership_penalty must be >= 0, got {self.membership_penalty!r}")
        pn = self._panel(data, D)
        rng = resolve_rng(self.random_state)
        best = None
        for start in range(max(1, self.n_init)):
            res = self._em(pn, self._start_posterior(pn, start, rng), lam)
            if best is None or res[0] > best[0]:
                best = res
        ll, B, eta, q, conv = best
        order = np.argsort(-q.mean(0), kind="stable")
        B, q = B[order], q[:, order]
        R = pn.W.shape[1]
        E = np.zeros((R, C))
        E[:, 1:] = eta.reshape(C - 1, R).T if C > 1 else E[:, 1:]
        E = E[:, order] - E[:, [order[0]]]
        self._set_common(data)
        self.notes_ += pn.notes
        self.theta_ = np.concatenate([B.ravel(), E[:, 1:].T.ravel()])
        mnames = self._member_names()
        self.names_ = [f"class{c + 1}:{n}" for c in range(C) for n in names] + [
            f"membership:class{c + 1}:{m}" for c in range(1, C) for m in mnames
        ]
        self.loglik_, self.converged_, self.n_units_ = ll, conv, pn.H
        self.B_ = B
        self.posterior_ = (
            {str(k): q[i].tolist() for i, k in enumerate(pd.unique(data.household))}
            if data.household is not None
            else {}
        )
        self.class_shares_ = q.mean(0)
        self.cov_ = self._bhhh_cov(pn, B, E, q, lam)
        self.cov_type_ = "bhhh"
        if not conv:
            self.notes_.append(f"EM did not converge in {self.max_iter} iterations")
        if 10 * len(self.theta_) / max(C, 1) > pn.H:
            self.notes_.append(
                f"{pn.H} households for {len(self.theta_)} parameters: class estimates are noisy"
            )
        return self

    def _panel(self, data: ChoiceData, D: np.ndarray) -> _Panel:
        """The household panel the EM works on (see :class:`_Panel`)."""
        C, N = int(self.n_classes), data.n
        Y = np.zeros(data.avail.shape)
        Y[np.arange(N), data.y] = 1.0
        notes = []
        if data.household is None:
            hh = np.arange(N)
            notes.append("no household column: each occasion is its own unit")
        else:
            hh = pd.factorize(data.household)[0]
        H = int(hh.max() + 1)
        Msum = sparse.csr_matrix((np.ones(N), (hh, np.arange(N))), shape=(H, N))
        Wn = self._membership_matrix(data, fit=True)
        first = np.unique(hh, return_index=True)[1]
        W = Wn[first]
        varies = np.abs(Wn - W[hh]).max(1) > 0
        if varies.any() and data.household is not None:
            raise DataError(
                f"household {_py(data.household[np.nonzero(varies)[0][0]])!r} has more than one "
                "value of its persona/membership columns; they must be household traits (one "
                "value per household)"
            )
        R = W.shape[1]
        Dm = np.zeros((H, C, R * (C - 1)))
        for c in range(1, C):
            Dm[:, c, (c - 1) * R : c * R] = W
        pooled = MultinomialLogit(max_iter=50).fit(data)
        return _Panel(data, D, Y, hh, H, Msum, W, Dm, pooled.theta_, notes)

    def _start_posterior(self, pn: _Panel, start: int, rng: np.random.Generator) -> np.ndarray:
        """(H, C) starting class probabilities: k-means on choice shares, then random."""
        C = int(self.n_classes)
        if C == 1:
            return np.ones((pn.H, 1))
        if start < max(1, self.n_init - 1):
            from sklearn.cluster import KMeans  # heavy to import; only latent classes need it

            shares = (pn.Msum @ pn.Y) / np.asarray(pn.Msum.sum(1))
            lab = KMeans(C, n_init=1, random_state=int(rng.integers(2**31))).fit_predict(
                shares + 1e-6 * rng.standard_normal(shares.shape)
            )
            q = np.full((pn.H, C), 0.3 / max(C - 1, 1))
            q[np.arange(pn.H), lab] = 0.7
            return q
        return rng.dirichlet(np.ones(C), size=pn.H)

    def _em(self, pn: _Panel, q: np.ndarray, lam: float) -> tuple:
        """One EM run from posterior ``q``: ``(loglik, B, eta, q, converged)``."""
        C, H, N = int(self.n_classes), pn.H, pn.data.n
        D, Y, avail = pn.D, pn.Y, pn.data.avail
        availm = np.ones((H, C), dtype=bool)
        B = np.tile(pn.pooled, (C, 1))
        eta = np.zeros(pn.W.shape[1] * (C - 1))
        ll, ll_old = -np.inf, -np.inf
        conv = False
        for _it in range(self.max_iter):
            for c in range(C):  # M-step: class coefficients
                wc = q[pn.hh, c]
                B[c] = newton(lambda t, wc=wc: mnl_fgh(t, D, Y, avail, wc), B[c], 25, 1e-10)[0]
            if C > 1:  # M-step: membership logit on the soft labels (ridge-penalised)
                eta = newton(lambda e, q=q: ridge(mnl_fgh(e, pn.Dm, q, availm, np.ones(H)),
                                                  e, lam), eta, 25, 1e-10)[0]  # fmt: skip
                logpi = log_softmax(pn.Dm @ eta)
            else:
                logpi = np.zeros((H, 1))
            V = np.einsum("njk,ck->cnj", D, B, optimize=True)
            lp = log_softmax(np.where(avail[None], V, -np.inf))
            lpy = lp[:, np.arange(N), pn.data.y].T  # (N, C)
            lj = logpi + np.asarray(pn.Msum @ lpy)
            m = lj.max(1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(lj - m).sum(1))
            ll = float(lse.sum())
            q = np.exp(lj - lse[:, None])
            if ll - ll_old < self.tol * abs(ll):
                conv = True
                break
            ll_old = ll
        return ll, B.copy(), eta.copy(), q.copy(), conv

    def _bhhh_cov(self, pn: _Panel, B: np.ndarray, E: np.ndarray, q: np.ndarray,
                  lam: float) -> np.ndarray:  # fmt: skip
        """BHHH covariance from household scores of the marginal log-likelihood."""
        C, N, D = int(self.n_classes), pn.data.n, pn.D
        avail, y = pn.data.avail, pn.data.y
        P = softmax(np.where(avail[None], np.einsum("njk,ck->cnj", D, B), -np.inf))
        Dy = D[np.arange(N), y]
        blocks = []
        for c in range(C):
            sc = Dy - np.einsum("njk,nj->nk", D, P[c])
            blocks.append(q[:, [c]] * np.asarray(pn.Msum @ sc))
        pi = softmax(pn.W @ E) if C > 1 else np.ones((pn.H, 1))
        for c in range(1, C):
            blocks.append((q[:, [c]] - pi[:, [c]]) * pn.W)
        S = np.hstack(blocks)
        info = S.T @ S
        nb = C * self.K_  # class coefficients first, then the membership block
        info[nb:, nb:] += lam * np.eye(info.shape[0] - nb)
        return sym_inv(info)

    def class_table(self) -> pd.DataFrame:
        """Size (mean posterior share) and coefficients of each class."""
        self._check_fitted()
        idx = pd.Index([f"class{c + 1}" for c in range(self.n_classes)])
        t = pd.DataFrame(self.B_, columns=param_names(self.spec_), index=idx)
        t.insert(0, "share", self.class_shares_)
        return t

    def _restore_extra(self, d: dict[str, Any]) -> None:
        self.K_ = int(d["K"])
        self.persona_levels_ = list(d["persona_levels"])
        self.posterior_ = {str(k): list(v) for k, v in d["posterior"].items()}
        self.class_shares_ = np.asarray(d["class_shares"], dtype=float)

    def _extra_dict(self) -> dict[str, Any]:
        return {
            "n_classes": self.n_classes,
            "K": self.K_,
            "persona_levels": list(getattr(self, "persona_levels_", [])),
            "posterior": self.posterior_,
            "class_shares": self.class_shares_.tolist(),
        }


def select_n_classes(
    data: ChoiceData,
    k_range: range | list[int] = range(2, 7),
    *,
    n_init: int = 3,
    random_state: int | None = 0,
) -> tuple[LatentClassLogit, pd.DataFrame]:
    """Fit a latent-class logit for every K in ``k_range``; keep the one with the lowest BIC.

    BIC is ``-2 loglik + parameters x log(households)``.

    Parameters
    ----------
    data
        The occasions.
    k_range
        Numbers of classes to try.
    n_init
        EM starts per K.
    random_state
        Seed of the starts (see :func:`synthcust._utils.rng.resolve_rng`).

    Returns
    -------
    tuple of LatentClassLogit and DataFrame
        The chosen model and the table of K, log-likelihood, parameters, BIC, convergence.
    """
    rows, best = [], None
    for k in k_range:
        m = LatentClassLogit(int(k), n_init=n_init, random_state=random_state).fit(data)
        rows.append({"classes": int(k), "loglik": m.loglik_, "parameters": len(m.theta_),
                     "bic": m.bic_, "converged": m.converged_})  # fmt: skip
        if best is None or m.bic_ < best.bic_:
            best = m
    if best is None:
        raise ModelError("k_range is empty")
    return best, pd.DataFrame(rows)
