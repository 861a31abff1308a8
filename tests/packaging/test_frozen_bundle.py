"""The frozen bundle (PyInstaller, ``build.spec``), built once here: both programs pass their
self-tests through ``installers/smoke_test.py`` (the app's with Qt offscreen), and the gateway
counts tokens from the bundled tokenizer files with no cache and no network, and knows the catalog
and the model facts. The build time, bundle size and cold starts are printed."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import LOCAL_OFF
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fakes.tls import TestCA, https_server

from app.updates import Release, check_downloadable, public_key, signed_digest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        answer: dict[str, object] = json.loads(reply.read())
        return answer


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("frozen")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "ERROR",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "build.spec"),
        ],
        check=True,
        cwd=work,
        timeout=900,
    )
    print(f"\nbuild.spec built in {time.perf_counter() - started:.0f} s")
    return work / "dist" / "switchboard"


def test_both_programs_pass_their_self_tests(bundle: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "installers" / "smoke_test.py"), str(bundle), "--app"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "switchboard-gateway: self-test passed" in done.stdout and "switchboard: self-test passed" in done.stdout
    assert "cold start to /health: " in done.stdout and "bundle: " in done.stdout
    assert "ok   keyring: backends:" in done.stdout and "ok   qt: platform offscreen" in done.stdout
    assert "(Python" in done.stdout and "frozen)" in done.stdout
    # Each made one HTTPS request to the smoke test's server, its test root given as the system's store.
    assert done.stdout.count("200 'hello', verified with the system's trust store") == 2


def test_the_bundle_refuses_a_server_whose_root_the_system_store_lacks(bundle: Path, tmp_path: Path) -> None:
    """The other half of the smoke test's HTTPS check: without the test root in the store (no
    ``SSL_CERT_FILE``), the frozen gateway's request is refused, so passing above means trusting."""
    TestCA(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSL_CERT_", "SWITCHBOARD_"))}
    with https_server(tmp_path) as url:
        done = subprocess.run(
            [str(bundle / "switchboard-gateway"), "--self-test"],
            env={**env, "SWITCHBOARD_SELF_TEST_HTTPS": url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert f"FAIL GET {url}: UpstreamUnreachable" in done.stdout
    assert "its certificate is not one this computer trusts" in done.stdout


def test_frozen_gateway_counts_tokens_offline_and_knows_its_models(bundle: Path, tmp_path: Path) -> None:
    binary = bundle / ("switchboard-gateway.exe" if os.name == "nt" else "switchboard-gateway")
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[providers.x]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\nlocal = true\n'
        'models = ["gpt-4o"]\n\n' + LOCAL_OFF
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(TIKTOKEN_CACHE_DIR="", SWITCHBOARD_HOME=str(home))  # no cache to fall back on
    proc = subprocess.Popen([str(binary), "serve", "--port", "0"], stdout=subprocess.PIPE, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        assert "listening on" in first, first
        url = first.split("listening on ")[1].strip()
        counted = _post(
            f"{url}/v1/messages/count_tokens",
            {"model": "x/gpt-4o", "messages": [{"role": "user", "content": "Hello there, how are you?"}]},
        )
        assert counted == {"input_tokens": 13}  # o200k_base, from the bundled file
        shown = _post(f"{url}/api/show", {"model": "x/gpt-4o"})
        assert shown["capabilities"] == ["completion", "tools", "vision"]
        assert shown["model_info"] == {
            "general.architecture": "gpt",
            "general.basename": "x/gpt-4o",
            "gpt.context_length": 128000,
        }
    finally:
        proc.terminate()
        proc.wait(20)


def _root_with_apt() -> bool:
    return (
        sys.platform == "linux"
        and os.geteuid() == 0
        and shutil.which("apt-get") is not None
        and shutil.which("gpg") is not None
    )


@pytest.mark.skipif(not _root_with_apt(), reason="installs a .deb: needs root, apt-get and gpg (CI has them)")
def test_the_deb_installs_runs_and_removes_cleanly_and_its_checksums_are_signed(bundle: Path, tmp_path: Path) -> None:
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Switchboard CI Throwaway <ci@example.invalid>",
            "ed25519",
            "sign",
            "1d",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    listed = subprocess.run(
        ["gpg", "--list-keys", "--with-colons"], env=env, check=True, capture_output=True, text=True
    ).stdout
    key = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr"))
    out = tmp_path / "release"
    refused = subprocess.run(
        [sys.executable, str(ROOT / "installers" / "linux" / "package.py"), str(bundle), "--out", str(out)],
        env={k: v for k, v in env.items() if k != "SWITCHBOARD_GPG_KEY"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert refused.returncode != 0 and "SWITCHBOARD_GPG_KEY" in refused.stderr  # never unsigned by accident
    release_key = Ed25519PrivateKey.generate()
    raw = base64.b64encode(
        release_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    )
    subprocess.run(
        [sys.executable, str(ROOT / "installers" / "linux" / "package.py"), str(bundle), "--out", str(out)],
        env={**env, "SWITCHBOARD_GPG_KEY": key, "SWITCHBOARD_UPDATE_SIGNING_KEY": raw.decode()},
        check=True,
        timeout=600,
    )
    (deb,) = out.glob("switchboard_*.deb")
    tarball = f"switchboard-{deb.name.split('_')[1]}-linux-{os.uname().machine}.tar.gz"
    assert {p.name for p in out.iterdir()} == {deb.name, tarball, "SHA256SUMS", "SHA256SUMS.asc", "SHA256SUMS.sig"}
    verified = subprocess.run(
        ["gpg", "--batch", "--verify", "SHA256SUMS.asc"], cwd=out, env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0 and "Good signature" in verified.stderr
    # What the app's update check does with these files: the tarball, proven by the release key.
    public = base64.b64encode(
        release_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    release = Release(
        "9.9.9", "", "", {name: (out / name).as_uri() for name in (tarball, "SHA256SUMS", "SHA256SUMS.sig")}
    )
    check_downloadable(release, tarball, public_key(public))
    expected = signed_digest(
        (out / "SHA256SUMS").read_bytes(), (out / "SHA256SUMS.sig").read_bytes(), public_key(public), tarball
    )
    assert hashlib.sha256((out / tarball).read_bytes()).hexdigest() == expected
    assert subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=out, capture_output=True).returncode == 0

    apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        str(deb),
    ]  # resolves Depends: they must exist
    if subprocess.run(install, env=apt, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=apt, check=True, capture_output=True, timeout=300)
        subprocess.run(install, env=apt, check=True, capture_output=True, timeout=600)
    try:
        files = subprocess.run(["dpkg", "-L", "switchboard"], check=True, capture_output=True, text=True).stdout.split()
        assert (
            "/usr/share/applications/switchboard.desktop" in files
            and "/usr/share/icons/hicolor/256x256/apps/switchboard.png" in files
        )
        home = tmp_path / "home"
        home.mkdir()
        for program in ("switchboard-gateway", "switchboard"):  # from PATH, as a person would start them
            done = subprocess.run(
                [program, "--self-test"],
                env={**os.environ, "HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert (
                done.returncode == 0 and "frozen" in done.stdout and done.stdout.strip().endswith("self-test passed")
            ), done.stdout
    finally:
        subprocess.run(
            ["apt-get", "purge", "-y", "-qq", "switchboard"], env=apt, check=True, capture_output=True, timeout=300
        )
    assert not any(Path(f).exists() and not Path(f).is_dir() for f in files)  # every file it brought is gone
    assert not Path("/opt/switchboard").exists() and shutil.which("switchboard") is None
    assert (
        subprocess.run(["dpkg", "-s", "switchboard"], capture_output=True).returncode != 0
    )  # not even its config remains
