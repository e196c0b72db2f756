"""A quadratic program solved with an augmented Lagrangian, and its Karush-Kuhn-Tucker conditions.

The problem is `minimize 1/2 x^T Q x + c^T x` subject to `A x = b` and `G x <= h`. The
multipliers `lam` (equalities) and `mu` (inequalities) satisfy, at the solution, the four KKT
conditions that `kkt_conditions` measures:

- stationarity: `Q x + c + A^T lam + G^T mu = 0`;
- primal feasibility: `A x = b` and `G x <= h`;
- dual feasibility: `mu >= 0`;
- complementary slackness: `mu_i (G x - h)_i = 0` for every inequality.

Reference:
    Kuhn & Tucker, "Nonlinear Programming", 1951; Nocedal & Wright, "Numerical Optimization",
    2006, chapters 12 and 17 (the augmented Lagrangian with inequality constraints).
"""

import dataclasses

import numpy as np
from keras import ops

from garden.utils.checks import check_int, check_number


@dataclasses.dataclass(frozen=True)
class QPSolution:
    """The solution `x`, the multipliers `lam` (of `A x = b`) and `mu` (of `G x <= h`), and the
    number of outer (multiplier) iterations run."""

    x: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    iterations: int


@dataclasses.dataclass(frozen=True)
class KKTResiduals:
    """The largest violation of each KKT condition (0 at an exact solution)."""

    stationarity: float
    primal_feasibility: float
    dual_feasibility: float
    complementary_slackness: float

    def max(self):
        """The largest of the four residuals."""
        return max(dataclasses.astuple(self))


def _as_problem(Q, c, A, b, G, h):
    Q, c, A, b, G, h = (np.asarray(v, dtype="float64") for v in (Q, c, A, b, G, h))
    n = c.shape[0]
    if Q.shape != (n, n):
        raise ValueError(f"Q has shape {Q.shape}: expected ({n}, {n}) for c of length {n}")
    if not np.allclose(Q, Q.T) or np.linalg.eigvalsh(Q).min() <= 0:
        raise ValueError("Q must be symmetric positive definite")
    for name, M, v in (("A", A, b), ("G", G, h)):
        if M.ndim != 2 or M.shape[1] != n or v.shape != (M.shape[0],):
            raise ValueError(f"{name} has shape {M.shape} and its right-hand side {v.shape}: "
                             f"expected (m, {n}) and (m,)")
    return tuple(ops.convert_to_tensor(v, dtype="float64") for v in (Q, c, A, b, G, h))


def _matvec(M, v):
    return ops.squeeze(ops.matmul(M, v[:, None]), -1)


def solve_qp(Q, c, A, b, G, h, rho=100.0, outer_steps=200, inner_steps=50, tol=1e-9):
    """Solves the quadratic program with the augmented Lagrangian method, in `keras.ops`.

    Each outer step minimizes the augmented Lagrangian
    `f(x) + lam^T (A x - b) + rho/2 |A x - b|^2 + 1/(2 rho) sum(max(0, mu + rho (G x - h))^2)`
    in `x`, then updates `lam += rho (A x - b)` and `mu = max(0, mu + rho (G x - h))`. The
    inner problem is piecewise quadratic: with the set of inequalities whose `max` is positive
    held fixed it is one linear system, so Newton steps on that set (semismooth Newton) reach
    its minimum once the set stops changing.

    Args:
        Q: array (n, n), symmetric positive definite.
        c: array (n,).
        A: array (p, n) of the equality constraints `A x = b`; b: array (p,).
        G: array (m, n) of the inequality constraints `G x <= h`; h: array (m,).
        rho: penalty parameter. Defaults to 100.
        outer_steps: most multiplier updates. Defaults to 200.
        inner_steps: most Newton steps per outer step. Defaults to 50.
        tol: stop when every KKT residual is below it. Defaults to 1e-9.

    Returns:
        A `QPSolution`.

    Example:
        >>> s = solve_qp([[2.0]], [-2.0], np.zeros((0, 1)), [], [[1.0]], [0.5])
        >>> round(float(s.x[0]), 6), round(float(s.mu[0]), 6)
        (0.5, 1.0)
    """
    rho = check_number("rho", rho, minimum=0, inclusive=False)
    outer_steps = check_int("outer_steps", outer_steps)
    inner_steps = check_int("inner_steps", inner_steps)
    Qt, ct, At, bt, Gt, ht = _as_problem(Q, c, A, b, G, h)
    At_, Gt_ = ops.transpose(At), ops.transpose(Gt)
    base = Qt + rho * ops.matmul(At_, At)
    x = ops.zeros((ct.shape[0],), dtype="float64")
    lam = ops.zeros((At.shape[0],), dtype="float64")
    mu = ops.zeros((Gt.shape[0],), dtype="float64")
    for outer in range(1, outer_steps + 1):
        for _ in range(inner_steps):
            active = ops.cast(mu + rho * (_matvec(Gt, x) - ht) > 0, "float64")
            hessian = base + rho * ops.matmul(Gt_ * active[None, :], Gt)
            rhs = -(ct + _matvec(At_, lam - rho * bt) + _matvec(Gt_, active * (mu - rho * ht)))
            x_new = ops.squeeze(ops.solve(hessian, rhs[:, None]), -1)
            converged = float(ops.max(ops.abs(x_new - x))) < tol
            x = x_new
            if converged:
                break
        lam = lam + rho * (_matvec(At, x) - bt)
        mu = ops.maximum(mu + rho * (_matvec(Gt, x) - ht), 0.0)
        solution = QPSolution(*(ops.convert_to_numpy(v) for v in (x, lam, mu)), outer)
        if kkt_conditions(Q, c, A, b, G, h, solution).max() < tol:
            break
    return solution


def kkt_conditions(Q, c, A, b, G, h, solution):
    """The four KKT residuals of `solution` (a `QPSolution`) for the quadratic program.

    Returns:
        A `KKTResiduals`: the largest absolute stationarity component, the largest equality or
        inequality violation, the most negative `mu` (as a positive number) and the largest
        `|mu_i (G x - h)_i|`.
    """
    Q, c, A, b, G, h = _as_problem(Q, c, A, b, G, h)
    x, lam, mu = (ops.convert_to_tensor(v, dtype="float64")
                  for v in (solution.x, solution.lam, solution.mu))
    slack = _matvec(G, x) - h
    gradient = (_matvec(Q, x) + c + _matvec(ops.transpose(A), lam)
                + _matvec(ops.transpose(G), mu))
    zero = ops.zeros((1,), dtype="float64")

    def largest(v):
        return float(ops.max(ops.concatenate([zero, v]))) + 0.0  # + 0.0: no -0.0

    return KKTResiduals(
        stationarity=largest(ops.abs(gradient)),
        primal_feasibility=max(largest(ops.abs(_matvec(A, x) - b)), largest(slack)),
        dual_feasibility=largest(-mu),
        complementary_slackness=largest(ops.abs(mu * slack)),
    )
