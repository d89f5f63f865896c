"""Fault and latency models for simulated BMCs.

A :class:`Behaviour` says how a simulated BMC answers: how long it takes
(a :class:`Latency` model), whether it hangs, which fraction of requests
fail with a 5xx, and how long a power transition takes. Behaviours are
immutable so the request path can read one without locking while a test
thread swaps in another.

Latency models sample with a caller-supplied :class:`random.Random`, so a
seeded simulator replays the same delays. Every model also has a compact
text form (``fixed:0.1``, ``uniform:0.05,0.2``, ``lognormal:0.05,0.8``,
``tail:0.01,0.05,5``) used by the command line and the control API.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import random
from collections.abc import Mapping
from typing import Any


class Latency(abc.ABC):
    """A distribution of response delays, in seconds."""

    @abc.abstractmethod
    def sample(self, rng: random.Random) -> float:
        """Return one delay drawn from the distribution."""

    @abc.abstractmethod
    def spec(self) -> str:
        """Return the text form accepted by :func:`parse_latency`."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec()}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Latency) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(self.spec())


class Fixed(Latency):
    """Every request takes exactly ``seconds``."""

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self.seconds = float(seconds)

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def spec(self) -> str:
        return f"fixed:{self.seconds:g}"


class Uniform(Latency):
    """Delays spread evenly between ``low`` and ``high`` seconds."""

    def __init__(self, low: float, high: float) -> None:
        if low < 0 or high < low:
            raise ValueError("uniform latency needs 0 <= low <= high")
        self.low = float(low)
        self.high = float(high)

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def spec(self) -> str:
        return f"uniform:{self.low:g},{self.high:g}"


class LogNormal(Latency):
    """Long-tailed delays: ``median`` seconds, spread ``sigma``.

    ``sigma`` is the standard deviation of the underlying normal; 0.5 gives
    a p99 about 3x the median, 1.0 about 10x. ``cap`` bounds the tail so a
    single sample cannot exceed any sane client timeout by accident.
    """

    def __init__(self, median: float, sigma: float,
                 cap: float = 60.0) -> None:
        if median <= 0 or sigma < 0 or cap <= 0:
            raise ValueError("lognormal latency needs median > 0, sigma >= 0")
        self.median = float(median)
        self.sigma = float(sigma)
        self.cap = float(cap)
        self._mu = math.log(self.median)

    def sample(self, rng: random.Random) -> float:
        return min(rng.lognormvariate(self._mu, self.sigma), self.cap)

    def spec(self) -> str:
        return f"lognormal:{self.median:g},{self.sigma:g},{self.cap:g}"


class Tail(Latency):
    """``base`` delay, except a ``fraction`` of requests take ``slow`` s.

    Models the BMC that is usually quick but now and then stalls for
    seconds (a web server restart, a busy management processor).
    """

    def __init__(self, base: Latency | float, fraction: float,
                 slow: float) -> None:
        if not 0.0 <= fraction <= 1.0 or slow < 0:
            raise ValueError("tail latency needs 0 <= fraction <= 1, "
                             "slow >= 0")
        self.base = base if isinstance(base, Latency) else Fixed(base)
        self.fraction = float(fraction)
        self.slow = float(slow)

    def sample(self, rng: random.Random) -> float:
        if rng.random() < self.fraction:
            return self.slow
        return self.base.sample(rng)

    def spec(self) -> str:
        if isinstance(self.base, Fixed):
            return (f"tail:{self.base.seconds:g},{self.fraction:g},"
                    f"{self.slow:g}")
        return f"tail:{self.fraction:g},{self.slow:g}/{self.base.spec()}"


NO_LATENCY = Fixed(0.0)


def parse_latency(value: str | float | int | Latency | None) -> Latency:
    """Turn a number, a text spec or a model into a :class:`Latency`.

    Accepted text: ``0.1`` or ``fixed:0.1``; ``uniform:LOW,HIGH``;
    ``lognormal:MEDIAN,SIGMA[,CAP]``; ``tail:BASE,FRACTION,SLOW`` (fixed
    base) or ``tail:FRACTION,SLOW/<any other spec>``.
    """
    if value is None:
        return NO_LATENCY
    if isinstance(value, Latency):
        return value
    if isinstance(value, bool):
        raise ValueError(f"invalid latency {value!r}")
    if isinstance(value, (int, float)):
        return Fixed(value)
    text = str(value).strip()
    kind, _, args = text.partition(":")
    if not args:
        return Fixed(_number(kind, text))
    kind = kind.lower()
    if kind == "tail" and "/" in args:
        head, _, base = args.partition("/")
        nums = _numbers(head, text, 2)
        return Tail(parse_latency(base), nums[0], nums[1])
    if kind == "fixed":
        return Fixed(*_numbers(args, text, 1))
    if kind == "uniform":
        return Uniform(*_numbers(args, text, 2))
    if kind == "lognormal":
        parts = args.split(",")
        if len(parts) not in (2, 3):
            raise ValueError(f"invalid latency {text!r}")
        return LogNormal(*(_number(p, text) for p in parts))
    if kind == "tail":
        base_s, fraction, slow = _numbers(args, text, 3)
        return Tail(base_s, fraction, slow)
    raise ValueError(f"unknown latency model in {text!r}")


def _number(token: str, text: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise ValueError(f"invalid latency {text!r}") from None


def _numbers(args: str, text: str, count: int) -> list[float]:
    parts = args.split(",")
    if len(parts) != count:
        raise ValueError(f"invalid latency {text!r}")
    return [_number(p, text) for p in parts]


ERROR_STATUSES = (500, 503)


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """How a simulated BMC (an endpoint or one system) responds.

    :ivar latency: delay before each answer.
    :ivar hang: read the request and never answer; the connection stays
        open until the client gives up.
    :ivar error_fraction: share of requests answered with ``error_status``
        and a Redfish error body instead of being served.
    :ivar error_status: 500 or 503.
    :ivar power_delay: seconds before a reset action takes effect; 0 applies
        it before the action's response is sent.
    """

    latency: Latency = NO_LATENCY
    hang: bool = False
    error_fraction: float = 0.0
    error_status: int = 500
    power_delay: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.latency, Latency):
            object.__setattr__(self, "latency", parse_latency(self.latency))
        if not 0.0 <= self.error_fraction <= 1.0:
            raise ValueError("error_fraction must be within [0, 1]")
        if self.error_status not in ERROR_STATUSES:
            raise ValueError(f"error_status must be one of {ERROR_STATUSES}")
        if self.power_delay < 0:
            raise ValueError("power_delay must not be negative")

    @property
    def is_plain(self) -> bool:
        """True when requests need no fault or delay handling at all."""
        return (self.latency == NO_LATENCY and not self.hang
                and not self.error_fraction)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, latency as its text spec."""
        return {
            "latency": self.latency.spec(),
            "hang": self.hang,
            "error_fraction": self.error_fraction,
            "error_status": self.error_status,
            "power_delay": self.power_delay,
        }


BEHAVIOUR_FIELDS = frozenset(f.name for f in dataclasses.fields(Behaviour))


def clean_overrides(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate behaviour field changes, converting text forms.

    ``None`` values are kept: for a system they mean "inherit the
    endpoint's value again".
    """
    unknown = set(changes) - BEHAVIOUR_FIELDS
    if unknown:
        raise ValueError(f"unknown behaviour fields: {sorted(unknown)}")
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None:
            cleaned[name] = None
        elif name == "latency":
            cleaned[name] = parse_latency(value)
        elif name == "hang":
            if not isinstance(value, bool):
                raise ValueError("hang must be true or false")
            cleaned[name] = value
        elif name == "error_status":
            cleaned[name] = int(value)
        else:
            cleaned[name] = float(value)
    # Build once to run the dataclass checks on the new values.
    Behaviour(**{k: v for k, v in cleaned.items() if v is not None})
    return cleaned


def apply_overrides(base: Behaviour, overrides: Mapping[str, Any]
                    ) -> Behaviour:
    """Return ``base`` with the non-None ``overrides`` applied."""
    fields = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(base, **fields) if fields else base
