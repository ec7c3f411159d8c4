#pragma once
/// `sessions.usage` (methods.md §4.12): token usage, cost and message counts per session over a
/// date window, from the recorded usage (UsageRepo) and the transcripts.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/transcripts_repo.hpp"
#include "storage/usage_repo.hpp"

namespace pincer::methods {

/// The resolved window: calendar days [first_day, last_day] at UTC + utc_offset_minutes.
struct SessionsUsageQuery {
    std::optional<std::string> key;  // canonical; nullopt = every session
    int64_t first_day = 0;           // days since 1970-01-01
    int64_t last_day = 0;
    int utc_offset_minutes = 0;  // -720..840
    size_t limit = 50;
};

/// "UTC+H", "UTC-HH", "UTC+H:MM" (the reference's pattern) → minutes east of UTC; nullopt when
/// malformed or outside UTC-12..UTC+14.
std::optional<int> parse_utc_offset(std::string_view text);

/// Reads sessions.usage params (types already checked by the method's ParamSchema). `local_offset_
/// minutes` is the host's offset now, used by mode "gateway". Default window: the 30 days ending
/// today. Throws core::RpcException (INVALID_REQUEST naming the field) on a bad date or offset, an
/// inverted window or one longer than 366 days.
SessionsUsageQuery parse_sessions_usage_query(const json::object& params, int64_t now_ms, int local_offset_minutes);

/// The sessions.usage result. Sessions are those with recorded usage in the window or updated in
/// it (sessions since deleted are left out), most recent activity first, at most query.limit;
/// totals and aggregates cover the sessions returned. Message counts come from each session's
/// current transcript, entries timestamped in the window. Blocks on disk.
json::object build_sessions_usage(storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                                  storage::UsageRepo& usage, const SessionsUsageQuery& query, int64_t now_ms);

/// Registers sessions.usage (scope operator.read). The repositories must outlive the table.
void register_sessions_usage(dispatch::MethodTable& table, dispatch::Gateway& gateway, storage::SessionsRepo& sessions,
                             storage::TranscriptsRepo& transcripts, storage::UsageRepo& usage);

}  // namespace pincer::methods
