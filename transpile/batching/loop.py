"""The per-example loop: `vmap` that always works.

The wrapper has the parameters of the function it batches; it reads the
batch size from the mapped arguments (checking that they agree), calls the
function on example 0 to learn the shape and dtype of each output leaf,
allocates the outputs (batch axis first) and runs the other examples in a
loop. Each example takes its own branches, its own number of `while` trips,
its own early return: Python's semantics, example by example.

    vmap(f, in_axes=(0, None), out_axes=1)      def vmap_f(x, w):
                                                    _n = batching.axis_size(x, 0)
                                                    batching.check_nonempty(_n)
                                                    _x_b = x[0]
                                                    _r = f(_x_b, w)
                                                    _o0 = batching.alloc(_r, _n)
                                                    _o0[0] = _r
                                                    for _b in range(1, _n):
                                                        _x_b = x[_b]
                                                        _r = f(_x_b, w)
                                                        _o0[_b] = _r
                                                    _out = batching.moveaxis(_o0, 0, 1)
                                                    return _out

The wrapper is ANF, so forward mode reads it as it is (`jacfwd(vmap(f))`).
Under `tp.jit` it is a compiled loop.
"""
from . import analysis as An


def _index(axis, b):
    """The subscript text selecting example `b` along `axis`."""
    if axis >= 0:
        return ", ".join([":"] * axis + [b]) if axis else b
    return ", ".join(["..."] + [b] + [":"] * (-axis - 1))


class Emitter:
    """Source lines of a wrapper, with fresh names."""

    def __init__(self, taken):
        self.lines = []
        self.taken = set(taken)

    def fresh(self, base):
        name, i = base, 1
        while name in self.taken:
            i += 1
            name = f"{base}{i}"
        self.taken.add(name)
        return name

    def named(self, key, base):
        """The same fresh name each time for `key` (example 0 and the loop share names)."""
        if not hasattr(self, "_names"):
            self._names = {}
        if key not in self._names:
            self._names[key] = self.fresh(base)
        return self._names[key]

    def emit(self, line, depth=1):
        self.lines.append("    " * depth + line)


def decompose(em, params, axes):
    """Take tuple parameters apart (once, before the loop). Returns
    ({param: node}, [(variable, axis)] of the mapped leaves), where a node is
    (variable, axis) for a leaf and (variable, [nodes]) for a tuple."""
    leaves = []

    def walk(var, tree):
        if isinstance(tree, tuple):
            items = []
            for k, sub in enumerate(tree):
                item = em.fresh(f"_{var.lstrip('_')}_{k}")
                em.emit(f"{item} = {var}[{k}]")
                items.append(walk(item, sub))
            return (var, items)
        if tree is not None:
            leaves.append((var, tree))
        return (var, tree)

    return {p: walk(p, axes.get(p)) for p in params}, leaves


def size_lines(em, leaves, axis_size):
    """`_n = ...` and the consistency checks; returns the size variable."""
    n = em.fresh("_n")
    rest = leaves
    if axis_size is not None:
        em.emit(f"{n} = {int(axis_size)}")
    else:
        var, axis = leaves[0]
        em.emit(f"{n} = batching.axis_size({var}, {axis})")
        rest = leaves[1:]
    for var, axis in rest:
        em.emit(f"batching.check_size({var}, {axis}, {n})")
    return n


def example_args(em, nodes, params, b, depth):
    """Lines building example `b`'s arguments; returns the argument texts."""
    def build(node):
        var, tree = node
        if isinstance(tree, list):
            items = [build(i) for i in tree]
            if all(i == sub[0] for i, sub in zip(items, tree)):
                return var                      # nothing mapped inside
            tup = em.named(("arg", var), f"{var}_b")
            em.emit(f"{tup} = ({', '.join(items)}{',' if len(items) == 1 else ''})", depth)
            return tup
        if tree is None:
            return var
        out = em.named(("arg", var), f"_{var.lstrip('_')}_b")
        em.emit(f"{out} = {var}[{_index(tree, b)}]", depth)
        return out

    return [build(nodes[p]) for p in params]


def result_leaves(em, r, tree, depth):
    """Lines taking the leaves out of the result `r`; returns their variables."""
    out = []

    def walk(var, t, path):
        if isinstance(t, An.Tup):
            for k, item in enumerate(t.items):
                part = em.named(("res", var, k), f"{var}_{k}")
                em.emit(f"{part} = {var}[{k}]", depth)
                walk(part, item, path + (k,))
        else:
            out.append(var)

    walk(r, tree, ())
    return out


def pack(em, tree, values, depth=1):
    """The text of `tree` rebuilt from leaf texts (tuple displays nested)."""
    it = iter(values)

    def build(t):
        if isinstance(t, An.Tup):
            items = [build(i) for i in t.items]
            name = em.fresh("_tup")
            em.emit(f"{name} = ({', '.join(items)}{',' if len(items) == 1 else ''})", depth)
            return name
        return next(it)

    return build(tree)


def wrapper_source(current_name, params, axes, out_tree, out_leaf_axes, axis_size, taken):
    """The body of the per-example loop wrapper, as ANF source lines."""
    em = Emitter(set(taken) | set(params))
    nodes, leaves = decompose(em, params, axes)
    n = size_lines(em, leaves, axis_size)
    em.emit(f"batching.check_nonempty({n})")
    b = em.fresh("_b")
    r = em.fresh("_r")
    # example 0: allocate the outputs
    args = example_args(em, nodes, params, "0", 1)
    em.emit(f"{r} = {current_name}({', '.join(args)})")
    vals = result_leaves(em, r, out_tree, 1)
    outs = []
    for v, ax in zip(vals, out_leaf_axes):
        if ax is None:
            outs.append(v)
            continue
        o = em.fresh("_o")
        em.emit(f"{o} = batching.alloc({v}, {n})")
        em.emit(f"{o}[0] = {v}")
        outs.append(o)
    # examples 1 .. n-1
    em.emit(f"for {b} in range(1, {n}):")
    args = example_args(em, nodes, params, b, 2)
    em.emit(f"{r} = {current_name}({', '.join(args)})", 2)
    vals = result_leaves(em, r, out_tree, 2)
    for v, o, ax in zip(vals, outs, out_leaf_axes):
        if ax is not None:
            em.emit(f"{o}[{b}] = {v}", 2)
    final = []
    for o, ax in zip(outs, out_leaf_axes):
        if ax is None or ax == 0:
            final.append(o)
            continue
        m = em.fresh("_out")
        em.emit(f"{m} = batching.moveaxis({o}, 0, {ax})")
        final.append(m)
    result = pack(em, out_tree, final)
    em.emit(f"return {result}")
    return em.lines
