#pragma once
/// The device pairing store as the handshake sees it. Implemented over SQLite in storage/;
/// every call may block on disk, so callers run it off the network thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pincer::core {

struct PairedDevice {
    std::string device_id;
    std::string public_key;  // canonical base64url of the raw key
    std::vector<std::string> roles;
    std::vector<std::string> scopes;  // approved operator scopes
    std::string display_name, platform, device_family, client_id, client_mode, remote_ip;
    int64_t created_at_ms = 0;
    int64_t approved_at_ms = 0;
};

struct DeviceToken {
    std::string device_id;
    std::string role;
    std::string token;  // 32 random bytes, base64url
    std::vector<std::string> scopes;
    int64_t issued_at_ms = 0;
};

struct PairingRequest {
    std::string request_id;
    std::string device_id, public_key, display_name, platform, device_family, client_id, client_mode;
    std::string role;
    std::vector<std::string> scopes;
    std::string remote_ip;
    std::string reason;  // not-paired | role-upgrade | scope-upgrade | metadata-upgrade
    bool silent = false;
    bool is_repair = false;
    int64_t ts = 0;
};

class DeviceRegistry {
public:
    virtual ~DeviceRegistry() = default;
    virtual std::optional<PairedDevice> find_device(const std::string& device_id) = 0;
    /// Inserts or replaces the paired record (roles/scopes are the approved baseline).
    virtual void upsert_device(const PairedDevice& device) = 0;
    virtual std::optional<DeviceToken> find_token(const std::string& device_id, const std::string& role) = 0;
    /// Returns the device's token for `role`, issuing a new one when none exists or its scopes
    /// differ from `scopes`.
    virtual DeviceToken ensure_token(const std::string& device_id, const std::string& role,
                                     const std::vector<std::string>& scopes, int64_t now_ms) = 0;
    /// Stores a pending request; an identical pending request (same device, role and scopes) is
    /// returned instead of a duplicate.
    virtual PairingRequest add_pending(const PairingRequest& request) = 0;
    virtual std::vector<PairingRequest> list_pending() = 0;
    virtual std::vector<PairedDevice> list_devices() = 0;
};

}  // namespace pincer::core
