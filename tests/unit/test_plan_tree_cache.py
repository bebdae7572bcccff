"""The plan trees the objectives service keeps (entrypoints.plans_http.TreeCache): a kept
tree is sent only for the plan version it was written at, and only a few are kept."""

import gzip

from regia_objectives.entrypoints.plans_http import TreeCache


def test_a_kept_tree_answers_only_for_its_version() -> None:
    trees = TreeCache(size=2)
    kept = trees.put(("pgs", 2027), (7, 1), b'{"plan_id": "pgs"}')
    assert trees.get(("pgs", 2027), (7, 1)) is kept
    assert trees.get(("pgs", 2027), (8, 1)) is None  # its coverage moved since: written again
    assert trees.get(("pgs", 2027), (7, 2)) is None  # a node, need or lead changed
    assert trees.get(("pgs", 2028), (7, 1)) is None
    assert gzip.decompress(kept.gzipped()) == b'{"plan_id": "pgs"}'
    assert kept.gzipped() is kept.gzipped()  # compressed once


def test_the_least_recently_read_goes_first_and_a_missing_plan_is_not_kept() -> None:
    trees = TreeCache(size=2)
    trees.put(("a", None), (1, 1), b"a")
    trees.put(("b", None), (1, 1), b"b")
    assert trees.get(("a", None), (1, 1)) is not None  # a read last
    trees.put(("c", None), (1, 1), b"c")
    assert trees.get(("b", None), (1, 1)) is None and trees.get(("a", None), (1, 1)) is not None
    trees.put(("nowhere", None), (0, 0), b"{}")  # no definition: no such plan
    assert trees.get(("nowhere", None), (0, 0)) is None
