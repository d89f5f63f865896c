"""Podium's exceptions.

Every exception carries the HTTP status the API answers with, so a
conductor-side failure maps to the right status without a translation
table in the API. Messages are formatted from ``msg_fmt`` with the
keyword arguments given; they name the node or field at fault.
"""

from typing import Any


class PodiumException(Exception):
    """Base of every Podium error; ``code`` is the HTTP status."""

    msg_fmt = 'An unknown error occurred.'
    code = 500

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                # A wrong format argument must not hide the original error.
                message = self.msg_fmt
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self)


class Invalid(PodiumException):
    msg_fmt = 'Invalid input: %(reason)s'
    code = 400


class InvalidParameterValue(Invalid):
    msg_fmt = '%(err)s'


class InvalidMAC(Invalid):
    msg_fmt = 'Expected a MAC address but received %(mac)s.'


class MissingParameterValue(Invalid):
    msg_fmt = '%(err)s'


class InvalidState(Invalid):
    msg_fmt = 'Node %(node)s: %(reason)s'
    code = 409


class InvalidStateRequested(Invalid):
    msg_fmt = 'The requested action "%(action)s" can not be performed ' \
              'on node "%(node)s" while it is in state "%(state)s".'


class InvalidCleanSteps(Invalid):
    msg_fmt = 'Node %(node)s: invalid clean steps: %(reason)s'


class NotFound(PodiumException):
    msg_fmt = 'Resource could not be found.'
    code = 404


class NodeNotFound(NotFound):
    msg_fmt = 'Node %(node)s could not be found.'


class PortNotFound(NotFound):
    msg_fmt = 'Port %(port)s could not be found.'


class BIOSSettingNotFound(NotFound):
    msg_fmt = "Node %(node)s doesn't have a BIOS setting '%(name)s'."


class NodeHistoryNotFound(NotFound):
    msg_fmt = 'Node history record %(history)s could not be found.'


class BatchNotFound(NotFound):
    msg_fmt = 'Batch %(batch)s could not be found.'


class ConductorNotFound(NotFound):
    msg_fmt = 'Conductor %(conductor)s could not be found.'


class DriverNotFound(NotFound):
    msg_fmt = 'Could not find the following driver(s) or hardware ' \
              'type(s): %(driver_name)s.'


class MarkerNotFound(NotFound):
    msg_fmt = 'Marker %(marker)s could not be found.'


class Conflict(PodiumException):
    msg_fmt = 'Conflict: %(reason)s'
    code = 409


class DuplicateName(Conflict):
    msg_fmt = 'A node with name %(name)s already exists.'


class NodeAlreadyExists(Conflict):
    msg_fmt = 'A node with UUID %(uuid)s already exists.'


class MACAlreadyExists(Conflict):
    msg_fmt = 'A port with MAC address %(mac)s already exists.'


class PortAlreadyExists(Conflict):
    msg_fmt = 'A port with UUID %(uuid)s already exists.'


class PortDuplicateName(Conflict):
    msg_fmt = 'A port with name %(name)s already exists.'


class ConductorAlreadyRegistered(Conflict):
    msg_fmt = ('Conductor %(conductor)s is already registered and alive: '
               'another process runs with this host name. Give each '
               'conductor a unique [DEFAULT] host, or stop the other one '
               'and wait [conductor] heartbeat_timeout.')


class NodeChanged(Conflict):
    msg_fmt = ('Node %(node)s was changed by another request while this '
               'one was applied (%(fields)s); retry it.')


class NodeLocked(Conflict):
    msg_fmt = 'Node %(node)s is locked by host %(host)s, please retry ' \
              'after the current operation is completed.'


class BatchStateConflict(Conflict):
    msg_fmt = 'Batch %(batch)s is %(state)s: %(reason)s'


class NodeInMaintenance(Conflict):
    msg_fmt = 'Node %(node)s is in maintenance: %(reason)s'


class TemporaryFailure(PodiumException):
    msg_fmt = 'Resource temporarily unavailable, please retry.'
    code = 503


class NoFreeConductorWorker(TemporaryFailure):
    msg_fmt = 'Requested action cannot be performed due to lack of free ' \
              'conductor workers.'


class ConcurrentActionLimit(TemporaryFailure):
    # As Ironic, the limit itself is not told to the client.
    msg_fmt = 'Unable to process request at this time. The concurrent ' \
              'action limit for %(task_type)s has been reached. Please ' \
              'contact your administrator and try again later.'


class NoValidHost(TemporaryFailure):
    msg_fmt = 'No conductor is available to manage %(what)s.'


class ConductorUnreachable(TemporaryFailure):
    msg_fmt = 'Conductor %(host)s did not answer: %(reason)s'


class RPCVersionUnsupported(ConductorUnreachable):
    """The conductor runs an older release: a caller may fall back to
    what that release serves."""


class ConfigInvalid(PodiumException):
    msg_fmt = 'Invalid configuration: %(reason)s'


class DatabaseUnavailable(PodiumException):
    msg_fmt = ('Cannot reach the database ([database] connection = '
               '%(url)s): %(reason)s')


class DatabaseOutage(TemporaryFailure):
    msg_fmt = 'The database is unreachable, please retry: %(reason)s'


class DriverError(PodiumException):
    """A BMC or driver operation failed; the message says why."""

    msg_fmt = 'Driver error: %(reason)s'
    code = 500


class SettingNotKept(DriverError):
    """The BMC accepted a setting and then reported another value: the
    change is not to be trusted (drift detection reports it as ``not
    kept``)."""


class BMCTimeout(DriverError):
    msg_fmt = 'BMC did not answer within %(timeout)s seconds: %(reason)s'


class BMCAuthError(DriverError):
    msg_fmt = 'BMC rejected the credentials: %(reason)s'


class PowerStateFailure(DriverError):
    msg_fmt = 'Failed to set node power state to %(pstate)s.'


class UnsupportedDriverExtension(Invalid):
    msg_fmt = '%(extension)s is not supported for node %(node)s.'


class NotAcceptable(PodiumException):
    msg_fmt = 'Request not acceptable.'
    code = 406


class PeriodicTaskInvalid(ConfigInvalid):
    msg_fmt = 'Periodic task %(task)s is invalid: %(reason)s'
