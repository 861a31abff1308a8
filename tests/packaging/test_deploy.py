"""deploy/, read (no container runs here: there is no docker daemon on the test machines): the
image's Dockerfile, the compose file (two gateways, PostgreSQL, Redis, nginx; every password from
the environment or a secret file, none written in), the team settings the gateway itself loads, the
Kubernetes manifests, and nginx.conf checked by the real ``nginx -t``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import make_mocked_request
from servers.nginx import Nginx, nginx_missing

from gateway.api.guard import Guard
from gateway.config.loading import load_settings
from gateway.config.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONFIG_IN_IMAGE = "/etc/switchboard/config.toml"
SECRET_NAME = re.compile(r"PASSWORD|PASSPHRASE|API_KEY|TOKEN|SECRET", re.IGNORECASE)
INTERPOLATED = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")


def read_yaml(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = read_yaml("compose.yaml")
    return loaded


def settings(path: Path) -> Settings:
    return load_settings(path, {}, explicit=True)


def dockerfile() -> list[str]:
    """Its instructions, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_installs_the_team_extra_and_runs_the_gateway_as_a_user_of_its_own() -> None:
    lines = dockerfile()
    assert re.fullmatch(r"FROM python:3\.1[1-9]-slim", lines[0])
    (install,) = [line for line in lines if line.startswith("RUN pip install")]
    assert '".[team]"' in install
    # The tray app's Qt goes again: what is uninstalled is what the package needs for it (and Qt's own shiboken6).
    dependencies = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    app_only = {
        re.split(r"[<>=;\s]", d, maxsplit=1)[0] for d in dependencies["dependencies"] if "PySide6" in d or "qasync" in d
    }
    uninstalled = install.split("pip uninstall --yes ", 1)[1].split(" && ", 1)[0].split()
    assert set(uninstalled) == app_only | {"shiboken6"}
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    health = next(line for line in lines if line.startswith("HEALTHCHECK"))
    assert "/health/ready" in health
    assert lines[-2] == 'ENTRYPOINT ["python", "-m", "gateway"]'
    assert lines[-1] == f'CMD ["serve", "--host", "0.0.0.0", "--port", "11488", "--config", "{CONFIG_IN_IMAGE}"]'


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    copied = {part.rstrip("/") for line in dockerfile() if line.startswith("COPY ") for part in line.split()[1:-1]}
    kept = {
        line[1:].rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert copied == kept == {"pyproject.toml", "README.md", "gateway"}
    assert all((DEPLOY.parent / path).exists() for path in copied)


def test_compose_runs_two_gateways_behind_nginx_over_postgres_and_redis() -> None:
    services = compose()["services"]
    assert set(services) == {"gateway-1", "gateway-2", "nginx", "postgres", "redis"}
    config = settings(DEPLOY / "config.toml")
    for name in ("gateway-1", "gateway-2"):
        gateway = services[name]
        assert gateway["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert f"./config.toml:{CONFIG_IN_IMAGE}:ro" in gateway["volumes"]
        assert any(v.startswith(f"{name}:/var/lib/switchboard") for v in gateway["volumes"])  # a folder each
        assert gateway["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        grace = float(gateway["stop_grace_period"].removesuffix("s"))
        assert grace > config.server.drain + config.server.shutdown_grace  # SIGKILL only after the drain
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]  # the gateways wait until they answer
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert compose()["secrets"]["switchboard_passphrase"] == {"file": "./secrets/switchboard_passphrase"}


def test_compose_writes_no_secret_in() -> None:
    for name, service in compose()["services"].items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_NAME.search(variable) and not variable.endswith("_FILE"):
                assert INTERPOLATED.match(str(value)), f"{name}: {variable} is written in the file"
            if variable.endswith("_FILE"):
                assert str(value).startswith("/run/secrets/"), f"{name}: {variable}"
    redis = " ".join(compose()["services"]["redis"]["command"])
    assert "requirepass %s" in redis and '"$$REDIS_PASSWORD"' in redis  # from the environment, on its stdin
    assert {".env", "secrets/"} <= set((DEPLOY / ".gitignore").read_text().split())


def test_the_team_settings_load_as_the_gateway_reads_them() -> None:
    for path in (DEPLOY / "config.toml", DEPLOY / "kubernetes" / "config.toml"):
        loaded = settings(path)
        assert loaded.server.require_keys, path
        assert loaded.server.drain > 0, path
        assert loaded.store.url is not None and loaded.store.url.startswith("postgresql://switchboard@"), path
        assert loaded.shared.redis is not None and loaded.shared.redis.startswith("redis://"), path
    compose_config = settings(DEPLOY / "config.toml")
    assert compose_config.store.url is not None and "@postgres:5432/" in compose_config.store.url
    assert compose_config.shared.redis == "redis://redis:6379/0"  # the compose services' names


def test_kubernetes_runs_two_ready_replicas_with_their_own_folders_that_drain_before_they_are_killed() -> None:
    kustomization = read_yaml("kubernetes/kustomization.yaml")
    namespace = kustomization["namespace"]
    k8s_config = (DEPLOY / "kubernetes" / "config.toml").read_text(encoding="utf-8")
    assert k8s_config.count(f".{namespace}.svc") == 4  # two allowed names, PostgreSQL and Redis in it
    assert all((DEPLOY / "kubernetes" / name).is_file() for name in kustomization["resources"])
    assert kustomization["configMapGenerator"][0]["files"] == ["config.toml"]
    deployment, service = read_yaml("kubernetes/statefulset.yaml"), read_yaml("kubernetes/service.yaml")
    assert deployment["kind"] == "StatefulSet" and deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    # The state folder (the journal of usage rows not yet in PostgreSQL) outlives the pod: a volume each.
    (state,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/var/lib/switchboard"]
    assert state["name"] in {claim["metadata"]["name"] for claim in deployment["spec"]["volumeClaimTemplates"]}
    assert state["name"] not in {volume["name"] for volume in pod["volumes"]}
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    config = settings(DEPLOY / "kubernetes" / "config.toml")
    assert pod["terminationGracePeriodSeconds"] > config.server.drain + config.server.shutdown_grace
    assert "lifecycle" not in container  # no preStop: the drain keeps serving while the endpoints drop the pod
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["args"][-1] == CONFIG_IN_IMAGE
    assert any(m["mountPath"] == "/etc/switchboard" for m in container["volumeMounts"])
    for variable in container["env"]:
        if SECRET_NAME.search(variable["name"]) and not variable["name"].endswith("_FILE"):
            assert "value" not in variable and "secretKeyRef" in variable["valueFrom"], variable["name"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["kind"] == "Service" and service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]


def test_the_ingress_name_is_one_the_gateways_answer_without_a_port() -> None:
    ingress, service = read_yaml("kubernetes/ingress.yaml"), read_yaml("kubernetes/service.yaml")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == service["spec"]["ports"][0]["name"]
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    config = settings(DEPLOY / "kubernetes" / "config.toml")
    guard = Guard(extra_names=config.server.allowed_hosts, cors_origins=(), max_body_bytes=1)
    guard.listening_on(config.server.port)
    for host in (rule["host"], "switchboard.switchboard.svc:11488"):  # from outside, and from inside the cluster
        assert guard.check(make_mocked_request("GET", "/health", headers={"Host": host})) is None, host


def test_nginx_retries_only_connections_that_never_reached_a_gateway() -> None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    directives = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "proxy_next_upstream error timeout;" in directives
    assert not any("non_idempotent" in d for d in directives)  # a POST that was sent is never sent again
    assert not any(d.startswith("keepalive ") for d in directives)
    assert "proxy_buffering off;" in directives  # streams pass through as they come


def test_nginx_accepts_the_file(tmp_path: Path) -> None:
    if (reason := nginx_missing()) is not None:
        pytest.skip(reason)
    checked = Nginx(tmp_path, ("127.0.0.2", "127.0.0.3"), 11488).check()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
