// system-event, system-presence and status.queuedSystemEvents (methods.md §8.2, §8.7).
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::unique_ptr<client::GatewayClient> connect(const e2e::GatewayProcess& gw,
                                               std::optional<std::vector<std::string>> scopes = std::nullopt,
                                               int max_protocol = 4) {
    auto o = cli_opts(gw, 3s);
    o.scopes = std::move(scopes);
    o.max_protocol = max_protocol;
    return connect_client(o);
}

bool queued_has(client::GatewayClient& c, std::string_view text) {
    auto st = c.call("status", json::object{}, 3s).as_object();
    for (const auto& t : st.at("queuedSystemEvents").as_array())
        if (t.is_string() && t.get_string() == text) return true;
    return false;
}

const json::object* find_host(const json::array& presence, std::string_view host) {
    for (const auto& e : presence) {
        const auto& o = e.as_object();
        if (auto it = o.find("host"); it != o.end() && it->value().is_string() && it->value().get_string() == host)
            return &o;
    }
    return nullptr;
}

}  // namespace

TEST(System, EventIsQueuedAndSurvivesRestart) {
    e2e::GatewayProcess first;
    {
        auto c = connect(first);
        auto st = c->call("status", json::object{}, 3s).as_object();
        ASSERT_TRUE(st.at("queuedSystemEvents").is_array());
        EXPECT_TRUE(st.at("queuedSystemEvents").as_array().empty());
        auto res = c->call("system-event", json::object{{"text", "hello"}}, 3s);
        EXPECT_EQ(res, json::value(json::object{{"ok", true}}));
        EXPECT_TRUE(queued_has(*c, "hello"));
    }
    auto stopped = first.stop(SIGTERM, 3s);
    ASSERT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0);

    e2e::GatewayOptions o;
    o.state_dir = first.state_dir();
    e2e::GatewayProcess second(o);
    auto c = connect(second);
    EXPECT_TRUE(queued_has(*c, "hello")) << "system events are stored durably";
}

TEST(System, EventWithoutTextIsRejected) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    for (const json::object& params :
         {json::object{}, json::object{{"text", ""}}, json::object{{"text", "   "}}, json::object{{"text", 5}}}) {
        SCOPED_TRACE(json::serialize(params));
        auto e = rpc_error([&] { c->call("system-event", params, 3s); });
        EXPECT_EQ(e.code(), "INVALID_REQUEST");
        EXPECT_EQ(e.message_text(), "text required");
    }
    auto st = c->call("status", json::object{}, 3s).as_object();
    EXPECT_TRUE(st.at("queuedSystemEvents").as_array().empty());
}

TEST(System, PresenceListsGatewayFirst) {
    e2e::GatewayProcess gw;
    auto c = connect(gw);
    auto list = c->call("system-presence", json::object{}, 3s);
    ASSERT_TRUE(list.is_array());
    ASSERT_FALSE(list.as_array().empty());
    const auto& self = list.as_array()[0].as_object();
    EXPECT_EQ(self.at("mode").as_string(), "gateway");
    EXPECT_EQ(self.at("reason").as_string(), "self");
    EXPECT_TRUE(self.at("ts").is_number());
}

TEST(System, EventWithPresenceFieldsBroadcastsPresence) {
    e2e::GatewayProcess gw;
    auto admin = connect(gw);
    auto observer = connect(gw, std::vector<std::string>{"operator.read"});
    observer->take_buffered_events();
    auto res = admin->call("system-event",
                           json::object{{"text", "Node: e2e-box · mode ui"},
                                        {"host", "e2e-box"},
                                        {"mode", "ui"},
                                        {"instanceId", "e2e-instance-1"},
                                        {"version", "1.2.3"}},
                           3s);
    EXPECT_EQ(res.at("ok"), json::value(true));
    auto ev = observer->wait_event("presence", 3s, [](const json::object& f) {
        const auto* p = f.at("payload").as_object().if_contains("presence");
        return p && p->is_array() && find_host(p->as_array(), "e2e-box");
    });
    ASSERT_TRUE(ev.contains("stateVersion")) << json::serialize(ev);
    const auto& sv = ev.at("stateVersion").as_object();
    ASSERT_TRUE(sv.contains("presence"));
    EXPECT_GE(sv.at("presence").to_number<int64_t>(), 1);
    EXPECT_TRUE(sv.contains("health"));
    const auto* entry = find_host(ev.at("payload").at("presence").as_array(), "e2e-box");
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->at("mode").as_string(), "ui");
    EXPECT_EQ(entry->at("instanceId").as_string(), "e2e-instance-1");

    auto list = observer->call("system-presence", json::object{}, 3s).as_array();
    EXPECT_EQ(list[0].at("reason").as_string(), "self");
    const auto* listed = find_host(list, "e2e-box");
    ASSERT_NE(listed, nullptr) << json::serialize(list);
    EXPECT_EQ(listed->at("version").as_string(), "1.2.3");
}

TEST(System, ReadOnlyClientCannotSendEvents) {
    e2e::GatewayProcess gw;
    auto v4 = connect(gw, std::vector<std::string>{"operator.read"}, 4);
    auto e4 = rpc_error([&] { v4->call("system-event", json::object{{"text", "nope"}}, 3s); });
    EXPECT_EQ(e4.code(), "FORBIDDEN");
    EXPECT_EQ(e4.message_text(), "missing scope: operator.admin");
    EXPECT_EQ(e4.error.at("details").at("missingScope").as_string(), "operator.admin");

    auto v3 = connect(gw, std::vector<std::string>{"operator.read"}, 3);
    auto e3 = rpc_error([&] { v3->call("system-event", json::object{{"text", "nope"}}, 3s); });
    EXPECT_EQ(e3.code(), "INVALID_REQUEST");
    EXPECT_EQ(e3.message_text(), "missing scope: operator.admin");

    // Reading is allowed, and nothing was queued.
    auto list = v4->call("system-presence", json::object{}, 3s);
    EXPECT_TRUE(list.is_array());
    EXPECT_FALSE(queued_has(*v3, "nope"));
}
