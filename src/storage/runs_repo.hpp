#pragma once
/// Agent runs in the SQLite store: what is running, how each run ended, and the partial text of a
/// streaming reply, so a run interrupted by a crash is closed on restart with its text kept.
/// Every method blocks on disk; call it off the network thread. All methods throw StorageError.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.hpp"

namespace pincer::storage {

struct RunRecord {
    std::string run_id;
    std::string session_key;
    std::string session_id;
    std::string agent_id;
    std::string status = "running";  // running | ok | error | aborted | timeout
    int64_t started_at_ms = 0;
    std::optional<int64_t> ended_at_ms;
    std::string partial_text;  // last saved visible text of the reply being streamed
    std::optional<std::string> stop_reason;
    std::optional<std::string> error;
    std::optional<std::string> result_json;  // JSON text of the run's final summary
};

class RunsRepo {
public:
    explicit RunsRepo(Database& db) : db_(db) {}

    /// Inserts the run as running (replacing an older run with the same id, which only happens
    /// when a client reuses an idempotency key after its cache window).
    void start(const RunRecord& run);
    /// Saves the visible text streamed so far; no-op for a run that is no longer running.
    void save_partial(std::string_view run_id, std::string_view text);
    /// Closes the run. False when no such run.
    bool finish(std::string_view run_id, std::string_view status, int64_t ended_at_ms,
                std::optional<std::string_view> stop_reason, std::optional<std::string_view> error,
                std::optional<std::string_view> result_json);
    std::optional<RunRecord> get(std::string_view run_id);
    /// Runs still marked running (after a crash: the ones to close), oldest first.
    std::vector<RunRecord> running();
    /// Deletes ended runs that ended before `before_ms`; returns how many.
    size_t prune_ended_before(int64_t before_ms);

private:
    Database& db_;
};

}  // namespace pincer::storage
