"""The deployment shape (issue 12): the container image and the Kubernetes manifests stay true to the app — the
probes name real routes, the image serves what `idp serve` serves, and the configuration they give is one the
provider accepts for live."""
from __future__ import annotations

import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
KUBE = ROOT / "deploy" / "kubernetes"


def _documents(name):
    return [d for d in yaml.safe_load_all((KUBE / name).read_text()) if d]


def test_kustomization_lists_every_manifest_but_the_secret_example():
    listed = set(yaml.safe_load((KUBE / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_the_probes_and_the_scrape_path_are_routes_of_the_app(app):
    [deployment] = _documents("deployment.yaml")
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in rules
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in rules
    assert pod["metadata"]["annotations"]["prometheus.io/path"] in rules
    client = app.test_client()
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


def test_the_image_serves_as_idp_serve_does_and_migrations_run_once_per_release():
    dockerfile = (ROOT / "Dockerfile").read_text()
    from idp.cli import GUNICORN_LIMITS

    assert "idp.wsgi:app" in dockerfile and "python:idp.operations.gunicorn_hooks" in dockerfile
    assert all(part in dockerfile for part in GUNICORN_LIMITS)
    [job] = _documents("migrate-job.yaml")
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert "idp db upgrade" in " ".join(container["command"])


def test_the_configuration_given_is_accepted_for_live():
    from idp.config import Settings

    [config] = _documents("configmap.yaml")
    [secret] = yaml.safe_load_all((KUBE / "secret.example.yaml").read_text())
    # Secrets of the shape each must have (a Notify key is "<name>-<service id>-<secret>", both UUIDs).
    env = {**config["data"], **{k: "x" * 48 for k in secret["stringData"]},
           "IDP_NOTIFY_API_KEY": f"live-{uuid.uuid4()}-{uuid.uuid4()}"}
    settings = Settings.from_env(env, instance_path="/tmp/idp-deploy-check")
    assert settings.env == "live" and not settings.is_development
    assert settings.database_url.startswith("postgresql+psycopg://") and "pgbouncer" in settings.database_url
