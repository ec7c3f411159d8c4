#pragma once
/// `status`, `system-presence` and `system-event`.
#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "storage/system_events.hpp"

namespace pincer::methods {

/// The session that system events without an explicit session go to.
inline constexpr std::string_view kMainSessionKey = "agent:main:main";

struct SystemDeps {
    dispatch::Gateway& gateway;
    storage::SystemEventStore& events;
};

void register_system(dispatch::MethodTable& table, SystemDeps deps);

}  // namespace pincer::methods
