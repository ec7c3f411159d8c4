#include "methods/usage.hpp"

#include <cmath>
#include <cstdio>
#include <map>

namespace pincer::methods {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int kMaxDays = 366;
constexpr int kMinOffsetMinutes = -720;  // UTC-12, as the reference's utcOffset range (and UsageRepo::daily)
constexpr int kMaxOffsetMinutes = 840;   // UTC+14

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
    int64_t y;
    unsigned m;
    unsigned d;
};

Civil civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

[[noreturn]] void invalid(std::string_view field, std::string_view problem) {
    throw core::RpcException(
        core::RpcError::invalid("invalid usage.cost params: at /" + std::string(field) + ": " + std::string(problem)));
}

}  // namespace

// Costs are doubles; whole numbers go out as integers so an empty window reads `0` (as the
// reference's JSON does) rather than Boost.JSON's `0E0`.
json::value cost_value(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return static_cast<int64_t>(v);
    return v;
}

// CostUsageTotals. UsageRepo records only one cost per model call (cost_usd), not its
// input/output/cache split, so the whole known cost goes to totalCost and the component costs are
// reported as 0 rather than guessed. missingCostEntries counts calls whose price was unknown.
void put_cost_usage_totals(json::object& o, const storage::UsageTotals& t) {
    o["input"] = t.input;
    o["output"] = t.output;
    o["cacheRead"] = t.cache_read;
    o["cacheWrite"] = t.cache_write;
    o["totalTokens"] = t.total_tokens;
    o["totalCost"] = cost_value(t.total_cost);
    o["inputCost"] = 0;
    o["outputCost"] = 0;
    o["cacheReadCost"] = 0;
    o["cacheWriteCost"] = 0;
    o["missingCostEntries"] = t.missing_cost_entries;
}

void add_usage_totals(storage::UsageTotals& into, const storage::UsageTotals& t) {
    into.input += t.input;
    into.output += t.output;
    into.cache_read += t.cache_read;
    into.cache_write += t.cache_write;
    into.total_tokens += t.total_tokens;
    into.total_cost += t.total_cost;
    into.missing_cost_entries += t.missing_cost_entries;
    into.records += t.records;
}

std::optional<int64_t> parse_iso_date(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
    }
    auto num = [&](size_t at, size_t len) {
        int v = 0;
        for (size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
        return v;
    };
    const int y = num(0, 4);
    const int m = num(5, 2);
    const int d = num(8, 2);
    if (m < 1 || m > 12 || d < 1) return std::nullopt;
    static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const int max_d = (m == 2 && leap) ? 29 : kDaysIn[m - 1];
    if (d > max_d) return std::nullopt;
    return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string format_iso_date(int64_t day) {
    const Civil c = civil_from_days(day);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
    return buf;
}

UsageCostQuery parse_usage_cost_query(const json::object& params) {
    UsageCostQuery q;
    if (auto days = dispatch::param_int(params, "days")) q.days = static_cast<int>(*days);
    if (auto off = dispatch::param_int(params, "utcOffsetMinutes")) q.utc_offset_minutes = static_cast<int>(*off);
    for (std::string_view field : {"startDate", "endDate"}) {
        auto it = params.find(field);
        if (it == params.end() || it->value().is_null()) continue;
        std::optional<int64_t> day;
        if (it->value().is_string()) day = parse_iso_date(core::sv(it->value().get_string()));
        if (!day) invalid(field, "must be YYYY-MM-DD");
        (field == "startDate" ? q.start_day : q.end_day) = day;
    }
    if (q.start_day && q.end_day) {
        if (*q.end_day < *q.start_day) invalid("endDate", "must not be before startDate");
        if (*q.end_day - *q.start_day + 1 > kMaxDays)
            invalid("startDate", "window must be at most " + std::to_string(kMaxDays) + " days");
    }
    return q;
}

json::object build_usage_cost(storage::UsageRepo& repo, const UsageCostQuery& query, int64_t now_ms) {
    const int64_t offset_ms = static_cast<int64_t>(query.utc_offset_minutes) * 60'000;
    const int64_t today = floor_div(now_ms + offset_ms, kDayMs);
    const int64_t days = query.days;
    int64_t first = today - days + 1;
    int64_t last = today;
    if (query.start_day && query.end_day) {
        first = *query.start_day;
        last = *query.end_day;
    } else if (query.start_day) {  // startDate alone: from it through today
        first = *query.start_day;
        last = std::max(first, today);
    } else if (query.end_day) {  // endDate alone: the `days` days ending on it
        last = *query.end_day;
        first = last - days + 1;
    }
    if (last - first + 1 > kMaxDays) first = last - kMaxDays + 1;

    const int64_t from_ms = first * kDayMs - offset_ms;
    const int64_t to_ms = (last + 1) * kDayMs - offset_ms;
    std::map<std::string, storage::UsageTotals> by_date;
    for (auto& d : repo.daily(from_ms, to_ms, query.utc_offset_minutes)) by_date[d.date] = d.totals;

    storage::UsageTotals total;
    json::array daily;
    for (int64_t day = first; day <= last; ++day) {
        std::string date = format_iso_date(day);
        storage::UsageTotals t;
        if (auto it = by_date.find(date); it != by_date.end()) t = it->second;
        add_usage_totals(total, t);
        json::object row;
        row["date"] = date;
        put_cost_usage_totals(row, t);
        daily.emplace_back(std::move(row));
    }

    json::object out;
    out["updatedAt"] = now_ms;
    out["days"] = last - first + 1;
    out["daily"] = std::move(daily);
    json::object totals;
    put_cost_usage_totals(totals, total);
    out["totals"] = std::move(totals);
    // The reference reports the state of its transcript-scanning cache; Pincer reads SQLite
    // directly, so the answer is always fresh and no files are involved.
    out["cacheStatus"] = json::object{{"status", "fresh"}, {"cachedFiles", 0}, {"pendingFiles", 0}, {"staleFiles", 0}};
    return out;
}

json::object build_usage_status(storage::UsageRepo& repo, int64_t now_ms) {
    json::object out;
    out["updatedAt"] = now_ms;
    // Provider quota windows (usedPercent, resetAt) come from provider-specific usage APIs that
    // Pincer does not query yet, so the list is honestly empty (as the reference's is when no
    // provider reports quotas).
    out["providers"] = json::array{};
    // Pincer extra: how many model calls have been recorded (all time).
    const auto all = repo.totals(storage::UsageRepo::kMinTime, storage::UsageRepo::kMaxTime);
    out["recorded"] = json::object{{"records", all.records}};
    return out;
}

void register_usage(dispatch::MethodTable& table, dispatch::Gateway& gateway, storage::UsageRepo& repo) {
    {
        dispatch::MethodSpec spec;
        spec.name = "usage.status";
        spec.scope = "operator.read";
        spec.params.unchecked();  // no params
        spec.handler = dispatch::AsyncHandler([&gateway, &repo](const dispatch::CallView&, dispatch::Responder reply) {
            const int64_t now = gateway.clock().now_ms();
            dispatch::reply_from_pool(gateway.loop(), std::move(reply), "usage.status",
                                      [&repo, now] { return json::value(build_usage_status(repo, now)); });
        });
        table.add(std::move(spec));
    }
    {
        dispatch::MethodSpec spec;
        spec.name = "usage.cost";
        spec.scope = "operator.read";
        spec.params.integer("days", 1, kMaxDays)
            .integer("utcOffsetMinutes", kMinOffsetMinutes, kMaxOffsetMinutes)
            .any("startDate")
            .any("endDate");
        spec.handler =
            dispatch::AsyncHandler([&gateway, &repo](const dispatch::CallView& call, dispatch::Responder reply) {
                UsageCostQuery query;
                try {
                    query = parse_usage_cost_query(call.params);
                } catch (const core::RpcException& e) {
                    return reply.fail(e.error);
                }
                const int64_t now = gateway.clock().now_ms();
                dispatch::reply_from_pool(gateway.loop(), std::move(reply), "usage.cost", [&repo, query, now] {
                    return json::value(build_usage_cost(repo, query, now));
                });
            });
        table.add(std::move(spec));
    }
}

}  // namespace pincer::methods
