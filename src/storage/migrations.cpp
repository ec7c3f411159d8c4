// The schema, as an append-only list of migrations compiled into the binary. Never edit a
// migration that has shipped: add a new one. Each runs in its own transaction at open.
#include <array>

#include "storage/db.hpp"

namespace pincer::storage {
namespace {

// Roles and scopes columns hold JSON arrays of strings. Times are Unix epoch milliseconds.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE devices (
    device_id      TEXT PRIMARY KEY NOT NULL,
    public_key     TEXT NOT NULL,
    roles          TEXT NOT NULL DEFAULT '[]',
    scopes         TEXT NOT NULL DEFAULT '[]',
    display_name   TEXT NOT NULL DEFAULT '',
    platform       TEXT NOT NULL DEFAULT '',
    device_family  TEXT NOT NULL DEFAULT '',
    client_id      TEXT NOT NULL DEFAULT '',
    client_mode    TEXT NOT NULL DEFAULT '',
    remote_ip      TEXT NOT NULL DEFAULT '',
    created_at_ms  INTEGER NOT NULL DEFAULT 0,
    approved_at_ms INTEGER NOT NULL DEFAULT 0
);

-- A token belongs to a paired device: removing the device revokes its tokens.
CREATE TABLE device_tokens (
    device_id    TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    token        TEXT NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]',
    issued_at_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, role)
);

-- No foreign key: pending requests are by definition for devices not (yet) paired in that role.
CREATE TABLE pairing_requests (
    request_id    TEXT PRIMARY KEY NOT NULL,
    device_id     TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    platform      TEXT NOT NULL DEFAULT '',
    device_family TEXT NOT NULL DEFAULT '',
    client_id     TEXT NOT NULL DEFAULT '',
    client_mode   TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    scopes        TEXT NOT NULL DEFAULT '[]',
    remote_ip     TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    silent        INTEGER NOT NULL DEFAULT 0,
    is_repair     INTEGER NOT NULL DEFAULT 0,
    ts            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pairing_requests_device ON pairing_requests (device_id, role);

-- AUTOINCREMENT so ids are never reused after the oldest rows are trimmed: id order is
-- arrival order.
CREATE TABLE system_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_key TEXT NOT NULL,
    text        TEXT NOT NULL,
    source      TEXT,
    ts          INTEGER NOT NULL,
    consumed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX system_events_pending ON system_events (session_key, consumed, id);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT
) WITHOUT ROWID;
)sql";

// Agent runtime: sessions, transcripts, usage and the idempotency cache. Times are Unix epoch ms.
constexpr std::string_view kMigration2 = R"sql(
-- One row per session key (canonical `agent:<agentId>:<rest>`). The columns are what we filter,
-- sort or enforce on; every other SessionEntry field (methods.md §4.2) lives in `fields`, a JSON
-- object, so new fields need no migration. A NULL label is "no label"; UNIQUE allows many NULLs.
CREATE TABLE sessions (
    key           TEXT PRIMARY KEY NOT NULL,
    agent_id      TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    label         TEXT UNIQUE,
    fields        TEXT NOT NULL DEFAULT '{}'
);
-- Listing walks these in order and stops after a page; the trailing key makes the order total,
-- so paging is stable when updated_at_ms ties.
CREATE INDEX sessions_agent_updated ON sessions (agent_id, updated_at_ms DESC, key);
CREATE INDEX sessions_updated ON sessions (updated_at_ms DESC, key);
CREATE INDEX sessions_session_id ON sessions (session_id);
-- Children of a session (sessions.list spawnedBy); partial, as most sessions have no parent.
CREATE INDEX sessions_spawned_by ON sessions (json_extract(fields, '$.spawnedBy'))
    WHERE json_extract(fields, '$.spawnedBy') IS NOT NULL;

-- A transcript is keyed by sessionId, not by session key: a reset starts a new transcript.
-- seq orders entries within a session; entry_id/parent_id link them into OpenClaw's tree.
-- payload is the pi-ai message object for type 'message', otherwise the line's own members.
-- A rowid table rather than WITHOUT ROWID: payloads can be large (tool results).
CREATE TABLE transcript_entries (
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entry_id   TEXT NOT NULL,
    parent_id  TEXT,
    ts_ms      INTEGER NOT NULL,
    type       TEXT NOT NULL,
    role       TEXT,
    payload    TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE UNIQUE INDEX transcript_entries_entry ON transcript_entries (session_id, entry_id);

-- One row per model call. cost_usd is NULL when the price is unknown (counted as missing).
CREATE TABLE usage_records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        TEXT NOT NULL,
    session_key   TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read    INTEGER NOT NULL DEFAULT 0,
    cache_write   INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL,
    ts_ms         INTEGER NOT NULL
);
CREATE INDEX usage_records_ts ON usage_records (ts_ms);
CREATE INDEX usage_records_session ON usage_records (session_key, ts_ms);

-- Results of idempotent requests. rowid order is first-insertion order (eviction beyond the cap).
CREATE TABLE idempotency (
    key           TEXT PRIMARY KEY NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX idempotency_expires ON idempotency (expires_at_ms);
)sql";

// Agent runs: one row per run, so a run that was streaming when the process died is found on
// restart (status 'running') and closed with its last saved partial text.
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE agent_runs (
    run_id        TEXT PRIMARY KEY NOT NULL,
    session_key   TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms   INTEGER,
    partial_text  TEXT NOT NULL DEFAULT '',
    stop_reason   TEXT,
    error         TEXT,
    result        TEXT
);
CREATE INDEX agent_runs_running ON agent_runs (status) WHERE status = 'running';
CREATE INDEX agent_runs_ended ON agent_runs (ended_at_ms);
)sql";

constexpr std::array kMigrations{
    Migration{1, kMigration1},
    Migration{2, kMigration2},
    Migration{3, kMigration3},
};

constexpr bool versions_are_sequential() {
    for (size_t i = 0; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
    }
    return true;
}
static_assert(versions_are_sequential(), "migration versions must be 1, 2, 3, ... in order");

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_schema_version() { return kMigrations.back().version; }

}  // namespace pincer::storage
