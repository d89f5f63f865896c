"""Intended settings of a node and their drift: their shapes and rules.

A node may carry **intended settings** (the ``intended_settings``
column, NULL when it has none): what an operator wants the hardware to
keep, whatever happens to it out of band::

    {"boot_mode": "uefi",
     "boot_order": {"devices": ["pxe", "disk"]},
     "bios": {"ProcTurboMode": "Enabled", "BootTimeout": 5}}

(``boot_order`` as a boot order request takes it: ``devices`` first,
or ``{"mac": "..."}``, that NIC first.)

The conductor compares them with what the BMC reports
(:mod:`podium.conductor.drift`); the settings that differ are the node's
**drift** (the ``drift`` column, NULL when there is none), a list of::

    {"setting": "boot_mode", "boot_order" or "bios:<attribute>",
     "intended": ..., "actual": ..., "since": "<ISO 8601 UTC>",
     "state": "drifted" | "not kept" | "put back failed",
     "attempts": <put-backs tried>, "error": "<message>" (if any)}

``state`` is ``drifted`` when the difference was seen; ``not kept``
when Podium put the setting back, the BMC accepted it and still reports
the other value; ``put back failed`` when the BMC refused it. Nothing
in here talks to a BMC or the database: this module is shared by the
API (validation) and the conductor (comparison).
"""

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from podium.common import states

#: ``event_type`` of the node history entries about drift.
EVENT_TYPE = 'drift'

BOOT_MODE = 'boot_mode'
BOOT_ORDER = 'boot_order'
BIOS = 'bios'
#: What ``intended_settings`` may hold.
KEYS = (BOOT_MODE, BOOT_ORDER, BIOS)
#: How a BIOS attribute is named in a drift entry.
BIOS_PREFIX = 'bios:'

DRIFTED = 'drifted'
NOT_KEPT = 'not kept'
PUT_BACK_FAILED = 'put back failed'

_MAC = re.compile(r'^(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$')

#: BIOS attributes a node may intend, at most.
MAX_BIOS = 500
_MAX_NAME = 255


def normalise(value: Any) -> dict[str, Any] | None:
    """``value`` as stored: unknown keys refused, empty parts dropped,
    None for no intended settings at all.

    :raises ValueError: naming what is wrong.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError('intended_settings must be an object')
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise ValueError(f'unknown intended setting(s) {", ".join(unknown)}; '
                         f'known: {", ".join(KEYS)}')
    result: dict[str, Any] = {}
    mode = value.get(BOOT_MODE)
    if mode is not None:
        if mode not in states.BOOT_MODES:
            raise ValueError(f'intended boot_mode {mode!r} is not one of '
                             f'{", ".join(states.BOOT_MODES)}')
        result[BOOT_MODE] = mode
    order = value.get(BOOT_ORDER)
    if order is not None:
        result[BOOT_ORDER] = _boot_order(order)
    bios = value.get(BIOS)
    if bios:
        if not isinstance(bios, dict):
            raise ValueError('intended bios must be an object of '
                             'attribute: value')
        if len(bios) > MAX_BIOS:
            raise ValueError(f'at most {MAX_BIOS} intended BIOS attributes')
        for name, setting in bios.items():
            if not name or len(name) > _MAX_NAME:
                raise ValueError(f'bad BIOS attribute name {name!r}')
            if not isinstance(setting, str | int | float | bool):
                raise ValueError(f'intended BIOS attribute {name}: the '
                                 f'value must be a string, number or '
                                 f'boolean, not {setting!r}')
        result[BIOS] = dict(bios)
    return result or None


def _boot_order(order: Any) -> dict[str, Any]:
    """An intended boot order in its stored shape: ``{"devices": [...]}``
    or ``{"mac": "..."}`` (the node's own options are checked when it is
    compared, by the conductor).

    :raises ValueError: naming what is wrong.
    """
    if not isinstance(order, dict) or len(order) != 1 or not (
            set(order) <= {'devices', 'mac'}):
        raise ValueError('intended boot_order must be {"devices": [...]} '
                         'or {"mac": "<NIC MAC>"}')
    if 'mac' in order:
        mac = order['mac']
        if not isinstance(mac, str) or not _MAC.match(mac):
            raise ValueError(f'intended boot_order mac {mac!r} is not a '
                             f'MAC address')
        return {'mac': mac.lower().replace('-', ':')}
    devices = order['devices']
    if not isinstance(devices, list) or not devices or not all(
            isinstance(item, str) and item.strip() for item in devices):
        raise ValueError('intended boot_order devices must be a non-empty '
                         'list of boot devices or option references')
    names = [item.strip() for item in devices]
    if len(set(names)) != len(names):
        raise ValueError('intended boot_order devices name a device twice')
    return {'devices': names}


def patch_document(value: dict[str, Any] | None) -> dict[str, Any]:
    """What a JSON patch of ``intended_settings`` works on: the stored
    value with an empty ``bios`` object, so that
    ``add /intended_settings/bios/<name>`` works on a node without any."""
    document = dict(value or {})
    document[BIOS] = dict(document.get(BIOS) or {})
    return document


def flatten(intended: Mapping[str, Any] | None) -> dict[str, Any]:
    """Intended settings by drift name (``boot_mode``, ``bios:<name>``)."""
    if not intended:
        return {}
    flat: dict[str, Any] = {}
    if intended.get(BOOT_MODE) is not None:
        flat[BOOT_MODE] = intended[BOOT_MODE]
    if intended.get(BOOT_ORDER) is not None:
        flat[BOOT_ORDER] = intended[BOOT_ORDER]
    for name, value in (intended.get(BIOS) or {}).items():
        flat[BIOS_PREFIX + name] = value
    return flat


def with_applied(intended: Mapping[str, Any] | None,
                 boot_mode: str | None = None,
                 bios: Mapping[str, Any] | None = None,
                 boot_order: Mapping[str, Any] | None = None
                 ) -> dict[str, Any] | None:
    """``intended`` with a boot mode, boot order or BIOS values applied
    through Podium recorded as intended."""
    result = dict(intended or {})
    if boot_mode is not None:
        result[BOOT_MODE] = boot_mode
    if boot_order is not None:
        result[BOOT_ORDER] = dict(boot_order)
    if bios:
        result[BIOS] = dict(result.get(BIOS) or {}, **bios)
    return normalise(result)


def without_bios(intended: Mapping[str, Any] | None
                 ) -> dict[str, Any] | None:
    """``intended`` without its BIOS part (after a factory reset)."""
    result = dict(intended or {})
    result.pop(BIOS, None)
    return normalise(result)


def prune(drift: list[dict[str, Any]] | None,
          intended: Mapping[str, Any] | None
          ) -> list[dict[str, Any]] | None:
    """``drift`` without the entries of settings no longer intended, or
    intended now with another value (the operator changed their mind:
    the next check tells whether the new value holds)."""
    wanted = flatten(intended)
    kept = [entry for entry in drift or ()
            if entry.get('setting') in wanted
            and entry.get('intended') == wanted[entry['setting']]]
    return kept or None


def same(intended: Any, actual: Any) -> bool:
    """Whether a BMC's value is the intended one. Some firmware reports
    numbers and booleans as strings: a string equal to the text of the
    intended value (booleans in any case) counts as the same."""
    if isinstance(intended, bool) != isinstance(actual, bool):
        flag, other = ((intended, actual) if isinstance(intended, bool)
                       else (actual, intended))
        return isinstance(other, str) and other.lower() == str(flag).lower()
    return bool(intended == actual) or str(intended) == str(actual)


def now_text() -> str:
    """The current UTC time as a drift entry's ``since``."""
    return datetime.datetime.now(datetime.UTC).replace(
        microsecond=0).isoformat()


@dataclasses.dataclass
class Comparison:
    """What comparing observed settings with intended ones found."""

    #: The node's drift after the comparison (None: none).
    drift: list[dict[str, Any]] | None
    #: History entries, ``(event, severity)``.
    events: list[tuple[str, str]]
    #: Drift entries that are new or changed.
    changed: list[dict[str, Any]]


def compare(intended: Mapping[str, Any] | None,
            observed: Mapping[str, Any],
            drift: list[dict[str, Any]] | None) -> Comparison:
    """Compare the observed settings (by drift name) with the intended
    ones; settings not observed keep their drift entry as it was.

    An entry whose setting is no longer intended, or intended with
    another value, is dropped (the operator changed their mind); a
    setting back at its intended value clears its entry, with a history
    event; a new difference is a new entry, with a warning.
    """
    wanted = flatten(intended)
    entries = {entry['setting']: entry
               for entry in prune(drift, intended) or ()}
    events: list[tuple[str, str]] = []
    changed: list[dict[str, Any]] = []
    for name, value in observed.items():
        if name not in wanted:
            continue
        target = wanted[name]
        entry = entries.get(name)
        if same(target, value):
            if entry is not None:
                del entries[name]
                events.append((f'Drift cleared: {name} is {value!r} '
                               f'again, as intended.', states.INFO))
            continue
        if entry is None:
            entry = {'setting': name, 'intended': target, 'actual': value,
                     'since': now_text(), 'state': DRIFTED, 'attempts': 0}
            entries[name] = entry
            changed.append(entry)
            events.append((f'Drift: {name} is {value!r} on the BMC, '
                           f'intended {target!r}.', states.WARNING))
        elif entry.get('actual') != value:
            entry = dict(entry, actual=value)
            entries[name] = entry
            changed.append(entry)
            events.append((f'Drift: {name} is now {value!r} on the BMC, '
                           f'intended {target!r}.', states.WARNING))
    ordered = [entries[name] for name in sorted(entries)]
    return Comparison(ordered or None, events, changed)


def replace_entry(drift: list[dict[str, Any]] | None,
                  entry: dict[str, Any] | None, setting: str
                  ) -> list[dict[str, Any]] | None:
    """``drift`` with ``setting``'s entry replaced by ``entry`` (or
    removed when None)."""
    kept = [e for e in drift or () if e.get('setting') != setting]
    if entry is not None:
        kept.append(entry)
    kept.sort(key=lambda e: str(e.get('setting')))
    return kept or None
