#include "methods/all.hpp"

#include <boost/json/serialize.hpp>

#include "methods/agents.hpp"
#include "methods/chat.hpp"
#include "methods/logs.hpp"
#include "methods/models.hpp"
#include "methods/system.hpp"
#include "methods/sessions.hpp"
#include "methods/sessions_transfer.hpp"
#include "methods/sessions_usage.hpp"
#include "methods/usage.hpp"

namespace pincer::methods {

void register_all(dispatch::MethodTable& table, Services& s) {
    register_health(table, *s.health);
    register_system(table, SystemDeps{s.gateway, s.system_events});
    register_config(table, s.gateway, *s.config);
    auto file = s.log_file;
    register_logs(table, s.gateway.loop(), [file] { return file; });
    register_models(table, s.gateway, *s.config);
    register_usage(table, s.gateway, *s.usage);
    register_agents(table, s.gateway, *s.config, s.gateway.info().state_dir);
    register_sessions(table, s.gateway, *s.sessions, *s.transcripts, *s.config);
    register_sessions_usage(table, s.gateway, *s.sessions, *s.transcripts, *s.usage);
    register_sessions_transfer(table, s.gateway, *s.sessions, *s.transcripts, s.config);
    if (s.chat) {
        register_chat(table, *s.chat);
        register_sessions_compact(table, *s.chat);
    }
}

std::vector<dispatch::HttpRoute> http_routes(dispatch::Gateway& gateway) {
    auto live = [](const dispatch::HttpRequestView&) {
        return dispatch::HttpReply{200, "application/json; charset=utf-8", R"({"ok":true,"status":"live"})", {}};
    };
    auto ready = [&gateway](const dispatch::HttpRequestView& req) {
        json::object body{{"ready", true}, {"failing", json::array{}}};
        // Details only for local callers, as the reference does.
        if (req.loopback) body["uptimeMs"] = gateway.uptime_ms();
        return dispatch::HttpReply{200, "application/json; charset=utf-8", json::serialize(body), {}};
    };
    const std::vector<std::string> get_head = {"GET", "HEAD"};
    return {{"/healthz", get_head, live}, {"/health", get_head, live}, {"/readyz", get_head, ready},
            {"/ready", get_head, ready}};
}

}  // namespace pincer::methods
