r"""Products of random matrices: Newman's Lyapunov spectrum and the Fuss-Catalan second moment.

Two results about :math:`P_L = W_L \cdots W_1` with independent Gaussian factors.

**Lyapunov spectrum** (``rmt.lyapunov``). For :math:`N \times N` factors with iid
:math:`N(0, \sigma^2)` entries the Lyapunov exponents (growth rates per factor, ordered
:math:`\lambda_1 \ge \dots \ge \lambda_N`) are

.. math::

    \lambda_i = \tfrac12\left[\ln(2\sigma^2) + \psi\!\left(\tfrac{N-i+1}{2}\right)\right],

Newman (1986), who states it for variance :math:`1/N` (:math:`2\sigma^2 = 2/N`); scaling
every factor by :math:`\sigma` shifts every exponent by :math:`\ln\sigma`. The argument
is the QR (Benettin) algorithm itself: :math:`W_t Q_{t-1} = Q_t R_t`, and by rotation
invariance :math:`W_t Q_{t-1}` is again an iid Gaussian matrix independent of the past, so
the :math:`R_t` are iid and :math:`\lambda_i = E\ln|R_{ii}|`; by the Bartlett decomposition
:math:`|R_{ii}| = \sigma\chi_{N-i+1}`, and :math:`E\ln\chi_k = \tfrac12(\ln 2 + \psi(k/2))`
(an integral SymPy evaluates for symbolic :math:`k`). For :math:`N = 1` this is
:math:`E\ln|\sigma z| = \tfrac12(\ln 2\sigma^2 + \psi(\tfrac12)) = \ln\sigma - (\gamma + \ln 2)/2`,
checked directly. Orthogonal factors have :math:`|R_{ii}| = 1`: every exponent is 0.

**Second moment of a Gaussian product** (``residual.isometry``). For factors with iid
:math:`N(0, 1/N)` entries and :math:`A_l = P_l^\top P_l`, the mean squared singular value
:math:`\tfrac1N E\,\mathrm{tr} A_L` is exactly 1, while

.. math::

    m_2(L, N) = \tfrac1N E\,\mathrm{tr}(A_L^2) = \frac N3\left[\left(1+\tfrac2N\right)^{L+1}
    - \left(1-\tfrac1N\right)^{L+1}\right] = L + 1 + \frac{L(L+1)}{2N} + O(N^{-2}),

exactly at finite width (a polynomial of degree :math:`L` in :math:`1/N`; :math:`L = 1`
gives :math:`2 + 1/N`). Its limit :math:`L + 1` is the second Fuss-Catalan number
:math:`\binom{2L+2}{2}/(2L+1)` (Penson and Zyczkowski 2011): the spread of the singular
values grows linearly with depth, whereas products of orthogonal matrices have every
singular value exactly 1 (dynamical isometry, Pennington et al. 2017). The derivation:
with :math:`a_l = E\,\mathrm{tr}(A_l^2)`, :math:`b_l = E(\mathrm{tr} A_l)^2`, two Gaussian
moment identities (Isserlis) give the linear recurrence
:math:`a_l = (1 + 1/N) a_{l-1} + b_{l-1}/N`, :math:`b_l = b_{l-1} + 2 a_{l-1}/N`, whose
combinations :math:`2a + b` and :math:`a - b` are geometric with ratios :math:`1 + 2/N`
and :math:`1 - 1/N` (checked by induction).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal, recurrence, substitute
from .sources import CASELLA, MUIRHEAD, Source

__all__ = [
    "N",
    "sigma",
    "i",
    "L",
    "digamma",
    "chi_density",
    "lyapunov_exponent",
    "second_moment",
    "derive_lyapunov",
    "derive_isometry",
    "NEWMAN",
    "COHEN_NEWMAN",
    "BENETTIN",
    "MUIRHEAD",
    "PENNINGTON",
    "PENSON",
    "ISSERLIS",
    "SOURCES",
]

# The claims' parameters (matched by name and assumptions with workbench.parameters).
N = sp.Symbol("N", integer=True, positive=True)  # width of the square factors
sigma = sp.Symbol("sigma", real=True, positive=True)  # standard deviation of an entry
i = sp.Symbol("i", integer=True, positive=True)  # which exponent, 1 = the largest
L = sp.Symbol("L", integer=True, positive=True)  # depth: the number of factors

k = sp.Symbol("k", positive=True)  # degrees of freedom of a chi variable
x = sp.Symbol("x", positive=True)
z = sp.Symbol("z", real=True)
s = sp.Symbol("s", positive=True)  # variance of an entry, 1/N
t = sp.Symbol("t", integer=True, positive=True)  # step of the QR algorithm
T = sp.Symbol("T", integer=True, positive=True)
l = sp.Symbol("l", integer=True, positive=True)  # layer

E = sp.Function("E")  # an expectation, written out; the steps say what it equals and why
chi = sp.Function("chi")  # chi(k): a chi variable with k degrees of freedom
R_ii = sp.Function("R_ii")  # R_ii(t): the i-th diagonal entry of R at step t
Lambda = sp.Function("Lambda_i")  # the QR algorithm's running average after T steps
lam = sp.IndexedBase("lambda")
a = sp.Function("a")  # a(l) = E tr(A_l^2)
b = sp.Function("b")  # b(l) = E (tr A_l)^2
c1 = sp.Function("c")  # c(l) = E tr(A_l)
u = sp.Function("u")  # u(l) = 2 a(l) + b(l)
v = sp.Function("v")  # v(l) = a(l) - b(l)
m2 = sp.Function("m_2")  # m_2(L, N) = E tr(A_L^2) / N


class digamma(sp.Function):  # named as mpmath names it, so lambdify finds mpmath.digamma
    r"""The digamma function :math:`\psi = \Gamma'/\Gamma`, printed :math:`\psi(x)`.

    SymPy writes digamma as ``polygamma(0, x)``; this function prints as the literature
    writes it and becomes ``polygamma(0, x)`` under ``doit()``, so every checked step
    compares the two forms symbolically.

    >>> digamma(sp.Rational(1, 2)).doit()
    -2*log(2) - EulerGamma
    >>> sp.latex(digamma(x))
    '\\psi\\left(x\\right)'
    """

    nargs = 1

    def doit(self, **hints):
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return sp.polygamma(0, arg)

    def _eval_evalf(self, prec):
        return sp.polygamma(0, self.args[0])._eval_evalf(prec)

    def fdiff(self, argindex=1):
        return sp.polygamma(1, self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_positive or None

    def _latex(self, printer, exp=None):
        body = rf"\psi\left({printer._print(self.args[0])}\right)"
        return rf"{body}^{{{exp}}}" if exp is not None else body


NEWMAN = Source(
    "newman1986",
    "Charles M. Newman",
    "The distribution of Lyapunov exponents: exact results for random matrices",
    "Communications in Mathematical Physics",
    1986,
    doi="10.1007/BF01464284",
    volume="103",
    number="1",
    pages="121-126",
)
COHEN_NEWMAN = Source(
    "cohen1984",
    "Joel E. Cohen and Charles M. Newman",
    "The stability of large random matrices and their products",
    "The Annals of Probability",
    1984,
    doi="10.1214/aop/1176993291",
    volume="12",
    number="2",
    pages="283-310",
)
BENETTIN = Source(
    "benettin1980",
    "Giancarlo Benettin and Luigi Galgani and Antonio Giorgilli and Jean-Marie Strelcyn",
    "Lyapunov characteristic exponents for smooth dynamical systems and for Hamiltonian systems; "
    "a method for computing all of them. Part 1: Theory",
    "Meccanica",
    1980,
    doi="10.1007/BF02128236",
    volume="15",
    number="1",
    pages="9-20",
)
PENNINGTON = Source(
    "pennington2017",
    "Jeffrey Pennington and Samuel S. Schoenholz and Surya Ganguli",
    "Resurrecting the sigmoid in deep learning through dynamical isometry: theory and practice",
    "Advances in Neural Information Processing Systems 30 (NeurIPS)",
    2017,
    arxiv="1711.04735",
    kind="inproceedings",
)
PENSON = Source(
    "penson2011",
    "Karol A. Penson and Karol Życzkowski",
    "Product of Ginibre matrices: Fuss-Catalan and Raney distributions",
    "Physical Review E",
    2011,
    doi="10.1103/PhysRevE.83.061118",
    volume="83",
    number="6",
    pages="061118",
)
ISSERLIS = Source(
    "isserlis1918",
    "Leon Isserlis",
    "On a formula for the product-moment coefficient of any order of a normal frequency distribution "
    "in any number of variables",
    "Biometrika",
    1918,
    doi="10.1093/biomet/12.1-2.134",
    volume="12",
    number="1-2",
    pages="134-139",
)
SOURCES = (NEWMAN, COHEN_NEWMAN, BENETTIN, MUIRHEAD, PENNINGTON, PENSON, ISSERLIS, CASELLA)


def chi_density(dof: sp.Basic, at: sp.Basic = x) -> sp.Basic:
    r"""Density of a chi variable with ``dof`` degrees of freedom at ``at`` > 0:
    :math:`x^{k-1} e^{-x^2/2} / (2^{k/2-1}\Gamma(k/2))`."""
    return at ** (dof - 1) * sp.exp(-(at**2) / 2) / (2 ** (dof / 2 - 1) * sp.gamma(dof / 2))


def _gaussian(at: sp.Basic, variance: sp.Basic) -> sp.Basic:
    return sp.exp(-(at**2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def lyapunov_exponent(n: sp.Basic = N, index: sp.Basic = i, sd: sp.Basic = sigma) -> sp.Basic:
    r"""Newman's :math:`\lambda_i = \tfrac12[\ln(2\sigma^2) + \psi((N-i+1)/2)]` (``digamma`` prints as psi).

    >>> float(lyapunov_exponent(1, 1, 1).doit())  # E ln|z| for z ~ N(0, 1): -(gamma + ln 2)/2
    -0.6351814227307391
    """
    return (sp.log(2 * sd**2) + digamma((n - index + 1) / sp.Integer(2))) / 2


def second_moment(depth: sp.Basic = L, width: sp.Basic = N) -> sp.Basic:
    r"""The exact :math:`m_2(L, N) = \tfrac N3[(1 + 2/N)^{L+1} - (1 - 1/N)^{L+1}]`.

    >>> sp.expand(second_moment(1)), sp.expand(second_moment(3))
    (2 + 1/N, 4 + 6/N + 12/N**2 + 5/N**3)
    """
    return width / 3 * ((1 + 2 / width) ** (depth + 1) - (1 - 1 / width) ** (depth + 1))


@cache
def derive_lyapunov() -> Derivation:
    """lambda_i = (ln(2 sigma^2) + psi((N - i + 1)/2)) / 2 by the QR algorithm and Bartlett's decomposition."""
    running = sp.Sum(sp.log(sp.Abs(R_ii(t))), (t, 1, T)) / T
    expectation = sp.Integral(sp.log(sigma * x) * chi_density(k), (x, 0, sp.oo))
    in_k = (sp.log(2 * sigma**2) + digamma(k / 2)) / 2
    steps = [
        define(Lambda(T), running,
               "the QR algorithm: W_t Q_(t-1) = Q_t R_t with Q_0 = I, the log-growth of the i-th direction averaged "
               "over T steps"),
        cite(lam[i], "=", sp.Limit(Lambda(T), T, sp.oo),
             "the QR algorithm converges to the i-th Lyapunov exponent (Oseledets' multiplicative ergodic theorem)",
             BENETTIN),
        cite(sp.Limit(Lambda(T), T, sp.oo), "=", E(sp.log(sp.Abs(R_ii(1)))),
             "rotation invariance: W_t Q_(t-1) is an iid Gaussian matrix independent of Q_(t-1) and of the past, "
             "so the R_t are iid and the strong law of large numbers applies", NEWMAN),
        cite(E(sp.log(sp.Abs(R_ii(1)))), "=", expectation,
             "Bartlett decomposition: the diagonal of R in the QR of a Gaussian matrix is independent, "
             "|R_ii| = sigma chi_k with k = N - i + 1 degrees of freedom", MUIRHEAD),
        equal(expectation, in_k, "E ln(sigma chi_k), integrated against the chi density for symbolic k > 0"),
        substitute(in_k, {k: N - i + 1}, "k = N - i + 1"),
        # the convention checked directly at N = 1: the scalar recurrence x_t = w_t x_(t-1)
        equal(sp.Integral(sp.log(sp.Abs(sigma * z)) * _gaussian(z, 1), (z, -sp.oo, sp.oo)),
              lyapunov_exponent(1, 1),
              "N = 1: E ln|sigma z| for z ~ N(0, 1), the same formula with psi(1/2) = -gamma - 2 ln 2"),
        equal(lyapunov_exponent(1, 1), sp.log(sigma) - (sp.EulerGamma + sp.log(2)) / 2,
              "so the exponent of a scalar Gaussian recurrence is ln sigma - (gamma + ln 2)/2"),
    ]
    return Derivation(
        "Lyapunov spectrum of a product of Gaussian matrices",
        steps,
        (lam[i], "=", steps[5].rhs),
        assumptions=(
            "W_1, W_2, ... independent N x N matrices with iid N(0, sigma^2) entries; exponents per factor, "
            "lambda_1 >= ... >= lambda_N (Newman's variance 1/N is sigma^2 = 1/N)",
            "orthogonal factors (times sigma) would have |R_ii| = sigma exactly: every exponent ln sigma, 0 at sigma = 1",
        ),
    )


@cache
def derive_isometry() -> Derivation:
    """m_2(L, N) = (N/3)[(1 + 2/N)^(L+1) - (1 - 1/N)^(L+1)] exactly, so m_2 -> L + 1 as N -> oo."""
    S, M, B = (sp.MatrixSymbol(name, N, N) for name in ("S", "M", "B"))
    A_l, P_l, O_L = (sp.MatrixSymbol(name, N, N) for name in ("A_l", "P_l", "O_L"))
    a_rule = (1 + 1 / N) * a(l - 1) + b(l - 1) / N
    b_rule = b(l - 1) + 2 * a(l - 1) / N
    u_solution = (2 * N + N**2) * (1 + 2 / N) ** L
    v_solution = (N - N**2) * (1 - 1 / N) ** L
    exact = second_moment()
    limit = sp.Limit(m2(L, N), N, sp.oo)
    steps = [
        define(A_l, P_l.T * P_l, "P_l = W_l ... W_1 with iid N(0, 1/N) entries, P_0 = I; S = W^T W for one factor W"),
        equal(sp.Integral(z**2 * _gaussian(z, s), (z, -sp.oo, sp.oo)), s, "an entry's variance s = 1/N"),
        equal(sp.Integral(z**4 * _gaussian(z, s), (z, -sp.oo, sp.oo)), 3 * s**2,
              "its fourth moment, the one Gaussian moment beyond the pairings"),
        cite(E(S * M * S), "=", (N + 1) / N * M + sp.Trace(M) * sp.Identity(N) / N,
             "for symmetric M: the N rows w of W are independent N(0, I/N) and E[w w^T M w w^T] = (2M + tr(M) I)/N^2",
             ISSERLIS),
        cite(E(sp.Trace(S * B) ** 2), "=", sp.Trace(B) ** 2 + 2 * sp.Trace(B**2) / N,
             "for symmetric B: E[(w^T B w)^2] = ((tr B)^2 + 2 tr(B^2))/N^2 for each row, and rows independent", ISSERLIS),
        cite(c1(l), "=", c1(l - 1), "c(l) = E tr A_l; E S = I, so E tr(S P_(l-1) P_(l-1)^T) = E tr A_(l-1) "
             "(tower property)", CASELLA),
        recurrence(c1, L, c1(L - 1), 0, N, N, "c(0) = tr I: the mean squared singular value E tr(A_L)/N is exactly 1"),
        define(a(l), E(sp.Trace(A_l**2)), "the second moment of A_l, summed over its eigenvalues"),
        define(b(l), E(sp.Trace(A_l) ** 2), "the square of its trace"),
        cite(a(l), "=", a_rule, "condition on P_(l-1) and use the first identity with M = P_(l-1) P_(l-1)^T, whose "
             "traces of powers are those of A_(l-1) (tower property)", CASELLA),
        cite(b(l), "=", b_rule, "likewise with the second identity, B = P_(l-1) P_(l-1)^T", CASELLA),
        define(u(l), 2 * a(l) + b(l), "a combination that the recurrence only rescales"),
        define(v(l), a(l) - b(l), "and another"),
        equal(2 * a_rule + b_rule, (1 + 2 / N) * (2 * a(l - 1) + b(l - 1)), "so u(l) = (1 + 2/N) u(l - 1)"),
        equal(a_rule - b_rule, (1 - 1 / N) * (a(l - 1) - b(l - 1)), "and v(l) = (1 - 1/N) v(l - 1)"),
        recurrence(u, L, (1 + 2 / N) * u(L - 1), 0, 2 * N + N**2, u_solution, "u(0) = 2 tr(I^2) + (tr I)^2"),
        recurrence(v, L, (1 - 1 / N) * v(L - 1), 0, N - N**2, v_solution, "v(0) = tr(I^2) - (tr I)^2"),
        substitute((u(L) + v(L)) / 3, {u(L): 2 * a(L) + b(L), v(L): a(L) - b(L)}, "so a(L) = (u(L) + v(L))/3"),
    ]
    chain = [define(m2(L, N), a(L) / N, "the second moment of the squared singular values of P_L, (1/N) E tr(A_L^2)")]
    chain.append(substitute(chain[-1].rhs, {a(L): (u(L) + v(L)) / 3}, "a = (u + v)/3"))
    chain.append(substitute(chain[-1].rhs, {u(L): u_solution, v(L): v_solution}, "the two solved recurrences"))
    chain.append(equal(chain[-1].rhs, exact, "exactly, at every finite width N (L = 1: 2 + 1/N)"))
    chain.append(substitute(limit, {m2(L, N): exact}, "the width to infinity at fixed depth"))
    chain.append(equal(chain[-1].rhs, L + 1, "the limit"))
    steps += chain + [
        equal(sp.Limit(N * (exact - (L + 1)), N, sp.oo), L * (L + 1) / 2,
              "the leading correction: m_2 = L + 1 + L(L + 1)/(2N) + O(1/N^2), the order the verifier fits"),
        cite(limit, "=", sp.binomial(2 * L + 2, 2) / (2 * L + 1),
             "the squared singular values of P_L converge to the Fuss-Catalan law of order L, whose k-th moment "
             "is binomial((L + 1) k, k)/(L k + 1)", PENSON),
        equal(sp.binomial(2 * L + 2, 2) / (2 * L + 1), L + 1, "the same limit: the second Fuss-Catalan moment"),
        cite(O_L.T * O_L, "=", sp.Identity(N),
             "orthogonal factors instead, O_L = Q_L ... Q_1 with Q_l^T Q_l = I: every singular value is 1 and m_2 = 1 "
             "at every depth and width (dynamical isometry)", PENNINGTON),
    ]
    return Derivation(
        "Second moment of the singular values of a product of Gaussian matrices",
        steps,
        (limit, "=", L + 1),
        assumptions=(
            "W_1, ..., W_L independent N x N matrices with iid N(0, 1/N) entries, P_L = W_L ... W_1",
            "m_2 = (1/N) E tr((P_L^T P_L)^2), the mean fourth power of the singular values; the width N -> oo at "
            "fixed depth L",
        ),
    )
