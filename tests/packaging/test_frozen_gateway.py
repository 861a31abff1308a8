"""The frozen gateway (PyInstaller, ``packaging/gateway.spec``) carries its data: it counts tokens
from the bundled tokenizer files with no cache and no network, and knows the catalog and the model
facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import LOCAL_OFF

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())  # type: ignore[no-any-return]


def test_frozen_gateway_counts_tokens_offline_and_knows_its_models(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR",
         "--distpath", str(tmp_path / "dist"), "--workpath", str(tmp_path / "build"), str(ROOT / "packaging" / "gateway.spec")],
        check=True, cwd=tmp_path, timeout=600,
    )
    binary = tmp_path / "dist" / "switchboard-gateway" / ("switchboard-gateway.exe" if os.name == "nt" else "switchboard-gateway")
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[providers.x]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\nlocal = true\nmodels = ["gpt-4o"]\n\n'
        + LOCAL_OFF
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(TIKTOKEN_CACHE_DIR="", SWITCHBOARD_HOME=str(home))  # no cache to fall back on
    proc = subprocess.Popen([str(binary), "serve", "--port", "0"], stdout=subprocess.PIPE, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        assert "listening on" in first, first
        url = first.split("listening on ")[1].strip()
        counted = _post(f"{url}/v1/messages/count_tokens", {"model": "x/gpt-4o", "messages": [{"role": "user", "content": "Hello there, how are you?"}]})
        assert counted == {"input_tokens": 13}  # o200k_base, from the bundled file
        shown = _post(f"{url}/api/show", {"model": "x/gpt-4o"})
        assert shown["capabilities"] == ["completion", "tools", "vision"]
        assert shown["model_info"] == {"general.architecture": "gpt", "general.basename": "x/gpt-4o", "gpt.context_length": 128000}
    finally:
        proc.terminate()
        proc.wait(20)
