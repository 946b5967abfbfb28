"""Pytree utilities (issue 6): JAX's flatten order and structure rules."""
import collections
import dataclasses

import numpy as np
import pytest

import transpile as tp

Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Layer:
    W: object
    b: object


def test_flatten_order_and_round_trip():
    tree = [1, {"k2": (3, 4), "k1": 2}, None, Point(5, 6), Layer(W=7, b=8)]
    leaves, treedef = tp.tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, 5, 6, 7, 8]          # dict keys sorted, None has no leaves
    assert treedef.num_leaves == 8
    back = tp.tree_unflatten(treedef, leaves)
    assert back == tree and isinstance(back[3], Point) and isinstance(back[4], Layer)
    assert tp.tree_structure(tree) == treedef
    assert tp.tree_structure([1, 2]) != tp.tree_structure((1, 2))
    with pytest.raises(ValueError, match="expected 8, got 7"):
        tp.tree_unflatten(treedef, leaves[:-1])


def test_leaves_are_anything_not_a_container():
    obj = object()
    assert tp.tree_leaves([obj, "s", np.ones(2)])[0] is obj
    assert tp.tree_leaves({"a": ()}) == []


def test_tree_map_several_trees_and_prefixes():
    a = {"W": np.ones(2), "b": 1.0}
    out = tp.tree_map(lambda p, g: p - 0.5 * g, a, {"W": np.full(2, 2.0), "b": 4.0})
    np.testing.assert_allclose(out["W"], [0.0, 0.0])
    assert out["b"] == -1.0
    # a leaf of the first tree may hold a subtree of another (JAX's prefix rule)
    assert tp.tree_map(lambda x, y: (x, y), [1, 2], [[3, 4], 5]) == [(1, [3, 4]), (2, 5)]
    assert tp.tree_map(lambda x: x * 2, [1, [2]], is_leaf=lambda v: isinstance(v, list) and len(v) == 1) \
        == [2, [2, 2]]


def test_tree_map_mismatch_says_where():
    with pytest.raises(ValueError, match=r"at \[1\]\['k'\].*tree 1 has a leaf"):
        tp.tree_map(lambda a, b: a, [0, {"k": (1, 2)}], [0, {"k": 3}])
    with pytest.raises(ValueError, match="keys"):
        tp.tree_map(lambda a, b: a, {"a": 1}, {"b": 1})


def test_register_pytree_node_and_namespace():
    class Box:
        def __init__(self, items, tag):
            self.items, self.tag = items, tag

    tp.register_pytree_node(Box, lambda b: (b.items, b.tag), lambda tag, items: Box(list(items), tag))
    leaves, treedef = tp.tree.flatten([Box([1, 2], "t"), 3])
    assert leaves == [1, 2, 3]
    back = tp.tree.unflatten(treedef, [4, 5, 6])
    assert back[0].items == [4, 5] and back[0].tag == "t" and back[1] == 6
    assert tp.tree.map(lambda v: v + 1, Box([1], "u")).items == [2]
    assert tp.tree.leaves((1, (2,))) == [1, 2] and tp.tree.structure(1).num_leaves == 1
