#pragma once
/// The dispatch core: owns connection lifecycles, runs the connect handshake, and sends every
/// request through the ordered checklist (frame → handshake → authorization → lookup → rate
/// budget → params → handler → one error funnel). Transport calls the three on_* entry points;
/// everything runs on the network thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/frame.hpp"
#include "core/handshake.hpp"
#include "core/limits.hpp"
#include "core/pairing.hpp"
#include "dispatch/broadcaster.hpp"
#include "dispatch/connection.hpp"
#include "dispatch/loop.hpp"
#include "dispatch/method_table.hpp"
#include "dispatch/presence.hpp"
#include "dispatch/rate_limit.hpp"

namespace pincer::dispatch {

struct AuthSettings {
    core::SharedAuthConfig shared;
    /// Scopes granted to an operator that names none (`gateway.auth.defaultScopes`).
    std::vector<std::string> default_scopes;
};

struct ServerInfo {
    std::string version;
    std::string boot_id;
    std::string host;
    std::string config_path;
    std::string state_dir;
    int64_t started_at_ms = 0;
};

class Gateway {
public:
    Gateway(EventLoop& loop, const core::Clock& clock, MethodTable& methods, core::DeviceRegistry* devices,
            ServerInfo info, core::Limits limits, AuthSettings auth);

    // --- transport entry points --------------------------------------------------------------
    /// Whether a new unauthenticated socket from `ip` may be accepted (pre-auth budget).
    bool admit_preauth(const std::string& ip) const;
    void on_open(const std::shared_ptr<Connection>& conn);
    void on_message(const std::shared_ptr<Connection>& conn, std::string_view text);
    void on_close(const std::shared_ptr<Connection>& conn);

    // --- services for method groups ----------------------------------------------------------
    Broadcaster& broadcaster() { return broadcaster_; }
    Presence& presence() { return presence_; }
    const core::Clock& clock() const { return clock_; }
    EventLoop& loop() { return loop_; }
    const core::Limits& limits() const { return limits_; }
    const ServerInfo& info() const { return info_; }
    const AuthSettings& auth() const { return auth_; }
    size_t connection_count() const { return broadcaster_.size(); }
    int64_t uptime_ms() const { return clock_.now_ms() - info_.started_at_ms; }

    /// Hot reload: new shared secret / default scopes. Clients that authenticated with the old
    /// shared secret are closed with 4001 "gateway auth changed".
    void update_auth(AuthSettings auth);
    void update_limits(const core::Limits& limits);
    /// Returns the cached health summary used in hello-ok and `health` events.
    void set_health_provider(std::function<json::value()> fn) { health_provider_ = std::move(fn); }
    int64_t health_version() const { return health_version_; }
    /// Broadcasts `health` with the current stateVersion (bumps the health version).
    void broadcast_health(const json::value& summary);
    /// Broadcasts `presence` now, or once at the end of the current presence interval when one
    /// went out less than `presence_broadcast_interval_ms` ago.
    void broadcast_presence();
    json::object state_version() const;

    /// Broadcasts `shutdown` and closes every client with 1012 "service restart".
    void shutdown(std::string_view reason);

private:
    struct PendingConnect;
    void handle_pre_connect(const std::shared_ptr<Connection>& conn, std::string_view text);
    void start_connect(const std::shared_ptr<Connection>& conn, core::RequestFrame req);
    void finish_connect(const std::shared_ptr<Connection>& conn, std::shared_ptr<PendingConnect> pc);
    void fail_connect(const std::shared_ptr<Connection>& conn, const std::string& req_id,
                      const core::HandshakeFailure& failure);
    json::object build_hello(const Connection& conn, const PendingConnect& pc);
    void drain_queued(const std::shared_ptr<Connection>& conn);
    void dispatch(const std::shared_ptr<Connection>& conn, core::RequestFrame req);
    void reply_error(Connection& conn, std::string_view id, const core::RpcError& e);
    void count_unauthorized(Connection& conn);
    void send_presence_now();

    EventLoop& loop_;
    const core::Clock& clock_;
    MethodTable& methods_;
    core::DeviceRegistry* devices_;
    ServerInfo info_;
    core::Limits limits_;
    AuthSettings auth_;
    uint64_t auth_generation_ = 1;
    Broadcaster broadcaster_;
    Presence presence_;
    AuthRateLimiter auth_limiter_;
    WindowBudget control_plane_budget_;
    std::unordered_map<std::string, uint32_t> preauth_per_ip_;
    std::unordered_map<const Connection*, std::vector<std::string>> queued_;  // frames behind connect
    std::unordered_map<const Connection*, uint64_t> conn_auth_generation_;
    std::function<json::value()> health_provider_;
    int64_t health_version_ = 1;
    int64_t last_presence_broadcast_ms_ = INT64_MIN / 2;
    bool presence_broadcast_pending_ = false;
};

}  // namespace pincer::dispatch
