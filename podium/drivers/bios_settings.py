"""BIOS settings: what a bios interface reports, and checking a request
to change them against what the BMC's attribute registry allows.

A :class:`BiosSetting` is one attribute with its current value and, when
the BMC serves an attribute registry, the registry's description of it
(type, allowed values, bounds, read-only ...), with Ironic's field names.
:func:`check_changes` is run on the cached settings before anything is
sent to a BMC, so a typo in an attribute name or a value the registry
does not allow is refused with HTTP 400 naming every problem.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from podium.common import exceptions

#: Registry fields of a setting, as the API (1.74) names them.
REGISTRY_FIELDS = ('attribute_type', 'allowable_values', 'lower_bound',
                   'upper_bound', 'min_length', 'max_length', 'read_only',
                   'reset_required', 'unique')


@dataclasses.dataclass(frozen=True)
class BiosSetting:
    """One BIOS attribute. ``value`` is kept as text, as Ironic keeps
    it; the registry fields are None when the BMC does not say."""

    name: str
    value: str | None
    attribute_type: str | None = None
    allowable_values: tuple[str, ...] | None = None
    lower_bound: int | None = None
    upper_bound: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    read_only: bool | None = None
    reset_required: bool | None = None
    unique: bool | None = None

    def as_row(self) -> dict[str, Any]:
        """The database row of this setting (without its node)."""
        row = dataclasses.asdict(self)
        if self.allowable_values is not None:
            row['allowable_values'] = list(self.allowable_values)
        return row


def as_text(value: Any) -> str | None:
    """A BMC's attribute value as the text the cache and API hold:
    booleans as ``true``/``false`` (JSON's spelling), numbers as
    digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def normalise_request(node: str, settings: Any) -> dict[str, Any]:
    """``settings`` of ``apply_configuration``, Ironic's list of
    ``{"name": ..., "value": ...}``, as ``{name: value}``.

    :raises InvalidParameterValue: not a list of such objects, or a
        name given twice.
    """
    if not isinstance(settings, list) or not settings:
        raise exceptions.InvalidParameterValue(
            err=f'Node {node}: BIOS settings must be a non-empty list of '
                f'{{"name": ..., "value": ...}} objects.')
    result: dict[str, Any] = {}
    for index, item in enumerate(settings):
        if (not isinstance(item, dict) or set(item) != {'name', 'value'}
                or not isinstance(item['name'], str) or not item['name']):
            raise exceptions.InvalidParameterValue(
                err=f'Node {node}: BIOS setting {index} must be an object '
                    f'with exactly a non-empty "name" and a "value", got '
                    f'{item!r}.')
        if item['name'] in result:
            raise exceptions.InvalidParameterValue(
                err=f'Node {node}: BIOS setting {item["name"]} is given '
                    f'more than once.')
        result[item['name']] = item['value']
    return result


def _problem(name: str, value: Any, known: BiosSetting) -> str | None:
    """Why the registry refuses ``value`` for ``known``; None if not."""
    if known.read_only:
        return f'{name} is read-only'
    if known.allowable_values is not None and \
            as_text(value) not in known.allowable_values:
        return (f'{name}={value!r} is not one of '
                f'{", ".join(known.allowable_values)}')
    if known.attribute_type == 'Integer' or known.lower_bound is not None \
            or known.upper_bound is not None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            return f'{name}={value!r} is not an integer'
        try:
            number = int(value)
        except ValueError:
            return f'{name}={value!r} is not an integer'
        if known.lower_bound is not None and number < known.lower_bound:
            return f'{name}={number} is below {known.lower_bound}'
        if known.upper_bound is not None and number > known.upper_bound:
            return f'{name}={number} is above {known.upper_bound}'
    if known.attribute_type == 'Boolean' and not isinstance(value, bool) \
            and as_text(value) not in ('true', 'false'):
        return f'{name}={value!r} is not a boolean'
    if known.min_length is not None or known.max_length is not None:
        length = len(as_text(value) or '')
        if known.min_length is not None and length < known.min_length:
            return (f'{name} is {length} characters long, shorter than '
                    f'{known.min_length}')
        if known.max_length is not None and length > known.max_length:
            return (f'{name} is {length} characters long, longer than '
                    f'{known.max_length}')
    return None


def check_changes(node: str, requested: Mapping[str, Any],
                  cached: Iterable[BiosSetting]) -> None:
    """Refuse changes the cached settings say the BMC would refuse.

    An attribute the node does not have, a read-only one, and a value
    outside the registry's allowed values, bounds or lengths are named,
    all of them, in one error. A node whose settings were never cached
    is refused too: nothing could be checked.

    :raises InvalidParameterValue:
    """
    known = {setting.name: setting for setting in cached}
    if not known:
        raise exceptions.InvalidParameterValue(
            err=f'Node {node}: its BIOS settings are not known yet, so '
                f'the change cannot be checked; inspect or clean the node '
                f'first to read them.')
    problems: list[str] = []
    for name, value in requested.items():
        setting = known.get(name)
        if setting is None:
            problems.append(f'unknown attribute {name}')
            continue
        problem = _problem(name, value, setting)
        if problem:
            problems.append(problem)
    if problems:
        raise exceptions.InvalidParameterValue(
            err=f'Node {node}: invalid BIOS settings: '
                f'{"; ".join(problems)}.')


def not_kept(requested: Mapping[str, Any],
             current: Iterable[BiosSetting]) -> list[str]:
    """The requested attributes whose value the BMC does not report
    afterwards (compared as text): accepted, but not kept."""
    values = {setting.name: setting.value for setting in current}
    return sorted(name for name, value in requested.items()
                  if values.get(name) != as_text(value))
