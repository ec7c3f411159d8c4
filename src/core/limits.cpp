#include "core/limits.hpp"

#include <fmt/format.h>

namespace pincer::core {
namespace {

template <typename T>
std::optional<std::string> read_int(const json::object* obj, std::string_view prefix, std::string_view key, T& out,
                                    int64_t min, int64_t max) {
    if (!obj) return std::nullopt;
    auto it = obj->find(key);
    if (it == obj->end()) return std::nullopt;
    auto v = get_int(*obj, key);
    if (!v) return fmt::format("{}.{}: expected an integer", prefix, key);
    if (*v < min || *v > max) return fmt::format("{}.{}: must be between {} and {}", prefix, key, min, max);
    out = static_cast<T>(*v);
    return std::nullopt;
}

}  // namespace

std::optional<std::string> apply_limits_config(const json::value& root, Limits& l) {
    const json::value* gw = find_path(root, "gateway");
    if (!gw || !gw->is_object()) return std::nullopt;
    const json::object& g = gw->get_object();
    constexpr int64_t kMaxBytes = int64_t(1) << 40;
    if (auto e = read_int(&g, "gateway", "tickIntervalMs", l.tick_interval_ms, 1000, 3'600'000)) return e;
    const json::object* lim = get_object(g, "limits");
    const std::string_view p = "gateway.limits";
    if (auto e = read_int(lim, p, "maxPreauthPayload", l.max_preauth_payload, 1024, 16 << 20)) return e;
    if (auto e = read_int(lim, p, "maxPayload", l.max_payload, 1024, 1 << 30)) return e;
    if (auto e = read_int(lim, p, "maxBufferedBytes", l.max_buffered_bytes, 64 * 1024, kMaxBytes)) return e;
    if (auto e = read_int(lim, p, "handshakeTimeoutMs", l.handshake_timeout_ms, 100, 600'000)) return e;
    if (auto e = read_int(lim, p, "maxPreauthConnectionsPerIp", l.max_preauth_connections_per_ip, 1, 100'000)) return e;
    if (auto e = read_int(lim, p, "maxPendingHandshakeFrames", l.max_pending_handshake_frames, 0, 10'000)) return e;
    if (auto e = read_int(lim, p, "maxUnauthorizedCalls", l.max_unauthorized_calls, 1, 1'000'000)) return e;
    if (auto e = read_int(lim, p, "healthRefreshMs", l.health_refresh_ms, 1000, 86'400'000)) return e;
    if (auto e = read_int(lim, p, "presenceBroadcastIntervalMs", l.presence_broadcast_interval_ms, 0, 60'000)) return e;
    if (auto e = read_int(lim, p, "wsPingIntervalMs", l.ws_ping_interval_ms, 1000, 3'600'000)) return e;
    if (auto e = read_int(lim, p, "maxHttpHeaderBytes", l.max_http_header_bytes, 1024, 1 << 20)) return e;
    if (auto e = read_int(lim, p, "maxHttpBodyBytes", l.max_http_body_bytes, 1024, 1 << 30)) return e;
    if (auto e = read_int(lim, p, "maxConnections", l.max_connections, 1, 1'000'000)) return e;
    if (auto e = read_int(lim, p, "controlPlaneWritesPerMinute", l.control_plane_writes_per_minute, 1, 100'000))
        return e;
    if (auto e = read_int(lim, p, "agentMaxSteps", l.agent_max_steps, 1, 1000)) return e;
    if (auto e = read_int(lim, p, "chatHistoryMaxBytes", l.chat_history_max_bytes, 65536, 64 << 20)) return e;
    if (l.max_preauth_payload > l.max_payload)
        return std::string("gateway.limits.maxPreauthPayload: must not exceed maxPayload");
    const json::value* rl = find_path(root, "gateway.auth.rateLimit");
    if (rl && rl->is_object()) {
        const auto* r = &rl->get_object();
        const std::string_view rp = "gateway.auth.rateLimit";
        if (auto e = read_int(r, rp, "maxAttempts", l.auth_max_attempts, 1, 1'000'000)) return e;
        if (auto e = read_int(r, rp, "windowMs", l.auth_window_ms, 1000, 86'400'000)) return e;
        if (auto e = read_int(r, rp, "lockoutMs", l.auth_lockout_ms, 0, 86'400'000)) return e;
    }
    return std::nullopt;
}

}  // namespace pincer::core
