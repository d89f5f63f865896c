"""Fake BIOS interface: a small attribute registry, values kept in the
node record.

The "BMC" holds its values in ``driver_internal_info['fake_bios']``
(only the attributes changed from their defaults), so a test changes a
value behind Podium's back by writing there. Changes take effect at
once. ``driver_info`` steers changes as it steers the other fake
interfaces (``fake_delay``, ``fake_hang``, ``fake_fail``); reading is
not steered, so that the cache refresh inspection and cleaning make
adds no delay or failure to theirs. ``driver_info``
``fake_bios_not_kept``, a comma-separated list of attribute names,
makes the fake BMC accept changes to those attributes and not keep
them, as some real BMCs do.
"""

from collections.abc import Mapping
from typing import Any

from podium.common import exceptions
from podium.drivers import base, bios_settings
from podium.drivers.modules import fake

#: The registry of the fake BIOS, with each attribute's default value.
REGISTRY: tuple[bios_settings.BiosSetting, ...] = (
    bios_settings.BiosSetting(
        'BootMode', 'Uefi', attribute_type='Enumeration',
        allowable_values=('Uefi', 'Bios'), read_only=False,
        reset_required=True, unique=False),
    bios_settings.BiosSetting(
        'ProcTurboMode', 'Enabled', attribute_type='Enumeration',
        allowable_values=('Enabled', 'Disabled'), read_only=False,
        reset_required=True, unique=False),
    bios_settings.BiosSetting(
        'LogicalProc', 'Enabled', attribute_type='Enumeration',
        allowable_values=('Enabled', 'Disabled'), read_only=False,
        reset_required=True, unique=False),
    bios_settings.BiosSetting(
        'SriovGlobalEnable', 'false', attribute_type='Boolean',
        read_only=False, reset_required=True, unique=False),
    bios_settings.BiosSetting(
        'NumaNodesPerSocket', '1', attribute_type='Integer',
        lower_bound=1, upper_bound=4, read_only=False,
        reset_required=True, unique=False),
    bios_settings.BiosSetting(
        'AssetTag', '', attribute_type='String', min_length=0,
        max_length=16, read_only=False, reset_required=False,
        unique=True),
    bios_settings.BiosSetting(
        'SystemModelName', 'Fake Server', attribute_type='String',
        read_only=True, reset_required=False, unique=False),
)

_KEY = 'fake_bios'


def _stored(task: base.Task) -> dict[str, str]:
    return dict((task.node.driver_internal_info or {}).get(_KEY) or {})


def _not_kept(node: base.NodeView) -> set[str]:
    given = (node.driver_info or {}).get('fake_bios_not_kept') or ''
    return {name.strip() for name in str(given).split(',') if name.strip()}


class FakeBios(fake.FakeBase, base.BiosInterface):
    """BIOS settings kept in the node record."""

    properties = dict(fake.FakeBase.properties, fake_bios_not_kept=(
        base.DriverInfoProperty(
            'Comma-separated BIOS attributes whose changes the fake BMC '
            'accepts and does not keep. Optional.')))

    def get_settings(self, task: base.Task
                     ) -> list[bios_settings.BiosSetting]:
        stored = _stored(task)
        return [bios_settings.BiosSetting(**dict(
            setting.__dict__, value=stored.get(setting.name, setting.value)))
            for setting in REGISTRY]

    def apply_settings(self, task: base.Task,
                       settings: Mapping[str, Any]) -> None:
        label = base.node_label(task.node)
        # The fake BMC refuses what its registry refuses, as a real one
        # does; the conductor's check on the cache normally comes first.
        bios_settings.check_changes(label, settings, REGISTRY)
        fake.behave(task)
        ignored = _not_kept(task.node)
        stored = _stored(task)
        stored.update({name: str(bios_settings.as_text(value))
                       for name, value in settings.items()
                       if name not in ignored})
        fake.store(task, **{_KEY: stored})
        lost = bios_settings.not_kept(settings, self.get_settings(task))
        if lost:
            raise exceptions.DriverError(
                reason=f'Node {label}: the BMC accepted the BIOS '
                       f'setting(s) {", ".join(lost)} but did not keep '
                       f'them.')

    def reset_settings(self, task: base.Task) -> None:
        fake.behave(task)
        fake.store(task, **{_KEY: {}})
