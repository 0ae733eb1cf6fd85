"""Prometheus metrics of the workers. Labels never carry personal data: only dataset ids,
lanes, statuses, error codes and provider names."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BULK_HELD_BACK",
    "BULK_LIMIT",
    "CACHE_LOOKUPS",
    "IN_FLIGHT",
    "PROCESSING_SECONDS",
    "PROVIDER_BREAKER_OPEN",
    "PROVIDER_ERROR_RATIO",
    "PROVIDER_MAINTENANCE",
    "PROVIDER_UP",
    "REQUESTS",
    "STEPS",
    "UPSTREAM_COALESCED",
    "UPSTREAM_ERRORS",
    "UPSTREAM_RETRIES",
    "UPSTREAM_SECONDS",
    "Step",
]

_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

REQUESTS = Counter(
    "particulier_requests_total",
    "Requests answered, by dataset, lane, status and error code.",
    ["dataset", "lane", "status", "code"],
)
PROCESSING_SECONDS = Histogram(
    "particulier_processing_seconds",
    "Time from delivery to acknowledgement of a request.",
    ["dataset", "lane"],
    buckets=_LATENCY_BUCKETS,
)
UPSTREAM_SECONDS = Histogram(
    "particulier_upstream_seconds",
    "Duration of one upstream HTTP exchange (one attempt).",
    ["provider"],
    buckets=_LATENCY_BUCKETS,
)


class Step(StrEnum):
    """The steps of a request in a worker, each timed by ``particulier_step_seconds``: where
    a request's time goes (the upstream exchange itself is ``particulier_upstream_seconds``)."""

    REPLAY = "replay"
    """The idempotency look-up: whether this message id was answered already."""
    ANSWER = "answer"
    """The pipeline: validation, habilitation, cache, upstream call, mapping and mask."""
    CACHE_READ = "cache_read"
    CACHE_WRITE = "cache_write"
    SEAL = "seal"
    """Signing the reply and making its journal entry."""
    JOURNAL = "journal"
    """The journal row committed (an outage waited out included)."""
    REPLY = "reply"
    """The reply published and confirmed by RabbitMQ."""
    ACK = "ack"


STEP_SECONDS = Histogram(
    "particulier_step_seconds",
    "Time a request spends in one step of the worker's path (replay, answer, cache_read, "
    "cache_write, seal, journal, reply, ack).",
    ["step"],
    buckets=(0.0001, 0.00025, 0.0005, *_LATENCY_BUCKETS),
)
STEPS = {step: STEP_SECONDS.labels(step.value) for step in Step}
"""Each step's histogram, looked up once."""
IN_FLIGHT = Gauge("particulier_in_flight", "Requests being processed by this worker.", ["lane"])
AMQP_BLOCKED = Gauge(
    "particulier_amqp_blocked",
    "1 while RabbitMQ blocks this worker's publishing (a memory or disk alarm): replies wait.",
)
BULK_LIMIT = Gauge(
    "particulier_bulk_limit",
    "Bulk requests this worker lets use its event loop at once now: the bulk prefetch, or "
    "while interactive traffic is recent the share the interactive requests leave.",
)
BULK_HELD_BACK = Gauge(
    "particulier_bulk_held_back",
    "Bulk requests delivered to this worker and waiting at the lane gate for interactive "
    "traffic to pass.",
)
UPSTREAM_RETRIES = Counter(
    "particulier_upstream_retries_total", "Upstream attempts retried.", ["provider"]
)
UPSTREAM_ERRORS = Counter(
    "particulier_upstream_errors_total",
    "Upstream failures by kind (timeout, dns, network, status_5xx, rate_limited, invalid).",
    ["provider", "kind"],
)
UPSTREAM_COALESCED = Counter(
    "particulier_upstream_coalesced_total",
    "Requests served by an identical request's upstream call already in flight.",
    ["provider"],
)
DEAD_LETTERS = Counter(
    "particulier_dead_letters_total", "Messages dead-lettered, by reason.", ["reason"]
)
JOURNAL_WAITS = Counter(
    "particulier_journal_unavailable_total",
    "Times a request waited because the journal was unreachable.",
)
CACHE_LOOKUPS = Counter(
    "particulier_cache_lookups_total",
    "Reply cache look-ups by outcome: hit, miss, bypass (no-cache asked), error (the cache "
    "could not be read or written; the provider is asked).",
    ["provider", "outcome"],
)
PROVIDER_UP = Gauge(
    "particulier_provider_up",
    "The provider's ping: 1 ok, 0 bad_gateway (its last call failed, or its breaker is open); "
    "NaN until this worker has called it.",
    ["provider"],
)
PROVIDER_BREAKER_OPEN = Gauge(
    "particulier_provider_breaker_open",
    "1 while the provider's circuit breaker is open in this worker.",
    ["provider"],
)
PROVIDER_ERROR_RATIO = Gauge(
    "particulier_provider_error_ratio",
    "Share of the provider's last 100 calls that failed (unavailable, timeout, 5xx).",
    ["provider"],
)
PROVIDER_MAINTENANCE = Gauge(
    "particulier_provider_maintenance",
    "1 while the provider is in a declared maintenance window.",
    ["provider"],
)
