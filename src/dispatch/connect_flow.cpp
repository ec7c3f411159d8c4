// The connect handshake (core.md §2.5 order): params → protocol → role → rate limit → shared
// auth → device identity → device token / pairing (on the blocking pool) → hello-ok.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/device_auth.hpp"
#include "dispatch/gateway.hpp"
#include "util/crypto.hpp"

namespace pincer::dispatch {

namespace {
constexpr int64_t kSignatureSkewMs = 120'000;

// Events Pincer emits today; the list grows with the features behind it.
const std::vector<std::string_view> kAdvertisedEvents = {"connect.challenge", "tick", "presence", "health",
                                                         "shutdown",          "chat", "agent",    "sessions.changed"};

bool all_satisfied(const std::vector<std::string>& approved, const std::vector<std::string>& requested) {
    return std::all_of(requested.begin(), requested.end(),
                       [&](const std::string& s) { return core::scope_satisfied(approved, s); });
}

core::HandshakeFailure pairing_failure(const core::PairingRequest& req, const std::vector<std::string>& approved_roles,
                                       const std::vector<std::string>& approved_scopes) {
    std::string requirement = req.reason == "scope-upgrade" ? "device is asking for more scopes than currently approved"
                              : req.reason == "role-upgrade" ? "device is asking for a role that is not approved"
                                                             : "device is not paired with this gateway";
    std::string msg = "pairing required: " + requirement;
    core::RpcError e{core::ErrorCode::not_paired, msg, nullptr, {}, {}};
    e.details =
        json::object{{"code", "PAIRING_REQUIRED"},
                     {"reason", req.reason},
                     {"requestId", req.request_id},
                     {"remediationHint", "Approve the pending request with device.pair.approve, then reconnect."},
                     {"deviceId", req.device_id},
                     {"requestedRole", req.role},
                     {"requestedScopes", core::string_array(req.scopes)},
                     {"approvedRoles", core::string_array(approved_roles)},
                     {"approvedScopes", core::string_array(approved_scopes)}};
    return {std::move(e), 1008, core::truncate_close_reason(msg + " (requestId: " + req.request_id + ")")};
}

}  // namespace

struct Gateway::PendingConnect {
    std::string req_id;
    core::ConnectParams params;
    int protocol = 0;
    core::Role role = core::Role::operator_role;
    std::string role_name;
    std::vector<std::string> scopes;
    std::optional<core::AuthReason> shared_failure;
    std::string public_key;  // canonical base64url when a device was verified
    std::string auth_method = "token";
    // Filled on the blocking pool.
    std::optional<core::HandshakeFailure> failure;
    bool failure_counts_against_ip = false;
    std::optional<core::PairingRequest> pairing;
    std::optional<core::DeviceToken> device_token;
    uint64_t auth_generation = 0;
};

void Gateway::handle_pre_connect(const std::shared_ptr<Connection>& conn, std::string_view text) {
    auto frame = core::parse_inbound(text);
    if (std::holds_alternative<core::NotJson>(frame)) {
        conn->state.phase = ConnPhase::closing;
        conn->close(1000, "");
        return;
    }
    if (std::holds_alternative<core::InvalidFrame>(frame)) {
        conn->state.phase = ConnPhase::closing;
        conn->close(1008, "invalid request frame");
        return;
    }
    auto& req = std::get<core::RequestFrame>(frame);
    if (req.method != "connect") {
        fail_connect(conn, req.id,
                     {core::RpcError::invalid("invalid handshake: first request must be connect"), 1008,
                      "invalid handshake: first request must be connect"});
        return;
    }
    start_connect(conn, std::move(req));
}

void Gateway::fail_connect(const std::shared_ptr<Connection>& conn, const std::string& req_id,
                           const core::HandshakeFailure& failure) {
    if (failure.error) conn->send(core::serialize_error(req_id, *failure.error));
    conn->state.phase = ConnPhase::closing;
    conn->close(failure.close_code, failure.close_reason);
}

void Gateway::start_connect(const std::shared_ptr<Connection>& conn, core::RequestFrame req) {
    conn->state.phase = ConnPhase::connecting;
    auto parsed = core::parse_connect_params(req.params);
    if (auto* f = std::get_if<core::HandshakeFailure>(&parsed)) return fail_connect(conn, req.id, *f);
    auto pc = std::make_shared<PendingConnect>();
    pc->req_id = req.id;
    pc->params = std::move(std::get<core::ConnectParams>(parsed));
    const core::ConnectParams& p = pc->params;
    auto& st = conn->state;

    auto protocol = core::negotiate_protocol(p.min_protocol, p.max_protocol);
    if (!protocol) return fail_connect(conn, req.id, core::protocol_mismatch(p.min_protocol, p.max_protocol));
    pc->protocol = *protocol;

    pc->role_name = p.role.value_or("operator");
    if (pc->role_name != "operator" && pc->role_name != "node") {
        return fail_connect(conn, req.id, {core::RpcError::invalid("invalid role"), 1008, "invalid role"});
    }
    pc->role = pc->role_name == "node" ? core::Role::node : core::Role::operator_role;

    const int64_t now = clock_.now_ms();
    if (auto wait = auth_limiter_.locked_for(st.remote_ip, now)) {
        return fail_connect(conn, req.id, core::auth_failure(core::AuthReason::rate_limited, p, pc->protocol, *wait));
    }
    pc->shared_failure = core::check_shared_auth(auth_.shared, p);
    pc->auth_method = std::string(core::to_string(auth_.shared.mode));

    // Scopes: what the client asked for, the token's defaults when it named none; nodes hold no
    // operator scopes; a device-less probe is only allowed `health`, as the reference does.
    if (pc->role == core::Role::node) {
        pc->scopes.clear();
    } else if (p.scopes) {
        pc->scopes = *p.scopes;
    } else {
        pc->scopes = auth_.default_scopes;
    }
    if (!p.device && p.client_mode == "probe") pc->scopes.clear();

    if (!p.device) {
        if (pc->role == core::Role::node) {
            core::RpcError e{core::ErrorCode::not_paired, "device identity required", nullptr, {}, {}};
            e.details = json::object{{"code", "DEVICE_IDENTITY_REQUIRED"}};
            return fail_connect(conn, req.id, {std::move(e), 1008, "device identity required"});
        }
        if (pc->shared_failure) {
            auth_limiter_.record_failure(st.remote_ip, now);
            return fail_connect(conn, req.id, core::auth_failure(*pc->shared_failure, p, pc->protocol));
        }
        pc->auth_generation = auth_generation_;
        return finish_connect(conn, pc);
    }

    // Device identity, checked in the reference's order.
    const core::DeviceClaim& d = *p.device;
    auto key = core::normalize_public_key(d.public_key);
    if (!key) return fail_connect(conn, req.id, core::device_failure(core::DeviceFailure::public_key_invalid));
    if (core::device_id_for(*key) != d.id) {
        return fail_connect(conn, req.id, core::device_failure(core::DeviceFailure::id_mismatch));
    }
    if (std::llabs(now - d.signed_at_ms) > kSignatureSkewMs) {
        return fail_connect(conn, req.id, core::device_failure(core::DeviceFailure::signature_expired));
    }
    if (d.nonce.empty()) return fail_connect(conn, req.id, core::device_failure(core::DeviceFailure::nonce_required));
    if (!util::constant_time_equal(d.nonce, st.nonce)) {
        return fail_connect(conn, req.id, core::device_failure(core::DeviceFailure::nonce_mismatch));
    }
    core::DeviceSignatureInput sig{d.id,
                                   p.client_id,
                                   p.client_mode,
                                   pc->role_name,
                                   p.scopes.value_or(std::vector<std::string>{}),
                                   d.signed_at_ms,
                                   !p.token.empty()          ? p.token
                                   : !p.device_token.empty() ? p.device_token
                                                             : p.bootstrap_token,
                                   d.nonce,
                                   p.client_platform,
                                   p.device_family};
    if (core::verify_device_signature(*key, d.signature, sig) == core::DeviceSignatureVersion::none) {
        return fail_connect(conn, req.id, core::device_failure(core::DeviceFailure::signature_invalid));
    }
    pc->public_key = core::public_key_base64url(*key);
    pc->auth_generation = auth_generation_;
    if (!devices_) {
        // No pairing store (unit tests): a verified device on shared auth is accepted as is.
        if (pc->shared_failure) {
            auth_limiter_.record_failure(st.remote_ip, now);
            return fail_connect(conn, req.id, core::auth_failure(*pc->shared_failure, p, pc->protocol));
        }
        return finish_connect(conn, pc);
    }

    const bool loopback = st.loopback;
    const std::string remote_ip = st.remote_ip;
    std::weak_ptr<Connection> weak = conn;
    loop_.post_blocking([this, weak, pc, loopback, remote_ip, now] {
        const core::ConnectParams& p = pc->params;
        const std::string& device_id = p.device->id;
        try {
            if (pc->shared_failure) {
                // The same secret (or an explicit deviceToken) may be this device's token.
                const std::string& candidate = !p.device_token.empty() ? p.device_token : p.token;
                auto stored = candidate.empty() ? std::nullopt : devices_->find_token(device_id, pc->role_name);
                if (stored && util::constant_time_equal(candidate, stored->token)) {
                    pc->auth_method = "device-token";
                } else {
                    auto reason =
                        !p.device_token.empty() ? core::AuthReason::device_token_mismatch : *pc->shared_failure;
                    pc->failure = core::auth_failure(reason, p, pc->protocol);
                    pc->failure_counts_against_ip = true;
                }
            }
            if (!pc->failure) {
                auto paired = devices_->find_device(device_id);
                std::string reason;
                if (!paired) {
                    reason = loopback ? "" : "not-paired";
                } else if (paired->public_key != pc->public_key) {
                    reason = "not-paired";
                } else if (std::find(paired->roles.begin(), paired->roles.end(), pc->role_name) ==
                           paired->roles.end()) {
                    reason = loopback ? "" : "role-upgrade";
                } else if (!all_satisfied(paired->scopes, pc->scopes)) {
                    reason = "scope-upgrade";  // never silent, even on loopback
                }
                if (reason.empty()) {
                    core::PairedDevice rec = paired.value_or(core::PairedDevice{});
                    const bool fresh = !paired;
                    rec.device_id = device_id;
                    rec.public_key = pc->public_key;
                    if (std::find(rec.roles.begin(), rec.roles.end(), pc->role_name) == rec.roles.end())
                        rec.roles.push_back(pc->role_name);
                    if (fresh) rec.scopes = pc->scopes;  // silent loopback pairing approves what was asked
                    rec.display_name = p.display_name;
                    rec.platform = p.client_platform;
                    rec.device_family = p.device_family;
                    rec.client_id = p.client_id;
                    rec.client_mode = p.client_mode;
                    rec.remote_ip = remote_ip;
                    if (fresh) rec.created_at_ms = rec.approved_at_ms = now;
                    if (fresh || rec.roles.size() != paired->roles.size()) devices_->upsert_device(rec);
                    pc->device_token = devices_->ensure_token(device_id, pc->role_name, pc->scopes, now);
                } else {
                    core::PairingRequest r;
                    r.device_id = device_id;
                    r.public_key = pc->public_key;
                    r.display_name = p.display_name;
                    r.platform = p.client_platform;
                    r.device_family = p.device_family;
                    r.client_id = p.client_id;
                    r.client_mode = p.client_mode;
                    r.role = pc->role_name;
                    r.scopes = pc->scopes;
                    r.remote_ip = remote_ip;
                    r.reason = reason;
                    r.is_repair = paired.has_value();
                    r.ts = now;
                    pc->pairing = devices_->add_pending(r);
                    pc->failure = pairing_failure(*pc->pairing, paired ? paired->roles : std::vector<std::string>{},
                                                  paired ? paired->scopes : std::vector<std::string>{});
                }
            }
        } catch (const std::exception& e) {
            spdlog::error("device registry failed during connect: {}", e.what());
            core::RpcError err = core::RpcError::unavailable("device registry unavailable; retry shortly");
            err.retryable = true;
            err.retry_after_ms = 500;
            pc->failure = core::HandshakeFailure{std::move(err), 1013, "device registry unavailable"};
        }
        loop_.post([this, weak, pc] {
            if (auto c = weak.lock(); c && c->state.phase == ConnPhase::connecting) finish_connect(c, pc);
        });
    });
}

void Gateway::finish_connect(const std::shared_ptr<Connection>& conn, std::shared_ptr<PendingConnect> pc) {
    auto& st = conn->state;
    const core::ConnectParams& p = pc->params;
    if (pc->failure) {
        if (pc->failure_counts_against_ip) auth_limiter_.record_failure(st.remote_ip, clock_.now_ms());
        if (pc->pairing) {
            const auto& r = *pc->pairing;
            broadcaster_.broadcast("device.pair.requested",
                                   json::object{{"requestId", r.request_id},
                                                {"deviceId", r.device_id},
                                                {"publicKey", r.public_key},
                                                {"displayName", r.display_name},
                                                {"platform", r.platform},
                                                {"clientId", r.client_id},
                                                {"clientMode", r.client_mode},
                                                {"role", r.role},
                                                {"roles", json::array{json::string(r.role)}},
                                                {"scopes", core::string_array(r.scopes)},
                                                {"remoteIp", r.remote_ip},
                                                {"silent", false},
                                                {"isRepair", r.is_repair},
                                                {"ts", r.ts}},
                                   BroadcastOptions{true, nullptr, {}});
        }
        return fail_connect(conn, pc->req_id, *pc->failure);
    }
    if (pc->auth_generation != auth_generation_) {
        // The shared secret rotated while this connect was in flight.
        st.phase = ConnPhase::closing;
        conn->close(4001, "gateway auth changed");
        return;
    }
    auth_limiter_.record_success(st.remote_ip);
    st.protocol = pc->protocol;
    st.role = pc->role;
    st.scopes = pc->scopes;
    st.caps = p.caps;
    st.client_id = p.client_id;
    st.client_mode = p.client_mode;
    st.client_version = p.client_version;
    st.client_platform = p.client_platform;
    st.display_name = p.display_name;
    st.device_family = p.device_family;
    st.model_identifier = p.model_identifier;
    st.instance_id = p.instance_id;
    st.device_id = p.device ? p.device->id : std::string();
    st.connected_at_ms = clock_.now_ms();
    // CLI clients are not tracked in presence (the reference does the same).
    if (p.client_mode != "cli") {
        st.presence_key = !st.device_id.empty() ? st.device_id : !st.instance_id.empty() ? st.instance_id : st.conn_id;
    }
    conn->send(core::serialize_ok(pc->req_id, build_hello(*conn, *pc)));
    st.phase = ConnPhase::connected;
    if (auto it = preauth_per_ip_.find(st.remote_ip); it != preauth_per_ip_.end() && --it->second == 0)
        preauth_per_ip_.erase(it);
    conn->on_authenticated(limits_.max_payload);
    broadcaster_.add(conn);
    conn_auth_generation_[conn.get()] = pc->auth_method == "device-token" ? 0 : auth_generation_;
    spdlog::info("ws connected conn={} client={} mode={} protocol={} role={} ip={}", st.conn_id, st.client_id,
                 st.client_mode, st.protocol, core::to_string(st.role), st.remote_ip);
    if (presence_.on_connect(st, st.connected_at_ms)) broadcast_presence();
    drain_queued(conn);
}

json::object Gateway::build_hello(const Connection& conn, const PendingConnect& pc) {
    const auto& st = conn.state;
    const bool v4 = pc.protocol >= core::kProtocolV4;
    json::object server{{"version", info_.version}};
    if (v4) {
        server["buildId"] = info_.version;
        server["bootId"] = info_.boot_id;
    }
    server["connId"] = st.conn_id;

    json::array methods;
    for (const auto& m : methods_.advertised()) methods.emplace_back(m);
    json::array events;
    for (auto e : kAdvertisedEvents) events.emplace_back(e);
    json::object features{{"methods", std::move(methods)}, {"events", std::move(events)}};
    // v4 only (wire-notes.md §8). `published-model-catalog`: models.list takes `view`,
    // `includeDetails`, `preparedOnly`/`refresh` (docs/gateway/protocol.md); the 2026.9.6 CLI's
    // `models list` refuses a gateway without it.
    if (v4) features["capabilities"] = json::array{"published-model-catalog"};

    const bool admin = core::scope_satisfied(pc.scopes, core::kScopeAdmin);
    json::object snapshot;
    snapshot["presence"] = presence_.list(clock_.now_ms());
    snapshot["health"] = health_provider_ ? health_provider_() : json::value(json::object{});
    snapshot["stateVersion"] = state_version();
    snapshot["uptimeMs"] = uptime_ms();
    snapshot["sessionDefaults"] = json::object{{"defaultAgentId", "main"},
                                               {"mainKey", "main"},
                                               {"mainSessionKey", "agent:main:main"},
                                               {"scope", "per-sender"}};
    if (admin) {
        // Paths are only for admins, as the reference builds its sensitive snapshot.
        snapshot["configPath"] = info_.config_path;
        snapshot["stateDir"] = info_.state_dir;
    }
    snapshot["authMode"] = core::to_string(auth_.shared.mode);

    json::object auth;
    if (v4) auth["method"] = pc.auth_method;
    auth["role"] = pc.role_name;
    auth["scopes"] = core::string_array(pc.scopes);
    if (pc.device_token) {
        auth["deviceToken"] = pc.device_token->token;
        auth["issuedAtMs"] = pc.device_token->issued_at_ms;
    }

    json::object policy{{"maxPayload", limits_.max_payload},
                        {"maxBufferedBytes", limits_.max_buffered_bytes},
                        {"tickIntervalMs", limits_.tick_interval_ms}};

    return json::object{{"type", "hello-ok"},
                        {"protocol", pc.protocol},
                        {"server", std::move(server)},
                        {"features", std::move(features)},
                        {"snapshot", std::move(snapshot)},
                        {"auth", std::move(auth)},
                        {"policy", std::move(policy)}};
}

}  // namespace pincer::dispatch
