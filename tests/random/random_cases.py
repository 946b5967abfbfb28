"""The table of tp.random calls whose results JAX recorded.

Shared by tools/make_random_reference.py (which runs each case with
jax.random, x64 enabled, in both Threefry schemes, and writes
reference_data.npz) and test_random_reference.py (which runs each case with
tp.random and compares).  A case is written against a JAX-like module ``R``
(``jax.random`` or ``tp.random``) and a key maker, so the same code drives
both; nothing here imports JAX.

Each case: (name, scheme, kind, seed, fn, args, kwargs) where scheme is
'classic' or 'partitionable', kind 'raw' (PRNGKey) or 'typed' (key), and
``fn`` names a function of R (or one of the key-only pseudo functions
below).  ``args``/``kwargs`` hold plain Python values; strings naming
dtypes are passed through.
"""
import numpy as np

SEEDS = (0, 1, 42, 1234, 2 ** 32 + 5, -7)
SHAPES = ((), (1,), (3,), (2, 5), (7,), (4, 3, 2))
FLOATS = ("float32", "float64")


def _cases():
    out = []

    def add(scheme, kind, seed, fn, *args, **kwargs):
        name = f"{fn}|{scheme}|{kind}|{seed}|{args!r}|{sorted(kwargs.items())!r}"
        out.append((name, scheme, kind, seed, fn, args, kwargs))

    for scheme, kinds in (("classic", ("raw", "typed")), ("partitionable", ("typed",))):
        for kind in kinds:
            for seed in SEEDS:
                add(scheme, kind, seed, "key_data")
                for num in (1, 2, 3, 5, (2, 3)):
                    add(scheme, kind, seed, "split", num)
                for d in (0, 1, 17, 2 ** 32 - 1):
                    add(scheme, kind, seed, "fold_in", d)
                add(scheme, kind, seed, "split_then_fold", 3, 99)
        kind = kinds[0]
        for seed in SEEDS:
            for shape in SHAPES:
                for dt in FLOATS:
                    add(scheme, kind, seed, "uniform", shape, dt)
                    add(scheme, kind, seed, "normal", shape, dt)
                for dt in ("uint8", "uint16", "uint32", "uint64"):
                    add(scheme, kind, seed, "bits", shape, dt)
        for seed in SEEDS[:4]:
            for dt in FLOATS:
                add(scheme, kind, seed, "uniform", (3, 4), dt, minval=-2.0, maxval=3.5)
                add(scheme, kind, seed, "uniform", (2, 3), dt, minval=[0.0, -1.0, 10.0], maxval=1e3)
                add(scheme, kind, seed, "normal", (1001,), dt)
                add(scheme, kind, seed, "exponential", (257,), dt)
                add(scheme, kind, seed, "gumbel", (257,), dt)
                add(scheme, kind, seed, "gumbel", (31,), dt, mode="high")
                add(scheme, kind, seed, "truncated_normal", -1.5, 0.75, (101,), dt)
                add(scheme, kind, seed, "truncated_normal", [-3.0, 0.0, 1.0], [3.0, 0.5, 2.5], None, dt)
                add(scheme, kind, seed, "gamma", [0.3, 1.0, 2.5, 10.0, 0.05], None, dt)
                add(scheme, kind, seed, "gamma", 1.7, (64,), dt)
                add(scheme, kind, seed, "multivariate_normal", [1.0, -2.0, 0.5],
                    [[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]], (5,), dt)
            add(scheme, kind, seed, "bernoulli", 0.3, (50,))
            add(scheme, kind, seed, "bernoulli", [0.1, 0.5, 0.9])
            add(scheme, kind, seed, "bernoulli_f32", 0.7, (40,))
            add(scheme, kind, seed, "bernoulli", 0.25, (30,), mode="high")
            for dt, lo, hi in (("int64", 0, 10), ("int64", -5, 1000003), ("int32", 0, 7),
                               ("int32", -2 ** 31, 2 ** 31 - 1), ("int8", -100, 100),
                               ("uint8", 0, 256), ("int64", 5, 5), ("uint32", 3, 2 ** 32),
                               ("int64", -2 ** 63, 2 ** 63 - 1), ("uint64", 0, 2 ** 63 - 1)):
                add(scheme, kind, seed, "randint", (17,), lo, hi, dt)
            add(scheme, kind, seed, "randint", (2, 3), [0, 10, 100], 1000)
            add(scheme, kind, seed, "permutation", 10)
            add(scheme, kind, seed, "permutation", 2000)
            add(scheme, kind, seed, "permutation", [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], axis=1)
            add(scheme, kind, seed, "permutation", [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
            add(scheme, kind, seed, "permutation", [[1, 2, 3], [4, 5, 6], [7, 8, 9]], axis=1, independent=True)
            add(scheme, kind, seed, "choice", 10, (6,))
            add(scheme, kind, seed, "choice", 10, (6,), False)
            add(scheme, kind, seed, "choice", [5.0, 6.0, 7.0, 8.0], (3, 2), True, [0.1, 0.2, 0.3, 0.4])
            add(scheme, kind, seed, "choice", 5, (3,), False, [0.1, 0.2, 0.3, 0.2, 0.2])
            add(scheme, kind, seed, "choice", [[1, 2, 3], [4, 5, 6]], (4,), True, None, 1)
            add(scheme, kind, seed, "categorical", [0.1, 2.0, -1.0, 0.5])
            add(scheme, kind, seed, "categorical", [0.1, 2.0, -1.0, 0.5], -1, (20,))
            add(scheme, kind, seed, "categorical", [[0.0, 1.0, 2.0], [3.0, 0.0, -3.0]], 0)
            add(scheme, kind, seed, "categorical", [[0.0, 1.0, 2.0, 0.5], [3.0, 0.0, -3.0, 1.0]], 1, (3, 2), False)
        # float32 transcendentals on many values: XLA's own logf (normal,
        # exponential, gumbel, truncated_normal) differs from libm's in the last
        # bit for 1 input in 7, and its rsqrt (gamma) is the CPU's rsqrtss
        for seed in SEEDS[4:]:
            add(scheme, kind, seed, "normal", (20000,), "float32")
            add(scheme, kind, seed, "exponential", (5000,), "float32")
            add(scheme, kind, seed, "gumbel", (5000,), "float32")
            add(scheme, kind, seed, "gumbel", (2000,), "float32", mode="high")
            add(scheme, kind, seed, "truncated_normal", -0.5, 2.5, (5000,), "float32")
            for dt in FLOATS:
                add(scheme, kind, seed, "gamma", GAMMA_SHAPES, None, dt)
    return out


#: gamma shape parameters, below 1 (boosted, a pow) and above
GAMMA_SHAPES = [round(0.02 + 0.037 * i, 3) for i in range(600)]


CASES = _cases()


def run(R, make_key, case):
    """The result of ``case`` with the random module R, as a NumPy array.
    ``make_key(seed, kind, scheme)`` makes the key of the case."""
    name, scheme, kind, seed, fn, args, kwargs = case
    key = make_key(seed, kind, scheme)

    def data(k):
        return np.asarray(R.key_data(k)) if kind == "typed" else np.asarray(k)

    def arr(v):
        return np.asarray(v) if isinstance(v, list) else v

    args = tuple(arr(a) for a in args)
    kwargs = {k: arr(v) for k, v in kwargs.items()}
    if fn == "key_data":
        return data(key)
    if fn == "split":
        return data(R.split(key, *args))
    if fn == "fold_in":
        return data(R.fold_in(key, *args))
    if fn == "split_then_fold":
        num, d = args
        return data(R.fold_in(R.split(key, num)[1], d))
    if fn == "bernoulli_f32":
        return np.asarray(R.bernoulli(key, np.float32(args[0]), *args[1:], **kwargs))
    if fn == "bits":
        shape, dt = args
        return np.asarray(R.bits(key, shape, np.dtype(dt)))
    if fn in ("uniform", "normal", "exponential", "gumbel"):
        shape, dt = args
        return np.asarray(getattr(R, fn)(key, shape, np.dtype(dt), **kwargs))
    if fn in ("truncated_normal", "gamma", "multivariate_normal"):
        *rest, dt = args
        return np.asarray(getattr(R, fn)(key, *rest, dtype=np.dtype(dt), **kwargs))
    if fn == "randint":
        shape, lo, hi, *dt = args
        if dt:
            kwargs["dtype"] = np.dtype(dt[0])
        return np.asarray(R.randint(key, shape, lo, hi, **kwargs))
    return np.asarray(getattr(R, fn)(key, *args, **kwargs))


#: gamma_grad_reference.npz: JAX's gradients of gamma w.r.t. its shape a
GAMMA_GRAD_SEEDS = (0, 1, 42)
GAMMA_GRAD_ALPHAS = (0.05, 0.3, 1.0, 1.7, 4.0, 25.0)
GAMMA_GRAD_N = 40
