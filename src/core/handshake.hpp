#pragma once
/// The connect handshake as pure functions: parse ConnectParams, negotiate the protocol, check
/// the shared secret, and build the reference's failure frames. The transport layer owns the
/// timers and sockets; the pairing store is consulted by the caller (see dispatch/connect_flow).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/scopes.hpp"

namespace pincer::core {

inline constexpr int kProtocolV3 = 3;
inline constexpr int kProtocolV4 = 4;
/// Bounds Pincer accepts on `client.id` / other identity strings (the reference uses a closed
/// enum for ids; we accept any non-empty id up to this length).
inline constexpr size_t kMaxClientIdChars = 128;
inline constexpr size_t kMaxClientFieldChars = 256;

/// A failed handshake step: the error `res` to send (may be absent) and how to close.
struct HandshakeFailure {
    std::optional<RpcError> error;
    int close_code = 1008;
    std::string close_reason;
};

struct DeviceClaim {
    std::string id, public_key, signature, nonce;
    int64_t signed_at_ms = 0;
};

struct ConnectParams {
    int min_protocol = 0, max_protocol = 0;
    std::string client_id, client_version, client_platform, client_mode;
    std::string display_name, device_family, model_identifier, instance_id;
    std::optional<std::string> role;                 // absent = operator
    std::optional<std::vector<std::string>> scopes;  // absent = token's default scopes
    std::vector<std::string> caps;
    std::string token, password, device_token, bootstrap_token;
    bool has_token = false, has_password = false;
    std::optional<DeviceClaim> device;
    std::string locale, user_agent;
};

/// Validates the connect params (leniently: unknown keys ignored). On failure returns the
/// reference's `invalid connect params: <reason>` error and 1008.
std::variant<ConnectParams, HandshakeFailure> parse_connect_params(const json::value& params);

/// Highest version both sides accept (4, else 3), or nullopt.
std::optional<int> negotiate_protocol(int client_min, int client_max);
/// `protocol mismatch` with the v4 details, close 1002.
HandshakeFailure protocol_mismatch(int client_min, int client_max);

enum class AuthMode { token, password, none };
std::optional<AuthMode> parse_auth_mode(std::string_view s);
std::string_view to_string(AuthMode m);

/// Raw auth reasons, as the reference names them (details.authReason).
enum class AuthReason {
    token_missing,
    token_mismatch,
    token_missing_config,
    password_missing,
    password_mismatch,
    password_missing_config,
    device_token_mismatch,
    rate_limited,
};
std::string_view to_string(AuthReason r);

struct SharedAuthConfig {
    AuthMode mode = AuthMode::token;
    std::string token;
    std::string password;
};

/// Checks the shared secret in constant time. nullopt = authenticated.
std::optional<AuthReason> check_shared_auth(const SharedAuthConfig& cfg, const ConnectParams& p);

/// The `unauthorized: ...` failure with the reference's message, detail code and next step.
/// `retry_after_ms` is set for rate_limited.
HandshakeFailure auth_failure(AuthReason reason, const ConnectParams& p, int protocol,
                              std::optional<int64_t> retry_after_ms = std::nullopt);

/// Device-identity failures (`device signature invalid` etc.), INVALID_REQUEST + 1008.
enum class DeviceFailure {
    id_mismatch,
    signature_expired,
    nonce_required,
    nonce_mismatch,
    signature_invalid,
    public_key_invalid,
};
HandshakeFailure device_failure(DeviceFailure f);

/// Truncates a close reason to the 123-byte limit of a WebSocket close frame (UTF-8 safe).
std::string truncate_close_reason(std::string_view reason);

}  // namespace pincer::core
