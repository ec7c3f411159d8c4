#include "methods/health.hpp"

#include <chrono>

namespace pincer::methods {

const json::value& HealthService::refresh() {
    const auto started = std::chrono::steady_clock::now();
    const int64_t now = gateway_.clock().now_ms();
    json::object s;
    s["ok"] = true;
    s["ts"] = now;
    // HealthSummary is a closed object in the published schema (snapshot.health): no version,
    // uptimeMs or connections here (hello-ok's server/snapshot and `status` carry those).
    // Channels and agents arrive with later features; the keys exist so clients can render.
    s["channels"] = json::object{};
    s["channelOrder"] = json::array{};
    s["channelLabels"] = json::object{};
    s["defaultAgentId"] = "main";
    s["durationMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                          .count();
    summary_ = std::move(s);
    return summary_;
}

const json::value& HealthService::cached() {
    if (summary_.is_null()) refresh();
    return summary_;
}

void register_health(dispatch::MethodTable& table, HealthService& health) {
    dispatch::MethodSpec spec;
    spec.name = "health";
    spec.scope = "operator.read";
    // The reference does not validate health params (`{"probe":true}` and extras are fine).
    spec.params.unchecked();
    spec.handler = dispatch::SyncHandler([&health](const dispatch::CallView& call) -> json::value {
        auto probe = call.params.find("probe");
        if (probe != call.params.end() && probe->value().is_bool() && probe->value().get_bool()) {
            return health.refresh();
        }
        return health.cached();
    });
    table.add(std::move(spec));
}

}  // namespace pincer::methods
