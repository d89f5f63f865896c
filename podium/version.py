"""Podium's version, as pbr computes it from the installed metadata
(or from git in a source tree)."""

from pbr import version as pbr_version

version_info = pbr_version.VersionInfo('podium')


def version_string() -> str:
    """The release string every command prints for ``--version``."""
    return str(version_info.version_string())
