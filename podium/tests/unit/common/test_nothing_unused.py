"""No dead exceptions, state constants or database functions.

An exception class nobody raises, a state constant nobody reads or a
database function nobody calls misleads the reader about what can
happen; this keeps the review's tidy-up from coming back.
"""

import ast
import pathlib

import podium
from podium.tests import base

_ROOT = pathlib.Path(podium.__file__).parent


def _sources(tests: bool = False) -> dict[pathlib.Path, str]:
    """Every module of the package; with ``tests``, the tests too, but
    not the database's own tests."""
    own_tests = _ROOT / 'tests' / 'unit' / 'db'
    return {path: path.read_text(encoding='utf-8')
            for path in _ROOT.rglob('*.py')
            if ('tests' not in path.parts
                or (tests and own_tests not in path.parents))}


def _names_used(sources: dict[pathlib.Path, str],
                skip: pathlib.Path | None = None) -> set[str]:
    """Names and attribute names read anywhere, except in ``skip``."""
    used: set[str] = set()
    for path, text in sources.items():
        if path == skip:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
    return used


def _read_in_module(text: str) -> set[str]:
    """Names a module reads itself (bases, tuples of constants)."""
    return {node.id for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)}


class NothingUnusedTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.sources = _sources()

    def unused(self, relative: str, defined: set[str]) -> list[str]:
        path = _ROOT / relative
        used = (_names_used(self.sources, skip=path)
                | _read_in_module(self.sources[path]))
        return sorted(defined - used)

    def test_every_exception_is_raised_or_a_base(self) -> None:
        tree = ast.parse(self.sources[_ROOT / 'common/exceptions.py'])
        classes = {node.name for node in tree.body
                   if isinstance(node, ast.ClassDef)}
        self.assertEqual([], self.unused('common/exceptions.py', classes))

    def test_every_state_constant_is_used(self) -> None:
        # The state machine's tests read some of the groups.
        self.sources = _sources(tests=True)
        tree = ast.parse(self.sources[_ROOT / 'common/states.py'])
        constants = {target.id for node in tree.body
                     if isinstance(node, ast.Assign | ast.AnnAssign)
                     for target in (node.targets if isinstance(
                         node, ast.Assign) else [node.target])
                     if isinstance(target, ast.Name)}
        self.assertEqual([], self.unused('common/states.py', constants))

    def test_every_database_function_is_called(self) -> None:
        # Tests and benchmarks that build fleets count as callers; the
        # database's own tests do not.
        self.sources = _sources(tests=True)
        for module in ('db/api.py', 'db/history.py', 'db/ports.py'):
            tree = ast.parse(self.sources[_ROOT / module])
            functions = {node.name for node in tree.body
                         if isinstance(node, ast.FunctionDef)}
            self.assertEqual([], self.unused(module, functions), module)
