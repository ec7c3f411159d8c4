#include "methods/system.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

namespace pincer::methods {
namespace {

constexpr size_t kMaxSystemEventChars = 8 * 1024;

// Built on the network thread (it reads gateway state); the queued events are added on the pool.
json::object status_payload(dispatch::Gateway& gw) {
    json::object s;
    s["runtimeVersion"] = gw.info().version;
    s["uptimeMs"] = gw.uptime_ms();
    s["heartbeat"] = json::object{{"defaultAgentId", "main"}, {"agents", json::array{}}};
    s["channelSummary"] = json::array{};
    s["sessions"] = json::object{{"paths", json::array{}},
                                 {"count", 0},
                                 {"defaults", json::object{{"model", nullptr}, {"contextTokens", nullptr}}},
                                 {"recent", json::array{}},
                                 {"byAgent", json::array{}}};
    s["gateway"] = json::object{{"connections", gw.connection_count()},
                                {"authMode", core::to_string(gw.auth().shared.mode)},
                                {"presence", gw.presence().version()}};
    return s;
}

}  // namespace

void register_system(dispatch::MethodTable& table, SystemDeps deps) {
    {
        dispatch::MethodSpec spec;
        spec.name = "status";
        spec.scope = "operator.read";
        spec.params.boolean("includeChannelSummary");
        spec.handler = dispatch::AsyncHandler([deps](const dispatch::CallView&, dispatch::Responder reply) {
            json::object payload = status_payload(deps.gateway);
            dispatch::reply_from_pool(deps.gateway.loop(), std::move(reply), "status",
                                      [deps, payload = std::move(payload)]() mutable {
                                          json::array texts;
                                          for (const auto& e : deps.events.peek(kMainSessionKey, 100))
                                              texts.emplace_back(e.text);
                                          payload["queuedSystemEvents"] = std::move(texts);
                                          return json::value(std::move(payload));
                                      });
        });
        table.add(std::move(spec));
    }
    {
        dispatch::MethodSpec spec;
        spec.name = "system-presence";
        spec.scope = "operator.read";
        spec.params.unchecked();
        spec.handler = dispatch::SyncHandler([deps](const dispatch::CallView&) -> json::value {
            return deps.gateway.presence().list(deps.gateway.clock().now_ms());
        });
        table.add(std::move(spec));
    }
    {
        dispatch::MethodSpec spec;
        spec.name = "system-event";
        spec.scope = "operator.admin";
        // Not schema-validated by the reference; `text` is checked by hand with its message.
        spec.params.unchecked();
        spec.handler = dispatch::AsyncHandler([deps](const dispatch::CallView& call, dispatch::Responder reply) {
            auto text = core::get_string(call.params, "text");
            if (!text || text->empty() || text->find_first_not_of(" \t\r\n") == json::string::npos) {
                return reply.fail(core::RpcError::invalid("text required"));
            }
            if (text->size() > kMaxSystemEventChars) {
                return reply.fail(core::RpcError::invalid("text too long (max " +
                                                          std::to_string(kMaxSystemEventChars) + " characters)"));
            }
            const int64_t now = deps.gateway.clock().now_ms();
            bool has_presence_fields = false;
            for (std::string_view k : {"deviceId", "instanceId", "host", "mode", "reason", "version", "platform"}) {
                if (call.params.contains(k)) has_presence_fields = true;
            }
            if (has_presence_fields) {
                deps.gateway.presence().upsert_reported(call.params, now);
                deps.gateway.broadcast_presence();
            }
            json::object source = call.params;
            source.erase("text");
            source["connId"] = call.conn.conn_id;
            std::string body(core::sv(*text));
            std::string source_text = json::serialize(source);
            dispatch::reply_from_pool(deps.gateway.loop(), std::move(reply), "system-event", [deps, body, source_text, now] {
                deps.events.enqueue(kMainSessionKey, body, source_text, now);
                return json::value(json::object{{"ok", true}});
            });
        });
        table.add(std::move(spec));
    }
}

}  // namespace pincer::methods
