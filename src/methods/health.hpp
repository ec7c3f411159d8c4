#pragma once
/// `health`: a cached gateway health summary (v4 style: answered from the cache, refreshed on a
/// timer and on `probe:true`, and pushed as a `health` event after each refresh).
#include "core/json.hpp"
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"

namespace pincer::methods {

class HealthService {
public:
    explicit HealthService(dispatch::Gateway& gw) : gateway_(gw) {}
    /// Rebuilds the summary; returns it.
    const json::value& refresh();
    /// The last summary (built on first use).
    const json::value& cached();

private:
    dispatch::Gateway& gateway_;
    json::value summary_;
};

void register_health(dispatch::MethodTable& table, HealthService& health);

}  // namespace pincer::methods
