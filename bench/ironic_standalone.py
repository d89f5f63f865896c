"""OpenStack Ironic, installed from PyPI and run standalone for comparison.

:func:`ensure_venv` installs the ``ironic`` release asked for (the newest
by default) into a virtualenv of its own, so it never shares a library
with Podium; :class:`IronicServer` then runs it the way a standalone
operator does: the all-in-one ``ironic`` process (API and conductor, no
message bus), SQLite, ``noauth``, loopback only, ``fake-hardware`` and
``redfish`` enabled. Automated cleaning is off and the DHCP provider is
``none``, so nothing outside the machine is touched.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from bench import procs

#: Where the Ironic virtualenv goes unless ``--ironic-venv`` says
#: otherwise (git-ignored).
DEFAULT_VENV = os.path.join(procs.REPO_ROOT, 'bench', '.venvs', 'ironic')


def ensure_venv(venv: str, version: str | None = None) -> str:
    """A virtualenv at ``venv`` holding ``ironic`` (``version`` or newest).

    An existing virtualenv whose Ironic matches ``version`` (or any Ironic
    when ``version`` is None) is reused; installing takes a few minutes.

    :returns: the installed Ironic version.
    """
    installed = installed_version(venv)
    if installed and (version is None or installed == version):
        return installed
    if not os.path.isdir(venv):
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
    requirement = f'ironic=={version}' if version else 'ironic'
    print(f'installing {requirement} into {venv} (a few minutes)',
          flush=True)
    subprocess.run([os.path.join(venv, 'bin', 'pip'), 'install', '--quiet',
                    requirement], check=True)
    found = installed_version(venv)
    if not found:
        raise procs.BenchError(f'ironic is not importable in {venv}')
    return found


def installed_version(venv: str) -> str | None:
    """The Ironic version installed in ``venv``, or None."""
    python = os.path.join(venv, 'bin', 'python')
    if not os.path.exists(python):
        return None
    proc = subprocess.run(
        [python, '-c', 'import importlib.metadata as m; '
                       'print(m.version("ironic"))'],
        capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def options(workdir: str, port: int, sync_interval: int
            ) -> dict[str, dict[str, Any]]:
    """ironic.conf for one standalone all-in-one run in ``workdir``."""
    return {
        'DEFAULT': {
            'auth_strategy': 'noauth', 'rpc_transport': 'none',
            'host': 'bench-ironic', 'use_stderr': 'false',
            'debug': 'false',
            'log_file': os.path.join(workdir, 'ironic.log'),
            'enabled_hardware_types': 'fake-hardware,redfish',
            'enabled_power_interfaces': 'fake,redfish',
            'enabled_management_interfaces': 'fake,redfish',
            # redfish needs a deploy and a boot interface it supports.
            'enabled_deploy_interfaces': 'fake,ramdisk',
            'enabled_boot_interfaces': 'fake,redfish-virtual-media',
            'enabled_inspect_interfaces': 'no-inspect',
            'enabled_network_interfaces': 'noop',
            'default_network_interface': 'noop',
            'enabled_console_interfaces': 'no-console',
            'enabled_raid_interfaces': 'no-raid',
            'enabled_rescue_interfaces': 'no-rescue',
            'enabled_vendor_interfaces': 'no-vendor',
            'enabled_bios_interfaces': 'no-bios'},
        'api': {'host_ip': '127.0.0.1', 'port': str(port)},
        'database': {'connection': 'sqlite:///' + os.path.join(
            workdir, 'ironic.sqlite')},
        'conductor': {'automated_clean': 'false',
                      'sync_power_state_interval': str(sync_interval)},
        'dhcp': {'dhcp_provider': 'none'},
        'oslo_concurrency': {'lock_path': os.path.join(workdir, 'locks')},
    }


class IronicServer:
    """One standalone Ironic in a temporary directory.

    :param venv: a virtualenv prepared by :func:`ensure_venv`.
    :param sync_interval: ``[conductor] sync_power_state_interval``.
    :param keep: leave the directory (configuration, database, logs).
    """

    name = 'ironic'

    def __init__(self, venv: str, sync_interval: int,
                 keep: bool = False) -> None:
        self.venv = venv
        self.keep = keep
        self.workdir = tempfile.mkdtemp(prefix='podium-bench-ironic-')
        self.port = procs.free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.config_file = os.path.join(self.workdir, 'ironic.conf')
        parser = configparser.ConfigParser(interpolation=None)
        for group, values in options(self.workdir, self.port,
                                     sync_interval).items():
            if group != 'DEFAULT':
                parser.add_section(group)
            for key, value in values.items():
                parser.set(group, key, value)
        with open(self.config_file, 'w', encoding='utf-8') as handle:
            parser.write(handle)

    def _bin(self, command: str) -> str:
        return os.path.join(self.venv, 'bin', command)

    @contextlib.contextmanager
    def serve(self, start_timeout: float = 180
              ) -> Iterator[subprocess.Popen[bytes]]:
        """Create the schema, then run ``ironic`` until the block ends."""
        log = os.path.join(self.workdir, 'ironic.out')
        with procs.child([self._bin('ironic-dbsync'), '--config-file',
                          self.config_file, 'create_schema'], log) as proc:
            if proc.wait(start_timeout):
                raise procs.BenchError(
                    f'ironic-dbsync failed:\n{procs.tail(log)}')
        with procs.child([self._bin('ironic'), '--config-file',
                          self.config_file], log) as proc:
            procs.wait_until(
                lambda: procs.http_ok(self.url + '/v1/nodes?limit=1'),
                start_timeout, 'ironic start-up', proc=proc)
            yield proc

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
