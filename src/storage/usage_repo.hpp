#pragma once
/// Token usage and cost per model call, for usage.cost and sessions.usage (methods.md §7, §4.12).
/// Every method blocks on disk; call it off the network thread. All methods throw StorageError on
/// SQLite failure or invalid input.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.hpp"

namespace pincer::storage {

struct UsageRecord {
    int64_t id = 0;  // assigned by record()
    std::string run_id;
    std::string session_key;
    std::string agent_id;
    std::string provider;
    std::string model;
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    int64_t cache_read = 0;
    int64_t cache_write = 0;
    std::optional<double> cost_usd;  // nullopt when the price is unknown
    int64_t ts_ms = 0;
};

/// CostUsageTotals' token and cost members (input, output, cacheRead, cacheWrite, totalTokens,
/// totalCost, missingCostEntries).
struct UsageTotals {
    int64_t input = 0;
    int64_t output = 0;
    int64_t cache_read = 0;
    int64_t cache_write = 0;
    int64_t total_tokens = 0;          // input + output + cache_read + cache_write
    double total_cost = 0;             // sum of the known costs
    int64_t missing_cost_entries = 0;  // records without a cost
    int64_t records = 0;
};

struct DailyUsage {
    std::string date;  // YYYY-MM-DD in the requested offset
    UsageTotals totals;
};

/// The records of one (session key, agent, provider, model, date) combination.
struct UsageGroup {
    std::string session_key;
    std::string agent_id;
    std::string provider;
    std::string model;
    std::string date;         // YYYY-MM-DD in the requested offset
    int64_t first_ts_ms = 0;  // earliest and latest record of the group
    int64_t last_ts_ms = 0;
    UsageTotals totals;
};

class UsageRepo {
public:
    static constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
    static constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

    /// `db` must outlive the repository.
    explicit UsageRepo(Database& db) : db_(db) {}

    /// Stores one record; returns its id. Throws StorageError on negative token counts or a
    /// non-finite or negative cost.
    int64_t record(const UsageRecord& record);

    /// Per-date totals of records with from_ms <= ts_ms < to_ms, oldest date first; dates with no
    /// records are absent. A date is the calendar day at UTC + tz_offset_minutes, which must be in
    /// -720..840 (UTC-12..UTC+14).
    std::vector<DailyUsage> daily(int64_t from_ms, int64_t to_ms, int tz_offset_minutes = 0);
    /// Totals over from_ms <= ts_ms < to_ms.
    UsageTotals totals(int64_t from_ms, int64_t to_ms);
    /// Totals of one session key over from_ms <= ts_ms < to_ms (all time by default).
    UsageTotals by_session(std::string_view session_key, int64_t from_ms = kMinTime, int64_t to_ms = kMaxTime);
    /// Totals of records with from_ms <= ts_ms < to_ms per (session key, agent, provider, model,
    /// date), dates as in daily(); only `session_key`'s records when given. Ordered by session key,
    /// date, provider, model, agent. One row per combination, so the answer grows with sessions x
    /// models x days, not with the number of calls.
    std::vector<UsageGroup> grouped(int64_t from_ms, int64_t to_ms, int tz_offset_minutes = 0,
                                    std::optional<std::string_view> session_key = std::nullopt);
    /// Records of one session key, oldest first, at most `limit`.
    std::vector<UsageRecord> records_for_session(std::string_view session_key, size_t limit);

    /// Deletes records older than `before_ms` (retention); returns how many.
    size_t prune_before(int64_t before_ms);

private:
    Database& db_;
};

}  // namespace pincer::storage
