#include "storage/system_events.hpp"

#include <algorithm>
#include <limits>

namespace pincer::storage {
namespace {

constexpr std::string_view kSelectPending =
    "SELECT id, session_key, text, source, ts FROM system_events WHERE session_key = ?1 AND consumed = 0 "
    "ORDER BY id LIMIT ?2";

std::vector<SystemEvent> read_events(Statement& st) {
    std::vector<SystemEvent> out;
    while (st.step()) {
        out.push_back(SystemEvent{st.column_int64(0), st.column_text(1), st.column_text(2), st.column_text(3),
                                  st.column_int64(4)});
    }
    return out;
}

int64_t clamp_limit(size_t limit) {
    return static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max()));
}

}  // namespace

SystemEventStore::SystemEventStore(Database& db, size_t max_pending_per_session)
    : db_(db), max_pending_(std::max<size_t>(max_pending_per_session, 1)) {}

int64_t SystemEventStore::enqueue(std::string_view session_key, std::string_view text, std::string_view source_json,
                                  int64_t ts_ms) {
    Transaction tx(db_);
    auto insert = db_.prepare("INSERT INTO system_events (session_key, text, source, ts) VALUES (?1, ?2, ?3, ?4)");
    insert.bind(1, session_key).bind(2, text).bind(4, ts_ms);
    if (source_json.empty()) {
        insert.bind_null(3);
    } else {
        insert.bind(3, source_json);
    }
    insert.run();
    int64_t id = db_.last_insert_rowid();
    // Keep the newest max_pending_ unconsumed rows; the index on (session_key, consumed, id) serves
    // both the inner scan and the delete.
    auto trim = db_.prepare(
        "DELETE FROM system_events WHERE session_key = ?1 AND consumed = 0 AND id NOT IN "
        "(SELECT id FROM system_events WHERE session_key = ?1 AND consumed = 0 ORDER BY id DESC LIMIT ?2)");
    trim.bind(1, session_key).bind(2, clamp_limit(max_pending_));
    trim.run();
    tx.commit();
    return id;
}

std::vector<SystemEvent> SystemEventStore::peek(std::string_view session_key, size_t limit) {
    auto guard = db_.lock();
    auto st = db_.prepare(kSelectPending);
    st.bind(1, session_key).bind(2, clamp_limit(limit));
    return read_events(st);
}

std::vector<SystemEvent> SystemEventStore::drain(std::string_view session_key) {
    Transaction tx(db_);
    auto st = db_.prepare(kSelectPending);
    st.bind(1, session_key).bind(2, int64_t{-1});  // negative LIMIT means no limit
    std::vector<SystemEvent> events = read_events(st);
    if (events.empty()) return events;  // nothing written; the destructor ends the transaction
    auto mark =
        db_.prepare("UPDATE system_events SET consumed = 1 WHERE session_key = ?1 AND consumed = 0 AND id <= ?2");
    mark.bind(1, session_key).bind(2, events.back().id);
    mark.run();
    tx.commit();
    return events;
}

size_t SystemEventStore::count_pending(std::string_view session_key) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT count(*) FROM system_events WHERE session_key = ?1 AND consumed = 0");
    st.bind(1, session_key);
    return st.step() ? static_cast<size_t>(st.column_int64(0)) : 0;
}

size_t SystemEventStore::prune_consumed(int64_t before_ts_ms) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM system_events WHERE consumed = 1 AND ts < ?1");
    st.bind(1, before_ts_ms);
    st.run();
    return static_cast<size_t>(db_.changes());
}

}  // namespace pincer::storage
