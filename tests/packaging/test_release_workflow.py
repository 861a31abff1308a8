"""The release workflow, read: on a version tag, every OS builds the bundle, smoke-tests it and
makes its installer with the scripts tested here; one job signs the checksums of everything and
publishes. Every secret it uses is documented in installers/README.md, and none other."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    return loaded


def test_a_tag_builds_smoke_tests_and_packages_on_every_os_then_publishes() -> None:
    flow = workflow()
    assert flow[True]["push"]["tags"] == ["v*"]  # YAML reads the key "on" as True
    assert flow["permissions"] == {"contents": "read"}
    build, publish = flow["jobs"]["build"], flow["jobs"]["publish"]
    assert {entry["os"] for entry in build["strategy"]["matrix"]["include"]} == {
        "ubuntu-22.04",
        "windows-latest",
        "macos-latest",
    }
    runs = [step.get("run", "") for step in build["steps"]]
    order = [
        "installers/project.py",
        "pyinstaller --noconfirm build.spec",
        "installers/smoke_test.py dist/switchboard --app",
    ]
    assert [next(i for i, r in enumerate(runs) if needle in r) for needle in order] == sorted(
        next(i for i, r in enumerate(runs) if needle in r) for needle in order
    )
    for script in ("installers/linux/package.py", "installers/windows/package.py", "installers/macos/package.py"):
        assert any(script in r for r in runs) and (ROOT / script).is_file()
    assert publish["needs"] == "build" and publish["permissions"] == {"contents": "write"}
    assert any("installers/checksums.py release" in step.get("run", "") for step in publish["steps"])
    assert any("gh release create" in step.get("run", "") for step in publish["steps"])


def test_every_secret_it_uses_is_documented_and_none_is_inlined() -> None:
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    used = set(re.findall(r"(?:secrets|vars)\.([A-Z0-9_]+)", text))
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "installers" / "README.md").read_text()))
    assert used and used <= documented, used - documented
    assert not re.search(r"(PRIVATE KEY-----|[A-Za-z0-9+/]{200,})", text)


def test_the_tag_check_reads_the_one_version_source() -> None:
    from gateway.version import __version__

    said = subprocess.run(
        [sys.executable, str(ROOT / "installers" / "project.py")], capture_output=True, text=True, check=True
    )
    assert said.stdout.strip() == __version__


def test_macos_and_windows_trust_a_test_root_in_their_store_before_the_smoke_test_asks_over_https() -> None:
    steps = workflow()["jobs"]["build"]["steps"]
    runs = [(step.get("if", ""), step.get("run", "")) for step in steps]

    def where(needle: str, os_test: str) -> int:
        return next(i for i, (cond, run) in enumerate(runs) if needle in run and os_test in cond)

    for os_test, adds in (
        ("runner.os == 'macOS'", "sudo security add-trusted-cert -d -r trustRoot -p ssl"),
        ("runner.os == 'Windows'", "certutil -f -addstore Root"),
    ):
        assert where("installers/test_ca.py", os_test) == where(adds, os_test)
        assert where(adds, os_test) < where("smoke_test.py dist/switchboard --app --ca", "runner.os != 'Linux'")
    linux = runs[where("smoke_test.py dist/switchboard --app", "runner.os == 'Linux'")][1]
    assert "--ca" not in linux  # the smoke test makes the root and gives it as SSL_CERT_FILE itself
