#pragma once
/// The presence table behind `system-presence`, the `presence` event and the hello-ok snapshot:
/// the gateway itself, connected clients (except CLI ones, as the reference), and recently
/// disconnected ones.
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "dispatch/connection.hpp"

namespace pincer::dispatch {

struct PresenceLimits {
    /// Disconnected entries are kept this long so dashboards can show who left.
    int64_t disconnected_ttl_ms = 5 * 60 * 1000;
    /// Hard cap on entries; the oldest disconnected ones go first.
    size_t max_entries = 200;
};

class Presence {
public:
    Presence(json::object self_entry, PresenceLimits limits = {});

    /// Adds or refreshes the entry of a connected client; returns false for untracked clients.
    bool on_connect(const ConnState& c, int64_t now_ms);
    bool on_disconnect(const ConnState& c, int64_t now_ms);
    /// Upserts an entry reported through `system-event` (keyed by deviceId, instanceId or host).
    void upsert_reported(const json::object& fields, int64_t now_ms);

    json::array list(int64_t now_ms);
    int64_t version() const { return version_; }

private:
    void prune(int64_t now_ms);
    json::object* find(std::string_view key);

    json::object self_;
    std::vector<std::pair<std::string, json::object>> entries_;  // key -> entry, insertion order
    PresenceLimits limits_;
    int64_t version_ = 1;
};

}  // namespace pincer::dispatch
