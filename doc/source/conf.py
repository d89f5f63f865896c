"""Sphinx configuration of Podium's documentation.

Built by ``tox -e docs`` with warnings as errors, so a broken
reference, a missing page in a toctree or an option the configuration
reference cannot render fails the build.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_exts'))

project = 'Podium'
copyright = 'Podium developers'  # noqa: A001 (Sphinx's name)

extensions = [
    'oslo_config.sphinxext',
    'reno.sphinxext',
    'podium_api_reference',
    'podium_cli_reference',
]

# The example driver package is shown with literalinclude, not built.
exclude_patterns = ['examples/**']
templates_path: list[str] = []
html_theme = 'alabaster'
html_static_path: list[str] = []
html_theme_options = {'description': 'A standalone bare-metal conductor '
                                     'with an Ironic-compatible API'}
# Every :ref:, :doc: and option reference must resolve.
nitpicky = True
nitpick_ignore_regex = [
    # oslo.config's option types are not documented in this tree.
    ('py:class', r'.*'),
]
