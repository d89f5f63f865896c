"""Redfish documents served by the simulator.

Only what a conductor and the sushy client use: the service root, the
session service, systems (with boot override, reset action and inventory
sub-resources), one manager per endpoint and one chassis per system. Every
builder returns a plain dict, except the hot ones (a system and the expanded
systems collection) which return cached bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from podium.simulator.state import BOOT_MODES, BOOT_TARGETS, SimSystem

ROOT = "/redfish/v1"
SYSTEMS = ROOT + "/Systems"
SESSIONS = ROOT + "/SessionService/Sessions"
MANAGER_ID = "BMC"
MANAGER_RESET = f"{ROOT}/Managers/{MANAGER_ID}/Actions/Manager.Reset"
MANAGER_VMEDIA = f"{ROOT}/Managers/{MANAGER_ID}/VirtualMedia"
#: Reset types the simulated BMC takes (it restarts either way).
MANAGER_RESET_TYPES = ("GracefulRestart", "ForceRestart")

RESET_TYPES = ("On", "ForceOff", "GracefulShutdown", "GracefulRestart",
               "ForceRestart", "PushPowerButton", "Nmi")

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(doc: Any) -> bytes:
    """Compact JSON bytes."""
    return _encode(doc).encode()


def error(message: str, message_id: str = "Base.1.8.GeneralError",
          severity: str = "Critical",
          resolution: str = "None.") -> dict[str, Any]:
    """A Redfish error body (DSP0266 section 'Error responses')."""
    return {"error": {
        "code": message_id,
        "message": message,
        "@Message.ExtendedInfo": [{
            "@odata.type": "#Message.v1_1_1.Message",
            "MessageId": message_id,
            "Message": message,
            "Severity": severity,
            "Resolution": resolution,
        }],
    }}


def _link(path: str) -> dict[str, str]:
    return {"@odata.id": path}


def _collection(odata_type: str, path: str, name: str,
                members: Sequence[str]) -> dict[str, Any]:
    return {
        "@odata.type": odata_type,
        "@odata.id": path,
        "Name": name,
        "Members@odata.count": len(members),
        "Members": [_link(m) for m in members],
    }


def version_document() -> dict[str, Any]:
    """``/redfish``: the protocol version map."""
    return {"v1": ROOT + "/"}


def service_root(endpoint_uuid: str) -> dict[str, Any]:
    """``/redfish/v1/``: links, session service and $expand support."""
    return {
        "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
        "@odata.id": ROOT + "/",
        "Id": "RootService",
        "Name": "Podium Simulated Redfish Service",
        "RedfishVersion": "1.11.0",
        "UUID": endpoint_uuid,
        "Product": "Podium BMC simulator",
        "Vendor": "Podium",
        "ProtocolFeaturesSupported": {
            "ExpandQuery": {"ExpandAll": True, "Levels": True,
                            "MaxLevels": 1, "Links": True, "NoLinks": True},
            "FilterQuery": False,
            "SelectQuery": False,
            "OnlyMemberQuery": False,
            "ExcerptQuery": False,
        },
        "Systems": _link(SYSTEMS),
        "Managers": _link(ROOT + "/Managers"),
        "Chassis": _link(ROOT + "/Chassis"),
        "SessionService": _link(ROOT + "/SessionService"),
        "Registries": _link(ROOT + "/Registries"),
        "Links": {"Sessions": _link(SESSIONS)},
    }


def session_service() -> dict[str, Any]:
    """``/redfish/v1/SessionService``."""
    return {
        "@odata.type": "#SessionService.v1_1_8.SessionService",
        "@odata.id": ROOT + "/SessionService",
        "Id": "SessionService",
        "Name": "Session Service",
        "ServiceEnabled": True,
        "SessionTimeout": 1800,
        "Sessions": _link(SESSIONS),
    }


def sessions_collection(session_ids: Sequence[str]) -> dict[str, Any]:
    """``/redfish/v1/SessionService/Sessions``."""
    return _collection("#SessionCollection.SessionCollection", SESSIONS,
                       "Sessions",
                       [f"{SESSIONS}/{sid}" for sid in session_ids])


def session(session_id: str, username: str) -> dict[str, Any]:
    """One session resource (never includes the token)."""
    return {
        "@odata.type": "#Session.v1_3_0.Session",
        "@odata.id": f"{SESSIONS}/{session_id}",
        "Id": session_id,
        "Name": "User Session",
        "UserName": username,
    }


def systems_collection(systems: Sequence[SimSystem]) -> dict[str, Any]:
    """``/redfish/v1/Systems`` with links only."""
    return _collection("#ComputerSystemCollection.ComputerSystemCollection",
                       SYSTEMS, "Computer System Collection",
                       [s.path for s in systems])


def expanded_systems(systems: Sequence[SimSystem]) -> bytes:
    """``/redfish/v1/Systems?$expand=...``: members inline.

    Assembled from each system's cached bytes, so reading the power state
    of a thousand systems costs one join, not a thousand encodes.
    """
    head = dumps({
        "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
        "@odata.id": SYSTEMS,
        "Name": "Computer System Collection",
        "Members@odata.count": len(systems),
    })
    members = b",".join([system_bytes(s) for s in systems])
    return head[:-1] + b',"Members":[' + members + b"]}"


def system_bytes(system: SimSystem) -> bytes:
    """The cached serialised ComputerSystem document of ``system``."""
    doc = system.doc
    if doc is None:
        doc = system.doc = dumps(computer_system(system))
    return doc


def computer_system(system: SimSystem) -> dict[str, Any]:
    """``/redfish/v1/Systems/<uuid>``."""
    inv = system.inventory
    path = system.path
    return {
        "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
        "@odata.id": path,
        "Id": system.uuid,
        "Name": system.name,
        "UUID": system.uuid,
        "SystemType": "Physical",
        "Manufacturer": inv.manufacturer,
        "Model": inv.model,
        "SerialNumber": f"SIM{system.index:08d}",
        "BiosVersion": "2.4.1",
        "PowerState": system.power_state,
        "Status": {"State": "Enabled", "Health": "OK"},
        "Boot": {
            "BootSourceOverrideTarget": system.boot_target,
            "BootSourceOverrideEnabled": system.boot_enabled,
            "BootSourceOverrideMode": system.boot_mode,
            "BootSourceOverrideTarget@Redfish.AllowableValues":
                list(BOOT_TARGETS),
            "BootSourceOverrideMode@Redfish.AllowableValues":
                list(BOOT_MODES),
            "BootOrder": list(system.boot_order.order),
            "BootOptions": _link(path + "/BootOptions"),
        },
        "ProcessorSummary": {
            "Count": inv.cpu_count,
            "Model": inv.cpu_model,
            "CoreCount": inv.cpu_count * inv.cores_per_cpu,
            "LogicalProcessorCount": (inv.cpu_count * inv.cores_per_cpu
                                      * inv.threads_per_core),
            "Status": {"State": "Enabled", "Health": "OK"},
        },
        "MemorySummary": {
            "TotalSystemMemoryGiB": inv.memory_gib,
            "Status": {"State": "Enabled", "Health": "OK"},
        },
        "Processors": _link(path + "/Processors"),
        "EthernetInterfaces": _link(path + "/EthernetInterfaces"),
        "SimpleStorage": _link(path + "/SimpleStorage"),
        "Bios": _link(path + "/Bios"),
        "VirtualMedia": _link(path + "/VirtualMedia"),
        "Links": {
            "Chassis": [_link(f"{ROOT}/Chassis/{system.uuid}")],
            "ManagedBy": [_link(f"{ROOT}/Managers/{MANAGER_ID}")],
        },
        "Actions": {"#ComputerSystem.Reset": {
            "target": path + "/Actions/ComputerSystem.Reset",
            "ResetType@Redfish.AllowableValues": list(RESET_TYPES),
        }},
    }


def processors(system: SimSystem) -> dict[str, Any]:
    """``.../Processors``: one member per socket."""
    base = system.path + "/Processors"
    return _collection("#ProcessorCollection.ProcessorCollection", base,
                       "Processors Collection",
                       [f"{base}/CPU{n}"
                        for n in range(system.inventory.cpu_count)])


def processor(system: SimSystem, ident: str) -> dict[str, Any] | None:
    """``.../Processors/CPU<n>``, or None when there is no such socket."""
    inv = system.inventory
    if ident not in {f"CPU{n}" for n in range(inv.cpu_count)}:
        return None
    return {
        "@odata.type": "#Processor.v1_10_0.Processor",
        "@odata.id": f"{system.path}/Processors/{ident}",
        "Id": ident,
        "Name": "Processor",
        "Socket": ident,
        "ProcessorType": "CPU",
        "ProcessorArchitecture": "x86",
        "InstructionSet": "x86-64",
        "Manufacturer": inv.manufacturer,
        "Model": inv.cpu_model,
        "MaxSpeedMHz": 2400,
        "TotalCores": inv.cores_per_cpu,
        "TotalThreads": inv.cores_per_cpu * inv.threads_per_core,
        "Status": {"State": "Enabled", "Health": "OK"},
    }


def ethernet_interfaces(system: SimSystem) -> dict[str, Any]:
    """``.../EthernetInterfaces``."""
    base = system.path + "/EthernetInterfaces"
    return _collection(
        "#EthernetInterfaceCollection.EthernetInterfaceCollection", base,
        "Ethernet Interface Collection",
        [f"{base}/NIC{n}" for n in range(len(system.macs))])


def ethernet_interface(system: SimSystem, ident: str
                       ) -> dict[str, Any] | None:
    """``.../EthernetInterfaces/NIC<n>``, or None when unknown."""
    for n, mac in enumerate(system.macs):
        if ident == f"NIC{n}":
            return {
                "@odata.type": "#EthernetInterface.v1_6_0.EthernetInterface",
                "@odata.id": f"{system.path}/EthernetInterfaces/{ident}",
                "Id": ident,
                "Name": f"Ethernet Interface {n}",
                "MACAddress": mac,
                "PermanentMACAddress": mac,
                "SpeedMbps": 25000,
                "LinkStatus": "LinkUp",
                "Status": {"State": "Enabled", "Health": "OK"},
            }
    return None


def simple_storage_collection(system: SimSystem) -> dict[str, Any]:
    """``.../SimpleStorage``: a single controller."""
    base = system.path + "/SimpleStorage"
    return _collection("#SimpleStorageCollection.SimpleStorageCollection",
                       base, "Simple Storage Collection", [f"{base}/1"])


def simple_storage(system: SimSystem, ident: str) -> dict[str, Any] | None:
    """``.../SimpleStorage/1``: one disk of the inventory's size."""
    if ident != "1":
        return None
    return {
        "@odata.type": "#SimpleStorage.v1_2_0.SimpleStorage",
        "@odata.id": f"{system.path}/SimpleStorage/1",
        "Id": "1",
        "Name": "Simple Storage Controller",
        "Devices": [{
            "Name": "Disk 0",
            "Model": "Simulated SSD",
            "CapacityBytes": system.inventory.disk_bytes,
            "Status": {"State": "Enabled", "Health": "OK"},
        }],
        "Status": {"State": "Enabled", "Health": "OK"},
    }


def managers_collection() -> dict[str, Any]:
    """``/redfish/v1/Managers``: one BMC per endpoint."""
    return _collection("#ManagerCollection.ManagerCollection",
                       ROOT + "/Managers", "Manager Collection",
                       [f"{ROOT}/Managers/{MANAGER_ID}"])


def manager(systems: Sequence[SimSystem]) -> dict[str, Any]:
    """``/redfish/v1/Managers/BMC``. With a single system, the system's
    virtual media are also the manager's (:mod:`.vmedia`)."""
    doc = {
        "@odata.type": "#Manager.v1_10_0.Manager",
        "@odata.id": f"{ROOT}/Managers/{MANAGER_ID}",
        "Id": MANAGER_ID,
        "Name": "Simulated BMC",
        "ManagerType": "BMC",
        "FirmwareVersion": "1.0.0",
        "Status": {"State": "Enabled", "Health": "OK"},
        "Links": {"ManagerForServers": [_link(s.path) for s in systems]},
        "Actions": {"#Manager.Reset": {
            "target": MANAGER_RESET,
            "ResetType@Redfish.AllowableValues": list(MANAGER_RESET_TYPES),
        }},
    }
    if len(systems) == 1:
        doc["VirtualMedia"] = _link(MANAGER_VMEDIA)
    return doc


def chassis_collection(systems: Sequence[SimSystem]) -> dict[str, Any]:
    """``/redfish/v1/Chassis``: one chassis per system."""
    return _collection("#ChassisCollection.ChassisCollection",
                       ROOT + "/Chassis", "Chassis Collection",
                       [f"{ROOT}/Chassis/{s.uuid}" for s in systems])


def chassis(system: SimSystem) -> dict[str, Any]:
    """``/redfish/v1/Chassis/<system uuid>``."""
    return {
        "@odata.type": "#Chassis.v1_10_0.Chassis",
        "@odata.id": f"{ROOT}/Chassis/{system.uuid}",
        "Id": system.uuid,
        "Name": f"Chassis of {system.name}",
        "ChassisType": "RackMount",
        "PowerState": system.power_state,
        "Status": {"State": "Enabled", "Health": "OK"},
        "Links": {
            "ComputerSystems": [_link(system.path)],
            "ManagedBy": [_link(f"{ROOT}/Managers/{MANAGER_ID}")],
        },
        **system.sensors.chassis_links(f"{ROOT}/Chassis/{system.uuid}"),
    }
