"""What every process counts for Prometheus: HTTP requests and their latency, background work
done, messages and event webhooks delivered; the depth of the queues is read from the database
when /metrics is asked for (see `ops`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "konversation_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "konversation_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS_DONE = Counter(
    "konversation_jobs_done",
    "Pieces of background work done, by kind: messages tried, runs resumed, broadcast "
    "recipients reached, event webhook posts tried.",
    ["kind"],
)
MESSAGE_DELIVERIES = Counter(
    "konversation_deliveries",
    "Messages to subscribers tried, by outcome (sent, retry, failed, unroutable).",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "konversation_webhook_deliveries",
    "Event webhook posts tried, by outcome (delivered, retry, failed).",
    ["outcome"],
)
QUEUE_DEPTH = Gauge(
    "konversation_queue_depth",
    "Work waiting in the database, by kind, when last read.",
    ["kind"],
)
