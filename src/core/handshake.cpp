#include "core/handshake.hpp"

#include <fmt/format.h>

#include "util/crypto.hpp"

namespace pincer::core {
namespace {

HandshakeFailure invalid_params(const std::string& why) {
    std::string msg = "invalid connect params: " + why;
    return {RpcError::invalid(msg), 1008, truncate_close_reason(msg)};
}

// Reads an optional string field; a present non-string is a validation error.
bool read_opt_string(const json::object& o, std::string_view key, std::string_view at, std::string& out,
                     std::string& err, size_t max_chars = kMaxClientFieldChars) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return true;
    if (!it->value().is_string()) {
        err = fmt::format("at {}/{}: must be string", at, key);
        return false;
    }
    if (it->value().get_string().size() > max_chars) {
        err = fmt::format("at {}/{}: must NOT have more than {} characters", at, key, max_chars);
        return false;
    }
    out = std::string(sv(it->value().get_string()));
    return true;
}

bool read_required_string(const json::object& o, std::string_view key, std::string_view at, std::string& out,
                          std::string& err, size_t max_chars = kMaxClientFieldChars) {
    if (!o.contains(key)) {
        err = at.empty() ? fmt::format("must have required property '{}'", key)
                         : fmt::format("at {}: must have required property '{}'", at, key);
        return false;
    }
    if (!read_opt_string(o, key, at, out, err, max_chars)) return false;
    if (out.empty()) {
        err = fmt::format("at {}/{}: must NOT have fewer than 1 characters", at, key);
        return false;
    }
    return true;
}

bool read_string_array(const json::object& o, std::string_view key, std::vector<std::string>& out,
                       std::string& err) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return true;
    if (!it->value().is_array()) {
        err = fmt::format("at /{}: must be array", key);
        return false;
    }
    const auto& arr = it->value().get_array();
    if (arr.size() > 256) {
        err = fmt::format("at /{}: must NOT have more than 256 items", key);
        return false;
    }
    for (size_t i = 0; i < arr.size(); ++i) {
        if (!arr[i].is_string() || arr[i].get_string().size() > kMaxClientFieldChars) {
            err = fmt::format("at /{}/{}: must be string", key, i);
            return false;
        }
        out.emplace_back(sv(arr[i].get_string()));
    }
    return true;
}

std::string_view auth_detail_code(AuthReason r) {
    switch (r) {
        case AuthReason::token_missing: return "AUTH_TOKEN_MISSING";
        case AuthReason::token_mismatch: return "AUTH_TOKEN_MISMATCH";
        case AuthReason::token_missing_config: return "AUTH_TOKEN_NOT_CONFIGURED";
        case AuthReason::password_missing: return "AUTH_PASSWORD_MISSING";
        case AuthReason::password_mismatch: return "AUTH_PASSWORD_MISMATCH";
        case AuthReason::password_missing_config: return "AUTH_PASSWORD_NOT_CONFIGURED";
        case AuthReason::device_token_mismatch: return "AUTH_DEVICE_TOKEN_MISMATCH";
        case AuthReason::rate_limited: return "AUTH_RATE_LIMITED";
    }
    return "AUTH_UNAUTHORIZED";
}

}  // namespace

std::variant<ConnectParams, HandshakeFailure> parse_connect_params(const json::value& params) {
    if (!params.is_object()) return invalid_params("must be object");
    const json::object& o = params.get_object();
    ConnectParams p;
    std::string err;
    for (std::string_view key : {"minProtocol", "maxProtocol"}) {
        if (!o.contains(key)) return invalid_params(fmt::format("must have required property '{}'", key));
        auto v = get_int(o, key);
        if (!v || *v < 1 || *v > 1'000'000) return invalid_params(fmt::format("at /{}: must be integer >= 1", key));
        (key == "minProtocol" ? p.min_protocol : p.max_protocol) = static_cast<int>(*v);
    }
    const json::object* client = get_object(o, "client");
    if (!client) {
        return invalid_params(o.contains("client") ? "at /client: must be object"
                                                   : "must have required property 'client'");
    }
    if (!read_required_string(*client, "id", "/client", p.client_id, err, kMaxClientIdChars) ||
        !read_required_string(*client, "version", "/client", p.client_version, err) ||
        !read_required_string(*client, "platform", "/client", p.client_platform, err) ||
        !read_required_string(*client, "mode", "/client", p.client_mode, err) ||
        !read_opt_string(*client, "displayName", "/client", p.display_name, err) ||
        !read_opt_string(*client, "deviceFamily", "/client", p.device_family, err) ||
        !read_opt_string(*client, "modelIdentifier", "/client", p.model_identifier, err) ||
        !read_opt_string(*client, "instanceId", "/client", p.instance_id, err) ||
        !read_opt_string(o, "locale", "", p.locale, err) || !read_opt_string(o, "userAgent", "", p.user_agent, err)) {
        return invalid_params(err);
    }
    if (o.contains("role") && !o.at("role").is_null()) {
        std::string role;
        if (!read_opt_string(o, "role", "", role, err)) return invalid_params(err);
        p.role = role;
    }
    if (o.contains("scopes") && !o.at("scopes").is_null()) {
        std::vector<std::string> scopes;
        if (!read_string_array(o, "scopes", scopes, err)) return invalid_params(err);
        p.scopes = std::move(scopes);
    }
    if (!read_string_array(o, "caps", p.caps, err)) return invalid_params(err);
    if (const json::value* auth = o.if_contains("auth"); auth && !auth->is_null()) {
        if (!auth->is_object()) return invalid_params("at /auth: must be object");
        const auto& a = auth->get_object();
        p.has_token = a.contains("token") && !a.at("token").is_null();
        p.has_password = a.contains("password") && !a.at("password").is_null();
        constexpr size_t kMaxSecret = 4096;
        if (!read_opt_string(a, "token", "/auth", p.token, err, kMaxSecret) ||
            !read_opt_string(a, "password", "/auth", p.password, err, kMaxSecret) ||
            !read_opt_string(a, "deviceToken", "/auth", p.device_token, err, kMaxSecret) ||
            !read_opt_string(a, "bootstrapToken", "/auth", p.bootstrap_token, err, kMaxSecret)) {
            return invalid_params(err);
        }
        p.has_token = p.has_token && !p.token.empty();
        p.has_password = p.has_password && !p.password.empty();
    }
    if (const json::value* dev = o.if_contains("device"); dev && !dev->is_null()) {
        if (!dev->is_object()) return invalid_params("at /device: must be object");
        const auto& d = dev->get_object();
        DeviceClaim claim;
        if (!read_required_string(d, "id", "/device", claim.id, err) ||
            !read_required_string(d, "publicKey", "/device", claim.public_key, err, 1024) ||
            !read_required_string(d, "signature", "/device", claim.signature, err) ||
            !read_opt_string(d, "nonce", "/device", claim.nonce, err)) {
            return invalid_params(err);
        }
        if (!d.contains("signedAt")) return invalid_params("at /device: must have required property 'signedAt'");
        auto signed_at = get_int(d, "signedAt");
        if (!signed_at || *signed_at < 0) return invalid_params("at /device/signedAt: must be integer >= 0");
        claim.signed_at_ms = *signed_at;
        p.device = std::move(claim);
    }
    return p;
}

std::optional<int> negotiate_protocol(int client_min, int client_max) {
    for (int v : {kProtocolV4, kProtocolV3}) {
        if (client_min <= v && v <= client_max) return v;
    }
    return std::nullopt;
}

HandshakeFailure protocol_mismatch(int client_min, int client_max) {
    RpcError e = RpcError::invalid("protocol mismatch");
    e.details = json::object{{"code", "PROTOCOL_MISMATCH"},
                             {"clientMinProtocol", client_min},
                             {"clientMaxProtocol", client_max},
                             {"expectedProtocol", kProtocolV4},
                             {"minimumProbeProtocol", kProtocolV3}};
    return {std::move(e), 1002, "protocol mismatch"};
}

std::optional<AuthMode> parse_auth_mode(std::string_view s) {
    if (s == "token") return AuthMode::token;
    if (s == "password") return AuthMode::password;
    if (s == "none") return AuthMode::none;
    return std::nullopt;
}

std::string_view to_string(AuthMode m) {
    switch (m) {
        case AuthMode::token: return "token";
        case AuthMode::password: return "password";
        case AuthMode::none: return "none";
    }
    return "token";
}

std::string_view to_string(AuthReason r) {
    switch (r) {
        case AuthReason::token_missing: return "token_missing";
        case AuthReason::token_mismatch: return "token_mismatch";
        case AuthReason::token_missing_config: return "token_missing_config";
        case AuthReason::password_missing: return "password_missing";
        case AuthReason::password_mismatch: return "password_mismatch";
        case AuthReason::password_missing_config: return "password_missing_config";
        case AuthReason::device_token_mismatch: return "device_token_mismatch";
        case AuthReason::rate_limited: return "rate_limited";
    }
    return "unauthorized";
}

std::optional<AuthReason> check_shared_auth(const SharedAuthConfig& cfg, const ConnectParams& p) {
    switch (cfg.mode) {
        case AuthMode::none: return std::nullopt;
        case AuthMode::token:
            if (cfg.token.empty()) return AuthReason::token_missing_config;
            if (!p.has_token) return AuthReason::token_missing;
            return util::constant_time_equal(p.token, cfg.token) ? std::nullopt
                                                                  : std::optional(AuthReason::token_mismatch);
        case AuthMode::password:
            if (cfg.password.empty()) return AuthReason::password_missing_config;
            if (!p.has_password) return AuthReason::password_missing;
            return util::constant_time_equal(p.password, cfg.password)
                       ? std::nullopt
                       : std::optional(AuthReason::password_mismatch);
    }
    return AuthReason::token_mismatch;
}

HandshakeFailure auth_failure(AuthReason reason, const ConnectParams& p, int protocol,
                              std::optional<int64_t> retry_after_ms) {
    const bool cli = p.client_mode == "cli";
    const bool ui = p.client_id == "openclaw-control-ui" || p.client_id == "webchat" || p.client_id == "webchat-ui";
    std::string token_hint = cli ? (protocol >= kProtocolV4 ? "use this gateway's gateway.auth.token or pair the device"
                                                            : "set gateway.remote.token to match gateway.auth.token")
                             : ui ? "open the dashboard URL and paste the token in Control UI settings"
                                  : "provide gateway auth token";
    std::string password_hint = cli  ? "set gateway.remote.password to match gateway.auth.password"
                                : ui ? "enter the password in Control UI settings"
                                     : "provide gateway auth password";
    std::string msg;
    std::string_view next = "update_auth_credentials";
    switch (reason) {
        case AuthReason::token_missing:
            msg = "unauthorized: gateway token missing (" + token_hint + ")";
            next = "update_auth_configuration";
            break;
        case AuthReason::token_mismatch: msg = "unauthorized: gateway token mismatch (" + token_hint + ")"; break;
        case AuthReason::token_missing_config:
            msg = "unauthorized: gateway token not configured on gateway (set gateway.auth.token)";
            next = "review_auth_configuration";
            break;
        case AuthReason::password_missing:
            msg = "unauthorized: gateway password missing (" + password_hint + ")";
            next = "update_auth_configuration";
            break;
        case AuthReason::password_mismatch:
            msg = "unauthorized: gateway password mismatch (" + password_hint + ")";
            break;
        case AuthReason::password_missing_config:
            msg = "unauthorized: gateway password not configured on gateway (set gateway.auth.password)";
            next = "review_auth_configuration";
            break;
        case AuthReason::device_token_mismatch:
            msg = "unauthorized: device token mismatch (rotate/reissue device token)";
            break;
        case AuthReason::rate_limited:
            msg = "unauthorized: too many failed authentication attempts (retry later)";
            next = "wait_then_retry";
            break;
    }
    // Clients may retry once with a stored device token only when they sent a device block and a
    // shared token but no explicit device token.
    const bool can_retry = reason == AuthReason::token_mismatch && p.device && p.has_token && p.device_token.empty();
    if (can_retry) next = "retry_with_device_token";
    RpcError e = RpcError::invalid(msg);
    e.details = json::object{{"code", auth_detail_code(reason)},
                             {"authReason", to_string(reason)},
                             {"canRetryWithDeviceToken", can_retry},
                             {"recommendedNextStep", next}};
    if (retry_after_ms) {
        e.retryable = true;
        e.retry_after_ms = *retry_after_ms;
    }
    return {std::move(e), 1008, truncate_close_reason(msg)};
}

HandshakeFailure device_failure(DeviceFailure f) {
    std::string_view msg, code, reason;
    switch (f) {
        case DeviceFailure::id_mismatch:
            msg = "device identity mismatch", code = "DEVICE_AUTH_DEVICE_ID_MISMATCH", reason = "device-id-mismatch";
            break;
        case DeviceFailure::signature_expired:
            msg = "device signature expired", code = "DEVICE_AUTH_SIGNATURE_EXPIRED", reason = "device-signature-stale";
            break;
        case DeviceFailure::nonce_required:
            msg = "device nonce required", code = "DEVICE_AUTH_NONCE_REQUIRED", reason = "device-nonce-missing";
            break;
        case DeviceFailure::nonce_mismatch:
            msg = "device nonce mismatch", code = "DEVICE_AUTH_NONCE_MISMATCH", reason = "device-nonce-mismatch";
            break;
        case DeviceFailure::signature_invalid:
            msg = "device signature invalid", code = "DEVICE_AUTH_SIGNATURE_INVALID", reason = "device-signature";
            break;
        case DeviceFailure::public_key_invalid:
            msg = "device public key invalid", code = "DEVICE_AUTH_PUBLIC_KEY_INVALID", reason = "device-public-key";
            break;
    }
    RpcError e = RpcError::invalid(std::string(msg));
    e.details = json::object{{"code", code}, {"reason", reason}};
    return {std::move(e), 1008, std::string(msg)};
}

std::string truncate_close_reason(std::string_view reason) {
    constexpr size_t kMax = 123;
    if (reason.size() <= kMax) return std::string(reason);
    size_t cut = kMax;
    // Never split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    return std::string(reason.substr(0, cut));
}

}  // namespace pincer::core
