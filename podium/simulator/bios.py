"""The simulated BIOS of a system: attributes, an attribute registry and
pending settings applied when the system next boots.

Served under ``/redfish/v1/Systems/<uuid>/Bios`` as a BMC serves it:
``GET Bios`` gives the current ``Attributes``; ``PATCH Bios/Settings``
stores pending values (checked against the registry: an unknown
attribute, a read-only one or a value out of the registry's range is a
400 as on real BMCs); ``POST Bios/Actions/Bios.ResetBios`` makes the
defaults pending. Pending values take effect when the system boots (a
restart, or power on from off). The registry is linked from the service
root's ``Registries`` collection, where sushy looks for it.

``not_kept`` names attributes whose pending values are dropped at boot
instead of applied, for tests of a BMC that accepts a setting and does
not keep it.
"""

from __future__ import annotations

import json
from typing import Any

ROOT = "/redfish/v1"
REGISTRIES = ROOT + "/Registries"
REGISTRY_ID = "PodiumBiosAttributeRegistry.v1_0_0"
REGISTRY_FILE = f"{REGISTRIES}/{REGISTRY_ID}"
REGISTRY_DOC = REGISTRY_FILE + "/Registry"

#: ``(name, type, default, extra registry fields)``.
_ATTRIBUTES: tuple[tuple[str, str, Any, dict[str, Any]], ...] = (
    ("BootMode", "Enumeration", "Uefi", {"Value": ["Uefi", "Bios"]}),
    ("ProcTurboMode", "Enumeration", "Enabled",
     {"Value": ["Enabled", "Disabled"]}),
    ("ProcVirtualization", "Enumeration", "Enabled",
     {"Value": ["Enabled", "Disabled"]}),
    ("PxeDev1EnDis", "Enumeration", "Enabled",
     {"Value": ["Enabled", "Disabled"]}),
    ("SriovGlobalEnable", "Boolean", False, {}),
    ("MemFrequency", "Integer", 3200,
     {"LowerBound": 1600, "UpperBound": 4800}),
    ("AssetTag", "String", "", {"MinLength": 0, "MaxLength": 32,
                                "IsSystemUniqueProperty": True}),
    ("SystemServiceTag", "String", "SIM", {"ReadOnly": True}),
)

DEFAULTS: dict[str, Any] = {name: default
                            for name, _, default, _ in _ATTRIBUTES}


def _entry(name: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "AttributeName": name, "DisplayName": name, "Type": kind,
        "ReadOnly": False, "ResetRequired": True,
        "IsSystemUniqueProperty": False,
    }
    for key, value in extra.items():
        entry[key] = ([{"ValueName": v, "ValueDisplayName": v}
                       for v in value] if key == "Value" else value)
    return entry


_REGISTRY = {name: _entry(name, kind, extra)
             for name, kind, _, extra in _ATTRIBUTES}


def static_documents() -> dict[str, bytes]:
    """The registry collection, file and registry, by path."""
    docs = {
        REGISTRIES: {
            "@odata.type": "#MessageRegistryFileCollection."
                           "MessageRegistryFileCollection",
            "@odata.id": REGISTRIES, "Name": "Registry File Collection",
            "Members": [{"@odata.id": REGISTRY_FILE}],
            "Members@odata.count": 1},
        REGISTRY_FILE: {
            "@odata.type": "#MessageRegistryFile.v1_1_0.MessageRegistryFile",
            "@odata.id": REGISTRY_FILE, "Id": REGISTRY_ID,
            "Name": "BIOS Attribute Registry File", "Languages": ["en"],
            "Registry": REGISTRY_ID,
            "Location": [{"Language": "en", "Uri": REGISTRY_DOC}]},
        REGISTRY_DOC: {
            "@odata.type": "#AttributeRegistry.v1_3_0.AttributeRegistry",
            "@odata.id": REGISTRY_DOC, "Id": REGISTRY_ID,
            "Name": "Podium simulated BIOS attribute registry",
            "Language": "en", "OwningEntity": "Podium",
            "RegistryVersion": "1.0.0",
            "RegistryEntries": {"Attributes": list(_REGISTRY.values())}},
    }
    return {path: json.dumps(doc).encode() for path, doc in docs.items()}


def problem(name: str, value: Any) -> str | None:
    """Why the registry refuses ``value`` for ``name``; None if not."""
    entry = _REGISTRY.get(name)
    if entry is None:
        return f"Attribute {name} is not in the registry."
    if entry["ReadOnly"]:
        return f"Attribute {name} is read-only."
    kind = entry["Type"]
    if kind == "Enumeration" and value not in [
            v["ValueName"] for v in entry["Value"]]:
        return f"Value {value!r} of {name} is not allowed."
    if kind == "Boolean" and not isinstance(value, bool):
        return f"Value {value!r} of {name} is not a boolean."
    if kind == "Integer" and (isinstance(value, bool)
                              or not isinstance(value, int)
                              or not entry["LowerBound"] <= value
                              <= entry["UpperBound"]):
        return f"Value {value!r} of {name} is out of range."
    if kind == "String" and (not isinstance(value, str)
                             or len(value) > entry.get("MaxLength", 255)):
        return f"Value {value!r} of {name} is not a valid string."
    return None


class SimBios:
    """Current and pending attribute values of one system."""

    __slots__ = ("current", "pending", "not_kept")

    def __init__(self) -> None:
        self.current: dict[str, Any] = dict(DEFAULTS)
        self.pending: dict[str, Any] = {}
        self.not_kept: set[str] = set()

    def boot(self) -> None:
        """The system boots: pending values take effect, except the
        ``not_kept`` ones, which are dropped."""
        for name, value in self.pending.items():
            if name not in self.not_kept:
                self.current[name] = value
        self.pending = {}

    def set_current(self, attributes: dict[str, Any]) -> None:
        """Change current values at once, out of band (someone in the
        BIOS setup).

        :raises ValueError: naming attributes the BIOS does not have.
        """
        unknown = sorted(set(attributes) - set(self.current))
        if unknown:
            raise ValueError(f"unknown BIOS attribute(s) {unknown}")
        self.current.update(attributes)

    def describe(self) -> dict[str, Any]:
        return {"attributes": dict(self.current),
                "pending": dict(self.pending),
                "not_kept": sorted(self.not_kept)}

    def document(self, system_path: str) -> dict[str, Any]:
        path = system_path + "/Bios"
        return {
            "@odata.type": "#Bios.v1_1_0.Bios", "@odata.id": path,
            "Id": "BIOS", "Name": "BIOS Configuration",
            "AttributeRegistry": REGISTRY_ID,
            "Attributes": dict(self.current),
            "@Redfish.Settings": {
                "@odata.type": "#Settings.v1_3_0.Settings",
                "SettingsObject": {"@odata.id": path + "/Settings"}},
            "Actions": {"#Bios.ResetBios": {
                "target": path + "/Actions/Bios.ResetBios"}},
        }

    def settings_document(self, system_path: str) -> dict[str, Any]:
        path = system_path + "/Bios/Settings"
        return {"@odata.type": "#Bios.v1_1_0.Bios", "@odata.id": path,
                "Id": "Settings", "Name": "BIOS pending settings",
                "Attributes": dict(self.pending)}

    def stage(self, attributes: Any) -> str | None:
        """Store ``attributes`` as pending; the refusal's message if the
        registry refuses any of them (then nothing is stored)."""
        if not isinstance(attributes, dict) or not attributes:
            return "Attributes must be a non-empty object."
        for name, value in attributes.items():
            refused = problem(name, value)
            if refused:
                return refused
        self.pending.update(attributes)
        return None

    def reset(self) -> None:
        """ResetBios: the defaults become pending."""
        self.pending = dict(DEFAULTS)
