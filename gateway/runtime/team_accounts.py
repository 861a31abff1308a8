"""Signed-in subscription accounts joined to the team's database at start: their rows and quota
windows are the team's, and their tokens are sealed there under the team's secrets passphrase
(every gateway is given the same passphrase file), so a ChatGPT token one gateway renews is the
one the others use (renewed under Redis's lock per account, or the database's with no Redis).

Without a passphrase file, the tokens stay in each gateway's own secret store, said once at
start: the others then see the account listed but cannot use it, and each renews its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from gateway.auth.account_book import AccountBook
from gateway.errors import ConfigError
from gateway.routing.quota import QuotaBook, QuotaRecord
from gateway.store.db import StoreError
from gateway.store.secrets import passphrase_in_file
from gateway.store.team import TeamStore

log = logging.getLogger("gateway.accounts")


async def join_accounts(book: AccountBook, quotas: QuotaBook, store: TeamStore, env: Mapping[str, str]) -> None:
    """The accounts' quota windows too: those the team's database keeps (an exhausted one
    benches its account here as well), and those seen from now on kept there. ``StoreError``
    when this gateway's passphrase is not the one the team's tokens are sealed with (or its file
    cannot be read): a gateway that could not read them is not started."""
    await join_book(book, store, env)
    quotas.load(QuotaRecord.from_row(row) for row in await store.accounts.load_quota())
    quotas.persist_to(lambda record: book.keep_quota(record.row()))


async def join_book(book: AccountBook, store: TeamStore, env: Mapping[str, str]) -> None:
    """The accounts alone, rows and tokens (a CLI command's book, which serves nothing)."""
    try:
        passphrase = await asyncio.to_thread(passphrase_in_file, env)
    except ConfigError as exc:
        raise StoreError(str(exc)) from None
    tokens = await store.sealed_tokens(passphrase) if passphrase else None
    if tokens is None:
        log.warning(
            "no secrets passphrase file is set: signed-in accounts' tokens stay in this gateway's own secret store,"
            " where the team's other gateways cannot read them (give every gateway the same passphrase file)"
        )
    await book.join(store.accounts, tokens, tokens)  # with no Redis, the database holds the renewals' lock
