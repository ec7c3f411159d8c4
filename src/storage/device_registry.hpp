#pragma once
/// core::DeviceRegistry over the SQLite store: paired devices, per-role device tokens and pending
/// pairing requests. Every method blocks on disk (commits fsync); call it off the network thread.
/// All methods throw StorageError on SQLite failure or on a corrupt stored row.
#include <optional>
#include <string>
#include <vector>

#include "core/pairing.hpp"
#include "storage/db.hpp"

namespace pincer::storage {

class SqliteDeviceRegistry final : public core::DeviceRegistry {
public:
    /// `db` must outlive the registry.
    explicit SqliteDeviceRegistry(Database& db) : db_(db) {}

    std::optional<core::PairedDevice> find_device(const std::string& device_id) override;
    /// Replaces every field of an existing record (created_at_ms included); tokens are kept.
    void upsert_device(const core::PairedDevice& device) override;
    std::optional<core::DeviceToken> find_token(const std::string& device_id, const std::string& role) override;
    /// Keeps the stored token when its scope set equals `scopes` (order and duplicates ignored);
    /// otherwise issues util::random_token() stamped `now_ms` and replaces it. Atomic. The device
    /// must already be paired (upsert_device); otherwise throws StorageError (foreign key).
    core::DeviceToken ensure_token(const std::string& device_id, const std::string& role,
                                   const std::vector<std::string>& scopes, int64_t now_ms) override;
    /// Returns an existing pending request for the same device_id and role with the same scope set
    /// unchanged; otherwise stores `request` (request_id = util::uuid_v4() when empty) and returns
    /// what was stored. Throws StorageError if a given request_id already exists.
    core::PairingRequest add_pending(const core::PairingRequest& request) override;
    /// Oldest first.
    std::vector<core::PairingRequest> list_pending() override;
    /// Oldest paired first.
    std::vector<core::PairedDevice> list_devices() override;

    std::optional<core::PairingRequest> find_pending(const std::string& request_id);
    /// False when no such request exists.
    bool remove_pending(const std::string& request_id);

private:
    Database& db_;
};

}  // namespace pincer::storage
