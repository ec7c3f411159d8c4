#pragma once
/// Every limit of the gateway, in one place, each with its documented default. Values come from
/// `gateway.limits.*` (and `gateway.tickIntervalMs`, `gateway.auth.rateLimit`) in the config and
/// are validated when the config loads; docs/limits.md lists them for users.
#include <cstdint>
#include <optional>
#include <string>

#include "core/json.hpp"

namespace pincer::core {

struct Limits {
    /// Largest inbound frame before `hello-ok`; bigger closes with 1009 (reference: 64 KiB).
    uint64_t max_preauth_payload = 64 * 1024;
    /// Largest inbound frame after `hello-ok`, advertised as `policy.maxPayload` (25 MiB).
    uint64_t max_payload = 25 * 1024 * 1024;
    /// Outbound bytes queued for one client before droppable events are skipped and others close
    /// it with 1008 "slow consumer"; advertised as `policy.maxBufferedBytes` (50 MiB).
    uint64_t max_buffered_bytes = 50 * 1024 * 1024;
    /// A socket that has not completed `connect` by then is closed (1000, no reason).
    int64_t handshake_timeout_ms = 10'000;
    /// Unauthenticated sockets per client IP; more get HTTP 503 on upgrade.
    uint32_t max_preauth_connections_per_ip = 32;
    /// Requests queued behind an unanswered `connect`; more close with 1008.
    uint32_t max_pending_handshake_frames = 15;
    /// Scope/role failures on one socket before it is closed with 1008 "repeated unauthorized calls".
    uint32_t max_unauthorized_calls = 10;
    /// Interval of the `tick` event, advertised as `policy.tickIntervalMs`.
    int64_t tick_interval_ms = 30'000;
    /// Interval of the cached health refresh and its `health` broadcast.
    int64_t health_refresh_ms = 60'000;
    /// Presence changes are broadcast at most this often (leading and trailing edge), so a burst
    /// of connects costs one fan-out of the presence list, not one per connect.
    int64_t presence_broadcast_interval_ms = 1'000;
    /// WebSocket-level ping interval after the handshake.
    int64_t ws_ping_interval_ms = 25'000;
    /// Failed shared-secret attempts per client IP within `auth_window_ms` before lock-out.
    uint32_t auth_max_attempts = 10;
    int64_t auth_window_ms = 60'000;
    /// How long an IP stays locked out after too many failures.
    int64_t auth_lockout_ms = 300'000;
    /// `config.apply` / `config.patch` calls per client within 60 s.
    uint32_t control_plane_writes_per_minute = 3;
    /// Largest HTTP request head and body accepted on the HTTP endpoints (431/413 beyond).
    uint32_t max_http_header_bytes = 16 * 1024;
    uint64_t max_http_body_bytes = 1024 * 1024;
    /// Total open sockets (authenticated or not); more are refused at accept.
    uint32_t max_connections = 20'000;
    /// Model calls one agent run may make (model → tools → model ...) before it ends with an error.
    uint32_t agent_max_steps = 32;
    /// Largest `chat.history` response; the oldest messages are dropped beyond it (reference: 6 MiB).
    uint64_t chat_history_max_bytes = 6 * 1024 * 1024;
};

/// Reads overrides from the config root (missing keys keep defaults). Returns an error message
/// naming the offending path when a value is of the wrong type or out of range.
std::optional<std::string> apply_limits_config(const json::value& config_root, Limits& limits);

}  // namespace pincer::core
