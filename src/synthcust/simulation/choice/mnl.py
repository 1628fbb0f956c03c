"""The conditional (multinomial) logit, fitted by Newton-Raphson on the analytic Hessian."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthcust.exceptions import ModelError
from synthcust.simulation.choice.base import ChoiceModel
from synthcust.simulation.choice.data import ChoiceData
from synthcust.simulation.choice.numerics import (
    check_identification,
    design,
    mnl_fgh,
    newton,
    param_names,
    softmax,
    sym_inv,
)

__all__ = ["MultinomialLogit"]


class MultinomialLogit(ChoiceModel):
    """Conditional (multinomial) logit, our vectorised Newton-Raphson estimator.

    ``cov_type="hessian"`` gives the classical inverse-Hessian covariance; ``"cluster"`` the
    sandwich clustered by household (honest when a household's choices are correlated).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from synthcust.simulation.choice import choice_data, detect_spec
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> price = rng.uniform(1, 3, (n, 3))
    >>> V = np.array([0.0, 0.5, -0.5]) - 1.5 * price
    >>> y = (V + rng.gumbel(size=V.shape)).argmax(1)
    >>> df = pd.DataFrame(price, columns=["price.a", "price.b", "price.c"])
    >>> df["choice"] = np.array(["a", "b", "c"])[y]
    >>> m = MultinomialLogit().fit(choice_data(df, detect_spec(df)))
    >>> bool(abs(m.summary().loc["price", "estimate"] + 1.5) < 0.2)
    True
    """

    kind = "mnl"
    _params = ("cov_type", "max_iter", "tol")

    def __init__(self, *, cov_type: str = "hessian", max_iter: int = 100, tol: float = 1e-9):
        super().__init__(max_iter=max_iter, tol=tol)
        self.cov_type = cov_type

    def fit(self, data: ChoiceData, weights: np.ndarray | None = None) -> MultinomialLogit:
        """Estimate by maximum likelihood (Newton-Raphson with step halving).

        Parameters
        ----------
        data
            The occasions, every one with a chosen alternative.
        weights
            Optional weight per occasion.

        Returns
        -------
        MultinomialLogit
            ``self``, fitted.
        """
        if self.cov_type not in ("hessian", "cluster"):
            raise ModelError(f"cov_type must be 'hessian' or 'cluster', not {self.cov_type!r}")
        self._precheck(data)
        D = design(data)
        names = param_names(data.spec)
        check_identification(D, data.avail, names)
        Y = np.zeros(data.avail.shape)
        Y[np.arange(data.n), data.y] = 1.0
        w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=float)
        theta, ll, _g, H, conv = newton(
            lambda t: mnl_fgh(t, D, Y, data.avail, w), np.zeros(D.shape[2]), self.max_iter,
            self.tol,
        )  # fmt: skip
        self._set_common(data)
        self.names_, self.theta_, self.loglik_, self.converged_ = names, theta, ll, conv
        self.B_ = theta[None, :]
        self.n_units_ = data.n if data.household is None else len(pd.unique(data.household))
        bread = sym_inv(-H)
        self.cov_type_ = self.cov_type
        if self.cov_type == "cluster":
            if data.household is None:
                raise ModelError("cov_type='cluster' needs a household column")
            V = np.where(data.avail, D @ theta, -np.inf)
            P = softmax(V)
            s = (Y - P)[:, :, None] * D
            scores = s.sum(1) * w[:, None]
            codes = pd.factorize(data.household)[0]
            S = np.zeros((codes.max() + 1, len(theta)))
            np.add.at(S, codes, scores)
            self.cov_ = bread @ (S.T @ S) @ bread
        else:
            self.cov_ = bread
        if not conv:
            self.notes_.append(f"Newton did not converge in {self.max_iter} iterations")
        return self
