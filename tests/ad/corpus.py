"""User functions written the way scientists write NumPy, for derivative tests.

Every function here is plain Python + NumPy at module level (or a closure /
bound method built at module level), because transpile reads its source.
`CORPUS` lists the scalar-valued cases (for grad), `VECTOR_CORPUS` the
array-valued ones (for vjp / jvp / jacobians). Each `Case` has an input maker
`make_args(rng)` returning float64 inputs inside the function's domain and
away from its kinks and branch switches, so central differences are valid
there (tests check this with `check_finite_differences` on several seeds),
and tags from `TAGS` saying what it exercises:

    [c for c in CORPUS if "while" in c.tags]

Helpers that are not cases themselves (`softplus`, `huber`, ...) are called by
cases, to exercise calls between user functions.
"""
import math

import numpy as np

TAGS = {
    # inputs
    "scalar_input": "a Python float argument is differentiated",
    "vector": "a 1-d array argument",
    "matrix": "a 2-d (or higher) array argument",
    "multi_argnums": "gradients with respect to several arguments",
    "int_arg": "a non-differentiated integer argument",
    # operations
    "arith": "+ - * / and unary minus",
    "power": "** and np.power, constant and variable bases/exponents",
    "broadcast": "operands of different shapes",
    "elementwise": "exp/log/trig/hyperbolic ufuncs",
    "math_module": "math.* functions on Python floats",
    "abs_sign": "abs, np.abs, np.sign",
    "maximum_minimum": "np.maximum / np.minimum",
    "clip": "np.clip",
    "where": "np.where",
    "reduction": "sum/mean/prod/max/min/var/std",
    "axis": "a reduction along an axis",
    "keepdims": "keepdims=True",
    "cumsum": "np.cumsum",
    "matmul": "dot, matmul, @, outer, trace",
    "einsum": "np.einsum with explicit subscripts",
    "shape": ".T, transpose, reshape, squeeze, expand_dims, broadcast_to, None-indexing",
    "concat": "np.concatenate, np.stack, np.array of scalars",
    "index_read": "x[i], x[a:b], x[idx], x[mask] as values",
    "index_write": "y[i] = v, y[a:b] += v and other in-place writes",
    "int_index": "indexing with integer arrays or lists",
    "mask": "boolean masks",
    "augassign": "+= -= *= /= **= on names",
    "copy": "x.copy() followed by writes",
    "linalg": "np.linalg: solve, inv, det, slogdet, norm, cholesky",
    "nondiff": "sign, floor, comparisons, argmax, astype(int), shape: zero contributions",
    # control flow
    "if": "if / elif / else on values",
    "for_range": "for over range",
    "for_array": "for over an array's first axis",
    "while": "while with a data-dependent condition",
    "break": "break",
    "continue": "continue",
    "early_return": "return inside a branch or loop",
    "nested_loop": "a loop inside a loop",
    "long_loop": "a loop of 1,000 steps (tape size)",
    "overwrite": "a variable overwritten in a loop",
    # calls
    "call": "calls another user function",
    "tuple_return": "a called function returns a tuple",
    "lambda": "a lambda (called, or the case itself)",
    "closure": "a closure returned by a factory",
    "method": "a bound method reading self.*",
    "default_arg": "a function called with default arguments",
    "recursion": "recursion with a value-dependent base case",
    # kind
    "realistic": "a model or algorithm as found in real code",
}


class Case:
    """One corpus entry: `fn(*make_args(rng))` is a float (or array, in VECTOR_CORPUS)."""

    def __init__(self, name, fn, make_args, argnums=0, tags=()):
        unknown = set(tags) - set(TAGS)
        if unknown:
            raise ValueError(f"case {name}: unknown tags {sorted(unknown)}")
        self.name = name
        self.fn = fn
        self.make_args = make_args
        self.argnums = argnums
        self.tags = frozenset(tags)

    def args(self, seed=0):
        """The case's inputs for one seed, as a tuple."""
        return tuple(self.make_args(np.random.default_rng(seed)))

    @property
    def argnums_tuple(self):
        return (self.argnums,) if isinstance(self.argnums, int) else tuple(self.argnums)

    def __repr__(self):
        return f"Case({self.name})"


# --- input makers -----------------------------------------------------------------

def _u(r, lo, hi, *shape):
    """Uniform floats: a Python float when no shape is given."""
    return float(r.uniform(lo, hi)) if not shape else r.uniform(lo, hi, shape)


def _n(r, *shape, scale=1.0):
    return float(scale * r.standard_normal()) if not shape else scale * r.standard_normal(shape)


def _away(r, lo, hi, shape, kinks, margin=0.1):
    """Uniform in [lo, hi), resampled until every element is `margin` from every kink."""
    x = r.uniform(lo, hi, shape)
    for _ in range(1000):
        near = np.zeros(np.shape(x), dtype=bool)
        for k in kinks:
            near |= np.abs(x - k) < margin
        if not near.any():
            return x
        x = np.where(near, r.uniform(lo, hi, np.shape(x)), x)
    raise RuntimeError("could not place inputs away from the kinks")


def _distinct(r, *shape, lo=-2.0, hi=2.0):
    """Values spread evenly over [lo, hi] in random order: no near ties for max/min/argmax."""
    n = int(np.prod(shape))
    grid = np.linspace(lo, hi, n) + r.uniform(-0.1, 0.1, n) * (hi - lo) / max(n - 1, 1)
    return r.permutation(grid).reshape(shape)


def _well_conditioned(r, n, diag=2.5):
    return diag * np.eye(n) + 0.4 * r.standard_normal((n, n))


def _off_integers(r, *shape):
    """|x| in [0.3, 3.7] with fractional part in [0.15, 0.35] or [0.65, 0.85]: no floor/round/ceil kinks."""
    whole = r.integers(0, 4, shape)
    frac = r.choice([0.25, 0.75], shape) + r.uniform(-0.1, 0.1, shape)
    sign = r.choice([-1.0, 1.0], shape)
    return sign * (whole + frac)


def _until(r, make, ok):
    for _ in range(1000):
        args = make(r)
        if ok(*args):
            return args
    raise RuntimeError("no inputs satisfied the case's condition")


# =============================================================================
# Elementwise arithmetic, powers, ufuncs
# =============================================================================

def poly_broadcast(X, y):
    Z = X * y + X / (1.0 + y ** 2) - 0.5 * X ** 3
    return np.sum(Z) + 0.1 * np.sum(y - 2.0)


def column_broadcast(A, c, s):
    B = (A - c[:, None]) * s + 2.0 / (A + 3.0) - c.reshape(-1, 1) ** 2
    return np.sum(B * B) / A.size - s / 3.0


def powers(x):
    return np.sum(x ** 2.5 + 2.0 ** x + x ** x + np.power(x, 3) + 1.0 / x + np.sqrt(x) ** -1.5)


def exp_log_family(x):
    return np.sum(np.exp(-x) * np.log(x) + np.log1p(x) - np.expm1(-0.5 * x))


def trig(x):
    return np.sum(np.sin(x) * np.cos(2.0 * x) + np.tan(0.5 * x) ** 2 + np.sqrt(x) * np.sin(x))


def inverse_trig(x):
    return np.sum(np.arcsin(x) * np.arccos(0.5 * x) + np.arctan(3.0 * x))


def polar_angle(y, x):
    theta = np.arctan2(y, x)
    r = np.sqrt(x ** 2 + y ** 2)
    return np.sum(r * np.cos(theta) ** 2 + theta ** 2)


def hyperbolic(x):
    return np.sum(np.sinh(x) * np.cosh(0.5 * x) - np.tanh(2.0 * x) ** 2)


def abs_sign(x):
    return np.sum(np.abs(x) ** 1.5 + np.sign(x) * x ** 2) + abs(x[0]) * x[1]


def maximum_minimum(x, y):
    return np.sum(np.maximum(x, y) ** 2 + np.minimum(x, 0.5) * y + np.maximum(0.0, x - y))


def clipped(x):
    return np.sum(np.clip(x, -1.0, 1.0) ** 2 * x + np.clip(2.0 * x, 0.0, None))


def where_branches(x):
    return np.sum(np.where(x > 0.0, np.log1p(x), x ** 2) + np.where(x < 1.0, 1.0, x) * x)


def math_scalar(x):
    a = math.exp(-x) * math.sin(3.0 * x) + math.log(x) * math.cos(x)
    b = math.sqrt(x) + math.tan(0.3 * x) + math.log1p(x) - math.expm1(-x)
    return a + b + math.pow(x, 1.5)


def math_inverse_hyperbolic(x):
    a = math.asin(x) + math.acos(0.5 * x) + math.atan(x) * math.atan2(x, 2.0)
    return a + math.sinh(x) * math.cosh(x) - math.tanh(x) + math.fabs(x - 2.0)


def scalar_times_vector(a, x):
    return np.sum(np.exp(a * x)) / a + a ** 2 * x[0]


# =============================================================================
# Reductions
# =============================================================================

def reductions_axis(A):
    col = np.sum(A, axis=0)
    row = A.mean(axis=1)
    return np.sum(col ** 2) + np.sum(row ** 3) + A.sum() * np.mean(A)


def standardize(A):
    Z = (A - A.mean(axis=0, keepdims=True)) / A.std(axis=0, keepdims=True)
    return np.sum(Z ** 3) + np.sum(np.var(A, axis=1))


def sample_variance(x):
    return np.var(x, ddof=1) + np.std(x) + x.var() * x.std()


def products(x, A):
    return np.prod(x) + np.sum(np.prod(A, axis=1)) + A.prod(axis=0, keepdims=True).sum()


def extremes(A):
    spread = np.max(A) - np.min(A)
    return spread + np.sum(np.max(A, axis=1) ** 2) + np.sum(A.min(axis=0, keepdims=True) * A) + A.max()


def cumulative(x, A):
    return np.sum(np.cumsum(x) ** 2) + np.sum(np.cumsum(A, axis=1)[:, -1] * A[:, 0]) + x.cumsum()[-1]


def covariance_trace(X):
    Xc = X - X.mean(axis=0, keepdims=True)
    C = Xc.T @ Xc / (X.shape[0] - 1)
    return np.trace(C) + np.sum(C ** 2)


# =============================================================================
# Products and shapes
# =============================================================================

def dot_forms(x, y):
    return np.dot(x, y) + x.dot(y) ** 2 + np.sum(np.outer(x, y) ** 2)


def matmul_forms(A, B, x):
    return np.sum((A @ B) ** 2) + x @ A @ x + np.sum(np.matmul(A, x)) + np.sum(np.dot(B.T, A))


def trace_outer(x, y, A):
    return np.trace(np.outer(x, y) @ A) + np.trace(A @ A) + A.trace()


def einsum_forms(A, B, x):
    C = np.einsum('ij,jk->ik', A, B)
    q = np.einsum('i,ij,j->', x, A, x)
    norms = np.einsum('ij,ij->i', B, B)
    return np.sum(C ** 2) + q + np.sum(np.sqrt(norms)) + np.einsum('ii->', A)


def einsum_batched(T, U):
    P = np.einsum('bij,bjk->bik', T, U)
    return np.sum(np.tanh(P)) + np.einsum('bij->', T) * 0.1


def transposes(A, T):
    a = np.sum(A.T @ A * A) + np.sum(np.transpose(A) * A)
    b = np.sum(np.transpose(T, (2, 0, 1))[0] ** 2) + np.sum(T.transpose(1, 0, 2)[0] * T[:, 0, :])
    return a + b


def reshapes(x):
    A = x.reshape(3, 4)
    B = np.reshape(x, (2, -1))
    C = np.expand_dims(A, 0)
    D = np.squeeze(C, axis=0)
    E = x.reshape((4, 3)).T
    return np.sum(D * E) + 0.1 * np.sum(B ** 2) + np.sum(np.squeeze(x[None, :]) * x) + A.ravel()[5]


def broadcasting_to(x, W):
    B = np.broadcast_to(x, (4, 3))
    return np.sum(B * W) + np.sum(np.broadcast_to(x[:, None], (3, 2)) ** 2)


def concat_stack(x, y, A):
    z = np.concatenate([x, y])
    M = np.concatenate((A, A ** 2), axis=1)
    S = np.stack([x, np.sin(x)], axis=1)
    V = np.stack((x, y[:3]))
    return np.sum(z ** 2) + np.sum(M) * z[0] + np.sum(S @ np.ones(2) * x) + np.sum(V ** 3)


# =============================================================================
# Indexing: reads
# =============================================================================

def index_reads(x, A):
    a = x[0] * x[-1] + np.sum(x[1:4] ** 2) + np.sum(A[1, :]) * A[0, 2]
    return a + np.sum(A[:, 2] * A[0, :3]) + np.sum(x[::2]) + A[-1, -1] ** 2


def gather_int_array(x, A):
    idx = np.array([0, 2, 2, 4])
    rows = A[np.array([1, 0, 1])]
    cols = A[:, [3, 0]]
    return np.sum(x[idx] ** 2) + np.sum(rows * rows[0]) + np.sum(cols ** 3) + np.sum(A[[0, 2], [1, 3]])


def boolean_mask(x):
    pos = x[x > 0.3]
    return np.sum(pos ** 2) + np.sum(np.log(x[x > -0.5] + 1.0)) + 2.0 * x[x < 0.0].sum()


def masked_matrix(A):
    big = A[A > 0.5]
    return np.sum(big ** 2) + np.sum(np.where(A < -0.5, A ** 3, 0.0)) + np.mean(A[:, 0][A[:, 1] > 0.0])


# =============================================================================
# Indexing: in-place writes
# =============================================================================

def setitem_scalars(x):
    y = np.zeros(4)
    y[0] = x[0] ** 2
    y[1] = np.sin(x[1])
    y[3] = y[0] * x[2]
    y[0] = y[0] + y[1]
    return np.sum(y * y) + y[3]


def slice_updates(x):
    y = x.copy()
    y[1:3] += x[:2] ** 2
    y *= 2.0
    y[0] = 0.0
    y[-2:] = y[-2:] * x[:2]
    return np.sum(y ** 3)


def recurrence_copy(x):
    y = x.copy()
    for i in range(1, y.shape[0]):
        y[i] = 0.5 * y[i - 1] + np.sin(y[i])
    return np.sum(y ** 2)


def masked_updates(x):
    y = x.copy()
    y[y < 0.0] = 0.0
    y[x > 1.0] *= 3.0
    small = np.abs(x) < 0.5
    y[small] = x[small] ** 2
    return np.sum(y ** 2) + np.sum(y * x)


def scatter_int_array(x):
    y = np.zeros(6)
    idx = np.array([1, 3, 4])
    y[idx] = x[:3]
    y[idx] += x[3:] ** 2
    y[np.array([0, 5])] = y[np.array([1, 3])] * 2.0
    return np.sum(y ** 2) + y @ np.arange(6.0)


def matrix_updates(A):
    B = A.copy()
    B[0, :] = B[0, :] * 2.0
    B[:, 1] -= B[:, 0]
    B[1, 2] = np.exp(B[1, 2])
    B[1:, :2] /= 3.0
    return np.sum(B ** 2) + np.trace(B[:, :3])


def augmented_assignments(x):
    s = 0.0
    s += np.sum(x)
    s *= 2.0
    s -= x[0]
    s /= 3.0
    s **= 2
    y = x * 1.0
    y += 1.0
    y /= 2.0
    y **= 2
    y -= x
    return s + np.sum(y)


# =============================================================================
# Linear algebra
# =============================================================================

def solve_quadratic(A, b):
    x = np.linalg.solve(A, b)
    return x @ x + b @ x


def solve_matrix_rhs(A, B):
    X = np.linalg.solve(A, B)
    return np.sum(X ** 2)


def inverse_norm(A):
    Ainv = np.linalg.inv(A)
    return np.sum(Ainv ** 2) + np.trace(Ainv @ A.T)


def determinant(A):
    return np.linalg.det(A) + np.log(np.linalg.det(A @ A.T))


def log_determinant(A):
    sign, logdet = np.linalg.slogdet(A)
    return sign * logdet + logdet ** 2


def norms(x, A):
    return (np.linalg.norm(x) + np.linalg.norm(A) ** 2 + np.linalg.norm(x, 1)
            + np.linalg.norm(A @ x) + np.sum(np.linalg.norm(A, axis=1)))


def cholesky_logdet(A):
    S = A @ A.T + 3.0 * np.eye(A.shape[0])
    L = np.linalg.cholesky(S)
    total = 0.0
    for i in range(L.shape[0]):
        total += np.log(L[i, i])
    return 2.0 * total + np.sum(L ** 2)


def gaussian_nll(x, mu, A):
    S = A @ A.T + np.eye(x.shape[0])
    L = np.linalg.cholesky(S)
    z = np.linalg.solve(L, x - mu)
    sign, logdet = np.linalg.slogdet(S)
    return 0.5 * z @ z + 0.5 * logdet + 0.5 * x.shape[0] * np.log(2 * np.pi)


# =============================================================================
# Non-differentiable operations: zero contributions
# =============================================================================

def nondifferentiable_parts(x):
    k = np.argmax(x)
    n = x.shape[0]
    above = (x > 0.0).astype(np.float64)
    counts = x.astype(np.int64)
    a = x[k] ** 2 + np.sum(np.floor(x) * x) + np.sum(above * x) + np.sum(counts)
    return a + n * np.mean(x) + np.sum(np.sign(x) * np.ceil(x)) + np.sum(np.round(x))


def comparisons_as_weights(x):
    n_big = np.sum(x > 0.5)
    frac = np.mean(x < 0.0)
    return n_big * np.sum(x ** 2) + frac * np.sum(np.exp(x)) + float(len(x))


def shape_arithmetic(A):
    n, m = A.shape
    return np.sum(A ** 2) / (n * m) + A.size * np.mean(A) + A.ndim * A[n - 1, m - 1]


# =============================================================================
# Control flow
# =============================================================================

def piecewise_sum(x):
    total = 0.0
    for v in x:
        if v > 1.0:
            total += v ** 3
        elif v > 0.0:
            total += np.sin(v)
        else:
            total -= 0.5 * v
    return total


def branch_on_scalar(x):
    if x > 2.0:
        y = np.log(x) * x
    elif x > 0.5:
        y = x ** 2 - 1.0
    else:
        y = np.exp(x)
    return 3.0 * y


def branch_on_reduction(x):
    if np.sum(x) > 0.0:
        return np.sum(x ** 2)
    return -np.sum(np.exp(x))


def weighted_range_loop(x):
    total = 0.0
    for i in range(len(x)):
        total = total + (i + 1) * x[i] ** 2 - np.cos(x[i])
    return total


def loop_over_rows(A):
    total = 0.0
    for row in A:
        total += np.sum(np.tanh(row)) * row[0]
    return total


def grow_until(x):
    y = x
    steps = 0
    while np.sum(y ** 2) < 50.0:
        y = 1.5 * y + 0.1 * np.sin(y)
        steps += 1
    return np.sum(y) + steps


def sum_until_break(x):
    total = 0.0
    for v in x:
        if v > 2.0:
            break
        total += v ** 2
    return total


def skip_negatives(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0.0:
            continue
        total += np.sqrt(x[i]) * i
    return total


def first_negative_or_sum(x):
    for i in range(x.shape[0]):
        if x[i] < 0.0:
            return x[i] ** 2 * (i + 1)
    return np.sum(x)


def nested_loops(A, x):
    acc = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            acc += A[i, j] * x[j] ** (i + 1)
            if j > i:
                acc += np.sin(A[i, j] * x[j])
    return acc


def long_loop_overwrite(x):
    y = x
    for t in range(1000):
        y = y + 0.001 * (np.sin(y) * x - 0.5 * y)
    return np.sum(y ** 2)


def long_loop_inplace(x):
    y = x.copy()
    n = y.shape[0]
    for t in range(1000):
        i = t % n
        y[i] = 0.999 * y[i] + 0.001 * np.cos(y[(i + 1) % n])
    return np.sum(y ** 2)


def newton_sqrt_while(a):
    x = a
    while abs(x * x - a) > 1e-10 * a:
        x = 0.5 * (x + a / x)
    return x


def geometric_tail(r, tol):
    term = 1.0
    total = 0.0
    n = 0
    while term > tol:
        total += term
        term = term * r
        n += 1
    return total + n * r


# =============================================================================
# Calls: helpers, tuples, lambdas, closures, methods, defaults, recursion
# =============================================================================

def softplus(z):
    return np.log1p(np.exp(z))


def sq_norm(v):
    return np.sum(v * v)


def calls_helpers(x):
    return np.sum(softplus(x)) + sq_norm(x - 1.0) * softplus(x[0])


def mean_and_var(x):
    m = np.mean(x)
    return m, np.mean((x - m) ** 2)


def uses_tuple_return(x):
    m, v = mean_and_var(x)
    stats = mean_and_var(x ** 2)
    return m ** 2 + v + stats[0] * stats[1]


def uses_lambda(x):
    bump = lambda z: z ** 2 + np.sin(z)  # noqa: E731
    return np.sum(bump(x) * bump(x[::-1]))


lambda_loss = lambda x: np.sum(np.sin(x) ** 2) + np.prod(np.cos(x))  # noqa: E731


def make_weighted_loss(target, weight):
    def loss(x):
        return weight * np.sum((x - target) ** 2) + np.sum(np.exp(-weight * x))
    return loss


weighted_loss = make_weighted_loss(np.array([0.5, -1.0, 2.0, 0.0]), 0.7)


def make_regularized(loss_fn, lam):
    def regularized(w):
        return loss_fn(w) + lam * np.sum(w ** 2)
    return regularized


regularized_loss = make_regularized(weighted_loss, 0.1)


class TanhModel:
    def __init__(self, scale, center):
        self.scale = scale
        self.center = center

    def penalty(self, x):
        return 0.1 * np.sum(x ** 2)

    def loss(self, x):
        d = x - self.center
        return self.scale * np.sum(np.tanh(d) ** 2) + self.penalty(x)


tanh_model = TanhModel(1.5, np.array([0.2, -0.4, 0.9]))


def huber(r, delta=1.0):
    a = np.abs(r)
    return np.sum(np.where(a < delta, 0.5 * r ** 2, delta * (a - 0.5 * delta)))


def with_defaults(x, scale=2.0, power=3):
    return scale * np.sum(x ** power) + huber(x) + huber(2.0 * x, delta=0.5)


def halve_until_small(x):
    if x < 1.0:
        return x ** 2
    return x + halve_until_small(0.5 * x)


def power_recursive(x, n):
    if n == 0:
        return np.ones_like(x)
    return x * power_recursive(x, n - 1)


def uses_power_recursive(x, n):
    return np.sum(power_recursive(x, n))


# =============================================================================
# Realistic
# =============================================================================

def mlp_loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    pred = h @ W2 + b2
    return np.mean((pred - y) ** 2)


def logistic_loss(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z))) + 1e-2 * np.sum(w ** 2)


def least_squares(x, A, b):
    r = A @ x - b
    return r @ r


def softmax_cross_entropy(W, X, labels):
    logits = X @ W
    logits = logits - np.max(logits, axis=1, keepdims=True)
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def rnn_loss(Wh, Wx, h0, xs):
    h = h0
    loss = 0.0
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
        loss += np.sum(h ** 2)
    return loss


def euler_oscillator(params, y0):
    omega, damping = params[0], params[1]
    y = y0.copy()
    dt = 0.01
    for step in range(200):
        dy = np.array([y[1], -omega ** 2 * y[0] - damping * y[1]])
        y = y + dt * dy
    return y[0] ** 2 + 0.5 * y[1]


def lotka_volterra(theta, u0):
    a, b, c, d = theta
    u = u0.copy()
    dt = 0.01
    total = 0.0
    for step in range(300):
        du = np.empty(2)
        du[0] = a * u[0] - b * u[0] * u[1]
        du[1] = d * u[0] * u[1] - c * u[1]
        u = u + dt * du
        total += u[0] * dt
    return total + u[1]


def newton_cube_root(a):
    x = a
    for _ in range(20):
        x = x - (x ** 3 - a) / (3.0 * x ** 2)
    return x


def horner(coeffs, x):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def ridge_regression(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + lam * np.sum(w ** 2)


def rbf_kernel_sum(X, lengthscale):
    D = X[:, None, :] - X[None, :, :]
    sq = np.sum(D ** 2, axis=-1)
    K = np.exp(-0.5 * sq / lengthscale ** 2)
    return np.sum(K) + np.trace(K @ K) / X.shape[0]


def attention_pool(Q, K, V):
    scores = Q @ K.T / np.sqrt(Q.shape[1])
    scores = scores - scores.max(axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=1, keepdims=True)
    return np.sum((w @ V) ** 2)


def layer_norm_loss(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    out = gamma * xhat + beta
    return np.sum(out ** 2 * np.arange(1, x.shape[-1] + 1))


def poisson_regression(w, X, counts):
    eta = X @ w
    return np.sum(np.exp(eta) - counts * eta)


def trapezoid_integral(a, b):
    t = np.linspace(0.0, 1.0, 101)
    f = np.exp(-a * t ** 2) * np.cos(b * t)
    dt = t[1] - t[0]
    return dt * (np.sum(f) - 0.5 * (f[0] + f[-1]))


def soft_kmeans(X, C, beta):
    d = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=2)
    w = np.exp(-beta * d)
    w = w / np.sum(w, axis=1, keepdims=True)
    return np.sum(w * d)


def gradient_descent_steps(w0, A, b):
    w = w0.copy()
    for it in range(25):
        g = A.T @ (A @ w - b)
        w -= 0.05 * g
    return np.sum((A @ w - b) ** 2)


# =============================================================================
# Vector-valued functions (for vjp / jvp / jacobians)
# =============================================================================

def v_elementwise(x):
    return np.sin(x) * np.exp(-x ** 2)


def v_matvec(A, x):
    return np.tanh(A @ x)


def v_softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def v_cumsum_sq(x):
    return np.cumsum(x ** 2)


def v_polar_to_cartesian(r, theta):
    return np.array([r * np.cos(theta), r * np.sin(theta)])


def v_matrix_product(A, B):
    return A @ B


def v_outer(x, y):
    return np.outer(x, y)


def v_cross(a, b):
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def v_ode_trajectory(theta, y0):
    traj = np.zeros((20, 2))
    y = y0.copy()
    for t in range(20):
        y = y + 0.05 * np.array([y[1], -theta * np.sin(y[0])])
        traj[t] = y
    return traj


def v_normalize(x):
    return x / np.linalg.norm(x)


def v_solve(A, b):
    return np.linalg.solve(A, b)


def v_inverse(A):
    return np.linalg.inv(A)


def v_piecewise(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            out[i] = x[i] ** 2
        elif x[i] < -0.5:
            out[i] = -x[i]
        else:
            out[i] = np.sin(x[i])
    return out


def v_features(x):
    return np.concatenate([x, x ** 2, np.sin(x)])


def v_row_stats(A):
    return np.stack([A.mean(axis=1), A.std(axis=1)], axis=1)


def v_rnn_states(Wh, h0, xs):
    states = np.zeros((xs.shape[0], h0.shape[0]))
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
        states[t, :] = h
    return states


def v_reshape_transpose(x):
    return x.reshape(2, 3).T ** 2


# =============================================================================
# The table
# =============================================================================

def _grow_ok(x):
    y = x
    for _ in range(60):
        s = np.sum(y ** 2)
        if abs(s - 50.0) < 2.0:
            return False
        if s >= 50.0:
            return True
        y = 1.5 * y + 0.1 * np.sin(y)
    return False


def _newton_ok(a):
    """The iteration count is the same a little to either side: no switch within FD steps."""
    def count(a):
        x, n = a, 0
        while abs(x * x - a) > 1e-10 * a:
            x, n = 0.5 * (x + a / x), n + 1
        return n
    return count(a) == count(a * (1 + 1e-4)) == count(a * (1 - 1e-4))


def _geometric_ok(r, tol):
    k = math.log(tol) / math.log(r)   # the loop switches where r**n == tol
    return abs(k - round(k)) > 0.1


def _break_input(r):
    x = r.uniform(-1.5, 1.5, 7)
    x[3] = r.uniform(2.5, 3.0)
    return (x,)


def _first_negative(r):
    x = r.uniform(0.3, 2.0, 6)
    x[2] = r.uniform(-2.0, -0.3)
    return (x,)


def _mlp(r):
    X = r.standard_normal((8, 3))
    return (0.5 * r.standard_normal((3, 5)), 0.1 * r.standard_normal(5), 0.5 * r.standard_normal(5),
            0.1 * float(r.standard_normal()), X, np.sin(X[:, 0]) + 0.5 * X[:, 1])


def _classification(r):
    X = r.standard_normal((10, 3))
    return (0.5 * r.standard_normal(3), X, r.choice([-1.0, 1.0], 10))


def _hinge_margins_ok(w, X, y):
    return np.min(np.abs(1.0 - y * (X @ w))) > 0.05


def _masked_ok(A):
    return (np.min(np.abs(A - 0.5)) > 0.1 and np.min(np.abs(A + 0.5)) > 0.1
            and np.min(np.abs(A[:, 1])) > 0.1 and np.any(A[:, 1] > 0.0))


CORPUS = [
    # elementwise
    Case("poly_broadcast", poly_broadcast, lambda r: (_n(r, 3, 4), _n(r, 4)), (0, 1),
         {"arith", "power", "broadcast", "matrix", "vector", "multi_argnums"}),
    Case("column_broadcast", column_broadcast,
         lambda r: (_u(r, -1.0, 1.0, 3, 4), _n(r, 3), _u(r, 0.5, 2.0)), (0, 1, 2),
         {"arith", "power", "broadcast", "shape", "matrix", "vector", "scalar_input", "multi_argnums"}),
    Case("powers", powers, lambda r: (_u(r, 0.5, 2.0, 5),), 0, {"power", "elementwise", "vector"}),
    Case("exp_log_family", exp_log_family, lambda r: (_u(r, 0.2, 3.0, 5),), 0, {"elementwise", "vector"}),
    Case("trig", trig, lambda r: (_u(r, 0.2, 2.5, 5),), 0, {"elementwise", "power", "vector"}),
    Case("inverse_trig", inverse_trig, lambda r: (_u(r, -0.8, 0.8, 5),), 0, {"elementwise", "vector"}),
    Case("polar_angle", polar_angle, lambda r: (_u(r, -2.0, 2.0, 4), _u(r, 0.3, 2.0, 4)), (0, 1),
         {"elementwise", "vector", "multi_argnums"}),
    Case("hyperbolic", hyperbolic, lambda r: (_u(r, -1.5, 1.5, 5),), 0, {"elementwise", "vector"}),
    Case("abs_sign", abs_sign, lambda r: (_away(r, -2.0, 2.0, 5, [0.0], 0.2),), 0,
         {"abs_sign", "nondiff", "index_read", "vector"}),
    Case("maximum_minimum", maximum_minimum,
         lambda r: _until(r, lambda r: (_away(r, -2.0, 2.0, 6, [0.5]), _n(r, 6)),
                          lambda x, y: np.min(np.abs(x - y)) > 0.1), (0, 1),
         {"maximum_minimum", "vector", "multi_argnums", "broadcast"}),
    Case("clipped", clipped, lambda r: (_away(r, -2.0, 2.0, 8, [-1.0, 0.0, 1.0]),), 0, {"clip", "vector"}),
    Case("where_branches", where_branches, lambda r: (_away(r, -0.9, 2.5, 8, [0.0, 1.0]),), 0,
         {"where", "elementwise", "vector"}),
    Case("math_scalar", math_scalar, lambda r: (_u(r, 0.3, 3.0),), 0, {"math_module", "scalar_input"}),
    Case("math_inverse_hyperbolic", math_inverse_hyperbolic, lambda r: (_u(r, 0.1, 0.8),), 0,
         {"math_module", "scalar_input", "abs_sign"}),
    Case("scalar_times_vector", scalar_times_vector, lambda r: (_u(r, 0.5, 1.5), _n(r, 4)), (0, 1),
         {"scalar_input", "vector", "broadcast", "multi_argnums", "index_read"}),
    # reductions
    Case("reductions_axis", reductions_axis, lambda r: (_n(r, 3, 4),), 0, {"reduction", "axis", "matrix"}),
    Case("standardize", standardize, lambda r: (_n(r, 5, 3),), 0,
         {"reduction", "axis", "keepdims", "broadcast", "matrix"}),
    Case("sample_variance", sample_variance, lambda r: (_n(r, 6),), 0, {"reduction", "vector"}),
    Case("products", products,
         lambda r: (_away(r, -1.5, 1.5, 4, [0.0], 0.5), _away(r, -1.5, 1.5, (3, 3), [0.0], 0.5)), (0, 1),
         {"reduction", "axis", "keepdims", "vector", "matrix", "multi_argnums"}),
    Case("extremes", extremes, lambda r: (_distinct(r, 3, 4),), 0, {"reduction", "axis", "keepdims", "matrix"}),
    Case("cumulative", cumulative, lambda r: (_n(r, 5), _n(r, 3, 4)), (0, 1),
         {"cumsum", "axis", "index_read", "vector", "matrix", "multi_argnums"}),
    Case("covariance_trace", covariance_trace, lambda r: (_n(r, 6, 3),), 0,
         {"reduction", "keepdims", "matmul", "shape", "matrix"}),
    # products and shapes
    Case("dot_forms", dot_forms, lambda r: (_n(r, 4), _n(r, 4)), (0, 1), {"matmul", "vector", "multi_argnums"}),
    Case("matmul_forms", matmul_forms, lambda r: (_n(r, 3, 3), _n(r, 3, 4), _n(r, 3)), (0, 1, 2),
         {"matmul", "shape", "matrix", "vector", "multi_argnums"}),
    Case("trace_outer", trace_outer, lambda r: (_n(r, 3), _n(r, 3), _n(r, 3, 3)), (0, 1, 2),
         {"matmul", "matrix", "vector", "multi_argnums"}),
    Case("einsum_forms", einsum_forms, lambda r: (_n(r, 3, 3), _n(r, 3, 4), _n(r, 3)), (0, 1, 2),
         {"einsum", "matrix", "vector", "multi_argnums"}),
    Case("einsum_batched", einsum_batched, lambda r: (_n(r, 2, 3, 4, scale=0.5), _n(r, 2, 4, 2, scale=0.5)),
         (0, 1), {"einsum", "matrix", "multi_argnums"}),
    Case("transposes", transposes, lambda r: (_n(r, 3, 3), _n(r, 2, 3, 4)), (0, 1),
         {"shape", "matmul", "index_read", "matrix", "multi_argnums"}),
    Case("reshapes", reshapes, lambda r: (_n(r, 12),), 0, {"shape", "index_read", "vector"}),
    Case("broadcasting_to", broadcasting_to, lambda r: (_n(r, 3), _n(r, 4, 3)), (0, 1),
         {"shape", "broadcast", "vector", "matrix", "multi_argnums"}),
    Case("concat_stack", concat_stack, lambda r: (_n(r, 3), _n(r, 4), _n(r, 2, 3)), (0, 1, 2),
         {"concat", "index_read", "matmul", "vector", "matrix", "multi_argnums"}),
    # indexing reads
    Case("index_reads", index_reads, lambda r: (_n(r, 6), _n(r, 3, 4)), (0, 1),
         {"index_read", "vector", "matrix", "multi_argnums"}),
    Case("gather_int_array", gather_int_array, lambda r: (_n(r, 5), _n(r, 3, 4)), (0, 1),
         {"index_read", "int_index", "vector", "matrix", "multi_argnums"}),
    Case("boolean_mask", boolean_mask, lambda r: (_away(r, -0.9, 2.0, 8, [-0.5, 0.0, 0.3]),), 0,
         {"index_read", "mask", "vector"}),
    Case("masked_matrix", masked_matrix, lambda r: _until(r, lambda r: (_n(r, 4, 3),), _masked_ok), 0,
         {"index_read", "mask", "where", "matrix"}),
    # in-place writes
    Case("setitem_scalars", setitem_scalars, lambda r: (_n(r, 3),), 0, {"index_write", "vector"}),
    Case("slice_updates", slice_updates, lambda r: (_n(r, 5),), 0,
         {"index_write", "copy", "augassign", "vector"}),
    Case("recurrence_copy", recurrence_copy, lambda r: (_n(r, 6),), 0,
         {"index_write", "copy", "for_range", "vector"}),
    Case("masked_updates", masked_updates, lambda r: (_away(r, -2.0, 2.0, 8, [-0.5, 0.0, 0.5, 1.0]),), 0,
         {"index_write", "mask", "copy", "abs_sign", "vector"}),
    Case("scatter_int_array", scatter_int_array, lambda r: (_n(r, 6),), 0,
         {"index_write", "int_index", "augassign", "vector"}),
    Case("matrix_updates", matrix_updates, lambda r: (_n(r, 3, 4),), 0,
         {"index_write", "copy", "augassign", "matrix"}),
    Case("augmented_assignments", augmented_assignments, lambda r: (_n(r, 4),), 0,
         {"augassign", "arith", "power", "vector"}),
    # linear algebra
    Case("solve_quadratic", solve_quadratic, lambda r: (_well_conditioned(r, 3), _n(r, 3)), (0, 1),
         {"linalg", "matrix", "vector", "multi_argnums"}),
    Case("solve_matrix_rhs", solve_matrix_rhs, lambda r: (_well_conditioned(r, 3), _n(r, 3, 2)), (0, 1),
         {"linalg", "matrix", "multi_argnums"}),
    Case("inverse_norm", inverse_norm, lambda r: (_well_conditioned(r, 3),), 0, {"linalg", "matmul", "matrix"}),
    Case("determinant", determinant, lambda r: (_well_conditioned(r, 3, diag=1.5),), 0, {"linalg", "matrix"}),
    Case("log_determinant", log_determinant, lambda r: (_well_conditioned(r, 3),), 0,
         {"linalg", "nondiff", "matrix"}),
    Case("norms", norms, lambda r: (_away(r, -2.0, 2.0, 3, [0.0], 0.2), _n(r, 3, 3)), (0, 1),
         {"linalg", "axis", "matmul", "vector", "matrix", "multi_argnums"}),
    Case("cholesky_logdet", cholesky_logdet, lambda r: (_n(r, 3, 3),), 0,
         {"linalg", "for_range", "index_read", "matrix"}),
    Case("gaussian_nll", gaussian_nll, lambda r: (_n(r, 3), _n(r, 3), _n(r, 3, 3, scale=0.7)), (0, 1, 2),
         {"linalg", "realistic", "vector", "matrix", "multi_argnums"}),
    # non-differentiable parts
    Case("nondifferentiable_parts", nondifferentiable_parts,
         lambda r: _until(r, lambda r: (_off_integers(r, 6),), lambda x: len(set(np.round(x, 3))) == 6), 0,
         {"nondiff", "index_read", "reduction", "vector"}),
    Case("comparisons_as_weights", comparisons_as_weights, lambda r: (_away(r, -2.0, 2.0, 6, [0.0, 0.5]),), 0,
         {"nondiff", "reduction", "vector"}),
    Case("shape_arithmetic", shape_arithmetic, lambda r: (_n(r, 3, 4),), 0, {"nondiff", "index_read", "matrix"}),
    # control flow
    Case("piecewise_sum", piecewise_sum, lambda r: (_away(r, -2.0, 2.5, 9, [0.0, 1.0]),), 0,
         {"if", "for_array", "augassign", "vector"}),
    Case("branch_on_scalar[high]", branch_on_scalar, lambda r: (_u(r, 2.5, 4.0),), 0, {"if", "scalar_input"}),
    Case("branch_on_scalar[middle]", branch_on_scalar, lambda r: (_u(r, 0.7, 1.8),), 0, {"if", "scalar_input"}),
    Case("branch_on_scalar[low]", branch_on_scalar, lambda r: (_u(r, -1.5, 0.3),), 0, {"if", "scalar_input"}),
    Case("branch_on_reduction[positive]", branch_on_reduction,
         lambda r: _until(r, lambda r: (_u(r, -0.5, 1.5, 5),), lambda x: np.sum(x) > 0.5), 0,
         {"if", "early_return", "vector"}),
    Case("branch_on_reduction[negative]", branch_on_reduction,
         lambda r: _until(r, lambda r: (_u(r, -1.5, 0.5, 5),), lambda x: np.sum(x) < -0.5), 0,
         {"if", "early_return", "vector"}),
    Case("weighted_range_loop", weighted_range_loop, lambda r: (_n(r, 6),), 0,
         {"for_range", "overwrite", "vector"}),
    Case("loop_over_rows", loop_over_rows, lambda r: (_n(r, 4, 3),), 0,
         {"for_array", "augassign", "index_read", "matrix"}),
    Case("grow_until", grow_until, lambda r: _until(r, lambda r: (_u(r, 0.2, 1.0, 3),), _grow_ok), 0,
         {"while", "overwrite", "vector"}),
    Case("sum_until_break", sum_until_break, _break_input, 0, {"for_array", "break", "if", "vector"}),
    Case("skip_negatives", skip_negatives, lambda r: (_away(r, -2.0, 2.0, 7, [0.0], 0.2),), 0,
         {"for_range", "continue", "if", "index_read", "vector"}),
    Case("first_negative_or_sum[returns_early]", first_negative_or_sum, _first_negative, 0,
         {"for_range", "early_return", "if", "vector"}),
    Case("first_negative_or_sum[runs_through]", first_negative_or_sum, lambda r: (_u(r, 0.3, 2.0, 5),), 0,
         {"for_range", "early_return", "if", "vector"}),
    Case("nested_loops", nested_loops, lambda r: (_n(r, 3, 4), _u(r, 0.5, 1.5, 4)), (0, 1),
         {"nested_loop", "for_range", "if", "power", "matrix", "vector", "multi_argnums"}),
    Case("long_loop_overwrite", long_loop_overwrite, lambda r: (_u(r, -1.0, 1.0, 3),), 0,
         {"long_loop", "for_range", "overwrite", "vector"}),
    Case("long_loop_inplace", long_loop_inplace, lambda r: (_u(r, -1.0, 1.0, 4),), 0,
         {"long_loop", "for_range", "index_write", "copy", "vector"}),
    Case("newton_sqrt_while", newton_sqrt_while, lambda r: _until(r, lambda r: (_u(r, 0.5, 20.0),), _newton_ok),
         0, {"while", "overwrite", "abs_sign", "scalar_input", "realistic"}),
    Case("geometric_tail", geometric_tail,
         lambda r: _until(r, lambda r: (_u(r, 0.3, 0.8), _u(r, 1e-3, 1e-2)), _geometric_ok), (0, 1),
         {"while", "overwrite", "augassign", "scalar_input", "multi_argnums"}),
    # calls
    Case("calls_helpers", calls_helpers, lambda r: (_n(r, 4),), 0, {"call", "elementwise", "vector"}),
    Case("uses_tuple_return", uses_tuple_return, lambda r: (_n(r, 5),), 0, {"call", "tuple_return", "vector"}),
    Case("uses_lambda", uses_lambda, lambda r: (_n(r, 4),), 0, {"lambda", "index_read", "vector"}),
    Case("lambda_loss", lambda_loss, lambda r: (_n(r, 4),), 0, {"lambda", "reduction", "vector"}),
    Case("weighted_loss", weighted_loss, lambda r: (_n(r, 4),), 0, {"closure", "vector"}),
    Case("regularized_loss", regularized_loss, lambda r: (_n(r, 4),), 0, {"closure", "call", "vector"}),
    Case("tanh_model.loss", tanh_model.loss, lambda r: (_n(r, 3),), 0, {"method", "call", "vector"}),
    Case("with_defaults", with_defaults, lambda r: (_away(r, -1.5, 1.5, 6, [-1.0, -0.25, 0.0, 0.25, 1.0]),), 0,
         {"default_arg", "call", "where", "abs_sign", "vector"}),
    Case("halve_until_small[shallow]", halve_until_small, lambda r: (_u(r, 2.2, 3.8),), 0,
         {"recursion", "if", "early_return", "scalar_input"}),
    Case("halve_until_small[deep]", halve_until_small, lambda r: (_u(r, 9.0, 15.0),), 0,
         {"recursion", "if", "early_return", "scalar_input"}),
    Case("uses_power_recursive", uses_power_recursive, lambda r: (_u(r, 0.5, 1.5, 4), 3), 0,
         {"recursion", "call", "int_arg", "vector"}),
    # realistic
    Case("mlp_loss", mlp_loss, _mlp, (0, 1, 2, 3),
         {"realistic", "matmul", "broadcast", "elementwise", "reduction", "scalar_input", "matrix", "vector",
          "multi_argnums"}),
    Case("logistic_loss", logistic_loss, _classification, 0, {"realistic", "matmul", "elementwise", "vector"}),
    Case("hinge_loss", lambda w, X, y: np.mean(np.maximum(0.0, 1.0 - y * (X @ w))) + 0.05 * w @ w,
         lambda r: _until(r, _classification, _hinge_margins_ok), 0,
         {"realistic", "lambda", "maximum_minimum", "matmul", "vector"}),
    Case("least_squares", least_squares, lambda r: (_n(r, 3), _n(r, 6, 3), _n(r, 6)), (0, 1, 2),
         {"realistic", "matmul", "vector", "matrix", "multi_argnums"}),
    Case("softmax_cross_entropy", softmax_cross_entropy,
         lambda r: (_n(r, 3, 4), _n(r, 6, 3), r.integers(0, 4, 6)), 0,
         {"realistic", "reduction", "axis", "keepdims", "int_index", "matrix"}),
    Case("logsumexp", logsumexp, lambda r: (_distinct(r, 6),), 0, {"realistic", "reduction", "vector"}),
    Case("rnn_loss", rnn_loss,
         lambda r: (_n(r, 3, 3, scale=0.5), _n(r, 3, 2, scale=0.5), _n(r, 3), _n(r, 4, 2)), (0, 1, 2),
         {"realistic", "for_array", "overwrite", "matmul", "matrix", "vector", "multi_argnums"}),
    Case("euler_oscillator", euler_oscillator, lambda r: (_u(r, 0.8, 1.5, 2), _n(r, 2)), (0, 1),
         {"realistic", "for_range", "overwrite", "concat", "copy", "vector", "multi_argnums"}),
    Case("lotka_volterra", lotka_volterra,
         lambda r: (_u(r, 0.8, 1.2, 4) * np.array([1.0, 0.5, 1.0, 0.3]), _u(r, 0.5, 1.5, 2)), (0, 1),
         {"realistic", "for_range", "overwrite", "index_write", "copy", "vector", "multi_argnums"}),
    Case("newton_cube_root", newton_cube_root, lambda r: (_u(r, 2.0, 8.0),), 0,
         {"realistic", "for_range", "overwrite", "scalar_input"}),
    Case("horner", horner, lambda r: (_n(r, 5), _u(r, -1.2, 1.2)), (0, 1),
         {"realistic", "for_array", "overwrite", "vector", "scalar_input", "multi_argnums"}),
    Case("ridge_regression", ridge_regression, lambda r: (_n(r, 3), _n(r, 8, 3), _n(r, 8), _u(r, 0.1, 1.0)),
         (0, 3), {"realistic", "matmul", "scalar_input", "vector", "multi_argnums"}),
    Case("rbf_kernel_sum", rbf_kernel_sum, lambda r: (_n(r, 5, 2), _u(r, 0.7, 1.5)), (0, 1),
         {"realistic", "shape", "broadcast", "reduction", "axis", "matmul", "matrix", "scalar_input",
          "multi_argnums"}),
    Case("attention_pool", attention_pool, lambda r: (_n(r, 3, 4), _n(r, 5, 4), _n(r, 5, 2)), (0, 1, 2),
         {"realistic", "matmul", "reduction", "keepdims", "matrix", "multi_argnums"}),
    Case("layer_norm_loss", layer_norm_loss, lambda r: (_n(r, 3, 4), _u(r, 0.5, 1.5, 4), _n(r, 4)), (0, 1, 2),
         {"realistic", "reduction", "keepdims", "broadcast", "matrix", "vector", "multi_argnums"}),
    Case("poisson_regression", poisson_regression,
         lambda r: (_n(r, 3, scale=0.3), _n(r, 10, 3), r.poisson(1.5, 10).astype(np.float64)), 0,
         {"realistic", "matmul", "elementwise", "vector"}),
    Case("trapezoid_integral", trapezoid_integral, lambda r: (_u(r, 0.5, 2.0), _u(r, 1.0, 3.0)), (0, 1),
         {"realistic", "elementwise", "index_read", "scalar_input", "multi_argnums"}),
    Case("soft_kmeans", soft_kmeans, lambda r: (_n(r, 6, 2), _n(r, 3, 2), _u(r, 0.5, 1.5)), (0, 1, 2),
         {"realistic", "shape", "broadcast", "axis", "keepdims", "matrix", "scalar_input", "multi_argnums"}),
    Case("gradient_descent_steps", gradient_descent_steps, lambda r: (_n(r, 3), _n(r, 6, 3, scale=0.8), _n(r, 6)),
         (0, 1, 2), {"realistic", "for_range", "augassign", "copy", "matmul", "vector", "matrix",
                     "multi_argnums"}),
]

VECTOR_CORPUS = [
    Case("v_elementwise", v_elementwise, lambda r: (_n(r, 5),), 0, {"elementwise", "vector"}),
    Case("v_matvec", v_matvec, lambda r: (_n(r, 4, 3), _n(r, 3)), (0, 1),
         {"matmul", "matrix", "vector", "multi_argnums"}),
    Case("v_softmax", v_softmax, lambda r: (_distinct(r, 5),), 0, {"reduction", "vector"}),
    Case("v_cumsum_sq", v_cumsum_sq, lambda r: (_n(r, 5),), 0, {"cumsum", "vector"}),
    Case("v_polar_to_cartesian", v_polar_to_cartesian, lambda r: (_u(r, 0.5, 2.0), _u(r, -3.0, 3.0)), (0, 1),
         {"concat", "scalar_input", "multi_argnums"}),
    Case("v_matrix_product", v_matrix_product, lambda r: (_n(r, 3, 4), _n(r, 4, 2)), (0, 1),
         {"matmul", "matrix", "multi_argnums"}),
    Case("v_outer", v_outer, lambda r: (_n(r, 3), _n(r, 4)), (0, 1), {"matmul", "vector", "multi_argnums"}),
    Case("v_cross", v_cross, lambda r: (_n(r, 3), _n(r, 3)), (0, 1),
         {"concat", "index_read", "vector", "multi_argnums"}),
    Case("v_ode_trajectory", v_ode_trajectory, lambda r: (_u(r, 0.5, 2.0), _n(r, 2)), (0, 1),
         {"for_range", "index_write", "overwrite", "concat", "scalar_input", "vector", "multi_argnums"}),
    Case("v_normalize", v_normalize, lambda r: (_n(r, 4),), 0, {"linalg", "vector"}),
    Case("v_solve", v_solve, lambda r: (_well_conditioned(r, 3), _n(r, 3)), (0, 1),
         {"linalg", "matrix", "vector", "multi_argnums"}),
    Case("v_inverse", v_inverse, lambda r: (_well_conditioned(r, 3),), 0, {"linalg", "matrix"}),
    Case("v_piecewise", v_piecewise, lambda r: (_away(r, -2.0, 2.0, 8, [-0.5, 0.5]),), 0,
         {"if", "for_range", "index_write", "vector"}),
    Case("v_features", v_features, lambda r: (_n(r, 4),), 0, {"concat", "vector"}),
    Case("v_row_stats", v_row_stats, lambda r: (_n(r, 3, 5),), 0, {"reduction", "axis", "concat", "matrix"}),
    Case("v_rnn_states", v_rnn_states, lambda r: (_n(r, 3, 3, scale=0.5), _n(r, 3), _n(r, 4, 3)), (0, 1, 2),
         {"for_range", "index_write", "overwrite", "matmul", "matrix", "vector", "multi_argnums"}),
    Case("v_reshape_transpose", v_reshape_transpose, lambda r: (_n(r, 6),), 0, {"shape", "vector"}),
]
