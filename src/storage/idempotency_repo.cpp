#include "storage/idempotency_repo.hpp"

#include <algorithm>
#include <limits>

namespace pincer::storage {
namespace {

std::optional<IdempotencyRecord> select_live(Database& db, std::string_view key, int64_t now_ms) {
    auto st = db.prepare(
        "SELECT key, payload, status, expires_at_ms FROM idempotency WHERE key = ?1 AND "
        "expires_at_ms > ?2");
    st.bind(1, key).bind(2, now_ms);
    if (!st.step()) return std::nullopt;
    return IdempotencyRecord{st.column_text(0), st.column_text(1), st.column_text(2), st.column_int64(3)};
}

}  // namespace

IdempotencyRepo::IdempotencyRepo(Database& db, size_t cap)
    : db_(db), cap_(std::clamp<size_t>(cap, 1, std::numeric_limits<int64_t>::max())) {}

void IdempotencyRepo::write(const IdempotencyRecord& r) {
    if (r.key.empty()) throw StorageError("idempotency key must not be empty");
    // ON CONFLICT DO UPDATE keeps the row's rowid, so a rewritten key keeps its place in the
    // eviction order (INSERT OR REPLACE would make it the newest).
    auto st = db_.prepare(
        "INSERT INTO idempotency (key, payload, status, expires_at_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) "
        "DO UPDATE SET payload = excluded.payload, status = excluded.status, expires_at_ms = excluded.expires_at_ms");
    st.bind(1, r.key).bind(2, r.payload).bind(3, r.status).bind(4, r.expires_at_ms);
    st.run();
    // rowid order is insertion order: SQLite assigns max(rowid) + 1.
    auto evict = db_.prepare(
        "DELETE FROM idempotency WHERE rowid <= (SELECT rowid FROM idempotency ORDER BY rowid DESC LIMIT 1 "
        "OFFSET ?1)");
    evict.bind(1, static_cast<int64_t>(cap_));
    evict.run();
}

void IdempotencyRepo::put(const IdempotencyRecord& record) {
    Transaction tx(db_);
    write(record);
    tx.commit();
}

std::optional<IdempotencyRecord> IdempotencyRepo::put_if_absent(const IdempotencyRecord& record, int64_t now_ms) {
    Transaction tx(db_);
    if (auto existing = select_live(db_, record.key, now_ms)) return existing;
    write(record);
    tx.commit();
    return std::nullopt;
}

std::optional<IdempotencyRecord> IdempotencyRepo::get(std::string_view key, int64_t now_ms) {
    auto guard = db_.lock();
    return select_live(db_, key, now_ms);
}

bool IdempotencyRepo::remove(std::string_view key) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM idempotency WHERE key = ?1");
    st.bind(1, key);
    st.run();
    return db_.changes() > 0;
}

size_t IdempotencyRepo::sweep(int64_t now_ms) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM idempotency WHERE expires_at_ms <= ?1");
    st.bind(1, now_ms);
    st.run();
    return static_cast<size_t>(db_.changes());
}

size_t IdempotencyRepo::size() {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT count(*) FROM idempotency");
    return st.step() ? static_cast<size_t>(st.column_int64(0)) : 0;
}

}  // namespace pincer::storage
