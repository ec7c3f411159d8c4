// sessions.* over the real socket, against the SQLite session store.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
namespace json = boost::json;

namespace {

json::object call(client::GatewayClient& c, std::string_view method, json::object params = {}) {
    return c.call(method, params).as_object();
}

std::string invalid_message(client::GatewayClient& c, std::string_view method, json::object params) {
    auto err = rpc_error([&] { c.call(method, params); });
    EXPECT_EQ(err.code(), "INVALID_REQUEST") << method;
    return err.message_text();
}

}  // namespace

TEST(SessionsList, EmptyOnAFreshGateway) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto res = call(*c, "sessions.list");
    EXPECT_EQ(res.at("path"), "(multiple)");
    EXPECT_EQ(res.at("count").as_int64(), 0);
    EXPECT_EQ(res.at("totalCount").as_int64(), 0);
    EXPECT_EQ(res.at("limitApplied").as_int64(), 100);
    EXPECT_TRUE(res.at("nextOffset").is_null());
    EXPECT_FALSE(res.at("hasMore").as_bool());
    EXPECT_TRUE(res.at("sessions").as_array().empty());
    EXPECT_TRUE(res.at("ts").is_int64());
    const auto& d = res.at("defaults").as_object();
    EXPECT_TRUE(d.contains("modelProvider") && d.contains("model") && d.contains("contextTokens"));
    EXPECT_NE(invalid_message(*c, "sessions.list", {{"limit", 0}}).find("/limit"), std::string::npos);
    EXPECT_NE(invalid_message(*c, "sessions.list", {{"offset", -1}}).find("/offset"), std::string::npos);
}

TEST(SessionsPatch, CreatesLabelsNormalisesAndClears) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto res = call(*c, "sessions.patch", {{"key", "work"}, {"label", "  Work  "}, {"thinkingLevel", "med"}});
    EXPECT_TRUE(res.at("ok").as_bool());
    EXPECT_EQ(res.at("key"), "agent:main:work");
    EXPECT_FALSE(str(res.at("path")).empty());
    const auto& entry = res.at("entry").as_object();
    EXPECT_EQ(entry.at("label"), "Work");
    EXPECT_EQ(entry.at("thinkingLevel"), "medium");
    const std::string sid = str(entry.at("sessionId"));
    EXPECT_EQ(sid.size(), 36u);
    EXPECT_TRUE(entry.at("updatedAt").is_int64());

    // Patching again keeps the session id; null clears a field.
    auto again =
        call(*c, "sessions.patch", {{"key", "agent:main:work"}, {"thinkingLevel", nullptr}, {"sendPolicy", "deny"}});
    EXPECT_EQ(str(again.at("entry").at("sessionId")), sid);
    EXPECT_FALSE(again.at("entry").as_object().contains("thinkingLevel"));
    EXPECT_EQ(again.at("entry").at("sendPolicy"), "deny");
    EXPECT_EQ(again.at("entry").at("label"), "Work");
    auto cleared = call(*c, "sessions.patch", {{"key", "work"}, {"label", nullptr}});
    EXPECT_FALSE(cleared.at("entry").as_object().contains("label"));

    // Label uniqueness and validation.
    call(*c, "sessions.patch", {{"key", "work"}, {"label", "Work"}});
    EXPECT_EQ(invalid_message(*c, "sessions.patch", {{"key", "other"}, {"label", "Work"}}),
              "label already in use: Work");
    EXPECT_NE(invalid_message(*c, "sessions.patch", {{"key", "other"}, {"label", "   "}}).find("label"),
              std::string::npos);
    EXPECT_NE(invalid_message(*c, "sessions.patch", {{"key", "other"}, {"label", std::string(513, 'x')}}).find("label"),
              std::string::npos);
    EXPECT_EQ(invalid_message(*c, "sessions.patch", {{"key", "other"}, {"thinkingLevel", "bogus"}}),
              "invalid thinkingLevel (use off|minimal|low|medium|high|xhigh|adaptive|max)");
    EXPECT_NE(invalid_message(*c, "sessions.patch", {{"key", "other"}, {"elevatedLevel", "x"}}).find("elevatedLevel"),
              std::string::npos);
    EXPECT_NE(invalid_message(*c, "sessions.patch", {{"thinkingLevel", "low"}}).find("key"), std::string::npos);
    EXPECT_NE(invalid_message(*c, "sessions.patch", {{"key", "work"}, {"spawnedBy", "main"}}).find("spawnedBy"),
              std::string::npos);
    // A failed patch creates nothing.
    EXPECT_EQ(call(*c, "sessions.list").at("totalCount").as_int64(), 1);
}

TEST(SessionsList, FiltersAndPages) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    for (int i = 0; i < 5; ++i) call(*c, "sessions.patch", {{"key", "s" + std::to_string(i)}});
    call(*c, "sessions.patch", {{"key", "agent:ops:main"}, {"label", "Ops desk"}});
    call(*c, "sessions.patch", {{"key", "agent:main:slack:group:c1"}, {"displayName", "ignored"}});
    call(*c, "sessions.patch", {{"key", "global"}});

    auto all = call(*c, "sessions.list");
    EXPECT_EQ(all.at("totalCount").as_int64(), 7);  // global hidden
    auto with_global = call(*c, "sessions.list", {{"includeGlobal", true}});
    EXPECT_EQ(with_global.at("totalCount").as_int64(), 8);
    // Most recently updated first (ties, within one millisecond, by key).
    const auto& rows = all.at("sessions").as_array();
    for (size_t i = 1; i < rows.size(); ++i)
        EXPECT_GE(rows[i - 1].at("updatedAt").as_int64(), rows[i].at("updatedAt").as_int64());
    for (const auto& row : rows) {
        EXPECT_TRUE(row.as_object().contains("sessionId"));
        EXPECT_EQ(row.at("kind"), row.at("key") == "agent:main:slack:group:c1" ? "group" : "direct")
            << str(row.at("key"));
    }
    auto by_label = call(*c, "sessions.list", {{"label", "Ops desk"}});
    ASSERT_EQ(by_label.at("count").as_int64(), 1);
    EXPECT_EQ(by_label.at("sessions").at(0).at("key"), "agent:ops:main");
    EXPECT_EQ(by_label.at("sessions").at(0).at("label"), "Ops desk");
    auto by_agent = call(*c, "sessions.list", {{"agentId", "ops"}});
    EXPECT_EQ(by_agent.at("totalCount").as_int64(), 1);
    EXPECT_NE(by_agent.at("path"), "(multiple)");
    auto by_search = call(*c, "sessions.list", {{"search", "OPS D"}});
    EXPECT_EQ(by_search.at("totalCount").as_int64(), 1);
    EXPECT_EQ(call(*c, "sessions.list", {{"search", "MAIN:S3"}}).at("totalCount").as_int64(), 1);
    EXPECT_EQ(call(*c, "sessions.list", {{"activeMinutes", 5}}).at("totalCount").as_int64(), 7);

    auto p1 = call(*c, "sessions.list", {{"limit", 3}});
    EXPECT_EQ(p1.at("count").as_int64(), 3);
    EXPECT_EQ(p1.at("limitApplied").as_int64(), 3);
    EXPECT_TRUE(p1.at("hasMore").as_bool());
    EXPECT_EQ(p1.at("nextOffset").as_int64(), 3);
    auto p3 = call(*c, "sessions.list", {{"limit", 3}, {"offset", 6}});
    EXPECT_EQ(p3.at("count").as_int64(), 1);
    EXPECT_FALSE(p3.at("hasMore").as_bool());
    EXPECT_TRUE(p3.at("nextOffset").is_null());
    EXPECT_EQ(p3.at("totalCount").as_int64(), 7);
    // Paging past the hidden global key still counts right.
    auto g2 = call(*c, "sessions.list", {{"limit", 4}, {"offset", 4}});
    EXPECT_EQ(g2.at("count").as_int64(), 3);
    for (const auto& row : g2.at("sessions").as_array()) EXPECT_NE(row.at("key"), "global");
}

TEST(SessionsGetResolve, FindsByKeySessionIdAndLabel) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto created = call(*c, "sessions.patch", {{"key", "main"}, {"label", "Home"}});
    EXPECT_EQ(created.at("key"), "agent:main:main");
    const std::string sid = str(created.at("entry").at("sessionId"));

    auto got = call(*c, "sessions.get", {{"key", "main"}});
    EXPECT_EQ(got.at("key"), "agent:main:main");
    EXPECT_EQ(str(got.at("entry").at("sessionId")), sid);
    EXPECT_EQ(invalid_message(*c, "sessions.get", {{"key", "nope"}}).rfind("session not found", 0), 0u);

    EXPECT_EQ(call(*c, "sessions.resolve", {{"key", ""}, {"label", "Home"}}).at("key"), "agent:main:main");
    EXPECT_EQ(call(*c, "sessions.resolve", {{"sessionId", sid}}).at("key"), "agent:main:main");
    auto r = call(*c, "sessions.resolve", {{"key", "main"}});
    EXPECT_TRUE(r.at("ok").as_bool());
    EXPECT_EQ(r.at("key"), "agent:main:main");
    EXPECT_EQ(invalid_message(*c, "sessions.resolve", {{"key", "main"}, {"label", "Home"}}),
              "Provide either key, sessionId, or label (not multiple)");
    EXPECT_EQ(invalid_message(*c, "sessions.resolve", {}), "Either key, sessionId, or label is required");
    EXPECT_EQ(invalid_message(*c, "sessions.resolve", {{"label", "Nope"}}), "No session found: Nope");
}

TEST(SessionsResetDelete, NewSessionIdAndRemoval) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto created = call(*c, "sessions.patch", {{"key", "work"}, {"label", "W"}, {"verboseLevel", "full"}});
    const std::string sid = str(created.at("entry").at("sessionId"));
    auto reset = call(*c, "sessions.reset", {{"key", "work"}});
    EXPECT_TRUE(reset.at("ok").as_bool());
    EXPECT_EQ(reset.at("key"), "agent:main:work");
    EXPECT_NE(str(reset.at("entry").at("sessionId")), sid);
    EXPECT_EQ(reset.at("entry").at("label"), "W");
    EXPECT_EQ(reset.at("entry").at("verboseLevel"), "full");
    EXPECT_EQ(reset.at("entry").at("systemSent"), false);
    EXPECT_NE(invalid_message(*c, "sessions.reset", {{"key", "work"}, {"reason", "x"}}).find("reason"),
              std::string::npos);

    auto del = call(*c, "sessions.delete", {{"key", "work"}});
    EXPECT_TRUE(del.at("ok").as_bool());
    EXPECT_TRUE(del.at("deleted").as_bool());
    EXPECT_EQ(del.at("key"), "agent:main:work");
    EXPECT_FALSE(call(*c, "sessions.delete", {{"key", "work"}}).at("deleted").as_bool());
    EXPECT_EQ(call(*c, "sessions.list").at("totalCount").as_int64(), 0);
    EXPECT_EQ(invalid_message(*c, "sessions.delete", {{"key", "main"}}),
              "Cannot delete the main session (agent:main:main).");
}

TEST(SessionsPreview, EmptyAndMissing) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    call(*c, "sessions.patch", {{"key", "work"}});
    auto res = call(*c, "sessions.preview", {{"keys", json::array{"work", "agent:main:nope"}}});
    EXPECT_TRUE(res.at("ts").is_int64());
    const auto& p = res.at("previews").as_array();
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].at("key"), "work");
    EXPECT_EQ(p[0].at("status"), "empty");
    EXPECT_TRUE(p[0].at("items").as_array().empty());
    EXPECT_EQ(p[1].at("status"), "missing");
    EXPECT_EQ(call(*c, "sessions.preview", {{"keys", json::array{"work"}}, {"limit", 500}, {"maxChars", 5000}})
                  .at("previews")
                  .as_array()
                  .size(),
              1u);
    EXPECT_NE(invalid_message(*c, "sessions.preview", {{"keys", json::array{}}}).find("keys"), std::string::npos);
    EXPECT_NE(invalid_message(*c, "sessions.preview", {}).find("keys"), std::string::npos);
    EXPECT_NE(invalid_message(*c, "sessions.preview", {{"keys", json::array{"w"}}, {"maxChars", 5}}).find("maxChars"),
              std::string::npos);
}

TEST(SessionsChanged, SecondClientSeesEventsAndReadOnlyCannotPatch) {
    GatewayProcess gw;
    auto admin = connect_client(cli_opts(gw));
    auto o = backend_opts(gw);
    o.scopes = std::vector<std::string>{"operator.read"};
    auto reader = connect_client(o);
    EXPECT_EQ(json::serialize(call(*reader, "sessions.subscribe")), R"({"subscribed":true})");

    call(*admin, "sessions.patch", {{"key", "work"}, {"label", "W"}});
    auto ev = reader->wait_event("sessions.changed", kWait);
    const auto& p = ev.at("payload").as_object();
    EXPECT_EQ(p.at("sessionKey"), "agent:main:work");
    EXPECT_EQ(p.at("reason"), "patch");
    EXPECT_TRUE(p.at("ts").is_int64());
    call(*admin, "sessions.reset", {{"key", "work"}, {"reason", "new"}});
    EXPECT_EQ(reader->wait_event("sessions.changed", kWait).at("payload").at("reason"), "new");
    call(*admin, "sessions.delete", {{"key", "work"}});
    EXPECT_EQ(reader->wait_event("sessions.changed", kWait).at("payload").at("reason"), "delete");

    // The reader can list but not patch.
    EXPECT_EQ(call(*reader, "sessions.list").at("totalCount").as_int64(), 0);
    auto err = rpc_error([&] { reader->call("sessions.patch", json::object{{"key", "work"}, {"label", "X"}}); });
    EXPECT_EQ(err.code(), "FORBIDDEN");
    EXPECT_NE(err.message_text().find("operator.admin"), std::string::npos) << err.message_text();
    EXPECT_EQ(call(*admin, "sessions.list").at("totalCount").as_int64(), 0);
}

namespace {
size_t count_events(client::GatewayClient& c, std::string_view name) {
    // A round trip first: any event sent before the reply has arrived by then.
    c.call("health", json::object{});
    size_t n = 0;
    for (const auto& f : c.take_buffered_events()) n += f.at("event").as_string() == name;
    return n;
}
}  // namespace

TEST(SessionsSubscribe, OnlySubscribersGetTargetedChangesWithoutSeq) {
    GatewayProcess gw;
    auto admin = connect_client(cli_opts(gw));
    auto sub = connect_client(cli_opts(gw));
    auto other = connect_client(cli_opts(gw));
    EXPECT_EQ(json::serialize(call(*sub, "sessions.subscribe")), R"({"subscribed":true})");

    call(*admin, "sessions.patch", {{"key", "work"}, {"label", "W"}});
    auto ev = sub->wait_event("sessions.changed", kWait);
    EXPECT_EQ(ev.at("payload").at("sessionKey"), "agent:main:work");
    EXPECT_EQ(ev.at("payload").at("reason"), "patch");
    EXPECT_FALSE(ev.contains("seq")) << json::serialize(ev);  // targeted: no frame seq
    EXPECT_EQ(count_events(*other, "sessions.changed"), 0u);
    EXPECT_EQ(count_events(*admin, "sessions.changed"), 0u);

    // Unsubscribing stops them.
    EXPECT_EQ(json::serialize(call(*sub, "sessions.unsubscribe")), R"({"subscribed":false})");
    call(*admin, "sessions.patch", {{"key", "work"}, {"label", "W2"}});
    EXPECT_EQ(count_events(*sub, "sessions.changed"), 0u);

    // With sessions.list params the reply carries that listing too (2026.9.6), and subscribes.
    auto res = call(*other, "sessions.subscribe", {{"limit", 5}, {"includeLastMessage", true}});
    EXPECT_TRUE(res.at("subscribed").as_bool());
    EXPECT_EQ(res.at("list").at("count").as_int64(), 1);
    EXPECT_EQ(res.at("list").at("sessions").at(0).at("key"), "agent:main:work");
    EXPECT_EQ(res.at("list").at("limitApplied").as_int64(), 5);
    call(*admin, "sessions.delete", {{"key", "work"}});
    EXPECT_EQ(other->wait_event("sessions.changed", kWait).at("payload").at("reason"), "delete");
    EXPECT_NE(invalid_message(*other, "sessions.subscribe", {{"limit", 0}}).find("/limit"), std::string::npos);
}

TEST(SessionsDescribe, RowOrNull) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    EXPECT_EQ(json::serialize(call(*c, "sessions.describe", {{"key", "main"}})), R"({"session":null})");
    call(*c, "sessions.patch", {{"key", "work"}, {"label", "W"}, {"thinkingLevel", "low"}});
    auto row = call(*c, "sessions.describe", {{"key", "work"}, {"includeDerivedTitles", true}}).at("session");
    ASSERT_TRUE(row.is_object()) << json::serialize(row);
    EXPECT_EQ(row.at("key"), "agent:main:work");
    EXPECT_EQ(row.at("kind"), "direct");
    EXPECT_EQ(row.at("label"), "W");
    EXPECT_EQ(row.at("thinkingLevel"), "low");
    EXPECT_TRUE(row.at("updatedAt").is_int64());
    EXPECT_EQ(row, call(*c, "sessions.list").at("sessions").at(0)) << "the same SessionRow as sessions.list";
    // A bare key with agentId is that agent's; there is none.
    EXPECT_TRUE(call(*c, "sessions.describe", {{"key", "work"}, {"agentId", "ops"}}).at("session").is_null());
    EXPECT_EQ(invalid_message(*c, "sessions.describe", {{"key", "  "}}), "key required");
    EXPECT_NE(invalid_message(*c, "sessions.describe", {}).find("key"), std::string::npos);
}

TEST(SessionsList, DefaultsAreTheDefaultAgentsPrimaryModel) {
    GatewayOptions opts;
    opts.env = {{"OPENAI_API_KEY", ""}, {"ANTHROPIC_API_KEY", ""}, {"OPENROUTER_API_KEY", ""}};
    opts.config = R"({
      models: { providers: { local: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions",
                 models: [ { id: "m1", contextWindow: 32000 } ] } } },
      agents: { defaults: { model: "local/m1" } },
    })";
    GatewayProcess gw(opts);
    auto c = connect_client(cli_opts(gw));
    EXPECT_EQ(json::serialize(call(*c, "sessions.list").at("defaults")),
              R"({"modelProvider":"local","model":"m1","contextTokens":32000})");
}
