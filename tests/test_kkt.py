"""The augmented-Lagrangian QP solver against the closed form and scipy, and its KKT residuals."""

import numpy as np
import pytest
from scipy import optimize

from garden.tools import kkt_conditions, solve_qp
from garden.tools.kkt import QPSolution

# The notes page's problem: project (1, 2, 3) onto x1 + x2 + x3 = 3 with x3 <= 1 and x1 >= 0.
PROJECTION = (2 * np.eye(3), -2 * np.array([1.0, 2.0, 3.0]), [[1.0, 1.0, 1.0]], [3.0],
              [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]], [1.0, 0.0])


def _random_problem():
    """A seeded 4-variable problem with two of its three inequalities active."""
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    return (M @ M.T + np.eye(4), rng.normal(size=4), rng.normal(size=(1, 4)), [0.5],
            rng.normal(size=(3, 4)), [0.2, -0.1, 0.3])


def _closed_form(Q, c, A, b, G, h, active):
    """x, lam, mu from the KKT linear system with the active inequalities as equalities."""
    Q, c, A, G = (np.asarray(v, float) for v in (Q, c, A, G))
    E = np.vstack([A, G[active]])
    n, k = Q.shape[0], E.shape[0]
    system = np.block([[Q, E.T], [E, np.zeros((k, k))]])
    z = np.linalg.solve(system, np.concatenate([-c, b, np.asarray(h, float)[active]]))
    mu = np.zeros(G.shape[0])
    mu[active] = z[n + len(b):]
    return z[:n], z[n:n + len(b)], mu


def test_projection_matches_the_hand_solution():
    s = solve_qp(*PROJECTION)
    np.testing.assert_allclose(s.x, [0.5, 1.5, 1.0], atol=1e-6)
    np.testing.assert_allclose(s.lam, [1.0], atol=1e-6)
    np.testing.assert_allclose(s.mu, [3.0, 0.0], atol=1e-6)


@pytest.mark.parametrize("problem", [PROJECTION, _random_problem()], ids=["projection", "random"])
def test_solution_satisfies_kkt_and_matches_closed_form_and_scipy(problem):
    Q, c, A, b, G, h = problem
    s = solve_qp(*problem)
    residuals = kkt_conditions(*problem, s)
    assert residuals.max() < 1e-6, residuals
    active = np.flatnonzero(np.asarray(G) @ s.x - h > -1e-6)
    assert 0 < len(active) < len(h)  # both kinds of inequality are exercised
    x, lam, mu = _closed_form(*problem, active)
    np.testing.assert_allclose(s.x, x, atol=1e-6)
    np.testing.assert_allclose(s.lam, lam, atol=1e-6)
    np.testing.assert_allclose(s.mu, mu, atol=1e-6)
    reference = optimize.minimize(
        lambda v: 0.5 * v @ Q @ v + c @ v, np.zeros(len(c)), jac=lambda v: Q @ v + c,
        method="SLSQP", constraints=[
            {"type": "eq", "fun": lambda v: np.asarray(A) @ v - b},
            {"type": "ineq", "fun": lambda v: h - np.asarray(G) @ v}], tol=1e-12)
    np.testing.assert_allclose(s.x, reference.x, atol=1e-5)


def test_residuals_detect_each_violated_condition():
    Q, c, A, b, G, h = PROJECTION
    exact = QPSolution(np.array([0.5, 1.5, 1.0]), np.array([1.0]), np.array([3.0, 0.0]), 0)
    assert kkt_conditions(*PROJECTION, exact).max() == pytest.approx(0, abs=1e-12)
    # A wrong multiplier on the inactive constraint: stationarity and slackness both break.
    wrong = QPSolution(exact.x, exact.lam, np.array([3.0, 0.5]), 0)
    r = kkt_conditions(*PROJECTION, wrong)
    assert r.stationarity == pytest.approx(0.5)
    assert r.complementary_slackness == pytest.approx(0.25)
    negative = QPSolution(exact.x, exact.lam, np.array([3.0, -1.0]), 0)
    assert kkt_conditions(*PROJECTION, negative).dual_feasibility == pytest.approx(1.0)
    infeasible = QPSolution(np.array([0.5, 1.5, 2.0]), exact.lam, exact.mu, 0)
    assert kkt_conditions(*PROJECTION, infeasible).primal_feasibility == pytest.approx(1.0)


def test_bad_problems_raise():
    Q, c, A, b, G, h = PROJECTION
    with pytest.raises(ValueError, match="positive definite"):
        solve_qp(-Q, c, A, b, G, h)
    with pytest.raises(ValueError, match="G has shape"):
        solve_qp(Q, c, A, b, [[1.0, 0.0]], h)
    with pytest.raises(ValueError, match="rho"):
        solve_qp(*PROJECTION, rho=0)
