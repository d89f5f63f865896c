"""JSON-patch updates of nodes with Ironic's semantics.

What clients rely on (``baremetal node set/unset``, openstacksdk's
``patch_node``): ``add`` on an existing root attribute replaces it; a
nested ``add`` creates the key; ``remove`` of a root attribute resets
it to its default (null, or ``{}`` for dicts); ``remove`` of a missing
key and any change of a read-only attribute are refused with a 400.
The patched node is validated as a whole before anything is written.
"""

from collections.abc import Collection, Sequence
from typing import Any

import jsonpatch
import jsonpointer
import pydantic

from podium.api import errors, node_view, schemas
from podium.common import exceptions, intended
from podium.drivers import base as drivers_base
from podium.drivers import driver_factory


def root(path: str) -> str:
    """The attribute a JSON-patch path changes."""
    name = path.split('/')[1]
    return name.replace('~1', '/').replace('~0', '~')


def _check_operation(operation: schemas.PatchOperation,
                     patchable: Collection[str],
                     readable: Collection[str]) -> None:
    name = root(operation.path)
    if name not in patchable:
        if name in readable:
            raise exceptions.InvalidParameterValue(
                err=f'"/{name}" is a read-only attribute and cannot be '
                    f'patched.')
        raise exceptions.InvalidParameterValue(
            err=f'Unknown attribute "{name}" in patch path '
                f'"{operation.path}".')
    if operation.op != 'remove' and 'value' not in \
            operation.model_fields_set:
        raise exceptions.InvalidParameterValue(
            err=f'Patch operation "{operation.op}" on "{operation.path}" '
                f'needs a value.')


def apply_to_document(document: dict[str, Any],
                      operations: Sequence[schemas.PatchOperation],
                      model: type[pydantic.BaseModel],
                      readable: Collection[str]) -> dict[str, Any]:
    """``document`` (the patchable attributes of a resource, which
    ``model`` validates) with ``operations`` applied and validated as a
    whole; attributes removed are reset to the model's defaults.

    :raises InvalidParameterValue: naming the operation, path or field
        at fault.
    """
    patchable = model.model_fields
    for operation in operations:
        _check_operation(operation, patchable, readable)
    try:
        patched = jsonpatch.apply_patch(
            document, [op.model_dump(exclude_unset=True)
                       for op in operations])
    except (jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException) as exc:
        raise exceptions.InvalidParameterValue(
            err=f'Cannot apply the patch: {exc}') from None
    for name, field in patchable.items():
        if name not in patched and not field.is_required():
            patched[name] = field.get_default(call_default_factory=True)
    try:
        return model.model_validate(patched).model_dump()
    except pydantic.ValidationError as exc:
        raise exceptions.InvalidParameterValue(
            err=errors.describe_validation_errors(exc.errors())) from None


def resolve_interfaces(driver: str, requested: dict[str, str | None]
                       ) -> dict[str, str | None]:
    """The interfaces a node of ``driver`` uses; an unknown or disabled
    driver is bad input here (HTTP 400), as in Ironic."""
    try:
        return driver_factory.get_registry().resolve_interfaces(
            driver, requested)
    except exceptions.DriverNotFound as exc:
        raise exceptions.InvalidParameterValue(err=str(exc)) from None


def _resolve_interfaces(node: Any, values: dict[str, Any],
                        changes: dict[str, Any]) -> None:
    """Re-resolve interfaces when the driver or an interface changed.

    A new driver resets every interface the patch did not set itself to
    the new hardware type's default, as Ironic does.
    """
    driver_changed = 'driver' in changes
    fields = {kind: f'{kind}_interface'
              for kind in drivers_base.INTERFACE_KINDS}
    if not driver_changed and not any(f in changes for f in fields.values()):
        return
    requested = {kind: (values[field] if field in changes or
                        not driver_changed else None)
                 for kind, field in fields.items()}
    resolved = resolve_interfaces(values['driver'], requested)
    for kind, name in resolved.items():
        if getattr(node, fields[kind]) != name:
            changes[fields[kind]] = name
        else:
            changes.pop(fields[kind], None)


def apply(node: Any, operations: Sequence[schemas.PatchOperation]
          ) -> dict[str, Any]:
    """The column values ``operations`` change on ``node``.

    :raises InvalidParameterValue: naming the operation, path or field
        at fault; nothing is changed then.
    """
    document = {name: getattr(node, name) for name in schemas.PATCHABLE}
    document['intended_settings'] = intended.patch_document(
        node.intended_settings)
    values = apply_to_document(document, operations, schemas.NodeFields,
                               node_view.ALL_FIELDS |
                               set(node_view.EXTENSION_FIELDS))
    changes = {name: value for name, value in values.items()
               if getattr(node, name) != value}
    _resolve_interfaces(node, values, changes)
    if 'intended_settings' in changes:
        drift = intended.prune(node.drift, changes['intended_settings'])
        if drift != node.drift:
            changes['drift'] = drift
    return changes
