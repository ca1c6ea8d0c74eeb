# The provider's container image: gunicorn serving idp.wsgi:app, as `idp serve` does, on port 8000.
# Build: docker build -t nhs-login-idp .   Run migrations once per release (deploy/kubernetes/migrate-job.yaml),
# then any number of these behind a load balancer on one PostgreSQL (through PgBouncer).

# --- the NHS.UK frontend's compiled assets (npm, pinned by package-lock.json) ---------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/install-frontend.sh scripts/
RUN mkdir -p idp/static && bash scripts/install-frontend.sh

# --- the application ----------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IDP_ENV=live IDP_INSTANCE_PATH=/var/lib/idp PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/var/lib/idp/metrics
RUN useradd --system --uid 10001 --home-dir /var/lib/idp idp && mkdir -p /var/lib/idp/metrics \
    && chown -R idp /var/lib/idp
WORKDIR /app
COPY pyproject.toml README.md ./
COPY idp idp
COPY clients clients
RUN pip install .
COPY migrations migrations
COPY templates templates
COPY translations translations
COPY --from=frontend /src/idp/static/nhsuk idp/static/nhsuk
USER idp
EXPOSE 8000
# Liveness: /healthz; readiness (database and signing keys): /readyz. No dev keys or secrets: the app
# refuses to start in live without IDP_SECRET_KEY and keys made by `idp keys init`.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--limit-request-line", "8190", \
     "--config", "python:idp.operations.gunicorn_hooks", "idp.wsgi:app"]
