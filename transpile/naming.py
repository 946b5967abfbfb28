"""Fresh names in generated code: the two formats, one allocator each.

Locals a pass adds are `{base}{n}`, n counting from 1 for each base (`_t1`,
`_t2`, `_saved_x1`): `fresh_local`. Generated functions are `{base}`, then
`{base}_2`, `{base}_3`, ...: `free_name`. Neither ever returns a name in
`taken`; `fresh_local` also reserves the name it returns.
"""


def fresh_local(taken, counters, base):
    """`{base}{n}` for the first n after `counters[base]` not in `taken` (a
    set, to which the name is added; `counters` remembers n)."""
    n = counters.get(base, 0)
    while True:
        n += 1
        name = f"{base}{n}"
        if name not in taken:
            counters[base] = n
            taken.add(name)
            return name


def free_name(taken, base):
    """`base`, or `{base}_2`, `{base}_3`, ...: the first not in `taken`."""
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    return name
