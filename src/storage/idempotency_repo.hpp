#pragma once
/// The idempotency cache: the status and result of requests carrying an idempotency key (chat.send,
/// agent, ...), so a retried request gets `in_flight` or the cached result instead of running
/// twice, across restarts too. Every method blocks on disk; call it off the network thread. All
/// methods throw StorageError on SQLite failure.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/db.hpp"

namespace pincer::storage {

struct IdempotencyRecord {
    std::string key;      // caller-scoped, e.g. "chat:<idempotencyKey>"
    std::string payload;  // JSON text (the cached result, or what is known while in flight)
    std::string status;   // e.g. "in_flight", "ok", "error"
    int64_t expires_at_ms = 0;
};

class IdempotencyRepo {
public:
    /// At most this many records are kept: each put() evicts the oldest beyond the cap, oldest
    /// meaning first stored (rewriting a key keeps its age). Expiry alone could let a burst of
    /// distinct keys grow the table without bound until the next sweep.
    static constexpr size_t kDefaultCap = 1000;

    /// `db` must outlive the repository. `cap` must be at least 1.
    explicit IdempotencyRepo(Database& db, size_t cap = kDefaultCap);

    /// Stores or replaces the record for record.key, then evicts beyond the cap (one transaction).
    void put(const IdempotencyRecord& record);
    /// Atomically: when an unexpired record for record.key exists (expires_at_ms > now_ms) returns
    /// it and writes nothing; otherwise stores `record` like put() and returns nullopt. This is how
    /// a request claims a key so a concurrent duplicate sees `in_flight`.
    std::optional<IdempotencyRecord> put_if_absent(const IdempotencyRecord& record, int64_t now_ms);
    /// The record when it exists and expires_at_ms > now_ms; expired records read as absent.
    std::optional<IdempotencyRecord> get(std::string_view key, int64_t now_ms);
    /// False when no such key.
    bool remove(std::string_view key);
    /// Deletes records with expires_at_ms <= now_ms; returns how many.
    size_t sweep(int64_t now_ms);
    size_t size();

private:
    void write(const IdempotencyRecord& record);

    Database& db_;
    size_t cap_;
};

}  // namespace pincer::storage
