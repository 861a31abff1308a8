"""The database schema as numbered steps; ``PRAGMA user_version`` says how many have run.

Each step ends by setting that number itself (a pragma takes no parameters, and no SQL here is
built from pieces). A step is never edited once released: a change is a new step at the end.
"""

from __future__ import annotations

STEPS: tuple[str, ...] = (
    # 1: client keys, usage ledger (with its hourly roll-ups), audit chain, admin login
    """
    CREATE TABLE client_keys (
        id          TEXT PRIMARY KEY,
        label       TEXT NOT NULL,
        tier        TEXT NOT NULL,
        limits      TEXT NOT NULL DEFAULT '{}',
        digest      BLOB NOT NULL,
        last4       TEXT NOT NULL,
        created_at  REAL NOT NULL,
        last_used   REAL,
        revoked_at  REAL
    );
    CREATE TABLE usage (
        id              INTEGER PRIMARY KEY,
        ts              REAL NOT NULL,
        request_id      TEXT NOT NULL,
        kind            TEXT NOT NULL,
        caller          TEXT NOT NULL,
        protocol        TEXT NOT NULL,
        model           TEXT NOT NULL,
        provider        TEXT NOT NULL,
        account         TEXT NOT NULL,
        upstream_model  TEXT NOT NULL,
        prompt          INTEGER NOT NULL,
        completion      INTEGER NOT NULL,
        cached          INTEGER NOT NULL,
        reasoning       INTEGER NOT NULL,
        estimated       INTEGER NOT NULL,
        status          INTEGER NOT NULL,
        error           TEXT NOT NULL,
        latency_ms      REAL NOT NULL,
        ttfb_ms         REAL,
        attempts        INTEGER NOT NULL
    );
    CREATE INDEX usage_ts ON usage (ts);
    CREATE TABLE usage_rollup (
        dim         TEXT NOT NULL,
        hour        INTEGER NOT NULL,
        name        TEXT NOT NULL,
        requests    INTEGER NOT NULL,
        successful  INTEGER NOT NULL,
        prompt      INTEGER NOT NULL,
        completion  INTEGER NOT NULL,
        cached      INTEGER NOT NULL,
        reasoning   INTEGER NOT NULL,
        estimated   INTEGER NOT NULL,
        latency_ms  REAL NOT NULL,
        PRIMARY KEY (dim, hour, name)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        seq      INTEGER PRIMARY KEY,
        ts       INTEGER NOT NULL,
        actor    TEXT NOT NULL,
        action   TEXT NOT NULL,
        payload  TEXT NOT NULL,
        prev     TEXT NOT NULL,
        hash     TEXT NOT NULL
    );
    CREATE TABLE admin (
        name      TEXT PRIMARY KEY,
        phc       TEXT NOT NULL,
        changed   REAL NOT NULL
    );
    CREATE TABLE refresh_tokens (
        digest    BLOB PRIMARY KEY,
        family    TEXT NOT NULL,
        subject   TEXT NOT NULL,
        expires   REAL NOT NULL,
        spent_at  REAL,
        revoked   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX refresh_family ON refresh_tokens (family);
    PRAGMA user_version = 1;
    """,
    # 2: subscription accounts (their tokens live in the secret store) and quota windows
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
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL
    );
    CREATE TABLE quota (
        label           TEXT NOT NULL,
        window          TEXT NOT NULL,
        provider        TEXT NOT NULL,
        used_percent    REAL NOT NULL,
        resets_at       REAL,
        window_seconds  INTEGER,
        entitlement     REAL,
        remaining       REAL,
        unlimited       INTEGER NOT NULL,
        taken_at        REAL NOT NULL,
        first_percent   REAL NOT NULL,
        first_at        REAL NOT NULL,
        PRIMARY KEY (label, window)
    ) WITHOUT ROWID;
    PRAGMA user_version = 2;
    """,
    # 3: each provider's last model list (the startup probe), so a restart knows its models and
    # their capabilities before the providers answer, and one that is down keeps them for a while
    """
    CREATE TABLE model_lists (
        provider   TEXT PRIMARY KEY,
        source     TEXT NOT NULL,
        taken_at   REAL NOT NULL,
        entries    TEXT NOT NULL
    ) WITHOUT ROWID;
    PRAGMA user_version = 3;
    """,
    # 4: no query reads usage by time (reports read the roll-ups, recent rows go by id), and the
    # index cost a second B-tree insert for every row written
    """
    DROP INDEX usage_ts;
    PRAGMA user_version = 4;
    """,
    # 5: the protocols a provider's server turned out not to speak (a 404 at the endpoint), kept
    # beside its model list so a restart does not ask the missing endpoint again
    """
    CREATE TABLE unspoken (
        provider    TEXT NOT NULL,
        protocol    TEXT NOT NULL,
        source      TEXT NOT NULL,
        learned_at  REAL NOT NULL,
        PRIMARY KEY (provider, protocol)
    ) WITHOUT ROWID;
    PRAGMA user_version = 5;
    """,
    # 6: the admin's token generation, moved on by every password change: tokens of an earlier
    # one are refused at once, access tokens as well as refresh tokens
    """
    ALTER TABLE admin ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
    PRAGMA user_version = 6;
    """,
    # 7: a client key's enforced model, which serves its every chat request whatever it names
    """
    ALTER TABLE client_keys ADD COLUMN enforce_model TEXT;
    PRAGMA user_version = 7;
    """,
    # 8: the money view: each request's cost in dollars and at list price, and the client tool
    # that sent it (a roll-up dimension of its own). Rows from before had no prices: those that
    # used tokens count as unpriced (in the roll-ups, the hours' successful requests that did).
    # Of the rows, only the newest thousand are marked (a "recent" view shows 50): reports read
    # the roll-ups, and an UPDATE of every row would hold a start for seconds on a big ledger.
    """
    ALTER TABLE usage ADD COLUMN cost REAL NOT NULL DEFAULT 0;
    ALTER TABLE usage ADD COLUMN list_cost REAL NOT NULL DEFAULT 0;
    ALTER TABLE usage ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE usage ADD COLUMN tool TEXT NOT NULL DEFAULT '';
    ALTER TABLE usage_rollup ADD COLUMN cost REAL NOT NULL DEFAULT 0;
    ALTER TABLE usage_rollup ADD COLUMN list_cost REAL NOT NULL DEFAULT 0;
    ALTER TABLE usage_rollup ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0;
    UPDATE usage SET unpriced = 1
        WHERE id > (SELECT IFNULL(MAX(id), 0) - 1000 FROM usage) AND kind = 'request' AND prompt + completion > 0;
    UPDATE usage_rollup SET unpriced = successful WHERE prompt + completion > 0;
    PRAGMA user_version = 8;
    """,
)
