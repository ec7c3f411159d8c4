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

constexpr std::array kMigrations{
    Migration{1, kMigration1},
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
