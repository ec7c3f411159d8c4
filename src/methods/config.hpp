#pragma once
/// `config.get/set/patch/apply/schema`: the JSON5 config file with baseHash optimistic
/// concurrency, atomic writes, redaction of secrets and a live apply hook.
#include <functional>
#include <mutex>

#include "config/store.hpp"
#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"

namespace pincer::methods {

class ConfigService {
public:
    /// `on_applied` runs on the network thread after every successful write, with the new config.
    ConfigService(config::ConfigStore store, std::function<void(const json::value&)> on_applied)
        : store_(std::move(store)), on_applied_(std::move(on_applied)) {}

    const config::ConfigStore& store() const { return store_; }

    // Blocking (file I/O); run on the blocking pool. Each throws core::RpcException with the
    // reference's messages on bad input. Writes are serialised by an internal mutex so the
    // baseHash check and the write are one step.
    json::object get();
    json::object set(const json::object& params);
    json::object patch(const json::object& params, int64_t now_ms);
    json::object apply(const json::object& params, int64_t now_ms);
    /// Internal edit (no baseHash): under the write mutex loads the current config ({} when
    /// missing), runs `edit` on it, validates and writes atomically. Returns what config.set
    /// returns, or `{ok, noop:true, ...}` when `edit` changed nothing. `edit` may throw
    /// core::RpcException to abort. Callers then call notify_applied on the network thread.
    json::object mutate(const std::function<void(json::value&)>& edit, int64_t now_ms);

    void notify_applied(const json::value& cfg) {
        if (on_applied_) on_applied_(cfg);
    }

private:
    config::LoadResult load_checked(const json::object& params);
    json::value parse_raw(const json::object& params);
    json::object write_validated(json::value cfg, std::string_view mode, const json::object& params, int64_t now_ms,
                                 const json::value& previous);

    config::ConfigStore store_;
    std::function<void(const json::value&)> on_applied_;
    std::mutex write_mutex_;
};

void register_config(dispatch::MethodTable& table, dispatch::Gateway& gateway, ConfigService& service);

}  // namespace pincer::methods
