"""The simulated virtual media of a system: a CD and a USB stick drive.

Served as a BMC serves them, under the system
(``/redfish/v1/Systems/<uuid>/VirtualMedia``, where sushy's
``system.virtual_media`` finds them) and, on an endpoint with a single
system, also as the Manager's ``VirtualMedia`` collection (the older
place, where most BMCs and sushy-tools put them). Both collections
list the same member documents.

``POST .../Actions/VirtualMedia.InsertMedia`` with ``Image`` inserts an
image, ``POST .../Actions/VirtualMedia.EjectMedia`` ejects it; a
``PATCH`` of ``Image`` and ``Inserted`` does either, for clients that
patch (sushy falls back to it on BMCs without the actions). An image
that is not an http(s) URL is a 400, as on BMCs that only stream. The
simulated BMC does not fetch the image.
"""

from __future__ import annotations

from typing import Any

#: Member id -> the MediaTypes it takes.
DEVICES: dict[str, tuple[str, ...]] = {
    "Cd": ("CD", "DVD"),
    "Usb": ("USBStick",),
}
COLLECTION = "VirtualMedia"
INSERT = "Actions/VirtualMedia.InsertMedia"
EJECT = "Actions/VirtualMedia.EjectMedia"
#: The boot override target that boots each device's image.
BOOT_TARGETS = {"Cd": "Cd", "Usb": "Usb"}


class Refused(Exception):
    """A request the simulated BMC answers with a 400."""


class SimVirtualMedia:
    """The image inserted in each virtual media device of a system."""

    __slots__ = ("images", "inserts", "ejects")

    def __init__(self) -> None:
        #: Member id -> image URL; a device absent here is empty.
        self.images: dict[str, str] = {}
        self.inserts = 0
        self.ejects = 0

    def image_for_boot(self, target: str | None) -> str | None:
        """The image a boot from override ``target`` starts, if any."""
        for device, boot_target in BOOT_TARGETS.items():
            if boot_target == target:
                return self.images.get(device)
        return None

    def insert(self, device: str, image: Any) -> None:
        """Insert ``image`` in ``device``; :class:`Refused` if it is not
        an http(s) URL."""
        if not isinstance(image, str) or not image.startswith(
                ("http://", "https://")):
            raise Refused(f"Image {image!r} is not an http(s) URL.")
        self.images[device] = image
        self.inserts += 1

    def eject(self, device: str) -> None:
        """Eject ``device``'s image (nothing happens if it is empty)."""
        if self.images.pop(device, None) is not None:
            self.ejects += 1

    def patch(self, device: str, body: dict[str, Any]) -> None:
        """A PATCH of ``Image`` and ``Inserted``: insert or eject."""
        unknown = set(body) - {"Image", "Inserted", "WriteProtected"}
        if unknown:
            raise Refused(f"Properties not writable: {sorted(unknown)}.")
        image = body.get("Image")
        if body.get("Inserted") is False or ("Image" in body
                                             and image is None):
            self.eject(device)
        elif image is not None:
            self.insert(device, image)

    def describe(self) -> dict[str, str]:
        """Inserted images by device (the control API)."""
        return dict(self.images)


def collection_doc(path: str, member_base: str) -> dict[str, Any]:
    """A VirtualMedia collection at ``path`` whose members live under
    ``member_base`` (the system's collection)."""
    members = [{"@odata.id": f"{member_base}/{d}"} for d in DEVICES]
    return {
        "@odata.type": "#VirtualMediaCollection.VirtualMediaCollection",
        "@odata.id": path, "Name": "Virtual Media Services",
        "Members": members, "Members@odata.count": len(members),
    }


def member_doc(media: SimVirtualMedia, base: str,
               device: str) -> dict[str, Any]:
    """One device's document, at ``base/device``."""
    path = f"{base}/{device}"
    image = media.images.get(device)
    return {
        "@odata.type": "#VirtualMedia.v1_4_0.VirtualMedia",
        "@odata.id": path, "Id": device,
        "Name": f"Virtual {device}",
        "MediaTypes": list(DEVICES[device]),
        "Image": image,
        "ImageName": image.rsplit("/", 1)[-1] if image else None,
        "Inserted": image is not None,
        "WriteProtected": True,
        "ConnectedVia": "URI" if image else "NotConnected",
        "TransferMethod": "Stream",
        "Actions": {
            "#VirtualMedia.InsertMedia": {"target": f"{path}/{INSERT}"},
            "#VirtualMedia.EjectMedia": {"target": f"{path}/{EJECT}"},
        },
    }


class Answer:
    """What :func:`route` answers: a status and a document (None for a
    204), or an error message with its status and Redfish message id."""

    __slots__ = ("status", "doc", "message", "message_id", "allow")

    def __init__(self, status: int, doc: dict[str, Any] | None = None,
                 message: str | None = None, message_id: str = "",
                 allow: str = "") -> None:
        self.status = status
        self.doc = doc
        self.message = message
        self.message_id = message_id
        self.allow = allow


def _not_allowed(allow: str) -> Answer:
    return Answer(405, message="Method not allowed on this resource.",
                  message_id="Base.1.8.OperationNotAllowed", allow=allow)


def route(media: SimVirtualMedia, method: str, path: str, rest: str,
          member_base: str, body: dict[str, Any] | None) -> Answer:
    """Answer a request for ``rest`` (``""`` for the collection at
    ``path``, else ``<device>`` or ``<device>/Actions/...``); members
    and their actions are at ``member_base``. ``body`` is the parsed
    JSON object, None if the body is not one."""
    if rest == "":
        if method != "GET":
            return _not_allowed("GET")
        return Answer(200, collection_doc(path, member_base))
    device, _, action = rest.partition("/")
    if device not in DEVICES:
        return Answer(404, message=f"No resource at {path}/{rest}.",
                      message_id="Base.1.8.ResourceMissingAtURI")
    try:
        if action == "":
            if method == "GET":
                return Answer(200, member_doc(media, member_base, device))
            if method != "PATCH":
                return _not_allowed("GET, PATCH")
            if body is None:
                raise Refused("Body must be a JSON object.")
            media.patch(device, body)
            return Answer(204)
        if action not in (INSERT, EJECT):
            return Answer(404, message=f"No resource at {path}/{rest}.",
                          message_id="Base.1.8.ResourceMissingAtURI")
        if method != "POST":
            return _not_allowed("POST")
        if action == EJECT:
            media.eject(device)
        else:
            media.insert(device, (body or {}).get("Image"))
        return Answer(204)
    except Refused as exc:
        return Answer(400, message=str(exc),
                      message_id="Base.1.8.ActionParameterValueFormatError")
