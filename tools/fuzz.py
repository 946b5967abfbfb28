#!/usr/bin/env python
"""Differential fuzzer for transpile: generated NumPy programs against oracles.

    python tools/fuzz.py --n 300 --seed 1                 # eager transformations
    python tools/fuzz.py --n 40 --seed 1 --jit            # tp.jit, jit(grad), a second process
    python tools/fuzz.py --n 100 --features rebinding,containers --checks grad,vjp
    python tools/fuzz.py --n 300 --seed 1 --save          # shrink failures into tests/fuzz/regressions/
    python tools/fuzz.py --seed 1 --start 42 --n 1 -v      # program 42 of seed 1 alone
    python tools/fuzz.py --list-features

The last line printed is always

    fuzz: N programs, A agree, R refused, W wrong, C crash (per program x transformation check; ...)

What it does, per program:

1. **Generate.** A seeded generator (`ProgramGen`) writes a small module of NumPy
   code: a function `f` of one or two arguments (Python floats, float64 arrays of
   shapes (3,), (2,) and (2, 3)) and module-level helpers (pure, mutating their
   argument, recursive, taking a tuple/list). Each statement and expression kind
   belongs to a *feature* (`FEATURES`: rebinding, containers, aliases, views,
   inplace, fancy, loops, while, break, early_return, if, helpers, recursion,
   reductions, broadcasting, masks, where, math, kinks, matmul, argmut), weighted
   and switchable with `--features`. The module is written to a real `.py` file in
   a temporary directory (transpile reads source with `inspect.getsource`) and
   imported under a unique module name. Plain Python runs it on the inputs first;
   a program that raises, overflows a NumPy value, or returns something non-finite or huge,
   is resampled.

2. **Check** each applicable transformation against its oracle (`CHECKS`):

   - grad, value_and_grad (scalar outputs), vjp, jvp, jacfwd, jacrev, hessian
     (scalar outputs): against central finite differences taken with two relative
     steps (1e-4 and 1e-6; 1e-3 and 1e-4 for second differences, on at most 6
     input coordinates); an entry where the two disagree is a kink or a branch
     switch and is not judged. Also against each other: vjp and value_and_grad vs
     grad, jacrev vs jacfwd, jvp vs jacfwd @ v (rtol 1e-7).
   - vmap: against the per-example Python loop over a batch of 3 examples stacked
     along axis 0 (sometimes with `in_axes` None for one argument, unless the
     program writes into that argument: the loop would compound the writes).
   - jit (`--jit`): against eager NumPy (values rtol 1e-9, shapes and dtypes), on
     two inputs of one signature (the second reuses the compiled code); jit_grad:
     jit(grad) (jit(jacrev) for array outputs) against finite differences and the
     eager transformation (run first, not counted); jit_f32: jit(f) with the
     arrays as float32 against eager NumPy on the same (dtypes exactly: NumPy 2
     keeps float32; values rtol 1e-3);
     cache (a share of --jit programs): a second process with the same
     TRANSPILE_CACHE_DIR computes jit and jit_grad again and must agree.
   - every call: nothing the caller passed in (arguments, tangents, cotangents) is
     mutated, unless the program mutates its own argument: then tp.jit writes it
     exactly as plain Python does (plain f run on a copy; for vmap, the per-example
     loop over views of the batch), and every other transformation either does the
     same or leaves it exactly as it was (the project's rule: a transformation never
     writes the caller's arrays). Judged after the numbers, so a wrong number is
     reported first (the message then adds "also: ..." for inputs).

3. **Classify** each (program, check): `agree`; `refused` (a TranspileError, not
   TranspileInternalError, whose message names the generated file and a line);
   `wrong` (a number disagreeing with its oracle, a wrong shape or dtype, a mutated
   input: keys wrong:fd, wrong:value, wrong:cross:<other check>, wrong:shape,
   wrong:dtype, wrong:mutation:write-lost / write-differs / input-written /
   tangent-written / cotangent-written); `crash` (any other exception, keyed by type
   and the innermost frame in transpile/, runtime/ or generated code; a
   TranspileError that does not name the user's file; a timeout; a dead worker
   process, e.g. a segfault); `skipped` (not judged: every finite-difference entry
   at a kink, or nothing to compare). Checks that do not apply (grad of an array
   output) are not run. Plain Python never raises on the inputs: such programs are
   resampled, so a TypeError/ValueError from a transformation is a crash unless it
   is a TranspileError naming the program's file and line.

4. **Shrink** (`--shrink`, `--save`): a failing program is reduced on its AST
   (delete statements and helpers, inline compound statements, replace an
   expression by a sub-expression, shorten loops) while plain Python still runs
   it and the same check fails with the same key; one program per failure class
   (`--per-class K`: K different programs), within `--shrink-budget` seconds each.
   `--save` writes the result to `tests/fuzz/regressions/case_*.py` (source +
   inputs + check), which `tests/fuzz/test_regressions.py` replays against the
   oracle. Failure classes: a crash site or a mutation key counts once across
   checks; a wrong number is per check.

Checks run in a worker subprocess (`--worker`), so a segfault or a hang costs one
check, not the run: each check has a time limit (`--timeout`, default 60 s eager,
300 s with --jit; plain Python gets 2 s per call when a program is generated),
after which the worker is killed and restarted. `--inprocess` runs them here
instead (debugging). Only NumPy is needed to generate programs; transpile is
imported by the worker. Generated files go to a fresh TRANSPILE_CACHE_DIR in a
temporary directory unless TRANSPILE_CACHE_DIR is set (FUZZ_KEEP=1 keeps it).
"""
import argparse
import ast
import collections
import copy
import hashlib
import importlib.util
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THIS = os.path.abspath(__file__)
REGRESSIONS_DIR = os.path.join(ROOT, "tests", "fuzz", "regressions")

# ---------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------

# name: (default weight, what it generates)
FEATURES = {
    "temporaries": (3.0, "new variables bound to expressions"),
    "rebinding": (2.5, "x = x * 2.0 + 1.0, x = (x - x.mean()) / 2, x += e"),
    "containers": (1.5, "list built by append in a loop then np.array/np.stack/np.sum, pop, "
                        "list/tuple literals, tuple unpacking, np.sum([a, b*b, 2.0]), tuple to a helper"),
    "aliases": (1.2, "w = x, then writes through w"),
    "views": (1.2, "z = y[1:]; z *= 2, writes through m[0], m.T, m.reshape(...)"),
    "inplace": (2.0, "y[i] = v, y[1:] += v, m[:, 0] *= s"),
    "fancy": (0.8, "y[np.array([0, 0, 1])] += x, y[[2, 0]] = v (repeated indices too)"),
    "loops": (2.0, "for over range (with accumulators), over rows, over elements"),
    "while": (0.8, "while with a counter and a value condition"),
    "break": (1.0, "break/continue inside loops"),
    "early_return": (0.8, "if cond: return e"),
    "if": (1.5, "if/else on values"),
    "helpers": (1.2, "module-level helper functions (pure, mutating their argument)"),
    "recursion": (0.5, "a recursive helper"),
    "reductions": (2.0, "sum/mean/max/min/prod with and without axis, indexing"),
    "broadcasting": (1.5, "(3,) with (2, 3), w[:, None] * m, scalars with arrays"),
    "masks": (0.8, "x[x > 0].sum(), x * (x > 0), y[y < 0] *= 0.5"),
    "where": (0.8, "np.where, conditional expressions"),
    "math": (2.0, "sin, cos, tanh, exp, log/sqrt of positive things"),
    "kinks": (0.6, "abs, maximum, minimum"),
    "matmul": (0.5, "@ and np.dot"),
    "argmut": (0.4, "the program writes into its own argument (share of programs)"),
}
STMT_FEATURES = ("temporaries", "rebinding", "containers", "aliases", "views", "inplace", "fancy",
                 "loops", "while", "if", "early_return", "helpers", "masks")

TYPES = ("S", "V", "W", "M")
SHAPE = {"S": (), "V": (3,), "W": (2,), "M": (2, 3)}
ONES = {"V": "np.ones(3)", "W": "np.ones(2)", "M": "np.ones((2, 3))"}
ZEROS = {"S": "0.0", "V": "np.zeros(3)", "W": "np.zeros(2)", "M": "np.zeros((2, 3))"}
CONSTS = ("0.5", "1.5", "2.0", "0.3", "0.7", "1.2", "0.25")

# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------


class Var:
    __slots__ = ("name", "type", "roots", "bound")

    def __init__(self, name, type_, roots=(), bound=None):
        self.name = name
        self.type = type_          # S V W M, or I (a loop index < bound)
        self.roots = frozenset(roots)   # parameters whose buffer this array may view
        self.bound = bound


class Helper:
    def __init__(self, name, kind, params, ret, lines, mutates=False):
        self.name = name
        self.kind = kind           # pure | mut | rec | pair
        self.params = params       # list of types ("P2" for a pair param: (T1, T2))
        self.ret = ret             # type, or None (returns nothing)
        self.lines = lines
        self.mutates = mutates


def indent(lines, n=1):
    return ["    " * n + ln for ln in lines]


class ProgramGen:
    """Writes one random module: helpers, then `def f(...)`. See FEATURES."""

    MAX_DEPTH = 2       # nesting of compound statements

    def __init__(self, rng, weights):
        self.r = rng
        self.w = dict(weights)
        self.used = set()
        self.n = 0
        self.env = {}
        self.helpers = []
        self.loops = []           # enclosing loop index Vars (None for while / iteration loops)
        self.depth = 0
        self.argmut = False
        self.out_type = "S"
        self.in_helper = None

    # -- utilities ------------------------------------------------------------
    def on(self, feat):
        return self.w.get(feat, 0) > 0

    def wt(self, feat, base=1.0):
        return self.w.get(feat, 0) * base

    def pick(self, options):
        options = [(w, v) for w, v in options if w > 0]
        total = sum(w for w, _ in options)
        x = self.r.random() * total
        for w, v in options:
            x -= w
            if x <= 0:
                return v
        return options[-1][1]

    def fresh(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self):
        return self.r.choice(CONSTS)

    def vars_of(self, type_, writable=False):
        out = [v for v in self.env.values() if v.type == type_]
        if writable:
            out = [v for v in out if self.writable(v)]
        return out

    def arrays(self, writable=False):
        return [v for v in self.env.values() if v.type in ("V", "W", "M")
                and (not writable or self.writable(v))]

    def writable(self, v):
        return v.type in ("V", "W", "M") and (not v.roots or self.argmut)

    def index_for(self, dim):
        """An index < dim: a constant or an enclosing loop's index."""
        ok = [v for v in self.loops if v is not None and v.bound <= dim]
        if ok and self.r.random() < 0.6:
            return self.r.choice(ok).name
        return str(self.r.choice([k for k in range(dim)] + [-1]))

    # -- aliasing: which parameters can the value of an expression view? ------
    def roots_of(self, node):
        if isinstance(node, str):
            node = ast.parse(node, mode="eval").body
        if isinstance(node, ast.Name):
            v = self.env.get(node.id)
            return set(v.roots) if v is not None and v.type in ("V", "W", "M") else set()
        if isinstance(node, ast.Subscript):
            return set() if self._fancy(node.slice) else self.roots_of(node.value)
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.roots_of(node.value)
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Attribute) and fn.attr in ("reshape", "ravel", "view", "transpose",
                                                             "squeeze"):
                if isinstance(fn.value, ast.Name) and fn.value.id == "np":
                    return self.roots_of(node.args[0]) if node.args else set()
                return self.roots_of(fn.value)
            if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and fn.value.id == "np" \
                    and fn.attr in ("asarray", "atleast_1d", "atleast_2d"):
                return self.roots_of(node.args[0])
            if isinstance(fn, ast.Name) and any(h.name == fn.id for h in self.helpers):
                out = set()
                for a in node.args:
                    out |= self.roots_of(a)
                return out
            return set()
        if isinstance(node, ast.IfExp):
            return self.roots_of(node.body) | self.roots_of(node.orelse)
        if isinstance(node, (ast.Tuple, ast.List)):
            out = set()
            for e in node.elts:
                out |= self.roots_of(e)
            return out
        return set()

    def _fancy(self, sl):
        if isinstance(sl, ast.Tuple):
            return any(self._fancy(e) for e in sl.elts)
        if isinstance(sl, (ast.Slice, ast.Constant)):
            return False
        if isinstance(sl, ast.UnaryOp) and isinstance(sl.operand, ast.Constant):
            return False
        if isinstance(sl, ast.Name):
            v = self.env.get(sl.id)
            return not (v is not None and v.type == "I")
        return True

    def bind(self, name, type_, src):
        roots = self.roots_of(src) if type_ in ("V", "W", "M") else set()
        self.env[name] = Var(name, type_, roots)

    # -- scopes -----------------------------------------------------------------
    def enter(self):
        return dict(self.env)

    def leave(self, saved):
        """Forget names bound inside a block; keep the conservative aliasing."""
        merged = {}
        for name, v in saved.items():
            now = self.env.get(name)
            roots = v.roots | (now.roots if now is not None and now.type == v.type else frozenset())
            merged[name] = Var(name, v.type, roots, v.bound)
        self.env = merged

    # -- expressions ----------------------------------------------------------
    def e(self, T, d=2):
        """Source of an expression of type T (S scalar, V (3,), W (2,), M (2, 3))."""
        r = self.r
        if d <= 0 or r.random() < 0.25:
            return self.leaf(T)
        opts = [(3.0, self.e_arith)]
        opts.append((self.wt("math", 1.0), self.e_math))
        opts.append((self.wt("kinks", 1.0), self.e_kink))
        opts.append((self.wt("where", 1.0), self.e_where))
        opts.append((self.wt("reductions", 1.0), self.e_reduce))
        if T in ("M", "V", "W"):
            opts.append((self.wt("broadcasting", 1.0), self.e_broadcast))
        opts.append((self.wt("masks", 0.8), self.e_mask))
        opts.append((self.wt("matmul", 1.0), self.e_matmul))
        if self.callable_helpers(T):
            opts.append((self.wt("helpers", 1.5) + self.wt("recursion", 1.5) + self.wt("containers", 0.5),
                         self.e_call))
        if T in ("S", "V", "M"):
            opts.append((self.wt("containers", 0.5), self.e_literal))
        f = self.pick(opts)
        out = f(T, d)
        return out if out is not None else self.e_arith(T, d)

    def leaf(self, T):
        r = self.r
        vs = self.vars_of(T)
        if T == "S":
            idx = [v for v in self.loops if v is not None]
            if idx and r.random() < 0.15:
                return f"({r.choice(idx).name} + {self.const()})"
            if vs and r.random() < 0.8:
                return self.choose(vs).name
            arrs = self.arrays()
            if arrs and r.random() < 0.8:
                a = r.choice(arrs)
                return self.r.choice([f"{a.name}.sum()", f"{a.name}[{self.index_for(SHAPE[a.type][0])}]"
                                      if a.type != "M" else f"{a.name}[1, {self.index_for(3)}]"])
            return self.const()
        if vs and r.random() < 0.85:
            return self.choose(vs).name
        if T == "V":
            ms = self.vars_of("M")
            if ms and r.random() < 0.5:
                return r.choice([f"{r.choice(ms).name}[{self.index_for(2)}]", f"{r.choice(ms).name}.sum(axis=0)"])
        if T == "W":
            vv = self.vars_of("V")
            if vv and r.random() < 0.5:
                return f"{r.choice(vv).name}{r.choice(['[1:]', '[:2]', '[::2]'])}"
            ms = self.vars_of("M")
            if ms and r.random() < 0.5:
                return f"{r.choice(ms).name}[:, {self.index_for(3)}]"
        if T == "M":
            vv = self.vars_of("V")
            if vv and r.random() < 0.5:
                return f"({r.choice(vv).name} * {ONES['M']})"
        return f"({self.leaf('S')} * {ONES[T]})"

    def choose(self, vs):
        """A variable, the recently bound ones more often (so fewer values are dead)."""
        if len(vs) > 1 and self.r.random() < 0.5:
            return vs[-1]
        return self.r.choice(vs)

    def other(self, T):
        """A type that broadcasts against T."""
        if T == "S":
            return "S"
        if T == "M" and self.on("broadcasting") and self.r.random() < 0.3:
            return "V"
        return self.r.choice([T, T, "S"])

    def e_arith(self, T, d):
        r = self.r
        a = self.e(T, d - 1)
        b = self.e(self.other(T), d - 1)
        k = r.random()
        if k < 0.2:
            return f"({a} / (1.0 + {b} * {b}))"
        if k < 0.28:
            return f"({a}) ** 2"
        if k < 0.33:
            return f"-({a})"
        op = r.choice(["+", "-", "*", "*"])
        if r.random() < 0.5:
            a, b = b, a
            if T != "S" and self.other(T) != T:  # keep the array on the left sometimes
                pass
        # b may be the narrower operand; both orders broadcast to T
        return f"({a} {op} {b})"

    def e_math(self, T, d):
        self.used.add("math")
        a = self.e(T, d - 1)
        return self.r.choice([
            f"np.sin({a})", f"np.cos({a})", f"np.tanh({a})", f"np.exp(np.tanh({a}))",
            f"np.exp(-({a}) ** 2)", f"np.log(1.0 + ({a}) ** 2)", f"np.sqrt(({a}) ** 2 + 0.5)",
            f"np.log(np.exp(np.sin({a})) + 1.0)",
        ])

    def e_kink(self, T, d):
        self.used.add("kinks")
        a = self.e(T, d - 1)
        b = self.e(self.other(T), d - 1)
        return self.r.choice([f"np.abs({a})", f"np.maximum({a}, {b})", f"np.minimum({a}, {self.const()})",
                              f"np.sqrt(np.abs({a}) + 0.1)"])

    def e_where(self, T, d):
        self.used.add("where")
        c = self.e(T, d - 1)
        a = self.e(T, d - 1)
        b = self.e(self.other(T), d - 1)
        if T == "S":   # np.where of numbers is a 0-d array: Python's conditional instead
            return self.r.choice([f"({a} if {c} > {self.const()} else {b})",
                                  f"({c} if {c} > 0.0 else 0.1 * {c})"])
        return self.r.choice([f"np.where({c} > {self.const()}, {a}, {b})",
                              f"np.where({c} > 0.0, {c}, 0.1 * {c})"])

    def e_reduce(self, T, d):
        self.used.add("reductions")
        r = self.r
        if T == "S":
            A = self.r.choice(["V", "W", "M", "V"])
            a = self.e(A, d - 1)
            if r.random() < 0.25:
                idx = f"{self.index_for(2)}, {self.index_for(3)}" if A == "M" else self.index_for(SHAPE[A][0])
                return f"({a})[{idx}]"
            return r.choice([f"({a}).sum()", f"np.sum({a})", f"({a}).mean()", f"np.mean({a})",
                             f"({a}).max()", f"np.min({a})", f"np.prod({a})", f"({a}).min()"])
        if T == "V":
            m = self.e("M", d - 1)
            return r.choice([f"({m}).sum(axis=0)", f"np.mean({m}, axis=0)", f"({m}).max(axis=0)",
                             f"np.prod({m}, axis=0)", f"({m})[{self.index_for(2)}]", f"np.min({m}, axis=0)",
                             f"({m})[-1, :]"])
        if T == "W":
            if r.random() < 0.5:
                m = self.e("M", d - 1)
                return r.choice([f"({m}).sum(axis=1)", f"np.mean({m}, axis=1)", f"({m}).max(axis=1)",
                                 f"({m})[:, {self.index_for(3)}]", f"np.sum({m}, axis=-1)"])
            v = self.e("V", d - 1)
            return r.choice([f"({v})[1:]", f"({v})[:2]", f"({v})[::2]", f"({v})[[2, 0]]"])
        # M
        v = self.e("V", d - 1)
        w = self.e("W", d - 1)
        self.used.add("broadcasting")
        return r.choice([f"np.outer({w}, {v})", f"np.stack([{v}, {v} * {self.const()}])",
                         f"({w})[:, None] * ({v})"])

    def e_broadcast(self, T, d):
        self.used.add("broadcasting")
        r = self.r
        if T == "M":
            m = self.e("M", d - 1)
            return r.choice([f"({self.e('V', d - 1)} * {m})", f"({m} - ({self.e('W', d - 1)})[:, None])",
                             f"({m} / (1.0 + {self.e('V', d - 1)} ** 2))",
                             f"({self.e('S', d - 1)} + {m})"])
        if T == "V":
            return r.choice([f"np.sum({self.e('M', d - 1)} * {self.e('V', d - 1)}, axis=0)",
                             f"({self.e('V', d - 1)} * {self.e('S', d - 1)})"])
        return f"(({self.e('M', d - 1)}) * {self.e('V', d - 1)}).sum(axis=1)"

    def e_mask(self, T, d):
        self.used.add("masks")
        r = self.r
        if T == "S":
            A = r.choice(["V", "M", "W"])
            a = self.e(A, d - 1)
            b = self.leaf(A)
            return r.choice([f"({a})[{b} > 0.0].sum()", f"np.sum(np.where({b} > 0.0, {a}, 0.0))",
                             f"(({a}) * ({b} > {self.const()})).sum()"])
        a = self.e(T, d - 1)
        b = self.leaf(T)
        return f"(({a}) * ({b} > 0.0))"

    def e_matmul(self, T, d):
        self.used.add("matmul")
        r = self.r
        if T == "S":
            return r.choice([f"({self.e('V', d - 1)} @ {self.e('V', d - 1)})",
                             f"np.dot({self.e('W', d - 1)}, {self.e('W', d - 1)})"])
        if T == "W":
            return f"({self.e('M', d - 1)} @ {self.e('V', d - 1)})"
        if T == "V":
            return f"({self.e('W', d - 1)} @ {self.e('M', d - 1)})"
        return f"(np.outer({self.e('W', d - 1)}, {self.e('W', d - 1)}) @ {self.e('M', d - 1)})"

    def e_literal(self, T, d):
        self.used.add("containers")
        if T == "S":
            a, b, c = self.e("S", d - 1), self.e("S", d - 1), self.e("S", d - 1)
            return self.r.choice([f"np.sum([{a}, {b} * {c}, 2.0])", f"np.prod(np.array([{a}, {b}]))"])
        if T == "V":
            return f"np.sum([{self.e('V', d - 1)}, {self.e('V', d - 1)}], axis=0)"
        return f"np.stack([{self.e('V', d - 1)}, {self.e('V', d - 1)}])"

    def callable_helpers(self, T):
        return [h for h in self.helpers if h.ret == T and h.name != self.in_helper]

    def arg_for(self, T, d, written):
        a = self.e(T, d)
        if written and T != "S" and self.roots_of(a) and not self.argmut:
            a = f"({a}).copy()"
        return a

    def e_call(self, T, d):
        hs = self.callable_helpers(T)
        if not hs:
            return None
        return self.call_of(self.r.choice(hs), d)

    def call_of(self, h, d):
        self.used.add({"pure": "helpers", "mut": "helpers", "rec": "recursion", "pair": "containers"}[h.kind])
        if h.kind == "pair":
            t1, t2 = h.params[0]
            a, b = self.e(t1, d - 1), self.e(t2, d - 1)
            return f"{h.name}(({a}, {b}))" if self.r.random() < 0.5 else f"{h.name}([{a}, {b}])"
        if h.kind == "rec":
            return f"{h.name}({self.e(h.params[0], d - 1)}, {self.r.choice([1, 2, 3])})"
        args = [self.arg_for(t, d - 1, h.mutates and i == 0) for i, t in enumerate(h.params)]
        return f"{h.name}({', '.join(args)})"

    def var_s(self):
        """A number that depends on a variable."""
        r = self.r
        ss = self.vars_of("S")
        arrs = self.arrays()
        if ss and (not arrs or r.random() < 0.5):
            v = r.choice(ss).name
            return v if r.random() < 0.6 else f"np.sin({v})"
        if arrs:
            a = r.choice(arrs)
            return r.choice([f"{a.name}.sum()", f"{a.name}.max()", f"np.mean({a.name})",
                             f"{a.name}[{self.index_for(SHAPE[a.type][0])}]" if a.type != "M"
                             else f"{a.name}[0, {self.index_for(3)}]"])
        return self.e("S", 1)

    def cond(self):
        r = self.r
        k = r.random()
        if k < 0.45:
            return f"{self.var_s()} > {r.choice(['0.0', '0.5', '-0.3', '1.0'])}"
        if k < 0.6:
            vs = self.vars_of("V") + self.vars_of("W")
            if vs:
                v = r.choice(vs).name
                return f"{v}[0] > {v}[1]"
        if k < 0.75 and self.arrays():
            a = r.choice(self.arrays()).name
            return r.choice([f"{a}.sum() < {self.const()}", f"np.any({a} > 1.0)", f"np.all({a} > -1.0)"])
        if k < 0.85:
            return f"{self.var_s()} > 0.0 and {self.e('S', 1)} < 1.0"
        return f"not {self.var_s()} > 0.2"

    # -- statements -----------------------------------------------------------
    def stmt(self):
        compound = self.depth < self.MAX_DEPTH
        opts = [
            (self.wt("temporaries", 1.0), self.s_temp),
            (self.wt("rebinding", 1.0), self.s_rebind),
            (self.wt("rebinding", 0.5) + self.wt("inplace", 0.5), self.s_aug),
            (self.wt("inplace", 1.0), self.s_inplace),
            (self.wt("fancy", 1.0), self.s_fancy),
            (self.wt("masks", 0.5), self.s_maskwrite),
            (self.wt("aliases", 1.0), self.s_alias),
            (self.wt("views", 1.0), self.s_view),
            (self.wt("containers", 0.8), self.s_container),
            (self.wt("helpers", 0.6), self.s_callstmt),
        ]
        if compound:
            opts += [
                (self.wt("loops", 1.0), self.s_for),
                (self.wt("while", 1.0), self.s_while),
                (self.wt("if", 1.0), self.s_if),
                (self.wt("early_return", 0.8) if self.in_helper is None or self.depth > 0 else 0,
                 self.s_return),
            ]
        if self.loops:
            opts.append((self.wt("break", 0.8), self.s_break))
        for _ in range(8):
            f = self.pick(opts) if any(w > 0 for w, _ in opts) else self.s_temp
            lines = f()
            if lines:
                return lines
        return self.s_temp()

    def stmts(self, lo, hi):
        out = []
        for _ in range(self.r.randint(lo, hi)):
            out += self.stmt()
        return out

    def block(self, lo, hi, prefix=()):
        saved = self.enter()
        self.depth += 1
        body = list(prefix) + self.stmts(lo, hi)
        body += self.flow_out(body, saved)
        self.depth -= 1
        self.leave(saved)
        return indent(body or ["pass"])

    def flow_out(self, body, outer):
        """Values bound in a block and read nowhere in it flow into a variable of the enclosing scope."""
        try:
            loaded = {n.id for n in ast.walk(ast.parse("\n".join(body) or "pass"))
                      if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        except SyntaxError:
            return []
        dead = [v for n, v in self.env.items() if n not in outer and v.type in TYPES and n not in loaded]
        targets = [v for v in outer.values() if v.type in TYPES]
        out = []
        for v in dead[-2:]:
            if not targets:
                break
            o = self.r.choice(targets)
            term = v.name if v.type in ("S", o.type) else f"{v.name}.sum()"
            out.append(f"{o.name} = {o.name} + {self.const()} * {term}")
            self.env[o.name] = Var(o.name, o.type, ())
        return out

    def s_temp(self):
        self.used.add("temporaries")
        T = self.pick([(3, "S"), (2, "V"), (1, "W"), (1.5, "M")])
        name = self.fresh("t")
        src = self.e(T, 2)
        self.bind(name, T, src)
        return [f"{name} = {src}"]

    def s_rebind(self):
        vs = [v for v in self.env.values() if v.type in TYPES]
        if not vs:
            return None
        self.used.add("rebinding")
        v = self.r.choice(vs)
        n, T = v.name, v.type
        forms = [f"{n} = {n} * {self.const()} + {self.const()}", f"{n} = {n} + {self.e(self.other(T), 1)}",
                 f"{n} = {self.e('S', 1)} * {n} - {n} * {self.const()}"]
        if self.on("math"):
            forms += [f"{n} = np.sin({n}) + {n} * {self.const()}", f"{n} = np.tanh({n}) * {self.const()}"]
        if T != "S":
            forms += [f"{n} = ({n} - {n}.mean()) / 2", f"{n} = {n} / (1.0 + np.sum({n} * {n}))"]
        line = self.r.choice(forms)
        self.env[n] = Var(n, T, ())
        return [line]

    def s_aug(self, target=None):
        vs = [target] if target is not None else \
            [v for v in self.env.values() if v.type == "S" or (self.writable(v) and self.on("inplace"))]
        if not vs:
            return None
        v = self.r.choice(vs)
        self.used.add("inplace" if v.type != "S" else "rebinding")
        op = self.r.choice(["+=", "-=", "*="])
        rhs = self.e(self.other(v.type), 1)
        if op == "*=" and self.r.random() < 0.5:
            rhs = self.const()
        return [f"{v.name} {op} {rhs}"]

    def s_inplace(self, target=None):
        vs = [target] if target is not None else self.arrays(writable=True)
        if not vs:
            return None
        self.used.add("inplace")
        v = self.r.choice(vs)
        n = v.name
        r = self.r
        if v.type == "V":
            i = self.index_for(3)
            forms = [f"{n}[{i}] = {self.e('S', 1)}", f"{n}[{i}] += {self.e('S', 1)}",
                     f"{n}[1:] += {self.e('W', 1)}", f"{n}[:2] *= {self.e('S', 1)}",
                     f"{n}[::2] -= {self.e('W', 1)}", f"{n}[-1] *= {self.const()}"]
        elif v.type == "W":
            i = self.index_for(2)
            forms = [f"{n}[{i}] = {self.e('S', 1)}", f"{n}[{i}] -= {self.e('S', 1)}",
                     f"{n}[:] = {self.e('W', 1)}"]
        else:
            i, j = self.index_for(2), self.index_for(3)
            forms = [f"{n}[{i}, :] = {self.e('V', 1)}", f"{n}[:, {j}] *= {self.e('S', 1)}",
                     f"{n}[{i}, {j}] += {self.e('S', 1)}", f"{n}[{i}] -= {self.e('V', 1)}",
                     f"{n}[:, 1:] += {self.e('S', 1)}", f"{n}[1:, ::2] *= {self.const()}"]
        return [r.choice(forms)]

    def s_fancy(self):
        vs = [v for v in self.arrays(writable=True) if v.type in ("V", "M")]
        if not vs:
            return None
        self.used.add("fancy")
        v = self.r.choice(vs)
        n = v.name
        if v.type == "V":
            forms = [f"{n}[np.array([0, 0, 1])] += {self.e('V', 1)}", f"{n}[[2, 0]] = {self.e('W', 1)}",
                     f"{n}[np.array([1, 1])] -= {self.e('W', 1)}", f"{n}[[0, 2]] *= {self.e('S', 1)}"]
        else:
            forms = [f"{n}[[1, 0]] = {self.e('M', 1)}", f"{n}[:, [0, 2]] *= {self.e('S', 1)}",
                     f"{n}[np.array([0, 0]), np.array([1, 1])] += {self.e('W', 1)}"]
        return [self.r.choice(forms)]

    def s_maskwrite(self):
        vs = self.arrays(writable=True)
        if not vs:
            return None
        self.used.add("masks")
        v = self.r.choice(vs)
        n = v.name
        return [self.r.choice([f"{n}[{n} < 0.0] *= 0.5", f"{n}[{n} > 1.0] -= 1.0",
                               f"{n}[{self.e(v.type, 1)} > 0.3] = 0.0"])]

    def s_write(self, v):
        """One write through v (in place)."""
        if self.r.random() < 0.4:
            return self.s_aug(target=v)
        return self.s_inplace(target=v)

    def s_alias(self):
        vs = self.arrays()
        if not vs:
            return None
        self.used.add("aliases")
        v = self.r.choice(vs)
        w = self.fresh("w")
        self.env[w] = Var(w, v.type, v.roots)
        lines = [f"{w} = {v.name}"]
        if self.writable(self.env[w]):
            lines += self.s_write(self.env[w])
            if self.r.random() < 0.3:
                lines += self.s_write(v)
        return lines

    def s_view(self):
        vs = self.arrays(writable=True)
        if not vs:
            return None
        self.used.add("views")
        r = self.r
        v = r.choice(vs)
        n = v.name
        z = self.fresh("z")
        if v.type in ("V", "W"):
            if v.type == "V" and r.random() < 0.7:
                sl = r.choice(["[1:]", "[:2]", "[::2]"])
                self.env[z] = Var(z, "W", v.roots)
                return [f"{z} = {n}{sl}"] + self.s_write(self.env[z])
            k = SHAPE[v.type][0]
            return r.choice([[f"{z} = {n}.reshape(1, {k})", f"{z}[0, {self.index_for(k)}] += {self.e('S', 1)}"],
                             [f"{z} = {n}[:]", f"{z} *= {self.e('S', 1)}"]])
        k = r.random()
        if k < 0.3:
            self.env[z] = Var(z, "V", v.roots)
            return [f"{z} = {n}[{self.index_for(2)}]"] + self.s_write(self.env[z])
        if k < 0.45:
            self.env[z] = Var(z, "W", v.roots)
            return [f"{z} = {n}[:, {self.index_for(3)}]"] + self.s_write(self.env[z])
        i, j = self.index_for(2), self.index_for(3)
        return r.choice([
            [f"{z} = {n}.T", f"{z}[{j}, {i}] = {self.e('S', 1)}"],
            [f"{z} = {n}.T", f"{z}[{j}] *= {self.e('S', 1)}"],
            [f"{z} = {n}.reshape(6)", f"{z}[{r.randint(0, 5)}] += {self.e('S', 1)}"],
            [f"{z} = {n}.reshape(-1)", f"{z}[1:4] *= {self.e('S', 1)}"],
            [f"{z} = {n}.reshape(3, 2)", f"{z}[{self.index_for(3)}] += {self.e('W', 1)}"],
            [f"{n}.T[{j}, {i}] = {self.e('S', 1)}"],
            [f"{n}.reshape(-1)[{r.randint(0, 5)}] -= {self.e('S', 1)}"],
        ])

    def s_container(self):
        r = self.r
        self.used.add("containers")
        k = r.random()
        if k < 0.45 and self.depth < self.MAX_DEPTH:
            acc, i = self.fresh("acc"), self.fresh("i")
            K = r.choice([2, 3])
            ET = r.choice(["S", "S", "V"])
            saved = self.enter()
            self.loops.append(Var(i, "I", (), K))
            self.env[i] = self.loops[-1]
            self.depth += 1
            body = []
            if r.random() < 0.3:
                body += self.stmt()
            body.append(f"{acc}.append({self.e(ET, 2)})")
            self.depth -= 1
            self.loops.pop()
            self.leave(saved)
            lines = [f"{acc} = []", f"for {i} in range({K}):"] + indent(body)
            t = self.fresh("t")
            if ET == "S":
                outs = [(f"np.array({acc})", "V" if K == 3 else "W"), (f"np.sum({acc})", "S"),
                        (f"np.sum(np.array({acc}) * {acc}[0])", "S")]
            else:
                outs = [(f"np.sum({acc}, axis=0)", "V"), (f"{acc}[-1] - {acc}[0]", "V")]
                if K == 2:
                    outs += [(f"np.stack({acc})", "M"), (f"np.array({acc})", "M")]
            if r.random() < 0.25:
                p = self.fresh("p")
                lines += [f"{p} = {acc}.pop()", f"{t} = {p} * 2.0 + np.sum({acc})"]
                self.env[t] = Var(t, ET, ())
                return lines
            src, T = r.choice(outs)
            lines.append(f"{t} = {src}")
            self.env[t] = Var(t, T, ())
            return lines
        if k < 0.65:
            L, t = self.fresh("L"), self.fresh("t")
            if r.random() < 0.6:
                lines = [f"{L} = [{self.e('S', 1)}, {self.e('S', 1)}, {self.e('S', 1)}]",
                         f"{t} = {L}[0] * {L}[2] - {L}[1]"]
                self.env[t] = Var(t, "S", ())
            else:
                lines = [f"{L} = [{self.e('V', 1)}, {self.e('V', 1)}]",
                         r.choice([f"{t} = np.stack({L})", f"{t} = np.array({L})"])]
                self.env[t] = Var(t, "M", ())
            return lines
        if k < 0.85:
            a, b = self.fresh("a"), self.fresh("b")
            T1, T2 = r.choice(TYPES), r.choice(TYPES)
            ea, eb = self.e(T1, 1), self.e(T2, 1)
            ra, rb = (self.roots_of(ea) if T1 != "S" else ()), (self.roots_of(eb) if T2 != "S" else ())
            self.env[a] = Var(a, T1, ra)
            self.env[b] = Var(b, T2, rb)
            return [f"{a}, {b} = {ea}, {eb}"]
        t = self.fresh("t")
        src = self.e_literal("S", 2)
        self.env[t] = Var(t, "S", ())
        return [f"{t} = {src}"]

    def s_callstmt(self):
        muts = [h for h in self.helpers if h.kind == "mut" and h.name != self.in_helper]
        vs = [v for v in self.arrays(writable=True) if muts and any(h.params[0] == v.type for h in muts)]
        if vs and self.r.random() < 0.6:
            v = self.r.choice(vs)
            h = self.r.choice([h for h in muts if h.params[0] == v.type])
            self.used.add("helpers")
            rest = [self.e(t, 1) for t in h.params[1:]]
            return [f"{h.name}({', '.join([v.name] + rest)})"]
        T = self.r.choice(TYPES)
        src = self.e_call(T, 2)
        if src is None:
            return None
        t = self.fresh("t")
        self.bind(t, T, src)
        return [f"{t} = {src}"]

    def s_for(self):
        r = self.r
        self.used.add("loops")
        k = r.random()
        if k < 0.6:
            i = self.fresh("i")
            K = r.choice([2, 3])
            prefix = []
            lines = []
            if r.random() < 0.5:
                ss = self.vars_of("S")
                if ss and r.random() < 0.5:
                    s = r.choice(ss).name
                else:
                    s = self.fresh("s")
                    lines.append(f"{s} = {r.choice(['0.0', '1.0', self.e('S', 1)])}")
                    self.env[s] = Var(s, "S")
                iv = Var(i, "I", (), K)
                saved_loops = list(self.loops)
                self.loops.append(iv)
                self.env[i] = iv
                prefix = [r.choice([f"{s} = {s} + {self.e('S', 2)}", f"{s} += {self.e('S', 2)}",
                                    f"{s} = {s} * 0.5 + {self.e('S', 2)}"])]
                body = self.block(0, 2, prefix)
                self.loops = saved_loops
            else:
                iv = Var(i, "I", (), K)
                self.loops.append(iv)
                self.env[i] = iv
                body = self.block(1, 3)
                self.loops.pop()
            self.env.pop(i, None)
            return lines + [f"for {i} in range({K}):"] + body
        if k < 0.8:
            ms = self.vars_of("M")
            if not ms:
                return None
            m = r.choice(ms)
            row = self.fresh("row")
            self.loops.append(None)
            body = self.block(1, 2, prefix=[])
            # the row must be used: bind it inside the block
            saved = self.enter()
            self.env[row] = Var(row, "V", m.roots)
            use = self.s_rowuse(row)
            self.leave(saved)
            self.loops.pop()
            return [f"for {row} in {m.name}:"] + indent(use) + body
        vs = self.vars_of("V") + self.vars_of("W")
        if not vs:
            return None
        v = r.choice(vs)
        a = self.fresh("a")
        self.loops.append(None)
        saved = self.enter()
        self.env[a] = Var(a, "S")
        self.depth += 1
        body = self.stmts(1, 2)
        self.depth -= 1
        self.leave(saved)
        self.loops.pop()
        return [f"for {a} in {v.name}:"] + indent(body)

    def s_rowuse(self, row):
        ss = self.vars_of("S")
        vv = [v for v in self.vars_of("V") if v.name != row]
        if ss and self.r.random() < 0.5:
            s = self.r.choice(ss).name
            return [f"{s} = {s} + np.sum({row} * {self.e('V', 1)})"]
        if vv and self.r.random() < 0.5:
            t = self.r.choice(vv)
            if self.writable(t):
                return [f"{t.name} += {row}"]
        if self.writable(self.env[row]):
            return [f"{row} *= {self.const()}"]
        s = self.fresh("u")
        return [f"{s} = np.sin({row}).sum()"]

    def s_while(self):
        r = self.r
        self.used.add("while")
        c = self.fresh("k")
        K = r.choice([2, 3, 4])
        extra = ""
        if r.random() < 0.5:
            extra = f" and {self.var_s()} < {r.choice(['2.0', '5.0', '10.0'])}"
        self.loops.append(None)
        body = self.block(1, 2, prefix=[f"{c} += 1"])
        self.loops.pop()
        return [f"{c} = 0", f"while {c} < {K}{extra}:"] + body

    def s_break(self):
        self.used.add("break")
        return [f"if {self.cond()}:", "    " + self.r.choice(["break", "continue"])]

    def s_if(self):
        self.used.add("if")
        lines = [f"if {self.cond()}:"] + self.block(1, 2)
        k = self.r.random()
        if k < 0.25:
            lines += [f"elif {self.cond()}:"] + self.block(1, 1)
        if k < 0.75:
            lines += ["else:"] + self.block(1, 2)
        return lines

    def s_return(self):
        T = self.out_type if self.in_helper is None else self.ret_type
        if T is None:
            return None
        self.used.add("early_return")
        return [f"if {self.cond()}:", f"    return {self.e(T, 1)}"]

    # -- helpers ----------------------------------------------------------------
    def make_helpers(self):
        r = self.r
        if self.on("helpers") and r.random() < 0.7:
            for _ in range(r.choice([1, 1, 2])):
                self.helpers.append(self.h_pure())
            if (self.on("inplace") or self.on("aliases")) and r.random() < 0.5:
                self.helpers.append(self.h_mut())
        if self.on("recursion") and r.random() < 0.7:
            self.helpers.append(self.h_rec())
        if self.on("containers") and r.random() < 0.4:
            self.helpers.append(self.h_pair())

    def _helper_env(self, name, params, ret, argmut=False):
        self.env = {p: Var(p, t, {p} if t != "S" else ()) for p, t in params}
        self.in_helper = name
        self.ret_type = ret
        self.argmut = argmut
        self.depth = 0
        self.loops = []

    def h_pure(self):
        r = self.r
        name = self.fresh("h")
        ps = [(self.fresh("p"), r.choice(TYPES)) for _ in range(r.choice([1, 2]))]
        ret = r.choice(TYPES)
        self._helper_env(name, ps, ret)
        body = self.stmts(0, 2) + [f"return {self.e(ret, 2)}"]
        lines = [f"def {name}({', '.join(p for p, _ in ps)}):"] + indent(body)
        return Helper(name, "pure", [t for _, t in ps], ret, lines)

    def h_mut(self):
        r = self.r
        name = self.fresh("hm")
        T = r.choice(["V", "W", "M"])
        ps = [(self.fresh("p"), T), (self.fresh("q"), "S")]
        ret = r.choice([None, None, T, "S"])
        self._helper_env(name, ps, ret, argmut=True)
        p = self.env[ps[0][0]]
        body = self.s_write(p) + self.stmts(0, 1)
        if r.random() < 0.5:
            body += self.s_write(p)
        body.append(f"return {self.e(ret, 1)}" if ret else "return None")
        lines = [f"def {name}({ps[0][0]}, {ps[1][0]}):"] + indent(body)
        return Helper(name, "mut", [T, "S"], ret, lines, mutates=True)

    def h_rec(self):
        r = self.r
        name = self.fresh("rec")
        T = r.choice(TYPES)
        a, n = self.fresh("a"), self.fresh("n")
        self._helper_env(name, [(a, T)], T)
        step = self.e(T, 1)
        if r.random() < 0.5:
            body = [f"if {n} <= 0:", f"    return {a}", f"return {name}({step}, {n} - 1)"]
        else:
            body = [f"if {n} == 0:", f"    return {self.e(T, 1)}",
                    f"return {self.e(T, 1)} + {name}({a} * 0.5, {n} - 1)"]
        lines = [f"def {name}({a}, {n}):"] + indent(body)
        return Helper(name, "rec", [T], T, lines)

    def h_pair(self):
        r = self.r
        name = self.fresh("hp")
        T1, T2 = r.choice(TYPES), r.choice(TYPES)
        ret = r.choice(TYPES)
        pair, a, b = self.fresh("pair"), self.fresh("a"), self.fresh("b")
        self._helper_env(name, [(a, T1), (b, T2)], ret)
        k = r.random()
        if k < 0.5:
            head = [f"{a}, {b} = {pair}"]
        else:
            head = [f"{a} = {pair}[0]", f"{b} = {pair}[1]"]
        body = head + self.stmts(0, 1) + [f"return {self.e(ret, 2)}"]
        lines = [f"def {name}({pair}):"] + indent(body)
        return Helper(name, "pair", [(T1, T2)], ret, lines)

    # -- the program ---------------------------------------------------------------
    def program(self):
        r = self.r
        self.make_helpers()
        nparams = r.choice([1, 1, 2])
        ptypes = [self.pick([(3, "S"), (3.5, "V"), (2, "M"), (1.5, "W")]) for _ in range(nparams)]
        names = ["x", "y"][:nparams]
        self.out_type = self.pick([(5.5, "S"), (2, "V"), (1.5, "M"), (1, "W")])
        self.env = {p: Var(p, t, {p} if t != "S" else ()) for p, t in zip(names, ptypes)}
        self.in_helper = None
        self.depth = 0
        self.loops = []
        self.argmut = self.on("argmut") and r.random() < 0.2
        body = self.stmts(1, 5)
        # a helper f does not call yet gets called once (its result flows into the return value)
        called = set()
        for h in self.helpers:
            if h.ret is not None and not re.search(rf"\b{h.name}\(", "\n".join(body + [
                    ln for g in self.helpers if g is not h for ln in g.lines])):
                t = self.fresh("t")
                src = self.call_of(h, 1)
                self.bind(t, h.ret, src)
                body.append(f"{t} = {src}")
        ret = self.e(self.out_type, 2)
        # values nothing reads flow into the result, so that the features computing them are tested
        loaded = {n.id for n in ast.walk(ast.parse("\n".join(body + [ret]) or "pass"))
                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        dead = [v for v in self.env.values() if v.type in TYPES and v.name not in loaded]
        if dead:
            terms = [v.name if v.type == "S" else f"{v.name}.sum()" for v in dead[-3:]]
            ret = f"{ret} + {self.const()} * ({' + '.join(terms)})"
        body.append(f"return {ret}")
        lines = [f"def f({', '.join(names)}):"] + indent(body)
        chunks = ["import numpy as np"]
        # helpers nothing calls (directly or through other helpers) are left out
        text = "\n".join(lines)
        live = []
        for h in reversed(self.helpers):
            if re.search(rf"\b{h.name}\(", text):
                live.append(h)
                text += "\n" + "\n".join(h.lines)
        for h in self.helpers:
            if h in live:
                chunks.append(normalize("\n".join(h.lines)))
        chunks.append(normalize("\n".join(lines)))
        source = "\n\n\n".join(chunks) + "\n"
        return source, ptypes, self.out_type


def normalize(src):
    """Round-trip through ast: minimal parentheses, one style."""
    return ast.unparse(ast.parse(src))


# ---------------------------------------------------------------------------
# programs, inputs, plain runs
# ---------------------------------------------------------------------------

class Program:
    def __init__(self, pid, source, ptypes, out_type, args, batch, in_axes, used, argmut):
        self.pid = pid                # "seed:k"
        self.source = source
        self.ptypes = ptypes
        self.out_type = out_type
        self.args = args
        self.batch = batch            # list of 3 argument tuples (vmap, second jit call)
        self.in_axes = in_axes        # 0 or a tuple of 0/None
        self.used = sorted(used)
        self.argmut = argmut
        self.path = None
        self.modname = None

    @property
    def out_shape(self):
        return SHAPE[self.out_type]


def random_input(rs, type_):
    if type_ == "S":
        return float(np.round(rs.uniform(-1.2, 1.2), 3))
    return np.round(rs.uniform(-1.2, 1.2, SHAPE[type_]), 3)


def copy_args(args):
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


_module_counter = [0]


def load_module(path, modname):
    import warnings
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)    # shrink candidates like `3[2]`
        spec.loader.exec_module(mod)
    return mod


def write_module(workdir, stem, source):
    _module_counter[0] += 1
    modname = f"fz_{stem}_{os.getpid()}_{_module_counter[0]}"
    path = os.path.join(workdir, modname + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    return path, modname


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def with_time_limit(seconds, fn, *a):
    """Run fn(*a) with a SIGALRM limit (main thread only; else no limit)."""
    try:
        old = signal.signal(signal.SIGALRM, _alarm)
    except ValueError:
        return fn(*a)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*a)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def plain_ok(f, args, out_shape):
    """Plain Python on a copy: the output if fine, else None (also when a NumPy value
    overflows on the way: inf * 0 in a derivative is nan where differences give 0)."""
    try:
        with np.errstate(all="ignore", over="raise"):
            out = with_time_limit(2.0, f, *copy_args(args))
    except Exception:
        return None
    if out_shape == ():
        if not isinstance(out, (float, np.floating)) or isinstance(out, np.ndarray):
            return None
    elif not (isinstance(out, np.ndarray) and out.shape == out_shape and out.dtype == np.float64):
        return None
    a = np.asarray(out, dtype=float)
    if not np.all(np.isfinite(a)) or np.max(np.abs(a)) > 1e4:
        return None
    return out


def program_valid(f, args, batch, out_shape):
    if plain_ok(f, args, out_shape) is None:
        return False
    return all(plain_ok(f, ex, out_shape) is not None for ex in batch)


def feature_weights(features=None):
    w = {k: v[0] for k, v in FEATURES.items()}
    if features:
        sel = set()
        for item in features:
            name, _, weight = item.partition("=")
            if name not in FEATURES:
                raise SystemExit(f"unknown feature {name!r}; --list-features lists them")
            sel.add(name)
            if weight:
                w[name] = float(weight)
        for k in w:
            if k not in sel and k != "temporaries":
                w[k] = 0.0
    return w


def make_program(seed, k, weights, workdir):
    """Program k of the run with this seed; resampled until plain Python runs it."""
    for attempt in range(50):
        rng = random.Random(f"{seed}:{k}:{attempt}")
        gen = ProgramGen(rng, weights)
        source, ptypes, out_type = gen.program()
        rs = np.random.default_rng([seed, k, attempt])
        args = tuple(random_input(rs, t) for t in ptypes)
        batch = [tuple(random_input(rs, t) for t in ptypes) for _ in range(3)]
        in_axes = 0
        if len(ptypes) == 2 and rng.random() < 0.3:
            in_axes = rng.choice([(0, None), (None, 0)])
        path, modname = write_module(workdir, f"{seed}_{k}", source)
        try:
            mod = load_module(path, modname)
        except Exception:
            continue
        if not program_valid(mod.f, args, batch, SHAPE[out_type]):
            continue
        p = Program(f"{seed}:{k}", source, ptypes, out_type, args, batch, in_axes, gen.used, gen.argmut)
        p.path, p.modname = path, modname
        return p
    raise RuntimeError(f"could not generate a valid program for seed {seed}, k {k}")


# ---------------------------------------------------------------------------
# encoding values (JSON between processes)
# ---------------------------------------------------------------------------

def enc(x):
    if x is None:
        return {"n": 1}
    if isinstance(x, (tuple, list)):
        return {"t": [enc(e) for e in x], "list": isinstance(x, list)}
    if isinstance(x, np.ndarray):
        return {"a": x.tolist(), "s": list(x.shape), "d": str(x.dtype)}
    if isinstance(x, (bool, np.bool_)):
        return {"b": bool(x)}
    if isinstance(x, (int, np.integer)):
        return {"i": int(x)}
    if isinstance(x, np.floating):
        return {"f": float(x), "np": str(x.dtype)}
    return {"f": float(x)}


def dec(d):
    if "n" in d:
        return None
    if "t" in d:
        items = [dec(e) for e in d["t"]]
        return items if d.get("list") else tuple(items)
    if "a" in d:
        return np.array(d["a"], dtype=d.get("d", "float64")).reshape(d["s"])
    if "b" in d:
        return d["b"]
    if "i" in d:
        return d["i"]
    if "np" in d:
        return np.dtype(d["np"]).type(d["f"])
    return d["f"]


def literal(x):
    """Python source for an input value (exact: repr round-trips floats)."""
    if isinstance(x, tuple):
        inner = ", ".join(literal(e) for e in x)
        return f"({inner},)" if len(x) == 1 else f"({inner})"
    if isinstance(x, list):
        return "[" + ", ".join(literal(e) for e in x) + "]"
    if isinstance(x, np.ndarray):
        return f"np.array({x.tolist()!r})"
    if x is None:
        return "None"
    return repr(float(x))


# ---------------------------------------------------------------------------
# oracles
# ---------------------------------------------------------------------------

FD_EPS = (1e-4, 1e-6)          # relative steps of first differences
FD2_EPS = (1e-3, 1e-4)         # of second differences
KINK_RTOL, FD_TOL = 1e-4, 1e-4
KINK2_RTOL, FD2_TOL = 1e-3, 1e-3
CROSS_RTOL = 1e-7              # one AD mode against another
VALUE_RTOL = 1e-9              # a transformed function's primal value, vmap, jit


class Verdict(Exception):
    """A check's outcome other than agree, raised from deep inside a check."""

    def __init__(self, cls, key, msg):
        super().__init__(msg)
        self.cls, self.key, self.msg = cls, key, msg


def wrong(key, msg):
    raise Verdict("wrong", key, msg)


def flat(x):
    if isinstance(x, (tuple, list)):
        return np.concatenate([flat(e) for e in x]) if x else np.zeros(0)
    return np.ravel(np.asarray(x, dtype=float))


def unflat(v, like):
    out, k = [], 0
    for a in like:
        n = int(np.prod(np.shape(a)))
        if isinstance(a, np.ndarray):
            out.append(v[k:k + n].reshape(a.shape).copy())
        else:
            out.append(float(v[k]))
        k += n
    return tuple(out)


def pattern(shape, phase):
    """A fixed, unremarkable tangent/cotangent."""
    n = int(np.prod(shape))
    v = np.cos(np.arange(n) * 1.3 + phase) + 0.1
    return float(v[0]) if shape == () else v.reshape(shape)


class Ctx:
    """One program in the process that checks it."""

    def __init__(self, f, args, batch, in_axes, path, modname, out_shape):
        self.f = f
        self.args = tuple(args)
        self.batch = [tuple(b) for b in batch]
        self.in_axes = in_axes
        self.path = path
        self.modname = modname
        self.out_shape = out_shape
        self.nargs = len(self.args)
        self.argnums = 0 if self.nargs == 1 else tuple(range(self.nargs))
        a = copy_args(self.args)
        with np.errstate(all="ignore"):
            self.out = f(*a)
        self.post = a           # the arguments after plain f ran on them
        self.x0 = flat(self.args)
        self.results = {}       # check -> flattened result, for cross-checks
        self.status = {}        # check -> cls
        self.values = {}        # for the second process
        self._fd = {}
        self.deferred = []

    def defer(self, fn, *args, **kwargs):
        """Checks of the inputs after the call, run once the numbers were judged (they are worse news)."""
        self.deferred.append((fn, args, kwargs))

    def run_deferred(self):
        todo, self.deferred = self.deferred, []
        for fn, args, kwargs in todo:
            fn(*args, **kwargs)

    def F(self, v):
        with np.errstate(all="ignore"):
            try:
                return flat(self.f(*unflat(v, self.args)))
            except Exception:
                return np.full(int(np.prod(self.out_shape)), np.nan)

    def fd_jac(self):
        if "jac" not in self._fd:
            outs = []
            for eps in FD_EPS:
                x0 = self.x0
                h = eps * np.maximum(1.0, np.abs(x0))
                J = np.empty((flat(self.out).size, x0.size))
                for k in range(x0.size):
                    xp, xm = x0.copy(), x0.copy()
                    xp[k] += h[k]
                    xm[k] -= h[k]
                    J[:, k] = (self.F(xp) - self.F(xm)) / (xp[k] - xm[k])
                outs.append(J)
            self._fd["jac"] = outs
        return self._fd["jac"]

    def fd_dir(self, v):
        outs = []
        for eps in FD_EPS:
            h = eps * max(1.0, float(np.max(np.abs(self.x0)))) / max(1e-300, float(np.max(np.abs(v))))
            outs.append((self.F(self.x0 + h * v) - self.F(self.x0 - h * v)) / (2 * h))
        return outs

    def hess_coords(self):
        """At most 6 input coordinates, spread out: second differences cost 4 calls of f per pair."""
        n = self.x0.size
        return np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))

    def fd_hess(self):
        if "hess" not in self._fd:
            outs = []
            x0 = self.x0
            idx = self.hess_coords()
            m = idx.size
            for eps in FD2_EPS:
                h = eps * np.maximum(1.0, np.abs(x0))
                H = np.empty((m, m))
                for a in range(m):
                    for b in range(a, m):
                        i, j = idx[a], idx[b]
                        def at(si, sj):
                            x = x0.copy()
                            x[i] += si * h[i]
                            x[j] += sj * h[j]
                            return self.F(x)[0]
                        H[a, b] = H[b, a] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
                outs.append(H)
            self._fd["hess"] = outs
        return self._fd["hess"]


def _fmt_entry(shape, k):
    if not shape:
        return "(scalar)"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(k, shape)) + "]"


def compare_fd(what, got, D1, D2, kink_rtol=KINK_RTOL, tol=FD_TOL, shape=None):
    """got against finite differences D1 (larger step) and D2; entries at a kink are not judged."""
    got, D1, D2 = flat(got), flat(D1), flat(D2)
    with np.errstate(all="ignore"):
        fin = np.isfinite(D1) & np.isfinite(D2)
        near = fin & (np.abs(D1 - D2) <= 0.1 * (np.abs(D1) + np.abs(D2)) + 1e-8)
        scale = max(1e-2, float(np.max(np.abs(D2[near])))) if near.any() else 1.0
        smooth = fin & (np.abs(D1 - D2) <= kink_rtol * (np.abs(D2) + scale))
        finite_got = got[np.isfinite(got)]
        if finite_got.size and float(np.max(np.abs(finite_got))) > 1e8:
            # values this large swallow the steps: an exactly zero difference there says
            # only that x + h rounded to x somewhere inside (the other AD mode still judges)
            smooth &= ~((D1 == 0) & (D2 == 0))
        err = np.minimum(np.abs(got - D1), np.abs(got - D2))
        bad = smooth & ~(err <= tol * (np.abs(D2) + scale))
    if bad.any():
        k = int(np.argmax(bad))
        where = _fmt_entry(shape, k) if shape is not None else f"[{k}]"
        raise Verdict("wrong", "fd", f"{what}{where}: got {got[k]!r}, finite differences {D2[k]!r} "
                                     f"({int(bad.sum())} of {bad.size} entries wrong)")
    return bool(smooth.any())


def compare_close(what, got, ref, rtol, key):
    got, ref = flat(got), flat(ref)
    if got.shape != ref.shape:
        wrong("shape", f"{what}: {got.size} numbers, expected {ref.size}")
    with np.errstate(all="ignore"):
        # an absolute floor of rtol * 1e-3: rounding-level numbers next to exact zeros are equal
        scale = max(1e-3, float(np.max(np.abs(ref))) if ref.size else 0.0)
        ok = (np.abs(got - ref) <= rtol * (np.abs(ref) + scale)) | (np.isnan(got) & np.isnan(ref)) \
            | (got == ref)
    if not ok.all():
        k = int(np.argmin(ok))
        wrong(key, f"{what}[{k}]: got {got[k]!r}, expected {ref[k]!r}")


def check_value(what, got, ref, rtol=VALUE_RTOL, dtype=True):
    if np.shape(got) != np.shape(ref):
        wrong("shape", f"{what}: shape {np.shape(got)}, expected {np.shape(ref)}")
    if dtype and np.asarray(got).dtype != np.asarray(ref).dtype:
        wrong("dtype", f"{what}: dtype {np.asarray(got).dtype}, expected {np.asarray(ref).dtype}")
    if isinstance(ref, np.ndarray) != isinstance(got, np.ndarray) and np.shape(ref) == ():
        pass  # a Python float vs np.float64 vs 0-d array: not judged
    compare_close(what, got, ref, rtol, "value")


def check_mutation(what, got_args, expected_args, orig=None, functional=False):
    """The arguments after the call against plain Python's. `functional` (every transformation
    but jit): the arguments may also be left exactly as they were (JAX's view, the project's
    rule: a transformation never writes the caller's arrays); any other change is wrong."""
    for i, (g, e) in enumerate(zip(got_args, expected_args)):
        if functional and orig is not None and isinstance(orig[i], np.ndarray) \
                and np.array_equal(g, orig[i], equal_nan=True):
            continue
        if isinstance(e, np.ndarray):
            if not np.array_equal(g, e, equal_nan=True):
                with np.errstate(all="ignore"):
                    same = np.isclose(g, e, rtol=1e-12, atol=0, equal_nan=True)
                if not same.all():
                    k = int(np.argmin(same.ravel()))
                    how, key = "", "mutation"
                    if orig is not None and isinstance(orig[i], np.ndarray):
                        o = np.asarray(orig[i]).ravel()
                        if np.array_equal(e, orig[i], equal_nan=True):
                            key = "mutation:input-written"      # plain Python leaves it alone
                        elif g.ravel()[k] == o[k]:
                            how, key = " (not written)", "mutation:write-lost"
                        else:
                            how, key = f" (it was {o[k]!r})", "mutation:write-differs"
                    wrong(key, f"{what}: argument {i} after the call: [{k}] = {g.ravel()[k]!r}{how}, "
                               f"plain Python leaves {e.ravel()[k]!r}")


def check_untouched(what, got, before, key):
    if isinstance(before, np.ndarray) and not np.array_equal(got, before, equal_nan=True):
        wrong(key, f"{what} was mutated by the call")


def deriv_shapes(what, parts, ctx, lead=()):
    for i, (p, a) in enumerate(zip(parts, ctx.args)):
        want = tuple(lead) + np.shape(a)
        if np.shape(p) != want:
            wrong("shape", f"{what} for argument {i}: shape {np.shape(p)}, expected {want}")
        if np.asarray(p).dtype != np.float64:
            wrong("dtype", f"{what} for argument {i}: dtype {np.asarray(p).dtype}, expected float64")


def as_parts(res, ctx):
    if ctx.nargs == 1:
        return (res,)
    if not isinstance(res, (tuple, list)) or len(res) != ctx.nargs:
        wrong("shape", f"expected a tuple of {ctx.nargs} results, got {type(res).__name__}")
    return tuple(res)


def _tp():
    import transpile
    return transpile


# -- the checks -------------------------------------------------------------------

def chk_grad(ctx):
    tp = _tp()
    a = copy_args(ctx.args)
    g = tp.grad(ctx.f, argnums=ctx.argnums)(*a)
    ctx.defer(check_mutation, "grad", a, ctx.post, ctx.args, functional=True)
    parts = as_parts(g, ctx)
    deriv_shapes("gradient", parts, ctx)
    G = flat(parts)
    ctx.results["grad"] = G
    D1, D2 = ctx.fd_jac()
    return compare_fd("d f / d input", G, D1[0], D2[0], shape=ctx.x0.shape)


def chk_value_and_grad(ctx):
    tp = _tp()
    a = copy_args(ctx.args)
    v, g = tp.value_and_grad(ctx.f, argnums=ctx.argnums)(*a)
    ctx.defer(check_mutation, "value_and_grad", a, ctx.post, ctx.args, functional=True)
    check_value("value", v, ctx.out)
    parts = as_parts(g, ctx)
    deriv_shapes("gradient", parts, ctx)
    G = flat(parts)
    if ctx.status.get("grad") == "agree":
        compare_close("value_and_grad vs grad", G, ctx.results["grad"], CROSS_RTOL, "cross:grad")
    D1, D2 = ctx.fd_jac()
    return compare_fd("d f / d input", G, D1[0], D2[0], shape=ctx.x0.shape)


def chk_vjp(ctx):
    tp = _tp()
    a = copy_args(ctx.args)
    out, pb = tp.vjp(ctx.f, *a)
    ctx.defer(check_mutation, "vjp", a, ctx.post, ctx.args, functional=True)
    check_value("vjp's output", out, ctx.out)
    ct = pattern(ctx.out_shape, 0.4) if ctx.out_shape else 1.0
    ct_in = copy.copy(ct) if not isinstance(ct, np.ndarray) else ct.copy()
    cts = pb(ct_in)
    ctx.defer(check_untouched, "the cotangent", ct_in, ct, "mutation:cotangent-written")
    if not isinstance(cts, tuple) or len(cts) != ctx.nargs:
        wrong("shape", f"pullback returned {type(cts).__name__} of length "
                       f"{len(cts) if isinstance(cts, (tuple, list)) else '-'}, expected a tuple of {ctx.nargs}")
    deriv_shapes("cotangent", cts, ctx)
    V = flat(cts)
    if ctx.out_shape == () and ctx.status.get("grad") == "agree":
        compare_close("vjp(1.0) vs grad", V, ctx.results["grad"], CROSS_RTOL, "cross:grad")
    D1, D2 = ctx.fd_jac()
    c = flat(ct)
    return compare_fd("ct . J", V, c @ D1, c @ D2, shape=ctx.x0.shape)


def _jac(ctx, mode):
    tp = _tp()
    a = copy_args(ctx.args)
    J = getattr(tp, mode)(ctx.f, argnums=ctx.argnums)(*a)
    ctx.defer(check_mutation, mode, a, ctx.post, ctx.args, functional=True)
    parts = as_parts(J, ctx)
    deriv_shapes("Jacobian", parts, ctx, lead=ctx.out_shape)
    m = int(np.prod(ctx.out_shape))
    M = np.hstack([np.asarray(p, dtype=float).reshape(m, -1) for p in parts])
    ctx.results[mode] = M
    return M


def chk_jacfwd(ctx):
    M = _jac(ctx, "jacfwd")
    D1, D2 = ctx.fd_jac()
    return compare_fd("J", M, D1, D2, shape=D1.shape)


def chk_jacrev(ctx):
    M = _jac(ctx, "jacrev")
    if ctx.status.get("jacfwd") == "agree":
        compare_close("jacrev vs jacfwd", M, ctx.results["jacfwd"], CROSS_RTOL, "cross:jacfwd")
    D1, D2 = ctx.fd_jac()
    return compare_fd("J", M, D1, D2, shape=D1.shape)


def chk_jvp(ctx):
    tp = _tp()
    a = copy_args(ctx.args)
    tan = tuple(pattern(np.shape(x), 0.9 + i) for i, x in enumerate(ctx.args))
    tan_in = copy_args(tan)
    out, t = tp.jvp(ctx.f, a, tan_in)
    ctx.defer(check_mutation, "jvp", a, ctx.post, ctx.args, functional=True)
    for i, (ti, t0) in enumerate(zip(tan_in, tan)):
        ctx.defer(check_untouched, f"tangent {i}", ti, t0, "mutation:tangent-written")
    check_value("jvp's output", out, ctx.out)
    if np.shape(t) != ctx.out_shape:
        wrong("shape", f"tangent out: shape {np.shape(t)}, expected {ctx.out_shape}")
    T = flat(t)
    v = flat(tan)
    if ctx.status.get("jacfwd") == "agree":
        compare_close("jvp vs jacfwd @ v", T, ctx.results["jacfwd"] @ v, CROSS_RTOL, "cross:jacfwd")
    D1, D2 = ctx.fd_dir(v)
    return compare_fd("J v", T, D1, D2, shape=ctx.out_shape)


def chk_hessian(ctx):
    tp = _tp()
    a = copy_args(ctx.args)
    H = tp.hessian(ctx.f, argnums=ctx.argnums)(*a)
    ctx.defer(check_mutation, "hessian", a, ctx.post, ctx.args, functional=True)
    n = ctx.x0.size
    if ctx.nargs == 1:
        want = np.shape(ctx.args[0]) * 2
        if np.shape(H) != want:
            wrong("shape", f"hessian: shape {np.shape(H)}, expected {want}")
        M = np.asarray(H, dtype=float).reshape(n, n)
    else:
        rows = []
        rows_in = as_parts(H, ctx)
        for i, row in enumerate(rows_in):
            row = as_parts(row, ctx)
            blocks = []
            for j, blk in enumerate(row):
                want = np.shape(ctx.args[i]) + np.shape(ctx.args[j])
                if np.shape(blk) != want:
                    wrong("shape", f"hessian[{i}][{j}]: shape {np.shape(blk)}, expected {want}")
                blocks.append(np.asarray(blk, dtype=float).reshape(int(np.prod(np.shape(ctx.args[i]))), -1))
            rows.append(np.hstack(blocks))
        M = np.vstack(rows)
    D1, D2 = ctx.fd_hess()
    idx = ctx.hess_coords()
    sub = M[np.ix_(idx, idx)]
    try:
        return compare_fd("H", sub, D1, D2, KINK2_RTOL, FD2_TOL, shape=(idx.size, idx.size))
    except Verdict as v:     # name the entry by input coordinates
        m = re.match(r"H\[(\d+), (\d+)\]", v.msg)
        if m:
            v.msg = f"H[{idx[int(m.group(1))]}, {idx[int(m.group(2))]}]" + v.msg[m.end():]
        raise


def _in_axes_list(ctx):
    ax = ctx.in_axes
    return [ax] * ctx.nargs if not isinstance(ax, (tuple, list)) else list(ax)


def chk_vmap(ctx):
    tp = _tp()
    axes = _in_axes_list(ctx)
    for i, ax in enumerate(axes):
        # a loop writing into an unmapped argument compounds the writes: no clear oracle, so map it
        if ax is None and isinstance(ctx.args[i], np.ndarray) and not np.array_equal(ctx.post[i], ctx.args[i]):
            axes = [0] * ctx.nargs
            break
    in_axes = 0 if all(a == 0 for a in axes) else tuple(axes)
    B = len(ctx.batch)

    def batched():
        out = []
        for i, ax in enumerate(axes):
            if ax is None:
                out.append(copy_args((ctx.args[i],))[0])
            else:
                out.append(np.array([ex[i] for ex in ctx.batch], dtype=float))
        return tuple(out)

    ref_in = batched()
    outs = []
    with np.errstate(all="ignore"):
        for b in range(B):
            ex = []
            for i, ax in enumerate(axes):
                if ax is None:
                    ex.append(ref_in[i])
                elif isinstance(ctx.args[i], np.ndarray):
                    ex.append(ref_in[i][b])        # a view: writes land in the batch, as in a Python loop
                else:
                    ex.append(float(ref_in[i][b]))
            outs.append(ctx.f(*ex))
    ref = np.stack([np.asarray(o) for o in outs])
    got_in = batched()
    kw = {} if in_axes == 0 else {"in_axes": in_axes}
    got = tp.vmap(ctx.f, **kw)(*got_in)
    ctx.defer(check_mutation, "vmap", got_in, ref_in, batched(), functional=True)
    if np.shape(got) != ref.shape:
        wrong("shape", f"vmap: shape {np.shape(got)}, expected {ref.shape}")
    if np.asarray(got).dtype != ref.dtype:
        wrong("dtype", f"vmap: dtype {np.asarray(got).dtype}, expected {ref.dtype}")
    compare_close("vmap vs loop", got, ref, VALUE_RTOL, "value")
    return True


def chk_jit(ctx):
    tp = _tp()
    jf = tp.jit(ctx.f)
    a = copy_args(ctx.args)
    out = jf(*a)
    ctx.values["jit"] = out
    ctx.defer(check_mutation, "jit", a, ctx.post, ctx.args)
    check_value("jit(f)", out, ctx.out)
    ex = ctx.batch[0]
    a2, r2 = copy_args(ex), copy_args(ex)
    with np.errstate(all="ignore"):
        ref2 = ctx.f(*r2)
    out2 = jf(*a2)
    ctx.defer(check_mutation, "jit, second input", a2, r2, ex)
    check_value("jit(f) on a second input", out2, ref2)
    return True


F32_RTOL = 1e-3    # float32: NumPy and compiled code may sum in another order


def chk_jit_f32(ctx):
    """tp.jit(f) on the arguments' arrays as float32 against eager NumPy on the same: NumPy 2's
    dtypes (Python numbers are weak, float32 stays float32) and values to float32's precision."""
    tp = _tp()
    if not any(isinstance(a, np.ndarray) for a in ctx.args):
        return False
    f32 = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in ctx.args)
    r, a = copy_args(f32), copy_args(f32)
    try:
        with np.errstate(all="ignore"):
            ref = ctx.f(*r)
    except Exception:
        return False     # NumPy itself raises on float32 values: nothing to compare
    if not np.all(np.isfinite(np.asarray(ref, dtype=float))):
        return False     # float32 overflows where float64 did not: not judged
    out = tp.jit(ctx.f)(*a)
    ctx.defer(check_mutation, "jit on float32", a, r, f32)
    check_value("jit(f) on float32 arrays", out, ref, rtol=F32_RTOL)
    return True


def chk_jit_grad(ctx):
    tp = _tp()
    mode = "grad" if ctx.out_shape == () else "jacrev"
    a = copy_args(ctx.args)
    g = tp.jit(getattr(tp, mode)(ctx.f, argnums=ctx.argnums))(*a)
    ctx.defer(check_mutation, f"jit({mode})", a, ctx.post, ctx.args, functional=True)
    parts = as_parts(g, ctx)
    deriv_shapes(f"jit({mode})", parts, ctx, lead=ctx.out_shape if mode == "jacrev" else ())
    if mode == "jacrev":    # rows: outputs; columns: every argument's entries (as _jac and fd_jac)
        m = int(np.prod(ctx.out_shape))
        G = np.hstack([np.asarray(p, dtype=float).reshape(m, -1) for p in parts])
    else:
        G = flat(parts)
    ctx.values["jit_grad"] = g
    D1, D2 = ctx.fd_jac()
    if mode == "grad":
        D1, D2 = D1[0], D2[0]
    judged = compare_fd(f"jit({mode})", G, D1, D2, shape=np.shape(D1))
    if ctx.status.get(mode) == "agree" and mode in ctx.results:
        compare_close(f"jit({mode}) vs eager {mode}", flat(G), flat(ctx.results[mode]), VALUE_RTOL,
                      f"cross:{mode}")
        judged = True
    return judged


def chk_cache(ctx):
    if "jit" not in ctx.values:
        return False
    req = {"path": ctx.path, "modname": ctx.modname, "args": enc(ctx.args), "batch": enc(ctx.batch),
           "out_shape": list(ctx.out_shape), "mode": "grad" if ctx.out_shape == () else "jacrev"}
    proc = subprocess.run([sys.executable, THIS, "--cache-child"], input=json.dumps(req),
                          capture_output=True, text=True, timeout=CACHE_CHILD_TIMEOUT[0])
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"second process exited with {proc.returncode}: " + " | ".join(tail))
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if "error" in res:
        raise RuntimeError(f"second process: {res['error']}")
    check_value("jit(f) in a second process", dec(res["jit"]), ctx.values["jit"], rtol=1e-12)
    if "jit_grad" in ctx.values:
        if "jit_grad" not in res:
            raise RuntimeError(f"second process: jit_grad raised {res.get('jit_grad_error')}")
        compare_close("jit(grad) in a second process", flat(dec(res["jit_grad"])), flat(ctx.values["jit_grad"]),
                      1e-12, "value")
    return True


CACHE_CHILD_TIMEOUT = [600]

CHECKS = {
    "grad": chk_grad,
    "value_and_grad": chk_value_and_grad,
    "vjp": chk_vjp,
    "jacfwd": chk_jacfwd,
    "jacrev": chk_jacrev,
    "jvp": chk_jvp,
    "hessian": chk_hessian,
    "vmap": chk_vmap,
    "jit": chk_jit,
    "jit_grad": chk_jit_grad,
    "jit_f32": chk_jit_f32,
    "cache": chk_cache,
}
EAGER_CHECKS = ("grad", "value_and_grad", "vjp", "jacfwd", "jacrev", "jvp", "hessian", "vmap")
JIT_CHECKS = ("jit", "jit_grad", "jit_f32", "cache")
SCALAR_ONLY = ("grad", "value_and_grad", "hessian")
# what a check compares against besides its oracle (run first when shrinking or replaying)
DEPS = {"value_and_grad": ["grad"], "vjp": ["grad"], "jacrev": ["jacfwd"], "jvp": ["jacfwd"],
        "jit_grad": ["grad", "jacrev"], "cache": ["jit", "jit_grad"]}


def deps_for(check, out_shape):
    if check == "jit_grad":
        return ["grad"] if tuple(out_shape) == () else ["jacrev"]
    return [c for c in DEPS.get(check, []) if applicable(c, out_shape)]


def applicable(check, out_shape):
    return not (check in SCALAR_ONLY and tuple(out_shape) != ())


def checks_for(names, out_shape):
    return [c for c in names if applicable(c, out_shape)]


# -- classification ------------------------------------------------------------------

def _site(tb_entries):
    """Where an exception came from: the innermost frame in transpile/, runtime/ or generated code."""
    pkg = (os.path.join(ROOT, "transpile") + os.sep, os.path.join(ROOT, "runtime") + os.sep)
    for fr in reversed(tb_entries):
        fn = fr.filename
        m = re.search(r"__([A-Za-z0-9_]+?)_(python|numba|cuda)__[0-9a-f]+\.py$", os.path.basename(fn))
        if m:
            return f"generated {m.group(1).rsplit('__', 1)[-1]} code"
        if fn.startswith(pkg):
            return f"{os.path.relpath(fn, ROOT)}:{fr.name}"
    return os.path.basename(tb_entries[-1].filename) + ":" + tb_entries[-1].name if tb_entries else "?"


def _describe(exc):
    """The exception and its innermost frames (where it was raised), without this file's frames."""
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if fr.filename != THIS
              and not fr.filename.endswith("fuzz.py")]
    lines = [f"{type(exc).__name__}: {str(exc).strip()}"]
    for fr in frames[-4:]:
        lines.append(f"  at {os.path.relpath(fr.filename, ROOT) if fr.filename.startswith(ROOT) else fr.filename}"
                     f":{fr.lineno} in {fr.name}: {(fr.line or '').strip()[:120]}")
    return "\n".join(lines)


def _first_line(exc):
    s = str(exc).strip().splitlines()
    return s[0][:200] if s else ""


def classify_exception(exc, path):
    try:
        from transpile.errors import TranspileError, TranspileInternalError
    except Exception:  # pragma: no cover
        TranspileError = TranspileInternalError = ()
    base = os.path.basename(path)
    msg = str(exc)
    names_user = base in msg or (getattr(exc, "filename", None) and
                                 os.path.basename(str(exc.filename)) == base and getattr(exc, "lineno", None))
    tbe = traceback.extract_tb(exc.__traceback__)
    if TranspileError and isinstance(exc, TranspileError) and not isinstance(exc, TranspileInternalError):
        if names_user:
            return "refused", f"refused: {type(exc).__name__}: {_norm(_first_line(exc))}", msg
        return "crash", f"{type(exc).__name__} without the user's file:line @ {_site(tbe)}", _describe(exc)
    return "crash", f"{type(exc).__name__} @ {_site(tbe)}", _describe(exc)


def _norm(s):
    s = re.sub(r"`[^`]*`", "`<v>`", s)
    s = re.sub(r"\b(t|w|z|s|a|b|p|q|k|h|hm|hp|rec|acc|i|row|u|L|n|pair)\d+\b", "<v>", s)
    s = re.sub(r"fz_\w+", "<mod>", s)
    s = re.sub(r"\d+", "N", s)
    return s[:120]


def run_checks(path, modname, args, batch, in_axes, out_shape, checks, emit=None):
    """Run checks on the program in path, here. Returns a list of result dicts."""
    import warnings
    warnings.simplefilter("ignore")
    mod = sys.modules.get(modname)
    if mod is None or getattr(mod, "__file__", None) != path:
        mod = load_module(path, modname)
    ctx = Ctx(mod.f, args, batch, in_axes, path, modname, tuple(out_shape))
    results = []
    for name in checks:
        if emit:
            emit({"start": name})
        t0 = time.time()
        try:
            with np.errstate(all="ignore"):
                ctx.deferred = []
                try:
                    judged = CHECKS[name](ctx)
                except Verdict:
                    if ctx.deferred:       # a wrong number, and maybe a mutated input too
                        try:
                            ctx.run_deferred()
                        except Verdict as v2:
                            ctx.also = v2.msg
                    raise
                ctx.run_deferred()
            res = {"cls": "agree" if judged else "skipped", "key": "" if judged else "not judged", "msg": ""}
        except Verdict as v:
            res = {"cls": v.cls, "key": f"{v.cls}:{v.key}", "msg": v.msg}
            if getattr(ctx, "also", None):
                res["msg"] += f"\nalso: {ctx.also}"
                ctx.also = None
        except Exception as exc:
            cls, key, msg = classify_exception(exc, path)
            res = {"cls": cls, "key": key, "msg": msg}
        res["check"] = name
        res["secs"] = round(time.time() - t0, 3)
        ctx.status[name] = res["cls"]
        results.append(res)
        if emit:
            emit({"res": res})
    return results


# ---------------------------------------------------------------------------
# the worker process
# ---------------------------------------------------------------------------

def _protocol_out():
    """Our own stdout for the protocol; fd 1 goes to stderr so prints cannot corrupt it."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    return proto


def worker_main():
    proto = _protocol_out()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if "cache_timeout" in req:
            CACHE_CHILD_TIMEOUT[0] = req["cache_timeout"]

        def emit(obj):
            proto.write(json.dumps(obj) + "\n")
            proto.flush()
        try:
            run_checks(req["path"], req["modname"], dec(req["args"]), dec(req["batch"]),
                       dec(req["in_axes"]), req["out_shape"], req["checks"], emit)
        except Exception as exc:  # the program itself failed to load or run
            emit({"fatal": f"{type(exc).__name__}: {exc}"})
        emit({"end": True})


def cache_child_main():
    proto = _protocol_out()
    req = json.loads(sys.stdin.read())
    out = {}
    try:
        import transpile as tp
        mod = load_module(req["path"], req["modname"])
        args = dec(req["args"])
        out["jit"] = enc(tp.jit(mod.f)(*copy_args(args)))
        argnums = 0 if len(args) == 1 else tuple(range(len(args)))
        try:
            out["jit_grad"] = enc(tp.jit(getattr(tp, req["mode"])(mod.f, argnums=argnums))(*copy_args(args)))
        except Exception as exc:
            out["jit_grad_error"] = f"{type(exc).__name__}: {_first_line(exc)}"
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {_first_line(exc)}"}
    proto.write(json.dumps(out) + "\n")
    proto.flush()


def _tmo(timeouts, check):
    return timeouts.get(check, timeouts.get("default", 60))


class Worker:
    """A `fuzz.py --worker` subprocess; restarted when it dies or hangs."""

    def __init__(self, timeout, env=None, log=None):
        self.timeout = timeout
        self.env = env
        self.proc = None
        self.buf = b""
        self.log = log or tempfile.NamedTemporaryFile(prefix="fuzz-worker-", suffix=".log", delete=False).name

    def start(self):
        self.errf = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, THIS, "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.errf, env=self.env, cwd=ROOT)
        self.buf = b""

    def stop(self):
        if self.proc is not None:
            try:
                self.proc.kill()
            except OSError:
                pass
            self.proc.wait()
            self.proc = None
            self.errf.close()

    def _readline(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return b""
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def run(self, program, checks, timeouts):
        """Results for checks, one dict each, in order."""
        todo = list(checks)
        results = {}
        while todo:
            if self.proc is None or self.proc.poll() is not None:
                self.stop()
                self.start()
            req = {"path": program.path, "modname": program.modname, "args": enc(program.args),
                   "batch": enc(program.batch), "in_axes": enc(program.in_axes),
                   "out_shape": list(program.out_shape), "checks": todo,
                   "cache_timeout": timeouts.get("cache", 600)}
            try:
                self.proc.stdin.write((json.dumps(req) + "\n").encode())
                self.proc.stdin.flush()
            except OSError:
                self.stop()
                continue
            current = None
            deadline = time.time() + 120   # start-up: imports transpile, loads the program
            while True:
                line = self._readline(deadline)
                if line is None or line == b"":
                    # hung (None) or died (b""): the current check crashed
                    name = current or todo[0]
                    if line is None:
                        res = {"cls": "crash", "key": "timeout",
                               "msg": f"no result after {_tmo(timeouts, name)} s"}
                        self.stop()
                    else:
                        rc = self.proc.wait()
                        sig = -rc if rc < 0 else None
                        what = f"signal {sig} ({signal.Signals(sig).name})" if sig else f"exit {rc}"
                        res = {"cls": "crash", "key": f"worker died: {what}", "msg": self._log_tail()}
                        self.stop()
                    res["check"] = name
                    results[name] = res
                    todo = [c for c in todo if c not in results]
                    break
                msg = json.loads(line)
                if "start" in msg:
                    current = msg["start"]
                    deadline = time.time() + _tmo(timeouts, current)
                elif "res" in msg:
                    results[msg["res"]["check"]] = msg["res"]
                    current = None
                    deadline = time.time() + 60
                elif "fatal" in msg:
                    for c in todo:
                        if c not in results:
                            results[c] = {"check": c, "cls": "crash", "key": "fatal", "msg": msg["fatal"]}
                elif "end" in msg:
                    todo = [c for c in todo if c not in results]
                    break
        return [results[c] for c in checks]

    def _log_tail(self):
        try:
            with open(self.log, "rb") as fh:
                fh.seek(0, 2)
                n = fh.tell()
                fh.seek(max(0, n - 2000))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""


class InProcess:
    """Runs checks in this process (--inprocess; the regression tests)."""

    def run(self, program, checks, timeouts):
        return run_checks(program.path, program.modname, program.args, program.batch, program.in_axes,
                          program.out_shape, checks)

    def stop(self):
        pass


# ---------------------------------------------------------------------------
# shrinking
# ---------------------------------------------------------------------------

_BODY_FIELDS = ("body", "orelse")


def _stmt_lists(tree):
    """(owner node, field) for every statement list, in walk order."""
    out = []
    for node in ast.walk(tree):
        for field in _BODY_FIELDS:
            lst = getattr(node, field, None)
            if isinstance(lst, list) and lst and isinstance(lst[0], ast.stmt):
                out.append((node, field))
    return out


def _candidates(tree):
    """Edits, as functions of a fresh copy of the tree, biggest first."""
    edits = []
    # the base case of a recursive helper stays (else the shrunk helper recurses forever, uncalled)
    protected = set()
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and any(
                isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == fn.name
                for c in ast.walk(fn)):
            protected |= {id(n) for n in ast.walk(fn) if isinstance(n, ast.If)}
    lists = _stmt_lists(tree)
    for li, (node, field) in enumerate(lists):
        lst = getattr(node, field)
        for si, st in enumerate(lst):
            if id(st) in protected:
                continue
            size = len(ast.unparse(st))
            edits.append((size + 1000, ("delete", li, si)))
            if isinstance(st, (ast.If, ast.For, ast.While)):
                edits.append((size + 500, ("inline", li, si, "body")))
                if st.orelse:
                    edits.append((size + 500, ("inline", li, si, "orelse")))
    nodes = list(ast.walk(tree))
    for ni, node in enumerate(nodes):
        if isinstance(node, ast.BinOp):
            edits.append((len(ast.unparse(node)), ("expr", ni, "left")))
            edits.append((len(ast.unparse(node)), ("expr", ni, "right")))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            edits.append((len(ast.unparse(node)), ("expr", ni, "operand")))
        elif isinstance(node, ast.IfExp):
            edits.append((len(ast.unparse(node)), ("expr", ni, "body")))
            edits.append((len(ast.unparse(node)), ("expr", ni, "orelse")))
        elif isinstance(node, ast.Call):
            for ai in range(len(node.args)):
                edits.append((len(ast.unparse(node)), ("expr", ni, ("arg", ai))))
            if isinstance(node.func, ast.Name) and node.func.id == "range" and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, int) \
                    and node.args[0].value > 1:
                edits.append((1, ("range", ni)))
        elif isinstance(node, ast.BoolOp):
            for vi in range(len(node.values)):
                edits.append((len(ast.unparse(node)), ("expr", ni, ("val", vi))))
    edits.sort(key=lambda e: -e[0])
    return [e for _, e in edits]


def _apply(tree, edit):
    t = copy.deepcopy(tree)
    kind = edit[0]
    if kind in ("delete", "inline"):
        node, field = _stmt_lists(t)[edit[1]]
        lst = getattr(node, field)
        st = lst[edit[2]]
        if kind == "delete":
            new = []
        else:
            new = getattr(st, edit[3])
            if not new:
                return None
        lst[edit[2]:edit[2] + 1] = new
        if not lst:
            if isinstance(node, ast.Module):
                return None
            lst.append(ast.Pass())
        if isinstance(node, (ast.If, ast.For, ast.While)) and field == "orelse" and \
                all(isinstance(s, ast.Pass) for s in lst):
            setattr(node, field, [])
        return t
    nodes = list(ast.walk(t))
    node = nodes[edit[1]]
    if kind == "range":
        node.args[0].value -= 1
        return t
    what = edit[2]
    if isinstance(what, tuple):
        repl = node.args[what[1]] if what[0] == "arg" else node.values[what[1]]
    else:
        repl = getattr(node, what)
    if isinstance(repl, ast.Starred):
        return None
    # swap node for repl in its parent
    for parent in nodes:
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, repl)
                return t
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is node:
                        value[i] = repl
                        return t
    return None


def shrink(program, result, runner, timeouts, workdir, budget, log=None):
    """The smallest program (by greedy AST edits) on which the check still fails the same way."""
    check = result["check"]
    target = (result["cls"], result["key"])
    checks = deps_for(check, program.out_shape) + [check]
    best_src = program.source
    best = result
    tree = ast.parse(best_src)
    t_end = time.time() + budget
    tried = set()
    n_ok = 0
    progress = True
    while progress and time.time() < t_end:
        progress = False
        for edit in _candidates(tree):
            if time.time() > t_end:
                break
            cand_tree = _apply(tree, edit)
            if cand_tree is None:
                continue
            try:
                src = "import numpy as np\n\n\n" + "\n\n\n".join(
                    ast.unparse(n) for n in cand_tree.body
                    if not (isinstance(n, ast.Import) and n.names[0].name == "numpy")) + "\n"
            except Exception:
                continue
            if src in tried:
                continue
            tried.add(src)
            path, modname = write_module(workdir, "shrink", src)
            try:
                mod = load_module(path, modname)
                f = mod.f
            except Exception:
                continue
            if not program_valid(f, program.args, program.batch, program.out_shape):
                continue
            cand = copy.copy(program)
            cand.source, cand.path, cand.modname = src, path, modname
            res = runner.run(cand, checks, timeouts)[-1]
            if (res["cls"], res["key"]) == target:
                tree = ast.parse(src)
                best_src, best = src, res
                n_ok += 1
                progress = True
                if log:
                    log(f"    shrink {program.pid} {check}: {len(best_src)} chars")
                break
    out = copy.copy(program)
    out.source = best_src
    out.path, out.modname = write_module(workdir, "min", best_src)
    return out, best


# ---------------------------------------------------------------------------
# regression files
# ---------------------------------------------------------------------------

def regression_text(program, result):
    head = textwrap.dedent(f'''\
        """Fuzz regression (tools/fuzz.py): {result["check"]} is {result["cls"]}.

        found by: python tools/fuzz.py, program {program.pid} (features: {", ".join(program.used)})
        failure: {result["key"]}
        """
        ''')
    detail = "\n".join("# " + ln for ln in (result["msg"] or "").strip().splitlines()[:6])
    body = program.source.replace("import numpy as np\n", "", 1).strip("\n")
    tail = textwrap.dedent(f"""\
        CHECK = {result["check"]!r}
        ARGS = {literal(tuple(program.args))}
        BATCH = {literal([tuple(b) for b in program.batch])}
        IN_AXES = {program.in_axes!r}
        OUT_SHAPE = {tuple(program.out_shape)!r}
        FOUND = {result["key"]!r}
        """)
    return head + "import numpy as np\n\n\n" + body + "\n\n\n" + (detail + "\n" if detail else "") + tail


def save_regression(program, result, directory=REGRESSIONS_DIR):
    os.makedirs(directory, exist_ok=True)
    h = hashlib.sha1((program.source + result["check"]).encode()).hexdigest()[:10]
    path = os.path.join(directory, f"case_{result['check']}_{result['cls']}_{h}.py")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(regression_text(program, result))
    return path


def check_regression_file(path):
    """Replay a regression file in this process: the result dict of its CHECK."""
    modname = "fuzz_regression_" + os.path.splitext(os.path.basename(path))[0]
    mod = load_module(path, modname)
    checks = deps_for(mod.CHECK, mod.OUT_SHAPE) + [mod.CHECK]
    return run_checks(path, modname, mod.ARGS, mod.BATCH, mod.IN_AXES, mod.OUT_SHAPE, checks)[-1]


# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------

class Summary:
    def __init__(self):
        self.programs = 0
        self.counts = collections.Counter()
        self.per_check = collections.defaultdict(collections.Counter)
        self.failures = []          # (program, result)
        self.refusals = collections.Counter()
        self.secs = collections.Counter()
        self.refusal_checks = collections.defaultdict(set)
        self.shrunk = {}            # signature -> (program, result, saved path)

    def add(self, program, results):
        self.programs += 1
        for r in results:
            self.secs[r["check"]] += r.get("secs", 0.0)
            self.counts[r["cls"]] += 1
            self.per_check[r["check"]][r["cls"]] += 1
            if r["cls"] in ("wrong", "crash"):
                self.failures.append((program, r))
            elif r["cls"] == "refused":
                self.refusals[r["key"]] += 1
                self.refusal_checks[r["key"]].add(r["check"])

    def causes(self):
        """Failures grouped for shrinking: a crash site or a mutation across checks, else per check."""
        groups = collections.OrderedDict()
        for p, r in self.failures:
            same_cause = r["cls"] == "crash" or r["key"].startswith("wrong:mutation")
            g = (r["cls"], r["key"]) if same_cause else (r["check"], r["cls"], r["key"])
            groups.setdefault(g, []).append((p, r))
        return sorted(groups.items(), key=lambda kv: -len(kv[1]))

    def signatures(self):
        groups = collections.OrderedDict()
        for p, r in self.failures:
            groups.setdefault((r["check"], r["cls"], r["key"]), []).append((p, r))
        return sorted(groups.items(), key=lambda kv: -len(kv[1]))

    @property
    def wrong(self):
        return self.counts["wrong"]

    @property
    def crash(self):
        return self.counts["crash"]

    def line(self):
        c = self.counts
        total = sum(c.values())
        return (f"fuzz: {self.programs} programs, {c['agree']} agree, {c['refused']} refused, "
                f"{c['wrong']} wrong, {c['crash']} crash (per program x transformation check: "
                f"{total} checks, {c['skipped']} not judged: kinks everywhere or nothing to compare)")

    def report(self, show_failures=False):
        out = []
        kinds = ("agree", "refused", "wrong", "crash", "skipped")
        out.append(f"  {'check':<15}" + "".join(f"{k:>8}" for k in kinds) + "   seconds")
        for name, c in self.per_check.items():
            out.append(f"  {name:<15}" + "".join(f"{c[k]:>8}" for k in kinds) + f"{self.secs[name]:>10.1f}")
        causes = self.causes()
        if causes:
            out.append("failure classes (most frequent first; a crash site or a mutation key counts once "
                       "across checks):")
        for cause, items in causes:
            p, r = items[0]
            checks = sorted({x["check"] for _, x in items})
            first = (r["msg"] or "").strip().splitlines()[0][:160] if r["msg"] else ""
            out.append(f"  {len(items):4d} x {r['cls']} {r['key']}  [{', '.join(checks)}]  "
                       f"e.g. program {p.pid} {r['check']}: {first}")
        if self.refusals:
            out.append("refusals (by message, all checks together):")
            for key, n in self.refusals.most_common():
                out.append(f"  {n:4d} x {key}   [{', '.join(sorted(self.refusal_checks[key]))}]")
        if show_failures:
            for cause, items in causes:
                p, r = items[0]
                shown = [sh for (check, cls, key), lst in self.shrunk.items() for sh in lst
                         if any(x is sh[1] or (x["check"], x["cls"], x["key"]) == (check, cls, key)
                                for _, x in items)] or [(p, r, None)]
                checks = sorted({x["check"] for _, x in items})
                out.append("")
                out.append(f"=== {r['cls']} {r['key']}  ({len(items)} x in {', '.join(checks)}; first: program "
                           f"{p.pid}, features: {', '.join(p.used)})")
                for prog, res, saved in shown:
                    if prog is not p:
                        out.append(f"--- {res['check']}, shrunk from program {prog.pid}"
                                   f"{(' -> ' + os.path.relpath(saved, ROOT)) if saved else ''}")
                    out.append(prog.source.rstrip())
                    out.append(f"# args = {literal(tuple(prog.args))}")
                    if res["check"] == "vmap":
                        out.append(f"# batch = {literal(prog.batch)}, in_axes = {prog.in_axes!r}")
                    out.append("# " + "\n# ".join((res["msg"] or "").strip().splitlines()[:12]))
        return "\n".join(out)


def run_fuzz(n, seed=0, jit=False, features=None, checks=None, timeout=None, inprocess=False,
             shrink_failures=False, save=False, shrink_budget=None, max_shrink=None, per_class=1, cache_share=0.25,
             verbose=False, log=None, workdir=None, regressions_dir=REGRESSIONS_DIR, start=0):
    """Generate and check n programs (numbers start .. start + n - 1 of the seed); returns a Summary."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    weights = feature_weights(features)
    own_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="fuzz-")
    env = dict(os.environ)
    env.setdefault("TRANSPILE_CACHE_DIR", os.path.join(workdir, "cache"))
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if inprocess:
        os.environ.setdefault("TRANSPILE_CACHE_DIR", env["TRANSPILE_CACHE_DIR"])
    base = list(checks) if checks else list(JIT_CHECKS if jit else EAGER_CHECKS)
    t_check = timeout or (300 if jit else 60)
    timeouts = {"default": t_check, "cache": t_check * 2}
    runner = InProcess() if inprocess else Worker(t_check, env=env, log=os.path.join(workdir, "worker.log"))
    summary = Summary()
    try:
        for k in range(start, start + n):
            t0 = time.time()
            prog = make_program(seed, k, weights, workdir)
            names = checks_for(base, prog.out_shape)
            if "cache" in names and random.Random(f"cache:{seed}:{k}").random() >= cache_share:
                names.remove("cache")
            # eager checks a jit check compares against run first, uncounted
            aux = [d for c in names for d in deps_for(c, prog.out_shape) if d not in names and d in EAGER_CHECKS]
            aux = list(dict.fromkeys(aux))
            results = [r for r in runner.run(prog, aux + names, timeouts) if r["check"] in names]
            summary.add(prog, results)
            if verbose:
                log(f"[{prog.pid}] {time.time() - t0:5.1f}s " +
                    " ".join(f"{r['check']}={r['cls']}" for r in results))
            else:
                bad = [r for r in results if r["cls"] in ("wrong", "crash")]
                if bad:
                    log(f"[{prog.pid}] " + "; ".join(f"{r['check']} {r['cls']}: {r['key']}" for r in bad))
        if shrink_failures or save:
            budget = shrink_budget or (600 if jit else 60)
            limit = max_shrink if max_shrink is not None else 10 ** 9
            done = 0
            seen = {}
            for cause, items in summary.causes():
                picked, pids = [], set()
                for p, r in items:          # different programs first
                    if p.pid not in pids and len(picked) < per_class:
                        picked.append((p, r))
                        pids.add(p.pid)
                for p, r in picked:
                    if done >= limit:
                        break
                    log(f"shrinking {r['check']} {r['cls']}: {r['key']} (program {p.pid})")
                    small, res = shrink(p, r, runner, timeouts, workdir, budget, log if verbose else None)
                    done += 1
                    if small.source in seen:
                        saved = seen[small.source]
                    else:
                        saved = save_regression(small, res, regressions_dir) if save else None
                        seen[small.source] = saved
                    summary.shrunk.setdefault((r["check"], r["cls"], r["key"]), []).append((small, res, saved))
    finally:
        runner.stop()
        if own_workdir and not os.environ.get("FUZZ_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50, help="number of programs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first program number (--start K --n 1: program K alone)")
    ap.add_argument("--jit", action="store_true", help="check tp.jit, jit(grad) and a second process")
    ap.add_argument("--save", action="store_true",
                    help="shrink one failure per class and write it to tests/fuzz/regressions/")
    ap.add_argument("--shrink", action="store_true", help="shrink one failure per class (no files)")
    ap.add_argument("--show-failures", action="store_true", help="print a program for each failure class")
    ap.add_argument("--features", default="", help="comma-separated features (name or name=weight) to "
                                                  "generate; default all")
    ap.add_argument("--checks", default="", help="comma-separated checks; default: "
                    f"{','.join(EAGER_CHECKS)} (with --jit: {','.join(JIT_CHECKS)})")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per check (default 60; 300 with --jit)")
    ap.add_argument("--shrink-budget", type=float, default=None, help="seconds per shrunk failure")
    ap.add_argument("--max-shrink", type=int, default=None, help="shrink at most this many failures")
    ap.add_argument("--per-class", type=int, default=1, help="shrink up to this many failures of each class")
    ap.add_argument("--cache-share", type=float, default=0.25,
                    help="share of --jit programs also checked in a second process")
    ap.add_argument("--inprocess", action="store_true", help="run checks in this process (debugging)")
    ap.add_argument("--print", dest="print_program", type=int, default=None, metavar="K",
                    help="print program K of --seed and exit")
    ap.add_argument("--list-features", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cache-child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        return worker_main()
    if a.cache_child:
        return cache_child_main()
    if a.list_features:
        for k, (w, doc) in FEATURES.items():
            print(f"{k:<14}{w:>5}  {doc}")
        return 0
    features = [s for s in a.features.split(",") if s] or None
    checks = [s for s in a.checks.split(",") if s] or None
    for c in checks or ():
        if c not in CHECKS:
            raise SystemExit(f"unknown check {c!r}: one of {', '.join(CHECKS)}")
    if a.print_program is not None:
        d = tempfile.mkdtemp(prefix="fuzz-")
        p = make_program(a.seed, a.print_program, feature_weights(features), d)
        print(p.source)
        print(f"# args = {literal(tuple(p.args))}\n# features: {', '.join(p.used)}")
        shutil.rmtree(d, ignore_errors=True)
        return 0
    s = run_fuzz(a.n, seed=a.seed, jit=a.jit, features=features, checks=checks, timeout=a.timeout,
                 inprocess=a.inprocess, shrink_failures=a.shrink, save=a.save, shrink_budget=a.shrink_budget,
                 max_shrink=a.max_shrink, per_class=a.per_class, cache_share=a.cache_share, verbose=a.verbose,
                 start=a.start)
    print(s.report(show_failures=a.show_failures or a.shrink or a.save))
    print(s.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
