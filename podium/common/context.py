"""Request context passed from the API through RPC to the conductor."""

from typing import Any

from oslo_context import context as oslo_context


class RequestContext(oslo_context.RequestContext):
    """The caller of an action, for logs and for RPC serialisation."""

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict()

    @classmethod
    def from_dict(cls, values: dict[str, Any],
                  **kwargs: Any) -> 'RequestContext':
        return super().from_dict(values, **kwargs)


def get_admin_context() -> RequestContext:
    """A context for work the service starts itself (periodic tasks)."""
    return RequestContext(is_admin=True, overwrite=False)
