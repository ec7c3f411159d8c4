#include "dispatch/gateway.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "util/crypto.hpp"

namespace pincer::dispatch {
namespace {

int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

json::object self_presence(const ServerInfo& info) {
    json::object e;
    e["host"] = info.host;
    e["ip"] = info.host;
    e["version"] = info.version;
    e["platform"] = "linux";
    e["mode"] = "gateway";
    e["reason"] = "self";
    e["instanceId"] = info.boot_id;
    e["text"] = "Gateway: " + info.host + " \u00b7 app " + info.version + " \u00b7 mode gateway \u00b7 reason self";
    return e;
}

}  // namespace

// --- Responder -------------------------------------------------------------------------------

struct Responder::State {
    std::weak_ptr<Connection> conn;
    std::string id;
    MethodSpec* spec = nullptr;
    int64_t started_us = 0;
    bool done = false;
    /// While the handler runs: a Responder destroyed now (a throw unwinding the handler) must not
    /// answer "not answered" before the dispatcher answers with the real error.
    bool in_dispatch = false;
    bool dropped = false;

    void finish(bool ok, const std::string& frame) {
        if (done) return;
        done = true;
        if (spec) {
            ++spec->stats.calls;
            if (!ok) ++spec->stats.failures;
            spec->stats.total_us += uint64_t(steady_us() - started_us);
        }
        if (auto c = conn.lock(); c && c->state.phase == ConnPhase::connected) c->send(frame);
    }
};

Responder::~Responder() {
    if (state_ && !state_->done && state_->in_dispatch) {
        state_->dropped = true;
        return;
    }
    if (state_ && !state_->done) {
        state_->finish(false,
                       core::serialize_error(state_->id, core::RpcError::unavailable("request was not answered")));
    }
}

void Responder::ok(json::value payload) { state_->finish(true, core::serialize_ok(state_->id, payload)); }

void Responder::fail(core::RpcError error) { state_->finish(false, core::serialize_error(state_->id, error)); }

void Responder::progress(const json::value& payload) {
    if (state_->done) return;
    if (auto c = state_->conn.lock(); c && c->state.phase == ConnPhase::connected) {
        c->send(core::serialize_ok(state_->id, payload));
    }
}

// --- Gateway ---------------------------------------------------------------------------------

Gateway::Gateway(EventLoop& loop, const core::Clock& clock, MethodTable& methods, core::DeviceRegistry* devices,
                 ServerInfo info, core::Limits limits, AuthSettings auth)
    : loop_(loop),
      clock_(clock),
      methods_(methods),
      devices_(devices),
      info_(std::move(info)),
      limits_(limits),
      auth_(std::move(auth)),
      broadcaster_(limits.max_buffered_bytes),
      presence_(self_presence(info_)),
      auth_limiter_(limits.auth_max_attempts, limits.auth_window_ms, limits.auth_lockout_ms),
      control_plane_budget_(limits.control_plane_writes_per_minute, 60'000) {}

bool Gateway::admit_preauth(const std::string& ip) const {
    auto it = preauth_per_ip_.find(ip);
    return it == preauth_per_ip_.end() || it->second < limits_.max_preauth_connections_per_ip;
}

void Gateway::on_open(const std::shared_ptr<Connection>& conn) {
    auto& st = conn->state;
    st.conn_id = util::uuid_v4();
    st.nonce = util::uuid_v4();
    st.challenge_ts = clock_.now_ms();
    st.phase = ConnPhase::awaiting_connect;
    ++preauth_per_ip_[st.remote_ip];
    // The challenge goes out before anything is read. v4 added `capabilities`; v3 clients ignore
    // it, and the version is unknown until connect, so it is always present (Pincer claims none).
    json::object payload{{"nonce", st.nonce}, {"ts", st.challenge_ts}, {"capabilities", json::array{}}};
    conn->send(core::serialize_event("connect.challenge", payload));
}

void Gateway::on_close(const std::shared_ptr<Connection>& conn) {
    auto& st = conn->state;
    const bool was_connected = st.phase == ConnPhase::connected;
    if (!was_connected) {
        auto it = preauth_per_ip_.find(st.remote_ip);
        if (it != preauth_per_ip_.end() && --it->second == 0) preauth_per_ip_.erase(it);
    }
    st.phase = ConnPhase::closing;
    queued_.erase(conn.get());
    conn_auth_generation_.erase(conn.get());
    if (!was_connected) return;
    broadcaster_.remove(conn.get());
    spdlog::info("ws disconnected conn={} client={} mode={}", st.conn_id, st.client_id, st.client_mode);
    if (presence_.on_disconnect(st, clock_.now_ms())) broadcast_presence();
}

void Gateway::on_message(const std::shared_ptr<Connection>& conn, std::string_view text) {
    switch (conn->state.phase) {
        case ConnPhase::awaiting_connect:
            handle_pre_connect(conn, text);
            return;
        case ConnPhase::connecting: {
            auto& q = queued_[conn.get()];
            if (q.size() >= limits_.max_pending_handshake_frames) {
                conn->state.phase = ConnPhase::closing;
                conn->close(1008, "too many pending handshake frames");
                return;
            }
            q.emplace_back(text);
            return;
        }
        case ConnPhase::closing:
            return;
        case ConnPhase::connected:
            break;
    }
    auto frame = core::parse_inbound(text);
    if (auto* req = std::get_if<core::RequestFrame>(&frame)) {
        dispatch(conn, std::move(*req));
    } else if (auto* bad = std::get_if<core::InvalidFrame>(&frame)) {
        reply_error(*conn, bad->reply_id, core::RpcError::invalid(bad->message));
    }
    // Non-JSON text after the handshake is ignored, as the reference does.
}

void Gateway::drain_queued(const std::shared_ptr<Connection>& conn) {
    auto it = queued_.find(conn.get());
    if (it == queued_.end()) return;
    auto frames = std::move(it->second);
    queued_.erase(it);
    for (const auto& text : frames) {
        if (conn->state.phase != ConnPhase::connected) return;
        on_message(conn, text);
    }
}

void Gateway::reply_error(Connection& conn, std::string_view id, const core::RpcError& e) {
    conn.send(core::serialize_error(id, e));
}

void Gateway::count_unauthorized(Connection& conn) {
    if (++conn.state.unauthorized_calls >= limits_.max_unauthorized_calls) {
        conn.state.phase = ConnPhase::closing;
        conn.close(1008, "repeated unauthorized calls");
    }
}

void Gateway::dispatch(const std::shared_ptr<Connection>& conn, core::RequestFrame req) {
    auto& st = conn->state;
    // Authorization comes before existence: a non-admin asking for an unknown method learns only
    // that it lacks operator.admin, exactly as the reference answers.
    MethodSpec* spec = methods_.find(req.method);
    const std::string_view required = spec ? std::string_view(spec->scope) : core::required_scope(req.method);
    const core::Authz authz = core::authorize_scope(req.method, required, st.role, st.scopes);
    if (authz.outcome == core::AuthzOutcome::unauthorized_role) {
        reply_error(*conn, req.id,
                    core::RpcError::invalid("unauthorized role: " + std::string(core::to_string(st.role))));
        count_unauthorized(*conn);
        return;
    }
    if (authz.outcome == core::AuthzOutcome::missing_scope) {
        core::RpcError e = core::RpcError::invalid("missing scope: " + std::string(authz.missing));
        if (st.protocol >= core::kProtocolV4) {
            e.code = core::ErrorCode::forbidden;
            e.details = json::object{{"code", "MISSING_SCOPE"},
                                     {"missingScope", authz.missing},
                                     {"requiredScopes", json::array{json::string(authz.missing)}}};
        }
        reply_error(*conn, req.id, e);
        count_unauthorized(*conn);
        return;
    }
    st.unauthorized_calls = 0;
    if (req.method == "connect") {
        reply_error(*conn, req.id, core::RpcError::invalid("connect is only valid as the first request"));
        return;
    }
    if (!spec) {
        reply_error(*conn, req.id, core::RpcError::invalid("unknown method: " + req.method));
        return;
    }
    if (spec->flags & kControlPlaneWrite) {
        const std::string actor = st.device_id.empty() ? st.remote_ip : st.device_id + "@" + st.remote_ip;
        if (auto wait = control_plane_budget_.take(actor, clock_.now_ms())) {
            core::RpcError e = core::RpcError::unavailable("rate limit exceeded for " + req.method + "; retry after " +
                                                           std::to_string((*wait + 999) / 1000) + "s");
            e.retryable = true;
            e.retry_after_ms = *wait;
            e.details = json::object{{"method", req.method},
                                     {"limit", std::to_string(limits_.control_plane_writes_per_minute) + " per 60s"}};
            reply_error(*conn, req.id, e);
            return;
        }
    }
    if (auto problem = spec->params.validate(req.params)) {
        ++spec->stats.calls;
        ++spec->stats.failures;
        reply_error(*conn, req.id, core::RpcError::invalid("invalid " + req.method + " params: " + *problem));
        return;
    }
    static const json::object kEmpty;
    const json::object& params = req.params.is_object() ? req.params.get_object() : kEmpty;
    CallView view{st, req.method, params};
    auto state = std::make_shared<Responder::State>();
    state->conn = conn;
    state->id = req.id;
    state->spec = spec;
    state->started_us = steady_us();
    Responder responder(state);
    state->in_dispatch = true;
    try {
        if (auto* sync = std::get_if<SyncHandler>(&spec->handler)) {
            responder.ok((*sync)(view));
        } else {
            std::get<AsyncHandler>(spec->handler)(view, std::move(responder));
        }
        state->in_dispatch = false;
        if (state->dropped && !state->done) {
            state->finish(false,
                          core::serialize_error(req.id, core::RpcError::unavailable("request was not answered")));
        }
    } catch (const core::RpcException& e) {
        state->in_dispatch = false;
        state->finish(false, core::serialize_error(req.id, e.error));
    } catch (const std::exception& e) {
        state->in_dispatch = false;
        const std::string ref = util::uuid_v4().substr(0, 8);
        spdlog::error("handler {} failed (ref {}): {}", req.method, ref, e.what());
        state->finish(false,
                      core::serialize_error(req.id, core::RpcError::unavailable("internal error (ref " + ref + ")")));
    }
}

json::object Gateway::state_version() const {
    return json::object{{"presence", presence_.version()}, {"health", health_version_}};
}

void Gateway::broadcast_presence() {
    if (presence_broadcast_pending_) return;
    const int64_t now = clock_.now_ms();
    const int64_t next = last_presence_broadcast_ms_ + limits_.presence_broadcast_interval_ms;
    if (now >= next) return send_presence_now();
    presence_broadcast_pending_ = true;
    loop_.post_after(next - now, [this] {
        presence_broadcast_pending_ = false;
        send_presence_now();
    });
}

void Gateway::send_presence_now() {
    last_presence_broadcast_ms_ = clock_.now_ms();
    BroadcastOptions opts;
    opts.drop_if_slow = true;
    opts.state_version = state_version();
    broadcaster_.broadcast("presence", json::object{{"presence", presence_.list(clock_.now_ms())}}, opts);
}

void Gateway::broadcast_health(const json::value& summary) {
    ++health_version_;
    BroadcastOptions opts;
    opts.state_version = state_version();
    broadcaster_.broadcast("health", summary, opts);
}

void Gateway::update_auth(AuthSettings auth) {
    const bool secret_changed = auth.shared.mode != auth_.shared.mode || auth.shared.token != auth_.shared.token ||
                                auth.shared.password != auth_.shared.password;
    auth_ = std::move(auth);
    if (!secret_changed) return;
    ++auth_generation_;
    // Sessions authenticated by the old shared secret must not outlive it.
    auto conns = broadcaster_.connections();
    for (const auto& c : conns) {
        auto it = conn_auth_generation_.find(c.get());
        if (it != conn_auth_generation_.end() && it->second != auth_generation_) {
            c->state.phase = ConnPhase::closing;
            c->close(4001, "gateway auth changed");
        }
    }
}

void Gateway::update_limits(const core::Limits& limits) {
    limits_ = limits;
    broadcaster_.set_max_buffered(limits.max_buffered_bytes);
    auth_limiter_.configure(limits.auth_max_attempts, limits.auth_window_ms, limits.auth_lockout_ms);
    control_plane_budget_.set_max(limits.control_plane_writes_per_minute);
}

void Gateway::shutdown(std::string_view reason) {
    broadcaster_.broadcast("shutdown", json::object{{"reason", reason}, {"restartExpectedMs", nullptr}});
    auto conns = broadcaster_.connections();
    for (const auto& c : conns) {
        c->state.phase = ConnPhase::closing;
        c->close(1012, "service restart");
    }
}

}  // namespace pincer::dispatch
