"""The PostgreSQL schema as numbered steps, recorded one row a step in ``schema_version``.

Gateways that start at the same time each try to migrate: a transaction-scoped advisory lock
lets one of them run the missing steps while the others wait, then find nothing left to run.
PostgreSQL's DDL is transactional, so a step that fails leaves nothing half made. As with the
SQLite steps, a released step is never edited: a change is a new step at the end.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from gateway.store.db import StoreError

MIGRATION_LOCK = 0x53_57_42_44_00_01  # advisory lock ids: "SWBD" and a number of our own
AUDIT_LOCK = 0x53_57_42_44_00_02

STEPS: tuple[str, ...] = (
    # 1: client keys and the audit chain, the first state two gateways must share
    """
    CREATE TABLE client_keys (
        id             TEXT PRIMARY KEY,
        label          TEXT NOT NULL,
        tier           TEXT NOT NULL,
        limits         TEXT NOT NULL DEFAULT '{}',
        digest         BYTEA NOT NULL,
        last4          TEXT NOT NULL,
        created_at     DOUBLE PRECISION NOT NULL,
        last_used      DOUBLE PRECISION,
        revoked_at     DOUBLE PRECISION,
        enforce_model  TEXT
    );
    CREATE TABLE audit (
        seq      BIGINT PRIMARY KEY,
        ts       BIGINT NOT NULL,
        actor    TEXT NOT NULL,
        action   TEXT NOT NULL,
        payload  TEXT NOT NULL,
        prev     TEXT NOT NULL UNIQUE,
        hash     TEXT NOT NULL
    );
    """,
    # 2: the usage ledger and its hourly roll-ups. A row is unique by what it stands for (request,
    # kind, attempt), so writing it again (a journal replayed after a crash) adds nothing; the
    # BRIN index on time costs next to nothing a row, as rows arrive in time order.
    """
    CREATE TABLE usage (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ts              DOUBLE PRECISION NOT NULL,
        request_id      TEXT NOT NULL,
        kind            TEXT NOT NULL,
        caller          TEXT NOT NULL,
        protocol        TEXT NOT NULL,
        model           TEXT NOT NULL,
        provider        TEXT NOT NULL,
        account         TEXT NOT NULL,
        upstream_model  TEXT NOT NULL,
        prompt          BIGINT NOT NULL,
        completion      BIGINT NOT NULL,
        cached          BIGINT NOT NULL,
        reasoning       BIGINT NOT NULL,
        estimated       INTEGER NOT NULL,
        status          INTEGER NOT NULL,
        error           TEXT NOT NULL,
        latency_ms      DOUBLE PRECISION NOT NULL,
        ttfb_ms         DOUBLE PRECISION,
        attempts        INTEGER NOT NULL,
        cost            DOUBLE PRECISION NOT NULL,
        list_cost       DOUBLE PRECISION NOT NULL,
        unpriced        INTEGER NOT NULL,
        tool            TEXT NOT NULL,
        UNIQUE (request_id, kind, attempts)
    );
    CREATE INDEX usage_ts ON usage USING brin (ts);
    CREATE TABLE usage_rollup (
        dim         TEXT NOT NULL,
        hour        BIGINT NOT NULL,
        name        TEXT NOT NULL,
        requests    BIGINT NOT NULL,
        successful  BIGINT NOT NULL,
        prompt      BIGINT NOT NULL,
        completion  BIGINT NOT NULL,
        cached      BIGINT NOT NULL,
        reasoning   BIGINT NOT NULL,
        estimated   BIGINT NOT NULL,
        unpriced    BIGINT NOT NULL,
        latency_ms  DOUBLE PRECISION NOT NULL,
        cost        DOUBLE PRECISION NOT NULL,
        list_cost   DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (dim, hour, name)
    );
    """,
    # 3: each provider's last model list, and the protocols its server turned out not to speak
    """
    CREATE TABLE model_lists (
        provider   TEXT PRIMARY KEY,
        source     TEXT NOT NULL,
        taken_at   DOUBLE PRECISION NOT NULL,
        entries    TEXT NOT NULL
    );
    CREATE TABLE unspoken (
        provider    TEXT NOT NULL,
        protocol    TEXT NOT NULL,
        source      TEXT NOT NULL,
        learned_at  DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (provider, protocol)
    );
    """,
    # 4: the admin login (its password's hash and token generation) and its refresh tokens, so a
    # session begun through one gateway is honoured, renewed and ended on every one
    """
    CREATE TABLE admin (
        name        TEXT PRIMARY KEY,
        phc         TEXT NOT NULL,
        changed     DOUBLE PRECISION NOT NULL,
        generation  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE refresh_tokens (
        digest    BYTEA PRIMARY KEY,
        family    TEXT NOT NULL,
        subject   TEXT NOT NULL,
        expires   DOUBLE PRECISION NOT NULL,
        spent_at  DOUBLE PRECISION,
        revoked   BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX refresh_family ON refresh_tokens (family);
    """,
    # 5: subscription accounts (their tokens are not here) and their quota windows
    """
    CREATE TABLE accounts (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        label       TEXT NOT NULL UNIQUE,
        subject     TEXT NOT NULL,
        email       TEXT NOT NULL DEFAULT '',
        plan        TEXT NOT NULL DEFAULT '',
        state       TEXT NOT NULL DEFAULT 'ok',
        origin      TEXT NOT NULL,
        sync_path   TEXT NOT NULL DEFAULT '',
        created_at  DOUBLE PRECISION NOT NULL,
        updated_at  DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE quota (
        label           TEXT NOT NULL,
        "window"        TEXT NOT NULL,
        provider        TEXT NOT NULL,
        used_percent    DOUBLE PRECISION NOT NULL,
        resets_at       DOUBLE PRECISION,
        window_seconds  BIGINT,
        entitlement     DOUBLE PRECISION,
        remaining       DOUBLE PRECISION,
        unlimited       INTEGER NOT NULL,
        taken_at        DOUBLE PRECISION NOT NULL,
        first_percent   DOUBLE PRECISION NOT NULL,
        first_at        DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (label, "window")
    );
    """,
    # 6: the team's client-key pepper, made once by the first gateway to ask: a key made on one
    # gateway must hash alike on every other (each keeps its own secret store)
    """
    CREATE TABLE team_secrets (
        name   TEXT PRIMARY KEY,
        value  BYTEA NOT NULL
    );
    """,
    # 7: subscription accounts' tokens, each sealed (AES-256-GCM) under a key the team's secrets
    # passphrase makes with the salt kept in team_secrets; the database alone opens none of them
    """
    CREATE TABLE account_tokens (
        id      TEXT PRIMARY KEY,
        sealed  TEXT NOT NULL
    );
    """,
)

_VERSIONS = """
    CREATE TABLE IF NOT EXISTS schema_version (
        version     INTEGER PRIMARY KEY,
        applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )
"""


async def migrate(conn: AsyncConnection) -> int:
    """Run the steps this database lacks, once across all gateways; how many ran here."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(_VERSIONS)
        cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_version")
        row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(STEPS):
            raise StoreError(
                f"the database was written by a newer Switchboard (schema {version}, this one knows {len(STEPS)})"
            )
        for number, step in enumerate(STEPS[version:], start=version + 1):
            await conn.execute(step)
            await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        return len(STEPS) - version
