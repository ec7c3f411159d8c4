#pragma once
/// `usage.status` and `usage.cost` (methods.md §7), answered from the recorded usage in SQLite.
#include <cstdint>
#include <optional>
#include <string>

#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "storage/usage_repo.hpp"

namespace pincer::methods {

/// usage.cost's window. Days are calendar days at UTC + utc_offset_minutes. Without start/end the
/// window is the last `days` days ending today (today included), as the reference does.
struct UsageCostQuery {
    int days = 30;                     // 1..366
    std::optional<int64_t> start_day;  // days since 1970-01-01 (from startDate)
    std::optional<int64_t> end_day;    // days since 1970-01-01 (from endDate)
    int utc_offset_minutes = 0;        // -720..840 (UTC-12..UTC+14)
};

/// Reads usage.cost params (already type/range-checked by the method's ParamSchema) and checks
/// the date strings. Throws core::RpcException (INVALID_REQUEST naming the field) on a bad date
/// or an inverted / too long window.
UsageCostQuery parse_usage_cost_query(const json::object& params);

/// `{updatedAt, days, daily:[{date, ...CostUsageTotals}], totals:CostUsageTotals, cacheStatus}`:
/// one row per calendar day in the window, days without records included, oldest first.
/// Blocks on disk.
json::object build_usage_cost(storage::UsageRepo& repo, const UsageCostQuery& query, int64_t now_ms);

/// `{updatedAt, providers:[], recorded:{records}}`. Blocks on disk.
json::object build_usage_status(storage::UsageRepo& repo, int64_t now_ms);

/// A cost for the wire: whole numbers as integers, so an empty window reads `0`.
json::value cost_value(double v);
/// Writes the CostUsageTotals members (input, output, cacheRead, cacheWrite, totalTokens,
/// totalCost, the per-component costs, missingCostEntries) into `o`.
void put_cost_usage_totals(json::object& o, const storage::UsageTotals& t);
/// `into += t`, member by member.
void add_usage_totals(storage::UsageTotals& into, const storage::UsageTotals& t);

/// "YYYY-MM-DD" -> days since 1970-01-01; nullopt unless it is a real calendar date.
std::optional<int64_t> parse_iso_date(std::string_view s);
/// Days since 1970-01-01 -> "YYYY-MM-DD".
std::string format_iso_date(int64_t day);

/// Registers usage.status and usage.cost (scope operator.read). `repo` must outlive the table.
void register_usage(dispatch::MethodTable& table, dispatch::Gateway& gateway, storage::UsageRepo& repo);

}  // namespace pincer::methods
