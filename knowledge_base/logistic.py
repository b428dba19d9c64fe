"""Small logistic regressions over embeddings (the routing classifier, the instruction
detector): L2-regularised fits by Newton steps, the F1-best threshold, stratified folds.
numpy only: a few hundred examples and a few hundred features need no more."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

L2_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
FOLDS = 5
SEED = 13


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def _objective(A: np.ndarray, y: np.ndarray, theta: np.ndarray, reg: np.ndarray) -> float:
    s = A @ theta
    return float(np.sum(np.logaddexp(0.0, s) - y * s) + 0.5 * np.sum(reg * theta * theta))


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float, max_iter: int = 50, tol: float = 1e-7,
                 start: tuple[np.ndarray, float] | None = None) -> tuple[np.ndarray, float]:
    """Weights w and intercept b minimising sum_i logloss(y_i, sigmoid(w.x_i + b)) +
    l2/2 |w|^2 (the intercept is barely regularised), by Newton steps with backtracking,
    from `start` (a neighbouring lambda's solution) or zero. Returns (w, b)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    y = y.astype(np.float64)
    reg = np.full(d + 1, float(l2))
    reg[-1] = 1e-6  # keeps the intercept finite when one class is missing
    theta = np.zeros(d + 1) if start is None else np.append(start[0], start[1])
    current = _objective(A, y, theta, reg)
    for _ in range(max_iter):
        p = sigmoid(A @ theta)
        grad = A.T @ (p - y) + reg * theta
        hess = (A * (p * (1.0 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:  # backtracking: Newton's full step can overshoot on separable data
            trial = theta - t * step
            value = _objective(A, y, trial, reg)
            if value <= current - 1e-4 * t * float(grad @ step) or t < 1e-8:
                break
            t *= 0.5
        theta, previous, current = trial, current, value
        if np.max(np.abs(t * step)) < tol or previous - current < tol * max(1.0, abs(current)):
            break
    return theta[:-1], float(theta[-1])


def cross_validated(X: np.ndarray, y: np.ndarray, folds: np.ndarray,
                    grid: Sequence[float] = L2_GRID) -> dict[float, np.ndarray]:
    """For each lambda of `grid`, out-of-fold probabilities: each item scored by a model
    that never saw it, its features standardised on the fold's training part. Within a fold
    the lambdas go from strong to weak, each starting from the previous solution (a few
    Newton steps instead of a dozen)."""
    out = {l2: np.zeros(len(y)) for l2 in grid}
    for f in np.unique(folds):
        train, held = folds != f, folds == f
        mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
        scale = np.where(sd > 1e-8, sd, 1.0)
        Xt, Xh = (X[train] - mean) / scale, (X[held] - mean) / scale
        start = None
        for l2 in sorted(grid, reverse=True):
            start = fit_logistic(Xt, y[train], l2, start=start)
            out[l2][held] = sigmoid(Xh @ start[0] + start[1])
    return out


def chosen_l2(out_of_fold: dict[float, np.ndarray], y: np.ndarray) -> float:
    """The lambda whose out-of-fold probabilities have the lowest log loss (the stronger on a tie)."""
    return min(out_of_fold, key=lambda v: (log_loss(out_of_fold[v], y), -v))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean -[y log p + (1 - y) log(1 - p)], p clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def best_threshold(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(threshold, F1): flagging scores >= threshold gives the best F1 on (scores, y).
    The threshold sits halfway between the lowest flagged and the highest unflagged score;
    with no positive at all, nothing is ever flagged (threshold inf, F1 0)."""
    positives = int(np.sum(y))
    if positives == 0:
        return float("inf"), 0.0
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order].astype(np.float64)
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (k + positives)
    # a cut is only possible where the score changes
    valid = np.append(s[:-1] > s[1:], True)
    f1 = np.where(valid, f1, -1.0)
    best = int(np.argmax(f1))
    threshold = float(s[best]) if best == len(s) - 1 else float((s[best] + s[best + 1]) / 2)
    return threshold, float(f1[best])


def stratified_folds(strata: Sequence[str], folds: int = FOLDS, seed: int = SEED) -> np.ndarray:
    """A fold number for each item; every stratum is spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(strata), dtype=np.int64)
    offset = 0
    for stratum in sorted(set(strata)):
        idx = np.array([i for i, s in enumerate(strata) if s == stratum])
        idx = idx[rng.permutation(len(idx))]
        out[idx] = (np.arange(len(idx)) + offset) % folds
        offset += len(idx)  # small strata do not all start in fold 0
    return out


def one_blas_thread():
    """Newton steps on ~400 x 400 matrices gain nothing from BLAS threads, and on a busy
    machine spinning threads made training five times slower (measured: 31 s against 6 s).
    threadpoolctl comes with scikit-learn (through sentence-transformers); without it,
    nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - an optional speed-up
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
