// sessions.usage, sessions.export and sessions.import over real sockets: usage produced by chat
// runs against the scripted mock provider, transcripts moved between session keys (also with the
// `pincer sessions export/import` CLI).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "support/cli_runner.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"
#include "support/mock_llm.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string mock_config(const MockLlmServer& mock) {
    return R"({models: {providers: {mock: {baseUrl: ")" + mock.openai_base_url() +
           R"(", api: "openai-completions", apiKey: "k", models: [{id: "mock-model"}]}}},
       agents: {defaults: {model: "mock/mock-model"}}})";
}

// Sends one message to `key` and waits for the run's final chat event.
void chat(client::GatewayClient& c, const std::string& key, const std::string& message) {
    static int n = 0;
    auto ack = c.call("chat.send", json::object{{"sessionKey", key},
                                                {"message", message},
                                                {"idempotencyKey", "usage-test-" + std::to_string(++n)}})
                   .as_object();
    const std::string run_id = str(ack.at("runId"));
    c.wait_event("chat", 20s, [&](const json::object& f) {
        const auto& p = f.at("payload").as_object();
        return str(p.at("runId")) == run_id && str(p.at("state")) == "final";
    });
}

std::string date_of(std::chrono::sys_days d) {
    const std::chrono::year_month_day ymd{d};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return buf;
}

std::chrono::sys_days today_utc() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

const json::object* session_row(const json::value& res, std::string_view key) {
    for (const auto& s : res.at("sessions").as_array())
        if (str(s.at("key")) == key) return &s.as_object();
    return nullptr;
}

client::RpcError call_error(client::GatewayClient& c, std::string_view method, json::object params) {
    return rpc_error([&] { c.call(method, params); });
}

json::array history(client::GatewayClient& c, std::string_view key) {
    return c.call("chat.history", json::object{{"sessionKey", key}}).at("messages").as_array();
}

// What a history message says, without the ids and timestamps an import may not keep.
std::string gist(const json::value& m) {
    return str(m.at("role")) + ":" + json::serialize(m.as_object().contains("content") ? m.at("content") : nullptr);
}

std::vector<std::string> gists(const json::array& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(gist(m));
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

}  // namespace

TEST(SessionsUsage, TotalsModelsAndMessageCountsFromChatRuns) {
    MockLlmServer mock;
    mock.push_openai(
        MockStep::make_tool_calls({{"call_1", "write", R"({"path":"notes/a.md","content":"x\n"})"}}, "Writing."));
    mock.push_openai(MockStep::make_text("Done."));
    mock.push_openai(MockStep::make_text("Hello there."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    chat(*c, "agent:main:tools", "write a note");  // two model calls: tool call, then text
    chat(*c, "agent:main:plain", "hi");            // one model call

    auto res = c->call("sessions.usage", json::object{});
    const std::string today = date_of(today_utc());
    EXPECT_EQ(str(res.at("endDate")), today);
    EXPECT_EQ(str(res.at("startDate")), date_of(today_utc() - std::chrono::days(29)));
    EXPECT_TRUE(res.at("updatedAt").is_int64());

    const auto& sessions = res.at("sessions").as_array();
    ASSERT_EQ(sessions.size(), 2u) << json::serialize(res);
    EXPECT_EQ(sessions[0].at("key"), "agent:main:plain") << "most recent activity first";
    EXPECT_EQ(sessions[0].at("agentId"), "main");
    EXPECT_EQ(sessions[0].at("modelProvider"), "mock");
    EXPECT_EQ(sessions[0].at("model"), "mock-model");

    const json::object* tools = session_row(res, "agent:main:tools");
    ASSERT_NE(tools, nullptr);
    const auto& u = tools->at("usage").as_object();
    EXPECT_EQ(u.at("sessionId"), tools->at("sessionId"));
    EXPECT_EQ(u.at("input"), 24);
    EXPECT_EQ(u.at("output"), 14);
    EXPECT_EQ(u.at("totalTokens"), 38);
    EXPECT_EQ(u.at("messageCounts"),
              (json::object{
                  {"total", 4}, {"user", 1}, {"assistant", 2}, {"toolCalls", 1}, {"toolResults", 1}, {"errors", 0}}));
    EXPECT_EQ(u.at("toolUsage"), (json::array{json::object{{"name", "write"}, {"count", 1}}}));
    ASSERT_EQ(u.at("modelUsage").as_array().size(), 1u);
    EXPECT_EQ(u.at("modelUsage").at(0).at("count"), 2);
    EXPECT_EQ(u.at("activityDates"), (json::array{json::string(today)}));
    EXPECT_EQ(u.at("dailyBreakdown").at(0).at("tokens"), 38);
    EXPECT_LE(u.at("firstActivity").as_int64(), u.at("lastActivity").as_int64());
    EXPECT_EQ(u.at("durationMs").as_int64(), u.at("lastActivity").as_int64() - u.at("firstActivity").as_int64());

    const auto& totals = res.at("totals").as_object();
    EXPECT_EQ(totals.at("input"), 36);
    EXPECT_EQ(totals.at("output"), 21);
    EXPECT_EQ(totals.at("totalTokens"), 57);
    EXPECT_TRUE(totals.contains("totalCost"));
    EXPECT_TRUE(totals.contains("missingCostEntries"));

    const auto& agg = res.at("aggregates").as_object();
    EXPECT_EQ(agg.at("messages").at("total"), 6);
    EXPECT_EQ(agg.at("messages").at("user"), 2);
    EXPECT_EQ(agg.at("messages").at("assistant"), 3);
    EXPECT_EQ(agg.at("messages").at("toolCalls"), 1);
    EXPECT_EQ(agg.at("tools").at("totalCalls"), 1);
    EXPECT_EQ(agg.at("tools").at("uniqueTools"), 1);
    ASSERT_EQ(agg.at("byModel").as_array().size(), 1u);
    EXPECT_EQ(agg.at("byModel").at(0).at("provider"), "mock");
    EXPECT_EQ(agg.at("byModel").at(0).at("model"), "mock-model");
    EXPECT_EQ(agg.at("byModel").at(0).at("count"), 3);
    EXPECT_EQ(agg.at("byModel").at(0).at("totals").at("totalTokens"), 57);
    EXPECT_EQ(agg.at("byProvider").at(0).at("provider"), "mock");
    EXPECT_EQ(agg.at("byAgent"), (json::array{json::object{{"agentId", "main"}, {"totals", totals}}}));
    ASSERT_EQ(agg.at("daily").as_array().size(), 1u);
    EXPECT_EQ(agg.at("daily").at(0), (json::object{{"date", today},
                                                   {"tokens", 57},
                                                   {"cost", totals.at("totalCost")},
                                                   {"messages", 6},
                                                   {"toolCalls", 1},
                                                   {"errors", 0}}));

    // One key (request keys are canonicalised), a limit, an unknown key.
    auto one = c->call("sessions.usage", json::object{{"key", "TOOLS"}});
    ASSERT_EQ(one.at("sessions").as_array().size(), 1u);
    EXPECT_EQ(one.at("sessions").at(0).at("key"), "agent:main:tools");
    EXPECT_EQ(one.at("totals").at("totalTokens"), 38);
    auto limited = c->call("sessions.usage", json::object{{"limit", 1}});
    ASSERT_EQ(limited.at("sessions").as_array().size(), 1u);
    EXPECT_EQ(limited.at("sessions").at(0).at("key"), "agent:main:plain");
    EXPECT_EQ(limited.at("totals").at("totalTokens"), 19) << "totals cover the sessions returned";
    auto unknown = c->call("sessions.usage", json::object{{"key", "agent:main:nope"}});
    EXPECT_TRUE(unknown.at("sessions").as_array().empty());
    EXPECT_EQ(unknown.at("totals").at("totalTokens"), 0);

    // A window in the past has nothing; an explicit window and offset are echoed back.
    auto past = c->call("sessions.usage", json::object{{"startDate", "2020-01-01"}, {"endDate", "2020-01-31"}});
    EXPECT_TRUE(past.at("sessions").as_array().empty());
    EXPECT_EQ(past.at("startDate"), "2020-01-01");
    EXPECT_EQ(past.at("endDate"), "2020-01-31");
    auto east = c->call("sessions.usage", json::object{{"mode", "specific"}, {"utcOffset", "UTC+14"}});
    const std::string east_today =
        date_of(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() + 14h));
    EXPECT_EQ(str(east.at("endDate")), east_today);
    EXPECT_EQ(east.at("totals").at("totalTokens"), 57);
    EXPECT_EQ(c->call("sessions.usage", json::object{{"mode", "gateway"}, {"includeContextWeight", true}})
                  .at("totals")
                  .at("totalTokens"),
              57);
}

TEST(SessionsUsage, RejectsBadDatesAndOffsets) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    struct Case {
        json::object params;
        std::string field;
    };
    const std::vector<Case> cases = {
        {{{"startDate", "2025-13-01"}}, "startDate"},
        {{{"endDate", "yesterday"}}, "endDate"},
        {{{"endDate", 20250101}}, "endDate"},
        {{{"startDate", "2025-02-01"}, {"endDate", "2025-01-01"}}, "endDate"},
        {{{"startDate", "2020-01-01"}, {"endDate", "2025-01-01"}}, "startDate"},
        {{{"mode", "specific"}, {"utcOffset", "UTC+15"}}, "utcOffset"},
        {{{"mode", "specific"}, {"utcOffset", "+02:00"}}, "utcOffset"},
        {{{"mode", "lunar"}}, "mode"},
        {{{"limit", 0}}, "limit"},
    };
    for (const auto& tc : cases) {
        auto err = call_error(*c, "sessions.usage", tc.params);
        EXPECT_EQ(err.code(), "INVALID_REQUEST") << json::serialize(tc.params);
        EXPECT_NE(err.message_text().find(tc.field), std::string::npos)
            << json::serialize(tc.params) << " -> " << err.message_text();
    }
    auto ok = c->call("sessions.usage", json::object{{"startDate", "2024-02-29"}, {"endDate", "2024-03-01"}});
    EXPECT_TRUE(ok.at("sessions").as_array().empty());
}

TEST(SessionsTransfer, ExportThenImportIntoAnotherKey) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_tool_calls({{"call_1", "write", R"({"path":"b.md","content":"y"})"}}));
    mock.push_openai(MockStep::make_text("Saved."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    c->call("sessions.subscribe", json::object{});  // sessions.changed is sent to subscribers only
    chat(*c, "agent:main:main", "save y");
    const json::array original = history(*c, "agent:main:main");
    ASSERT_EQ(original.size(), 4u);

    auto exported = c->call("sessions.export", json::object{{"key", "main"}}).as_object();
    EXPECT_EQ(exported.at("key"), "agent:main:main");
    const std::string sid = str(exported.at("sessionId"));
    const std::string jsonl = str(exported.at("jsonl"));
    const auto lines = lines_of(jsonl);
    ASSERT_EQ(lines.size(), 5u) << jsonl;
    auto header = json::parse(lines[0]).as_object();
    EXPECT_EQ(header.at("type"), "session");
    EXPECT_EQ(header.at("version"), 3);
    EXPECT_EQ(str(header.at("id")), sid);
    EXPECT_EQ(str(header.at("cwd")), (gw.state_dir() / "workspace").string());
    EXPECT_EQ(json::parse(lines[1]).at("type"), "message");

    // The header's id belongs to agent:main:main, so the copy gets its own.
    auto imported = c->call("sessions.import", json::object{{"key", "copy"}, {"jsonl", jsonl}}).as_object();
    EXPECT_EQ(imported.at("ok"), true);
    EXPECT_EQ(imported.at("key"), "agent:main:copy");
    EXPECT_EQ(imported.at("entries"), 4);
    EXPECT_NE(str(imported.at("sessionId")), sid);
    auto ev = c->wait_event("sessions.changed", 5s, [](const json::object& f) {
                   return f.at("payload").at("reason") == "import";
               }).at("payload");
    EXPECT_EQ(ev.at("sessionKey"), "agent:main:copy");
    EXPECT_EQ(ev.at("sessionId"), imported.at("sessionId"));
    EXPECT_EQ(gists(history(*c, "agent:main:copy")), gists(original));
    auto got = c->call("sessions.get", json::object{{"key", "agent:main:copy"}});
    EXPECT_EQ(got.at("entry").at("sessionId"), imported.at("sessionId"));

    // A file whose id nobody uses keeps it; the export of the copy has the same entries.
    std::string fresh = jsonl;
    fresh.replace(fresh.find(sid), sid.size(), "0b0e7a4c-6c2a-4d1e-9b7e-3f1c2d4e5f60");
    auto kept = c->call("sessions.import", json::object{{"key", "agent:main:fresh"}, {"jsonl", fresh}});
    EXPECT_EQ(kept.at("sessionId"), "0b0e7a4c-6c2a-4d1e-9b7e-3f1c2d4e5f60");
    auto again = c->call("sessions.export", json::object{{"key", "agent:main:fresh"}});
    EXPECT_EQ(str(again.at("jsonl")), fresh);
}

TEST(SessionsTransfer, ImportErrorsAndReplace) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_text("First."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    chat(*c, "agent:main:main", "one");
    const std::string jsonl = str(c->call("sessions.export", json::object{{"key", "main"}}).at("jsonl"));

    auto bad =
        call_error(*c, "sessions.import", json::object{{"key", "x"}, {"jsonl", lines_of(jsonl)[0] + "\n{not json}\n"}});
    EXPECT_EQ(bad.code(), "INVALID_REQUEST");
    EXPECT_EQ(bad.message_text().rfind("transcript line 2: ", 0), 0u) << bad.message_text();
    auto no_header = call_error(*c, "sessions.import", json::object{{"key", "x"}, {"jsonl", ""}});
    EXPECT_EQ(no_header.code(), "INVALID_REQUEST");
    EXPECT_EQ(no_header.message_text().rfind("transcript line 1: ", 0), 0u) << no_header.message_text();
    EXPECT_EQ(call_error(*c, "sessions.import", json::object{{"key", "  "}, {"jsonl", jsonl}}).message_text(),
              "key is required");
    EXPECT_EQ(call_error(*c, "sessions.import", json::object{{"key", "x"}}).code(), "INVALID_REQUEST");
    auto missing = call_error(*c, "sessions.export", json::object{{"key", "nope"}});
    EXPECT_EQ(missing.code(), "INVALID_REQUEST");
    EXPECT_EQ(missing.message_text(), "session not found: agent:main:nope");
    // Nothing was created by the failed imports.
    EXPECT_EQ(call_error(*c, "sessions.get", json::object{{"key", "x"}}).code(), "INVALID_REQUEST");

    // A session with a transcript is only overwritten on request.
    auto taken = call_error(*c, "sessions.import", json::object{{"key", "main"}, {"jsonl", jsonl}});
    EXPECT_EQ(taken.code(), "INVALID_REQUEST");
    EXPECT_EQ(taken.message_text(), "session already has a transcript: agent:main:main (pass replace:true)");

    mock.push_openai(MockStep::make_text("Second."));
    chat(*c, "agent:main:main", "two");
    ASSERT_EQ(history(*c, "agent:main:main").size(), 4u);
    auto replaced =
        c->call("sessions.import", json::object{{"key", "main"}, {"jsonl", jsonl}, {"replace", true}}).as_object();
    EXPECT_EQ(replaced.at("entries"), 2);
    EXPECT_EQ(str(replaced.at("sessionId")), str(json::parse(lines_of(jsonl)[0]).at("id")))
        << "the key's own id is reused";
    auto after = history(*c, "agent:main:main");
    ASSERT_EQ(after.size(), 2u);
    EXPECT_NE(json::serialize(after[1]).find("First."), std::string::npos);
}

TEST(SessionsTransfer, ReadOnlyClientCanExportButNotImport) {
    GatewayProcess gw;
    auto admin = connect_client(cli_opts(gw));
    admin->call("sessions.patch", json::object{{"key", "agent:main:ro"}, {"label", "ro"}});

    auto o = backend_opts(gw);
    o.scopes = std::vector<std::string>{"operator.read"};
    auto reader = connect_client(o);
    auto exported = reader->call("sessions.export", json::object{{"key", "agent:main:ro"}});
    EXPECT_EQ(lines_of(str(exported.at("jsonl"))).size(), 1u) << "just the header";
    EXPECT_TRUE(reader->call("sessions.usage", json::object{}).at("sessions").is_array());
    auto err = call_error(*reader, "sessions.import",
                          json::object{{"key", "agent:main:ro2"}, {"jsonl", str(exported.at("jsonl"))}});
    EXPECT_NE(err.message_text().find("missing scope: operator.admin"), std::string::npos) << err.message_text();

    // Only the reference's method is advertised: the schema-checked method list knows no others.
    const auto& methods = admin->hello().at("features").at("methods").as_array();
    auto advertised = [&](std::string_view m) {
        return std::find(methods.begin(), methods.end(), json::value(m)) != methods.end();
    };
    EXPECT_TRUE(advertised("sessions.usage"));
    EXPECT_FALSE(advertised("sessions.export"));
    EXPECT_FALSE(advertised("sessions.import"));
}

TEST(SessionsTransfer, CliExportsToAFileAndImports) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_text("From the CLI."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    chat(*c, "agent:main:main", "hello cli");
    const auto file = gw.state_dir() / "main.jsonl";

    auto out = cli(gw, with({"sessions", "export", "main", "--out", file.string()}, target(gw)));
    EXPECT_EQ(out.exit_code, 0) << out.err;
    EXPECT_EQ(out.out, "Wrote 2 entries of agent:main:main to " + file.string() + "\n");
    EXPECT_EQ(read_file(file), str(c->call("sessions.export", json::object{{"key", "main"}}).at("jsonl")));
    auto stdout_export = cli(gw, with({"sessions", "export", "main"}, target(gw)));
    EXPECT_EQ(stdout_export.out, read_file(file));

    auto in = cli(gw, with({"sessions", "import", "copy", file.string()}, target(gw)));
    EXPECT_EQ(in.exit_code, 0) << in.err;
    EXPECT_EQ(in.out.rfind("Imported 2 entries into agent:main:copy (session ", 0), 0u) << in.out;
    EXPECT_EQ(gists(history(*c, "agent:main:copy")), gists(history(*c, "agent:main:main")));

    auto again = cli(gw, with({"sessions", "import", "copy", file.string()}, target(gw)));
    EXPECT_EQ(again.exit_code, 1) << again.out;
    EXPECT_NE(again.err.find("pass replace:true"), std::string::npos) << again.err;
    auto replaced = cli(gw, with({"sessions", "import", "copy", file.string(), "--replace"}, target(gw)));
    EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
    auto unreadable =
        cli(gw, with({"sessions", "import", "copy", (gw.state_dir() / "nope.jsonl").string()}, target(gw)));
    EXPECT_EQ(unreadable.exit_code, 2);
    EXPECT_NE(unreadable.err.find("cannot read"), std::string::npos) << unreadable.err;
}
