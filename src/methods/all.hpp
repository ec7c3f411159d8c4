#pragma once
/// The explicit list of method groups and HTTP routes. Each group gets only the services it uses.
#include <filesystem>
#include <vector>

#include "dispatch/gateway.hpp"
#include "dispatch/method_table.hpp"
#include "methods/chat_runs.hpp"
#include "methods/config.hpp"
#include "methods/health.hpp"
#include "storage/system_events.hpp"
#include "storage/usage_repo.hpp"
#include "storage/sessions_repo.hpp"
#include "storage/transcripts_repo.hpp"
#include "dispatch/http_route.hpp"

namespace pincer::methods {

struct Services {
    dispatch::Gateway& gateway;
    storage::SystemEventStore& system_events;
    std::filesystem::path log_file;
    ConfigService* config = nullptr;
    HealthService* health = nullptr;
    storage::UsageRepo* usage = nullptr;
    storage::SessionsRepo* sessions = nullptr;
    storage::TranscriptsRepo* transcripts = nullptr;
    ChatRuntime* chat = nullptr;
};

void register_all(dispatch::MethodTable& table, Services& services);

/// `/healthz`, `/health`, `/readyz`, `/ready` (JSON, as the reference).
std::vector<dispatch::HttpRoute> http_routes(dispatch::Gateway& gateway);

}  // namespace pincer::methods
