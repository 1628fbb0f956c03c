"""AutoregressiveSynthesizer: the flagship model, columns generated one after another.

Method (the family of MOSTLY AI's TabularARGN and of MADE, Germain et al. 2015):

1. Every column becomes a token per row (:mod:`synthcust.synthesizers.neural.tokens`): category
   codes; for numbers, exact spikes and up to 64 quantile bins with a within-bin value model;
   missing values a token of their own. High-cardinality columns cost one embedding row per
   category, never a one-hot block.
2. Each token is embedded (one table for all columns, ``embedding_dim`` wide) and the
   concatenation goes through a **masked MLP** (MADE): hidden unit ``h`` has a degree
   ``d(h)`` in ``1..m-1`` and sees only the first ``d(h)`` columns of the generation order; the
   logits of the column at position ``k`` see only units of degree ``< k`` (plus direct
   connections from earlier columns). One forward pass gives every conditional
   ``p(x_k | x_<k)``, so training costs one pass per batch, and the loss is the exact
   negative log-likelihood of the rows.
3. **Conditioning on any subset** of columns: a share of training batches (``flex_share``) uses
   the order "a random subset S first, then the rest", with S given to every hidden unit as an
   indicator vector. At sampling time the conditioned columns are put first and drawn from the
   model restricted to the allowed tokens (a numeric range also restricts the within-bin draw),
   so every row satisfies the conditions and no rejection loop can spin. The rows are then
   importance-resampled, **with replacement**, towards the default-order model (the better
   trained one) restricted to the conditions: weight = p_default(row) * (share of each
   conditioned token's mass inside its condition) / q(row). The pool grows in rounds until its
   effective sample size is ``condition_ess_factor`` times the rows asked for; a pool that stays
   thin warns, a hopeless one is refused (:meth:`AutoregressiveSynthesizer._sample_resampled`
   explains why the former draw without replacement from twice the rows was biased). A
   condition on the first column alone needs no resampling: ancestral sampling with truncation
   is exact there. The flexible order's rows are not used as they are: that order is, in effect, a
   second and less trained model; bench/bench_conditional.py measures it (``condition_method =
   "flexible"``) agreeing with the default model's filtered rows on only 56-66% of random
   conditions on Adult, Bank and Credit default, and further from the real segments.
4. Sampling runs the network **incrementally**: when the column at position ``k`` is drawn,
   only hidden units of degree ``k`` are computed (the others are already final or not yet
   needed), so generating all ``m`` columns costs one forward pass, not ``m``.
5. Training: AdamW, early stopping on the validation NLL of ``validation_share`` of the rows
   (best weights restored), ``max_training_time`` budget, Rich progress, ``random_state``
   reproducible; weights saved as NumPy arrays in the model file (never pickled).
6. Differential privacy (``dp_epsilon`` set): training runs as DP-SGD under opacus
   (:mod:`~synthcust.synthesizers.neural.dpsgd`): Poisson-sampled batches, each row's gradient
   (over every weight: embeddings, masked layers, subset indicator) clipped to
   ``max_grad_norm``, Gaussian noise calibrated by the ``"rdp"`` or ``"prv"`` accountant so that
   the planned epochs spend at most ``dp_epsilon`` at ``dp_delta``. The masked layers are
   ``nn.Linear`` subclasses whose mask is applied to the weight in ``forward``; their registered
   opacus grad sampler multiplies the linear per-row gradient by the mask. A private fit holds
   no rows out: there is no validation split, no early stopping and no learning-rate decay
   (each would be driven by a loss on private rows), so all ``epochs`` run (or until
   ``max_training_time``); the output biases start at zero, not at the rows' marginals. The
   ``flex_share`` orders are drawn independently of the data. The tokenisation (quantile bin
   edges, spike values, within-bin knots, category lists, value ranges) and the table codec
   are fitted on the private data without noise; ``privacy_`` lists them under
   ``"not_covered"``. Use ``dp_marginal`` when the whole release must be covered.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import ConditionError, ModelError, ModelFileError
from synthcust.synthesizers.base import BaseSynthesizer
from synthcust.synthesizers.conditions import (
    CategoricalCondition,
    Condition,
    NumericCondition,
    show_number,
)
from synthcust.synthesizers.neural.ar_training import (
    AR_NOT_COVERED,
    train_ar,
    train_ar_private,
)
from synthcust.synthesizers.neural.dpsgd import check_dp_params
from synthcust.synthesizers.neural.made import (
    build_net,
    canonical_first,
    order_rank,
)
from synthcust.synthesizers.neural.modes import describe
from synthcust.synthesizers.neural.resample import (
    ConditionWarning,
    WeightedReservoir,
    ess_verdict,
)
from synthcust.synthesizers.neural.tokens import ColumnTokens
from synthcust.synthesizers.neural.torchutil import (
    arrays_to_state,
    deterministic,
    require_torch,
    state_to_arrays,
    torch_seed,
)
from synthcust.synthesizers.neural.training import TrainLog, check_training_args
from synthcust.transform.codec import Encoded

__all__ = ["AR_NOT_COVERED", "AutoregressiveSynthesizer", "ConditionWarning"]


class AutoregressiveSynthesizer(BaseSynthesizer):
    """Autoregressive network over discretised columns (see the module docstring).

    Parameters
    ----------
    epochs : int
        Upper bound on training epochs (early stopping usually ends sooner).
    batch_size : int
        Rows per optimisation step (clipped to the number of training rows).
    embedding_dim, hidden, layers : int
        Token embedding width, hidden units per layer, number of hidden layers. ``hidden``
        None: 128 below 2,000 rows, 256 below 20,000, else 512.
    learning_rate, weight_decay : float
        AdamW settings.
    lr_decay : float
        Factor applied to the learning rate after an epoch without validation improvement
        (1 = constant).
    max_bins : int
        Quantile bins per numeric column (spikes and small integer domains are exact). None:
        16 below 1,600 rows, 32 below 20,000, else 64.
    flex_share : float
        Share of training batches in a "subset first" order, which makes conditioning on any
        columns exact; 0 trains the default order only (conditions then still work but are
        learned less well).
    validation_share : float
        Rows held out for early stopping (at least 1 row is kept for training).
    patience : int
        Epochs without validation improvement before stopping.
    max_training_time : float, optional
        Seconds; training stops (keeping the best weights so far) when exceeded.
    device : str, optional
        ``"cpu"``, ``"cuda"`` or ``"auto"``/None (CUDA when present).
    threads : int, optional
        torch threads while training/sampling (default: all cores).
    verbose : bool, optional
        Progress bar (default: when stderr is a terminal).
    random_state : int, optional
        Seed: the same seed and data give identical models and samples.
    dp_epsilon : float, optional
        Train with DP-SGD spending at most this epsilon (``None``: no differential privacy).
        Covers the network weights only; a private fit uses every row for ``epochs`` epochs
        (``validation_share``, ``patience`` and ``lr_decay`` are not used). See the module
        docstring and ``privacy_``.
    dp_delta : float
        The delta of the guarantee; must be below 1/n (n = training rows).
    max_grad_norm : float
        DP-SGD's bound on each row's gradient (L2 over all weights).
    dp_accountant : str
        ``"rdp"`` (Renyi DP) or ``"prv"`` (privacy random variables, tighter).
    secure_noise : bool
        ``True`` (default): DP-SGD's batch sampling and noise come from fresh operating-system
        entropy, so a private fit is not reproducible; ``False`` seeds them from
        ``random_state`` (reproducible) and records the run in ``privacy_`` as not private.

    Attributes
    ----------
    privacy_ : dict
        Only after a DP fit: epsilon actually spent, delta, noise multiplier, sample rate,
        steps, and under ``"not_covered"`` what is fitted on the rows without noise (the
        tokenisation, the codec, the row count).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"tier": rng.choice(["a", "b"], 400), "spend": rng.gamma(2, 10, 400)})
    >>> m = AutoregressiveSynthesizer(epochs=3, random_state=0).fit(df)
    >>> out = m.sample(50, conditions={"tier": "b"})
    >>> (out["tier"] == "b").all(), len(out)
    (np.True_, 50)
    """

    name: ClassVar[str] = "autoregressive"

    def __init__(
        self,
        epochs: int = 100,
        batch_size: int = 512,
        embedding_dim: int = 16,
        hidden: int | None = None,
        layers: int = 2,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-5,
        lr_decay: float = 0.5,
        max_bins: int | None = None,
        flex_share: float = 0.5,
        validation_share: float = 0.1,
        patience: int = 4,
        max_training_time: float | None = None,
        device: str | None = None,
        threads: int | None = None,
        verbose: bool | None = None,
        random_state: int | None = None,
        dp_epsilon: float | None = None,
        dp_delta: float = 1e-9,
        max_grad_norm: float = 1.0,
        dp_accountant: str = "rdp",
        secure_noise: bool = True,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.hidden = hidden
        self.layers = layers
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_decay = lr_decay
        self.max_bins = max_bins
        self.flex_share = flex_share
        self.validation_share = validation_share
        self.patience = patience
        self.max_training_time = max_training_time
        self.device = device
        self.threads = threads
        self.verbose = verbose
        self.random_state = random_state
        self.dp_epsilon = dp_epsilon
        self.dp_delta = dp_delta
        self.max_grad_norm = max_grad_norm
        self.dp_accountant = dp_accountant
        self.secure_noise = secure_noise

    # ------------------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        check_training_args(self.epochs, self.batch_size, self.max_training_time, self.patience)
        for name in ("embedding_dim", "hidden", "layers", "max_bins"):
            v = getattr(self, name)
            if v is None and name in ("hidden", "max_bins"):
                continue  # chosen from the number of rows
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ModelError(f"{name} must be a whole number >= 1, got {v!r}")
        for name in ("flex_share", "validation_share"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not 0 <= v < 1:
                raise ModelError(f"{name} must be a number in [0, 1), got {v!r}")

    def _fit(self, enc: Encoded, rng: np.random.Generator) -> None:
        self.__dict__.pop("privacy_", None)
        self._check_params()
        n_rows = max(len(enc.numeric), len(enc.codes))
        private = self.dp_epsilon is not None
        if private:  # checked before anything is fitted on the rows
            check_dp_params(
                self.dp_epsilon, self.dp_delta, self.max_grad_norm, self.dp_accountant, n_rows
            )
        torch = require_torch()
        # capacity grows with the data: small tables overfit a wide net and fine bins
        self.hidden_ = self.hidden or (128 if n_rows < 2_000 else 256 if n_rows < 20_000 else 512)
        self.max_bins_ = self.max_bins or (16 if n_rows < 1_600 else 32 if n_rows < 20_000 else 64)
        names = [
            n
            for n in self.codec_.output_columns
            if n in enc.numeric_names or n in enc.categorical_names
        ]
        self.columns_ = names
        self.tokens_ = self._fit_tokens(enc, names)
        self.training_log_ = TrainLog()
        if not names:  # only ids / constants / text: nothing to learn
            self.net_ = None
            return
        tok = self._tokenize(enc)
        if private:
            self.net_, self.training_log_, self.privacy_ = train_ar_private(self, torch, tok, rng)
            return
        self.net_, self.training_log_ = train_ar(self, torch, tok, names, rng)

    def _fit_tokens(self, enc: Encoded, names: list[str]) -> list[ColumnTokens]:
        """One tokenisation per modelled column: categories as they are, numbers binned."""
        tokens: list[ColumnTokens] = []
        for n in names:
            if n in enc.categorical_names:
                j = enc.categorical_names.index(n)
                tokens.append(
                    ColumnTokens.fit_categorical(n, enc.codes[:, j], self.codec_.n_categories(n))
                )
            else:
                j = enc.numeric_names.index(n)
                spec = self.codec_.spec(n)
                tokens.append(
                    ColumnTokens.fit_numeric(
                        n, enc.numeric[:, j], bool(spec.integer), max_bins=self.max_bins_
                    )
                )
        return tokens

    def _tokenize(self, enc: Encoded) -> np.ndarray:
        n = max(len(enc.numeric), len(enc.codes))
        out = np.empty((n, len(self.tokens_)), dtype=np.int64)
        for c, t in enumerate(self.tokens_):
            if t.kind == "categorical":
                out[:, c] = t.encode(enc.codes[:, enc.categorical_names.index(t.name)])
            else:
                out[:, c] = t.encode(enc.numeric[:, enc.numeric_names.index(t.name)])
        return out

    # ------------------------------------------------------------------------------ sampling
    def _sample(self, n: int, conds: list[Condition], rng: np.random.Generator) -> Encoded:
        torch = require_torch()
        m = len(self.tokens_)
        allowed: dict[int, np.ndarray] = {}
        ranges: dict[int, tuple[float, float]] = {}
        for cond in conds:
            if cond.column not in self.columns_:
                raise ConditionError(
                    f"column {cond.column!r} is not modelled; it cannot be conditioned on"
                )
            c = self.columns_.index(cond.column)
            t = self.tokens_[c]
            if isinstance(cond, CategoricalCondition):
                w = t.allowed(codes=list(cond.codes))
            elif isinstance(cond, NumericCondition):
                w = t.allowed(low=cond.low, high=cond.high)
                ranges[c] = (cond.low, cond.high)
            else:  # pragma: no cover
                raise ConditionError(f"unsupported condition {cond!r}")
            allowed[c] = w if c not in allowed else allowed[c] * w
            if not allowed[c].any():
                if isinstance(cond, NumericCondition):
                    lo, hi = t.value_range()
                    spec = self.codec_.spec(cond.column)
                    raise ConditionError(
                        f"column {cond.column!r}: no synthetic value can be {cond.shown} — the "
                        f"data ranges from {show_number(spec, lo)} to {show_number(spec, hi)}; "
                        "widen the range"
                    )
                raise ConditionError(
                    f"column {cond.column!r}: the condition admits no value seen in the "
                    "training data"
                )
        if m == 0:
            return Encoded(np.empty((n, 0)), np.empty((n, 0), dtype=np.int32), [], [])
        seed = torch_seed(rng)
        first = canonical_first(torch, torch.as_tensor([c in allowed for c in range(m)]))
        exact_first = not allowed or (len(allowed) == 1 and not bool(first.any()))
        if exact_first or self.condition_method == "flexible":
            # no condition, or one on the first column of the default order: ancestral
            # sampling with truncation is exact for the model ("flexible": the conditions-first
            # order's rows as they are, without resampling; for comparisons only)
            with deterministic(seed, self.threads) as gen:
                tok, _ = self._generate(torch, n, allowed, gen)
        else:
            tok = self._sample_resampled(torch, n, allowed, conds, seed, rng)
        return self._detokenize(tok, ranges, rng)

    #: ``"resample"``: conditional rows importance-resampled towards the default-order model
    #: (exact for it); ``"flexible"``: the conditions-first order's own rows, not resampled
    #: (the flexible order is a second, less trained model: not exact for the default one;
    #: kept to measure that, see bench/bench_conditional.py)
    condition_method: ClassVar[str] = "resample"
    #: the conditional pool grows until its effective sample size is this many times ``n``
    condition_ess_factor: ClassVar[float] = 4.0
    #: at most this many rounds of pool growth, and at most this many pool rows per output row
    condition_max_rounds: ClassVar[int] = 6
    condition_max_pool_factor: ClassVar[int] = 64
    #: rows generated at once while growing the pool (bounds memory with the number of columns)
    condition_chunk_rows: ClassVar[int] = 65_536

    def _sample_resampled(
        self,
        torch: Any,
        n: int,
        allowed: dict[int, np.ndarray],
        conds: list[Condition],
        seed: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Tokens of ``n`` rows from the default-order model given the conditions (SIR).

        The proposal ``q`` generates the conditioned columns first (the order trained with
        ``flex_share``), each restricted to its allowed tokens, so every row meets the
        conditions. The target is the default-order model, the better trained one, restricted
        to the conditions: ``p(row) * prod_c a_c(row)``, ``a_c`` the share of the token's mass
        inside the condition (below 1 only for a numeric bin straddling a range's end; the
        within-bin draw then stays inside the range). Weight ``w = p * prod a / q``.

        Rows are resampled **with replacement** in proportion to ``w`` from a pool grown in
        rounds until its effective sample size ``(sum w)^2 / sum w^2`` reaches
        ``condition_ess_factor * n`` (at most ``condition_max_rounds`` rounds and
        ``condition_max_pool_factor * n`` rows, ``condition_chunk_rows`` at a time; only the
        ``n`` chosen rows are kept, see
        :class:`~synthcust.synthesizers.neural.resample.WeightedReservoir`). The former draw
        of ``n`` distinct rows from a pool of ``2 n`` was biased: it cannot repeat a heavy row,
        so it flattened the rows towards the proposal (issue 19). A pool still thinner than
        ``n`` effective rows warns (:class:`ConditionWarning`); one under 1% of ``n`` is
        refused with a :class:`ConditionError`. The ESS reached is kept in
        ``last_condition_ess_``.
        """
        res = WeightedReservoir(n, rng)
        out = np.zeros((n, len(self.tokens_)), dtype=np.int64)
        target = self.condition_ess_factor * n
        cap = self.condition_max_pool_factor * n
        m = max(2 * n, 1_024)
        with deterministic(seed, self.threads) as gen:
            for _ in range(self.condition_max_rounds):
                for a in range(0, m, self.condition_chunk_rows):
                    k = min(self.condition_chunk_rows, m - a)
                    tok, logq = self._generate(torch, k, allowed, gen)
                    logw = self._log_prob(torch, tok) - logq
                    with np.errstate(divide="ignore"):
                        for c, w in allowed.items():
                            logw += np.log(w[tok[:, c]])
                    slots, rows = res.add(logw)
                    out[slots] = tok[rows]
                if res.ess >= target or res.rows >= cap:
                    break
                per_row = res.ess / res.rows  # ESS each further row is likely to add
                need = (target - res.ess) / per_row if per_row > 0 else cap
                m = int(min(cap - res.rows, max(1_024, math.ceil(1.2 * need))))
        self.last_condition_ess_ = res.ess
        ess_verdict(res.ess, n, describe(conds))
        return out

    def _generate(
        self,
        torch: Any,
        n: int,
        allowed: dict[int, np.ndarray],
        gen: Any,
        trace: dict[int, Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Incremental ancestral sampling: one forward pass's work for all columns."""
        net = self.net_
        F = torch.nn.functional
        m = len(self.tokens_)
        first = canonical_first(torch, torch.as_tensor([c in allowed for c in range(m)]))
        rank = order_rank(torch, first)
        order = torch.argsort(rank).tolist()
        m_in, m_hid, m_out, m_dir = net.masks(rank)
        emb_w = net.emb.weight.detach()
        W_in = (net.inp.weight * m_in).detach()
        W_hid = [(lin.weight * m_hid).detach() for lin in net.hid]
        b_hid = [lin.bias.detach() for lin in net.hid]
        W_out = (net.out.weight * m_out).detach()
        W_dir = (net.direct.weight * m_dir).detach()
        deg = net.deg
        if bool((deg[1:] < deg[:-1]).any()):  # pragma: no cover - built sorted
            raise ModelError("hidden units are not ordered by degree; re-fit")
        bounds = torch.searchsorted(deg, torch.arange(0, m + 1), right=True)
        E = emb_w.shape[1]
        offs = net.offsets
        tok = torch.zeros((n, m), dtype=torch.long)
        logw = torch.zeros(n, dtype=torch.float64)
        b_out = net.out.bias.detach()
        with torch.no_grad():
            a1 = (net.inp.bias + net.cond(first.float())).expand(n, -1).clone()
            hs = [torch.zeros((n, W_in.shape[0])) for _ in range(len(W_hid) + 1)]
            X = torch.zeros((n, m * E))  # embeddings of the tokens drawn so far
            for k, c in enumerate(order, start=1):
                a, b = net.out_slices[c]
                # logits of the column at position k, computed for it alone: hidden units of
                # degree < k (the first `done` ones) and direct links from earlier columns
                done = int(bounds[k - 1])
                logits = b_out[a:b] + hs[-1][:, :done] @ W_out[a:b, :done].T + X @ W_dir[a:b].T
                if trace is not None:  # tests check these equal a full forward pass
                    trace[c] = logits.clone()
                p = F.softmax(logits.double(), dim=1)
                if c in allowed:
                    p = p * torch.as_tensor(allowed[c], dtype=torch.float64)
                    z = p.sum(1)
                    if bool((z <= 0).any()):
                        raise ConditionError(
                            f"the model gives the condition on {self.columns_[c]!r} no "
                            "probability here; relax the conditions"
                        )
                    p = p / z[:, None]  # log q gets log(p / z) below
                u = torch.rand(n, 1, generator=gen, dtype=torch.float64)
                t = torch.searchsorted(torch.cumsum(p, 1), u).clamp_(max=b - a - 1).squeeze(1)
                tok[:, c] = t
                logw += torch.log(p.gather(1, t[:, None]).squeeze(1))
                if k == m:
                    break
                # feed the new token forward: first layer (units of degree >= k see it)
                emb = emb_w[t + offs[c]]
                sl = slice(c * E, (c + 1) * E)
                X[:, sl] = emb
                a1 += emb @ W_in[:, sl].T
                # units of degree k (a contiguous block lo:hi) are final now and needed next;
                # they see only units of degree <= k, i.e. the first hi
                lo, hi = int(bounds[k - 1]), int(bounds[k])
                if lo == hi:
                    continue
                hs[0][:, lo:hi] = F.relu(a1[:, lo:hi])
                for li, (W, bias) in enumerate(zip(W_hid, b_hid, strict=True)):
                    hs[li + 1][:, lo:hi] = F.relu(hs[li][:, :hi] @ W[lo:hi, :hi].T + bias[lo:hi])
        return tok.numpy(), logw.numpy()

    def _log_prob(self, torch: Any, tok: np.ndarray) -> np.ndarray:
        """log p(row) under the default order, token level (the within-bin model cancels)."""
        net = self.net_
        m = len(self.tokens_)
        rank = torch.arange(1, m + 1)
        out = np.empty(len(tok))
        with torch.no_grad():
            for s in range(0, len(tok), 65_536):
                b = torch.as_tensor(tok[s : s + 65_536])
                logits = net(b, rank, torch.zeros(len(b), m)).double()
                lp = torch.zeros(len(b), dtype=torch.float64)
                for c, (a, e) in enumerate(net.out_slices):
                    lp += torch.log_softmax(logits[:, a:e], 1).gather(1, b[:, c : c + 1]).squeeze(1)
                out[s : s + len(b)] = lp.numpy()
        return out

    def _detokenize(
        self, tok: np.ndarray, ranges: dict[int, tuple[float, float]], rng: np.random.Generator
    ) -> Encoded:
        n = len(tok)
        num_names = [t.name for t in self.tokens_ if t.kind == "numeric"]
        cat_names = [t.name for t in self.tokens_ if t.kind == "categorical"]
        numeric = np.empty((n, len(num_names)))
        codes = np.empty((n, len(cat_names)), dtype=np.int32)
        u = rng.random((n, len(num_names)))
        for c, t in enumerate(self.tokens_):
            if t.kind == "numeric":
                j = num_names.index(t.name)
                lo, hi = ranges.get(c, (-np.inf, np.inf))
                numeric[:, j] = t.decode(tok[:, c], u[:, j], lo, hi)
            else:
                codes[:, cat_names.index(t.name)] = t.decode(tok[:, c], None)
        return Encoded(numeric, codes, num_names, cat_names)

    def rebalance(
        self, n: int, column: str, shares: dict[Any, float], random_state: int | None = None
    ):
        """Sample ``n`` rows whose ``column`` follows ``shares`` (e.g. ``{"yes": 0.5, "no": 0.5}``).

        Every other column follows the model's conditional distribution given that column:
        each value gets ``round(n * share)`` rows drawn under the exact condition
        ``column == value``; rows are then shuffled.
        """
        total = float(sum(shares.values()))
        if not shares or total <= 0 or any(v < 0 for v in shares.values()):
            raise ConditionError(f"rebalance shares for {column!r} must be >= 0 and sum to > 0")
        rng = resolve_rng(random_state if random_state is not None else self.random_state)
        counts = {k: round(n * v / total) for k, v in shares.items()}
        diff = n - sum(counts.values())
        counts[max(counts, key=counts.get)] += diff
        parts = [
            self.sample(k, conditions={column: v}, random_state=int(rng.integers(2**31)))
            for v, k in counts.items()
            if k > 0
        ]
        out = pd.concat(parts, ignore_index=True)
        out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
        if getattr(self, "plan_", None) is not None:  # keys unique across the parts too
            self.plan_.add_keys(out, rng, self.codec_)
        return out

    # ------------------------------------------------------------------------------ state
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        metas, arrays = [], {}
        for i, t in enumerate(self.tokens_):
            meta, arr = t.to_state(f"tok{i}.")
            metas.append(meta)
            arrays.update(arr)
        if self.net_ is not None:
            arrays.update(state_to_arrays(self.net_.state_dict()))
        log = self.training_log_.to_dict()
        log["seconds"] = 0.0  # wall time is not part of the model: same data, same bytes
        state = {
            "hidden": self.hidden_,
            "max_bins": self.max_bins_,
            "columns": self.columns_,
            "tokens": metas,
            "training": log,
        }
        if getattr(self, "privacy_", None) is not None:
            state["privacy"] = self.privacy_
        return state, arrays

    def _from_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.columns_ = list(state["columns"])
        self.hidden_ = int(state["hidden"])
        self.max_bins_ = int(state["max_bins"])
        self.tokens_ = [
            ColumnTokens.from_state(meta, arrays, f"tok{i}.")
            for i, meta in enumerate(state["tokens"])
        ]
        self.training_log_ = TrainLog.from_dict(state["training"])
        if "privacy" in state:
            self.privacy_ = dict(state["privacy"])
        if not self.tokens_:
            self.net_ = None
            return
        n_tokens = [t.n_tokens for t in self.tokens_]
        _check_weights_fit(arrays, n_tokens, int(self.embedding_dim), self.hidden_,
                           int(self.layers))  # fmt: skip
        torch = require_torch()
        net = build_net(torch, n_tokens, self.embedding_dim, self.hidden_, self.layers)
        try:
            net.load_state_dict(arrays_to_state(arrays))
        except RuntimeError as e:
            raise ModelError(
                f"model weights do not match the model's settings ({e}); re-fit"
            ) from e
        self.net_ = net.eval()


def _check_weights_fit(
    arrays: dict[str, np.ndarray], n_tokens: list[int], emb: int, hidden: int, layers: int
) -> None:
    """Refuse, before building anything, settings whose network the saved weights cannot fill.

    A crafted file can declare a huge ``hidden`` or token count over a few bytes of weights;
    the network would be allocated (gigabytes) before ``load_state_dict`` noticed. The main
    weight matrices of the network are a lower bound on the weights it needs.
    """
    have = sum(int(a.size) for k, a in arrays.items() if k.startswith("w."))
    total, m = sum(n_tokens), len(n_tokens)
    d_in = m * emb
    need = total * emb + d_in * hidden + hidden * total + d_in * total
    need += max(layers - 1, 0) * hidden * hidden
    if min(emb, hidden, layers) < 1 or need > have:
        raise ModelFileError(
            f"the model's settings (hidden={hidden}, embedding_dim={emb}, layers={layers}, "
            f"{total} tokens) need at least {need:,} weights but the file holds {have:,}; it "
            "is corrupt or crafted. Refusing to build the network"
        )
