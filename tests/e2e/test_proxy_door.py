"""The admin door for a proxy with credentials (``Control.set_proxy``): the address to the settings
file with the user name alone, the password to the secret store and used at once; a new password
for the same address applied on its own; a refused change puts the stored password back, and one
no proxy names any more is forgotten; nothing of the password in the file, the audit log, an answer
or an error; the same over ``PUT /admin/proxy``."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from conftest import StartGateway
from fakes.forward_proxy import ForwardProxy
from test_admin_config import audited

from gateway.config.editing import SettingsFile
from gateway.config.loading import load_settings
from gateway.config.settings import Settings
from gateway.errors import InvalidRequest
from gateway.store.proxy_passwords import with_password
from gateway.store.secrets import MemorySecrets
from gateway.transport.proxies import Proxy

PASSWORD = "hunter2-proxy-pass"
TOKEN = "sb-admin-test-token-0000000000000000000000"


async def test_a_proxy_password_goes_to_the_store_and_a_refusal_puts_it_back(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    secrets = MemorySecrets()
    config_file = tmp_path / "config0.toml"  # start_gateway's first

    def read(path: Path = config_file) -> Settings:
        return load_settings(path, {}, port=0, proxy_password=with_password(secrets))

    gateway = await start_gateway(secrets=secrets, reload=read, settings_file=SettingsFile(config_file, read))
    control = gateway.control
    assert control is not None
    proxy = await ForwardProxy(("ann", PASSWORD)).start()
    await proxy.stop()  # only its address is needed
    entry = f"proxy-password:http://ann@{proxy.where}"

    edit = await control.set_proxy("network", f"http://{proxy.where}", "ann", PASSWORD, "test")
    assert edit["changed"] and edit["applied"]
    assert f'proxy = "http://ann@{proxy.where}"' in config_file.read_text() and secrets.values[entry] == PASSWORD
    used = gateway.settings.network.proxy
    assert isinstance(used, Proxy) and (used.user, used.password) == ("ann", PASSWORD)

    again = await control.set_proxy("network", f"http://{proxy.where}", "ann", "second-pass", "test")
    assert again["changed"] and again["applied"]  # the file says so already: the password alone applied
    used = gateway.settings.network.proxy
    assert isinstance(used, Proxy) and used.password == "second-pass"

    with pytest.raises(InvalidRequest) as refused:  # a provider no catalog knows: the file refuses it
        await control.set_proxy("providers.nope", f"http://{proxy.where}", "ann", "third-pass", "test")
    assert secrets.values[entry] == "second-pass" and "third-pass" not in str(refused.value)
    with pytest.raises(InvalidRequest):
        await control.set_proxy("server", "direct", "", "", "test")
    await control.set_proxy("subscriptions", f"http://{proxy.where}", "ann", "", "test")  # the same entry
    await control.set_proxy("network", "direct", "", "", "test")
    assert secrets.values[entry] == "second-pass"  # still named by [subscriptions]
    await control.set_proxy("subscriptions", None, "", "", "test")
    assert entry not in secrets.values  # named by no proxy any more: forgotten

    events = audited(gateway)
    stored = [payload for action, payload in events if action == "proxy.password_stored"]
    assert stored == [{"setting": "network.proxy", "proxy": f"http://ann@{proxy.where}"}] * 2
    text = json.dumps(events) + config_file.read_text()
    assert PASSWORD not in text and "second-pass" not in text and "third-pass" not in text


async def test_over_http_the_proxy_route_keeps_the_password_out_of_the_file_and_the_answer(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    secrets = MemorySecrets()
    config_file = tmp_path / "config0.toml"

    def read(path: Path = config_file) -> Settings:
        return load_settings(path, {}, port=0, proxy_password=with_password(secrets))

    gateway = await start_gateway(
        secrets=secrets, reload=read, settings_file=SettingsFile(config_file, read), admin_token=TOKEN
    )
    body = {"table": "network", "address": "socks5://proxy.corp:1080", "user": "sam", "password": PASSWORD}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        async with session.put(f"{gateway.url}/admin/proxy", json=body) as reply:
            answer = await reply.text()
            assert reply.status == 200, answer
        async with session.put(f"{gateway.url}/admin/proxy", json={**body, "address": "ftp://x:1"}) as reply:
            refused = await reply.text()
            assert reply.status == 400 and "is not a proxy address" in refused
    assert json.loads(answer)["applied"] is True
    assert 'proxy = "socks5://sam@proxy.corp:1080"' in config_file.read_text()
    assert secrets.values["proxy-password:socks5://sam@proxy.corp:1080"] == PASSWORD
    assert PASSWORD not in answer + refused + json.dumps(audited(gateway))


async def test_an_accounts_own_proxy_through_the_door(start_gateway: StartGateway, tmp_path: Path) -> None:
    secrets = MemorySecrets()
    config_file = tmp_path / "config0.toml"

    def read(path: Path = config_file) -> Settings:
        return load_settings(path, {}, port=0, proxy_password=with_password(secrets))

    gateway = await start_gateway(secrets=secrets, reload=read, settings_file=SettingsFile(config_file, read))
    assert gateway.control is not None
    table = 'accounts."codex:ada@example.com"'
    edit = await gateway.control.set_proxy(table, "http://proxy.corp:3128", "ann", PASSWORD, "test")
    assert edit["changed"] and edit["applied"]
    text = config_file.read_text()
    assert '[accounts."codex:ada@example.com"]\nproxy = "http://ann@proxy.corp:3128"' in text and PASSWORD not in text
    own = dict(gateway.settings.network.account_proxies)["codex:ada@example.com"]
    assert isinstance(own, Proxy) and own.password == PASSWORD
    with pytest.raises(InvalidRequest):
        await gateway.control.set_proxy('accounts."a"\n[x', "direct", "", "", "test")
