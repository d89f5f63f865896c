"""Per-node actions of the hardware commands: BIOS settings and boot
mode, as step generators for the bulk runner.

Reading BIOS settings is one ``GET bios`` (the cache the conductor keeps
fresh on inspection and cleaning); changing them is manual cleaning with
the ``bios`` interface's steps, through the provision action (so
``--wait`` waits for the node to be ``manageable`` again, or reports
why cleaning failed); the boot mode is one ``PUT states/boot_mode``.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from podium.cli import provision_actions
from podium.cli.bulk import Action, Outcome
from podium.cli.client import ApiClient, node_path
from podium.cli.steps import Steps, busy_retries

Note = Callable[[str], None]


def bios_show(client: ApiClient, names: Sequence[str] = ()) -> Action:
    """The node's cached settings (``bios`` in the data, and each of
    ``names`` as its own column); fails when none are cached or a named
    one is missing."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from busy_retries(lambda: client.request(
            'GET', node_path(ident, 'bios')))
        settings = {item['name']: item.get('value')
                    for item in (doc or {}).get('bios') or ()}
        data: dict[str, Any] = {'bios': settings}
        data.update({name: settings.get(name) for name in names})
        if not settings:
            return Outcome(False, 'no BIOS settings known: inspect or '
                                  'clean the node to read them', data)
        missing = [name for name in names if name not in settings]
        if missing:
            return Outcome(False, f'no BIOS setting {", ".join(missing)}',
                           data)
        return Outcome(True, f'{len(settings)} settings', data)
    return action


def bios_apply(client: ApiClient, settings: Mapping[str, Any], wait: bool,
               timeout: float) -> Action:
    """Manual cleaning with ``bios.apply_configuration``."""
    return provision_actions.provision(client, 'clean', wait, timeout, [{
        'interface': 'bios', 'step': 'apply_configuration',
        'args': {'settings': [{'name': name, 'value': value}
                              for name, value in settings.items()]}}])


def bios_reset(client: ApiClient, wait: bool, timeout: float) -> Action:
    """Manual cleaning with ``bios.factory_reset``."""
    return provision_actions.provision(client, 'clean', wait, timeout, [
        {'interface': 'bios', 'step': 'factory_reset'}])


def boot_mode_set(client: ApiClient, mode: str) -> Action:
    """``PUT states/boot_mode``; answered once the BMC reports it."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from busy_retries(lambda: client.request(
            'PUT', node_path(ident, 'states', 'boot_mode'),
            body={'target': mode}))
        return Outcome(True, f'boot mode set to {mode}',
                       {'boot_mode': mode})
    return action


def firmware_show(client: ApiClient) -> Action:
    """The node's firmware versions, ``{component: current version}``
    (as its last inspection found them); fails when none are known."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from busy_retries(lambda: client.request(
            'GET', node_path(ident, 'firmware')))
        versions = {item['component']: item.get('current_version')
                    for item in (doc or {}).get('firmware') or ()}
        if not versions:
            return Outcome(False, 'no firmware versions known: inspect '
                                  'the node to read them',
                           {'firmware': versions})
        return Outcome(True, f'{len(versions)} components',
                       {'firmware': versions})
    return action
