from __future__ import annotations

from gateway.providers.catalog import load_catalog
from gateway.transport.addresses import check_base_url


def test_catalog_has_twenty_hosted_providers_and_the_local_servers() -> None:
    catalog = load_catalog()
    hosted = [e for e in catalog.values() if not e.local]
    assert len(hosted) >= 20
    assert {"vllm", "lmstudio", "llamacpp", "ollama"} <= {e.id for e in catalog.values() if e.local}


def test_every_row_is_usable() -> None:
    for entry in load_catalog().values():
        assert entry.name
        assert entry.key_env[0] == f"{entry.id.upper()}_API_KEY"
        if entry.base_url:
            check_base_url(entry.base_url, plain_http_ok=False)
        else:
            assert entry.local and entry.url_env
