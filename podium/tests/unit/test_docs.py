"""The documentation tree: its build refuses broken references, and the
generated reference pages say what the code does.

The build test runs Sphinx in a child process on a two-page tree that
uses the real ``doc/source/conf.py`` and extensions, once with a good
cross-reference and once with a broken one: only the broken one fails,
so the failure is the reference's, not the tree's.
"""

import os
import shutil
import subprocess
import sys

from podium.api import app as api_app
from podium.api import microversions
from podium.common import provision
from podium.tests import base

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
DOC_SOURCE = os.path.join(_REPO_ROOT, 'doc', 'source')
#: A cold Sphinx start imports oslo.config's and reno's extensions.
SPHINX_TIMEOUT = 120

sys.path.insert(0, os.path.join(DOC_SOURCE, '_exts'))
import podium_api_reference  # noqa: E402


class DocsBuildTest(base.TestCase):

    def _build(self, reference: str) -> subprocess.CompletedProcess[str]:
        source = os.path.join(self.state_dir, 'source')
        os.mkdir(source)
        shutil.copy(os.path.join(DOC_SOURCE, 'conf.py'), source)
        shutil.copytree(os.path.join(DOC_SOURCE, '_exts'),
                        os.path.join(source, '_exts'))
        with open(os.path.join(source, 'index.rst'), 'w',
                  encoding='utf-8') as handle:
            handle.write('Index\n=====\n\n.. toctree::\n\n   other\n\n'
                         f'See {reference}.\n')
        with open(os.path.join(source, 'other.rst'), 'w',
                  encoding='utf-8') as handle:
            handle.write('Other\n=====\n\nA page.\n')
        # The options tox -e docs uses.
        return subprocess.run(
            [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
             '-b', 'html', source, os.path.join(self.state_dir, 'html')],
            capture_output=True, text=True, timeout=SPHINX_TIMEOUT,
            check=False)

    def test_broken_reference_fails_the_build(self) -> None:
        good = self._build(':doc:`other`')
        self.assertEqual(0, good.returncode, good.stderr)
        shutil.rmtree(os.path.join(self.state_dir, 'source'))
        broken = self._build(':doc:`no-such-page`')
        self.assertNotEqual(0, broken.returncode, broken.stderr)
        self.assertIn("unknown document: 'no-such-page'", broken.stderr)


class ApiReferenceTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.document = api_app.create_app().openapi()

    def test_every_served_route_is_classified(self) -> None:
        # A route missing from both tables would be documented as an
        # "unclassified" extension: wrong for an Ironic route.
        for path in self.document['paths']:
            self.assertNotIn('unclassified',
                             podium_api_reference.classify(path), path)

    def test_routes_newer_than_1_1_say_so(self) -> None:
        text = '\n'.join(podium_api_reference.reference_lines(
            self.document))
        for path, added in microversions.ROUTES.items():
            self.assertIn(path, self.document['paths'])
            method = next(iter(self.document['paths'][path])).upper()
            title = f'{method} {path}'
            section = text[text.index(title):]
            self.assertIn(f'Served from microversion {added[0]}.'
                          f'{added[1]}; a request for an older version '
                          f'gets 404.', section.split('\n~')[1])

    def test_microversion_table_lists_every_entry(self) -> None:
        text = '\n'.join(podium_api_reference.microversion_lines())
        for resource, fields in microversions.FIELDS.items():
            for name, (major, minor) in fields.items():
                self.assertIn(f'   * - ``{name}``\n     - {major}.{minor}',
                              text, f'{resource}.{name}')
        for target, (major, minor) in \
                provision.TARGET_MIN_VERSIONS.items():
            self.assertIn(f'provision target ``{target}``\n'
                          f'     - {major}.{minor}', text)
        self.assertIn('``inspect wait`` (from 1.39)\n     - ``inspecting``',
                      text)

    def test_transition_table_is_the_machine(self) -> None:
        text = '\n'.join(podium_api_reference.transition_lines())
        rows = text.count('   * - ``')
        self.assertEqual(len(list(provision.MACHINE)), rows)
        self.assertIn('   * - ``manageable``\n     - ``clean``\n'
                      '     - API target ``clean``\n     - ``cleaning``',
                      text)
        # The end of a manual cleaning is not the operator's "manage".
        self.assertIn('   * - ``cleaning``\n     - ``manage``\n'
                      '     - (the conductor)\n     - ``manageable``', text)
        self.assertIn('   * - ``verifying``\n     - ``done``\n'
                      '     - (the conductor)\n     - ``manageable``', text)
