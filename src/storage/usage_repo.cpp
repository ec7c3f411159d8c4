#include "storage/usage_repo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pincer::storage {
namespace {

// Statement binds only integers and text, so costs cross the boundary as text: bound with
// CAST(? AS REAL) and read back with printf('%.17g'), which round-trips a double exactly.
std::string cost_text(double cost) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", cost);
    return buf;
}

double parse_cost(const std::string& text) { return text.empty() ? 0.0 : std::strtod(text.c_str(), nullptr); }

constexpr std::string_view kTotalsColumns =
    "count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cache_read), 0), "
    "coalesce(sum(cache_write), 0), printf('%.17g', total(cost_usd)), coalesce(sum(cost_usd IS NULL), 0)";

// Reads kTotalsColumns starting at column `first`.
UsageTotals read_totals(const Statement& st, int first) {
    UsageTotals t;
    t.records = st.column_int64(first);
    t.input = st.column_int64(first + 1);
    t.output = st.column_int64(first + 2);
    t.cache_read = st.column_int64(first + 3);
    t.cache_write = st.column_int64(first + 4);
    t.total_cost = parse_cost(st.column_text(first + 5));
    t.missing_cost_entries = st.column_int64(first + 6);
    t.total_tokens = t.input + t.output + t.cache_read + t.cache_write;
    return t;
}

void check_offset(int tz_offset_minutes) {
    if (tz_offset_minutes < -720 || tz_offset_minutes > 840) {
        throw StorageError("utc offset " + std::to_string(tz_offset_minutes) + " minutes is outside UTC-12..UTC+14");
    }
}

// The calendar date of ts_ms at UTC + ?3 minutes. Floor division so instants before 1970 land on
// the right day too.
constexpr std::string_view kDayColumn =
    "date((((ts_ms + ?3 * 60000) - (((ts_ms + ?3 * 60000) % 1000) + 1000) % 1000) / 1000), 'unixepoch') AS day";

}  // namespace

int64_t UsageRepo::record(const UsageRecord& r) {
    if (r.input_tokens < 0 || r.output_tokens < 0 || r.cache_read < 0 || r.cache_write < 0) {
        throw StorageError("usage record for run " + r.run_id + ": token counts must not be negative");
    }
    if (r.cost_usd && (!std::isfinite(*r.cost_usd) || *r.cost_usd < 0)) {
        throw StorageError("usage record for run " + r.run_id + ": cost must be a finite, non-negative number");
    }
    auto guard = db_.lock();
    auto st = db_.prepare(
        "INSERT INTO usage_records (run_id, session_key, agent_id, provider, model, input_tokens, output_tokens, "
        "cache_read, cache_write, cost_usd, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CAST(?10 AS REAL), "
        "?11)");
    st.bind(1, r.run_id).bind(2, r.session_key).bind(3, r.agent_id).bind(4, r.provider).bind(5, r.model);
    st.bind(6, r.input_tokens).bind(7, r.output_tokens).bind(8, r.cache_read).bind(9, r.cache_write);
    if (r.cost_usd) {
        st.bind(10, cost_text(*r.cost_usd));
    } else {
        st.bind_null(10);
    }
    st.bind(11, r.ts_ms);
    st.run();
    return db_.last_insert_rowid();
}

std::vector<DailyUsage> UsageRepo::daily(int64_t from_ms, int64_t to_ms, int tz_offset_minutes) {
    check_offset(tz_offset_minutes);
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT " + std::string(kDayColumn) + ", " + std::string(kTotalsColumns) +
                          " FROM usage_records WHERE ts_ms >= ?1 AND ts_ms < ?2 GROUP BY day ORDER BY day");
    st.bind(1, from_ms).bind(2, to_ms).bind(3, int64_t{tz_offset_minutes});
    std::vector<DailyUsage> out;
    while (st.step()) out.push_back(DailyUsage{st.column_text(0), read_totals(st, 1)});
    return out;
}

std::vector<UsageGroup> UsageRepo::grouped(int64_t from_ms, int64_t to_ms, int tz_offset_minutes,
                                           std::optional<std::string_view> session_key) {
    check_offset(tz_offset_minutes);
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT session_key, agent_id, provider, model, " + std::string(kDayColumn) +
                          ", min(ts_ms), max(ts_ms), " + std::string(kTotalsColumns) +
                          " FROM usage_records WHERE ts_ms >= ?1 AND ts_ms < ?2" +
                          (session_key ? " AND session_key = ?4" : "") +
                          " GROUP BY session_key, agent_id, provider, model, day "
                          "ORDER BY session_key, day, provider, model, agent_id");
    st.bind(1, from_ms).bind(2, to_ms).bind(3, int64_t{tz_offset_minutes});
    if (session_key) st.bind(4, *session_key);
    std::vector<UsageGroup> out;
    while (st.step()) {
        UsageGroup g;
        g.session_key = st.column_text(0);
        g.agent_id = st.column_text(1);
        g.provider = st.column_text(2);
        g.model = st.column_text(3);
        g.date = st.column_text(4);
        g.first_ts_ms = st.column_int64(5);
        g.last_ts_ms = st.column_int64(6);
        g.totals = read_totals(st, 7);
        out.push_back(std::move(g));
    }
    return out;
}

UsageTotals UsageRepo::totals(int64_t from_ms, int64_t to_ms) {
    auto guard = db_.lock();
    auto st =
        db_.prepare("SELECT " + std::string(kTotalsColumns) + " FROM usage_records WHERE ts_ms >= ?1 AND ts_ms < ?2");
    st.bind(1, from_ms).bind(2, to_ms);
    return st.step() ? read_totals(st, 0) : UsageTotals{};
}

UsageTotals UsageRepo::by_session(std::string_view session_key, int64_t from_ms, int64_t to_ms) {
    auto guard = db_.lock();
    auto st = db_.prepare("SELECT " + std::string(kTotalsColumns) +
                          " FROM usage_records WHERE session_key = ?1 AND ts_ms >= ?2 AND ts_ms < ?3");
    st.bind(1, session_key).bind(2, from_ms).bind(3, to_ms);
    return st.step() ? read_totals(st, 0) : UsageTotals{};
}

std::vector<UsageRecord> UsageRepo::records_for_session(std::string_view session_key, size_t limit) {
    auto guard = db_.lock();
    auto st = db_.prepare(
        "SELECT id, run_id, session_key, agent_id, provider, model, input_tokens, output_tokens, cache_read, "
        "cache_write, printf('%.17g', cost_usd), cost_usd IS NULL, ts_ms FROM usage_records WHERE session_key = ?1 "
        "ORDER BY ts_ms, id LIMIT ?2");
    st.bind(1, session_key).bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::vector<UsageRecord> out;
    while (st.step()) {
        UsageRecord r;
        r.id = st.column_int64(0);
        r.run_id = st.column_text(1);
        r.session_key = st.column_text(2);
        r.agent_id = st.column_text(3);
        r.provider = st.column_text(4);
        r.model = st.column_text(5);
        r.input_tokens = st.column_int64(6);
        r.output_tokens = st.column_int64(7);
        r.cache_read = st.column_int64(8);
        r.cache_write = st.column_int64(9);
        if (st.column_int64(11) == 0) r.cost_usd = parse_cost(st.column_text(10));
        r.ts_ms = st.column_int64(12);
        out.push_back(std::move(r));
    }
    return out;
}

size_t UsageRepo::prune_before(int64_t before_ms) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM usage_records WHERE ts_ms < ?1");
    st.bind(1, before_ms);
    st.run();
    return static_cast<size_t>(db_.changes());
}

}  // namespace pincer::storage
