"""The worker runtime: an AMQP edge around a pipeline that never sees AMQP.

- :func:`read_request` reads a message once into a frozen :class:`Request`;
- :class:`Pipeline` answers it (validate, authorise, fetch, mask): ``request -> answer``;
- :class:`Health` keeps each provider's health, breaker and maintenance windows, which the
  pipeline and the edge read (pings, paused bulk lanes);
- :class:`Sealer` signs the answer and makes its journal entry, one path for fresh and
  replayed answers;
- :class:`Worker`, the edge: lane gate, journal, publish, ack, dead letters; and the
  composition root, whose steps can be injected.

It never imports the simulation wing. See ``docs/architecture.md``.
"""

from ._edge import HANDLING_GRACE, Worker, run, serving, until_signalled
from ._health import Breaker, Health, PingStatus, ProviderHealth
from ._lanes import LaneGate, Permit
from ._maintenance import Maintenance, MaintenanceError, Window
from ._pipeline import REPLY_MARGIN, Answer, Authorizer, Pipeline
from ._request import HashRequest, Request, deadline_of, read_request
from ._sealing import Sealed, Sealer

__all__ = [
    "HANDLING_GRACE",
    "REPLY_MARGIN",
    "Answer",
    "Authorizer",
    "Breaker",
    "HashRequest",
    "Health",
    "LaneGate",
    "Maintenance",
    "MaintenanceError",
    "Permit",
    "PingStatus",
    "Pipeline",
    "ProviderHealth",
    "Request",
    "Sealed",
    "Sealer",
    "Window",
    "Worker",
    "deadline_of",
    "read_request",
    "run",
    "serving",
    "until_signalled",
]
