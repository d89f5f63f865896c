"""Per-node actions of the hardware commands: BIOS settings, boot
mode, boot order, NMI, BMC reset, firmware and virtual media, as step
generators for the bulk runner.

Reading BIOS settings is one ``GET bios`` (the cache the conductor keeps
fresh on inspection and cleaning); changing them is manual cleaning with
the ``bios`` interface's steps, through the provision action (so
``--wait`` waits for the node to be ``manageable`` again, or reports
why cleaning failed); the boot mode is one ``PUT states/boot_mode``;
the boot order one vendor passthru call (``get_boot_order``,
``set_boot_order``, ``check_boot_order``); an NMI one
``PUT management/inject_nmi`` and a BMC reset one
``POST bmc_reset``; virtual media one ``POST`` or ``DELETE vmedia``
(answered once the BMC took or ejected the image).
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


def _passthru(client: ApiClient, ident: str, method: str, verb: str,
              body: Any = None) -> Steps[Any]:
    return busy_retries(lambda: client.request(
        verb, node_path(ident, 'vendor_passthru'),
        params={'method': method}, body=body))


def describe_order(options: Sequence[Mapping[str, Any]]) -> str:
    """A boot order in one cell: ``Boot0001 pxe 52:54:00:..:01, Boot0000
    disk, ...`` (reference, device kind, NIC MAC where there is one)."""
    return ', '.join(' '.join(str(part) for part in (
        option.get('ref'), option.get('device'), option.get('mac')) if part)
        for option in options)


def boot_order_show(client: ApiClient) -> Action:
    """Vendor passthru ``get_boot_order``: the order in the data
    (``boot_order``, a readable cell; ``options``, the full list)."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from _passthru(client, ident, 'get_boot_order', 'GET')
        options = list((doc or {}).get('boot_order') or ())
        return Outcome(True, f'{len(options)} boot options', {
            'boot_order': describe_order(options), 'options': options})
    return action


def boot_order_set(client: ApiClient, request: Mapping[str, Any]) -> Action:
    """Vendor passthru ``set_boot_order`` (devices or mac first); the
    data holds the order the BMC reports afterwards."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from _passthru(client, ident, 'set_boot_order', 'POST',
                                   dict(request))
        options = list((doc or {}).get('boot_order') or ())
        return Outcome(True, 'boot order set', {
            'boot_order': describe_order(options), 'options': options})
    return action


def boot_order_check(client: ApiClient,
                     request: Mapping[str, Any]) -> Action:
    """Vendor passthru ``check_boot_order``: fails the node when its
    order is not what ``request`` would make it."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from _passthru(client, ident, 'check_boot_order',
                                   'POST', dict(request))
        doc = doc or {}
        data = {'boot_order': ', '.join(doc.get('actual') or ()),
                'expected': ', '.join(doc.get('expected') or ())}
        if doc.get('matches'):
            return Outcome(True, 'boot order as expected', data)
        return Outcome(False, f'boot order is {data["boot_order"]}, '
                              f'expected {data["expected"]}', data)
    return action


def management_put(client: ApiClient, verb: str, suffix: Sequence[str],
                   done: str) -> Action:
    """One management request on each node (``inject_nmi``,
    ``bmc_reset``); answered once the BMC took it."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from busy_retries(lambda: client.request(
            verb, node_path(ident, *suffix),
            body={} if verb in ('PUT', 'POST') else None))
        return Outcome(True, done)
    return action


def inject_nmi(client: ApiClient) -> Action:
    """``PUT management/inject_nmi`` (Ironic 1.29)."""
    return management_put(client, 'PUT', ('management', 'inject_nmi'),
                          'NMI injected')


def bmc_reset(client: ApiClient) -> Action:
    """``POST bmc_reset`` (a Podium extension)."""
    return management_put(client, 'POST', ('bmc_reset',),
                          'BMC reset requested')


def vmedia_attach(client: ApiClient, device_type: str,
                  image_url: str) -> Action:
    """``POST vmedia``: insert ``image_url`` into the node's device."""
    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from busy_retries(lambda: client.request(
            'POST', node_path(ident, 'vmedia'),
            body={'device_type': device_type, 'image_url': image_url}))
        return Outcome(True, f'{device_type} attached',
                       {'device_type': device_type, 'image': image_url})
    return action


def vmedia_detach(client: ApiClient,
                  device_types: Sequence[str] = ()) -> Action:
    """``DELETE vmedia``: eject ``device_types`` (every type if none)."""
    named = ','.join(device_types)

    def action(ident: str, note: Note) -> Steps[Outcome]:
        yield from busy_retries(lambda: client.request(
            'DELETE', node_path(ident, 'vmedia'),
            params={'device_types': named} if named else None))
        return Outcome(True, f'{named or "all"} detached',
                       {'device_type': named or 'all'})
    return action
