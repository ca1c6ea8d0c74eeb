"""Running the provider (issue 12): health (``/healthz``), readiness (``/readyz``: the database and signing keys
reachable) and Prometheus metrics (``/metrics``: requests, latencies, logins by outcome, step-ups, proofing
outcomes, provisioning calls, errors), for load balancers, Kubernetes probes and dashboards."""
