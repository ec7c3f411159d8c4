#pragma once
/// Durable per-session queue of system events (cron results, node notices, exec completions) that
/// the agent's next turn picks up. Blocks on disk; call it off the network thread. All methods
/// throw StorageError on SQLite failure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.hpp"

namespace pincer::storage {

struct SystemEvent {
    int64_t id = 0;  // increases with arrival order, never reused
    std::string session_key;
    std::string text;
    std::string source_json;  // opaque JSON text supplied by the producer; "" when none
    int64_t ts_ms = 0;
};

class SystemEventStore {
public:
    /// A session that nobody reads must not grow without bound: beyond this many unconsumed
    /// events the oldest are dropped on insert (the agent cares most about the latest state).
    static constexpr size_t kDefaultMaxPendingPerSession = 100;

    /// `db` must outlive the store. `max_pending_per_session` must be at least 1.
    explicit SystemEventStore(Database& db, size_t max_pending_per_session = kDefaultMaxPendingPerSession);

    /// Appends an event and trims the session to the cap in the same transaction; returns its id.
    int64_t enqueue(std::string_view session_key, std::string_view text, std::string_view source_json, int64_t ts_ms);
    /// Up to `limit` unconsumed events of the session, oldest first, without consuming them.
    std::vector<SystemEvent> peek(std::string_view session_key, size_t limit);
    /// All unconsumed events of the session, oldest first, marked consumed in the same transaction
    /// so each event is handed out exactly once.
    std::vector<SystemEvent> drain(std::string_view session_key);
    size_t count_pending(std::string_view session_key);
    /// Deletes consumed events older than `before_ts_ms` (housekeeping); returns how many.
    size_t prune_consumed(int64_t before_ts_ms);

private:
    Database& db_;
    size_t max_pending_;
};

}  // namespace pincer::storage
