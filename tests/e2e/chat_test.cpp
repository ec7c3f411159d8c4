// chat.send / chat.history / chat.abort / chat.inject / agent / agent.wait over real sockets, with
// the scripted mock provider standing in for the model.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <csignal>
#include <filesystem>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"
#include "support/mock_llm.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr auto kRun = 20s;

std::string mock_config(const MockLlmServer& mock, std::string_view extra = {}) {
    return R"({models: {providers: {mock: {baseUrl: ")" + mock.openai_base_url() +
           R"(", api: "openai-completions", apiKey: "test-key", models: [{id: "mock-model", contextWindow: 32000, input: ["text", "image"]}]},
               claude: {baseUrl: ")" +
           mock.anthropic_base_url() +
           R"(", api: "anthropic-messages", apiKey: "test-key", models: [{id: "claude-test"}]}}},
       agents: {defaults: {model: "mock/mock-model"}}, )" +
           std::string(extra) + "}";
}

client::ConnectOptions with_protocol(client::ConnectOptions o, int version) {
    o.min_protocol = version;
    o.max_protocol = version;
    return o;
}

bool run_event(const json::object& frame, const std::string& run_id, std::string_view state) {
    const auto& p = frame.at("payload").as_object();
    return str(p.at("runId")) == run_id && str(p.at("state")) == state;
}

json::object wait_chat(client::GatewayClient& c, const std::string& run_id, std::string_view state) {
    return c.wait_event("chat", kRun, [&](const json::object& f) { return run_event(f, run_id, state); })
        .at("payload")
        .as_object();
}

// The text of a message: its string content, or its text blocks joined.
std::string content_text(const json::value& message) {
    const auto& content = message.at("content");
    if (content.is_string()) return std::string(content.as_string());
    std::string out;
    for (const auto& b : content.as_array())
        if (b.at("type") == "text") out += b.at("text").as_string();
    return out;
}

// The text of a chat event's message.
std::string message_text(const json::object& payload) { return content_text(payload.at("message")); }

std::string send(client::GatewayClient& c, json::object params) {
    auto ack = c.call("chat.send", params).as_object();
    EXPECT_EQ(ack.at("status"), "started");
    return str(ack.at("runId"));
}

json::array history(client::GatewayClient& c, std::string_view key = "agent:main:main") {
    return c.call("chat.history", json::object{{"sessionKey", key}}).at("messages").as_array();
}

}  // namespace

TEST(Chat, HostedExampleStreamsFinalToEveryClient) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_text("You have a dentist appointment at 3 pm."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto sender = connect_client(with_protocol(cli_opts(gw), 4));
    auto watcher_v3 = connect_client(with_protocol(backend_opts(gw), 3));

    // The hosted docs' minimal example: no sessionKey, no idempotencyKey.
    auto ack = sender->call("chat.send", json::object{{"message", "What's on my schedule today?"}}).as_object();
    EXPECT_EQ(ack.at("status"), "started");
    const std::string run_id = str(ack.at("runId"));
    EXPECT_FALSE(run_id.empty());

    auto final_v4 = wait_chat(*sender, run_id, "final");
    EXPECT_EQ(final_v4.at("sessionKey"), "agent:main:main");
    EXPECT_EQ(message_text(final_v4), "You have a dentist appointment at 3 pm.");
    auto final_v3 = wait_chat(*watcher_v3, run_id, "final");
    EXPECT_EQ(message_text(final_v3), "You have a dentist appointment at 3 pm.");

    // v4 deltas carry deltaText; v3 deltas carry only the cumulative text.
    std::string rebuilt;
    for (const auto& f : sender->take_buffered_events()) {
        if (f.at("event") != "chat") continue;
        const auto& p = f.at("payload").as_object();
        if (p.at("state") != "delta") continue;
        ASSERT_TRUE(p.contains("deltaText"));
        if (p.contains("replace")) rebuilt.clear();
        rebuilt += p.at("deltaText").as_string();
        EXPECT_EQ(message_text(p), rebuilt);
    }
    for (const auto& f : watcher_v3->take_buffered_events()) {
        if (f.at("event") != "chat") continue;
        EXPECT_FALSE(f.at("payload").as_object().contains("deltaText"));
    }

    // The model got the user's words; the transcript has both turns.
    auto req = mock.requests().back().json().as_object();
    EXPECT_EQ(req.at("model"), "mock-model");
    EXPECT_NE(json::serialize(req.at("messages")).find("What's on my schedule today?"), std::string::npos);
    auto msgs = history(*sender);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].at("role"), "user");
    EXPECT_EQ(msgs[1].at("role"), "assistant");
    EXPECT_EQ(msgs[1].at("provider"), "mock");
    EXPECT_TRUE(msgs[1].at("__openclaw").as_object().contains("id"));
}

TEST(Chat, AgentEventsHaveRunSeqAndLifecycle) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_thinking("let me think", "Answer."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "run-agent-events"}});
    wait_chat(*c, run_id, "final");
    int64_t last_seq = 0;
    std::vector<std::string> lifecycle;
    bool saw_assistant = false, saw_thinking = false;
    std::string streamed;
    for (const auto& f : c->take_buffered_events()) {
        if (f.at("event") != "agent") continue;
        const auto& p = f.at("payload").as_object();
        EXPECT_EQ(str(p.at("runId")), run_id);
        EXPECT_EQ(p.at("seq").as_int64(), last_seq + 1);
        last_seq = p.at("seq").as_int64();
        if (p.at("stream") == "lifecycle") lifecycle.push_back(str(p.at("data").at("phase")));
        if (p.at("stream") == "assistant") {
            saw_assistant = true;
            // Merged or not, the deltas rebuild the text exactly.
            const auto& d = p.at("data").as_object();
            if (d.contains("replace")) streamed.clear();
            streamed += d.at("delta").as_string();
            EXPECT_EQ(streamed, str(d.at("text")));
        }
        if (p.at("stream") == "thinking") saw_thinking = true;
    }
    EXPECT_EQ(lifecycle, (std::vector<std::string>{"start", "end"}));
    EXPECT_TRUE(saw_assistant);
    EXPECT_EQ(streamed, "Answer.");
    EXPECT_TRUE(saw_thinking);
}

TEST(Chat, ToolRoundTripWritesWorkspaceFile) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_tool_calls(
        {{"call_1", "write", R"({"path":"notes/todo.md","content":"buy milk\n"})"}}, "Saving that."));
    mock.push_openai(MockStep::make_text("Saved your note."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto opts = cli_opts(gw);
    opts.caps = {"tool-events"};
    auto with_tools = connect_client(opts);
    auto without = connect_client(backend_opts(gw));

    const std::string run_id = send(*with_tools, {{"message", "note: buy milk"}, {"idempotencyKey", "tool-run"}});
    auto fin = wait_chat(*with_tools, run_id, "final");
    EXPECT_EQ(message_text(fin), "Saved your note.");
    EXPECT_EQ(read_file(gw.state_dir() / "workspace" / "notes" / "todo.md"), "buy milk\n");

    std::vector<std::string> phases;
    for (const auto& f : with_tools->take_buffered_events())
        if (f.at("event") == "agent" && f.at("payload").at("stream") == "tool")
            phases.push_back(str(f.at("payload").at("data").at("phase")));
    EXPECT_EQ(phases, (std::vector<std::string>{"start", "result"}));
    wait_chat(*without, run_id, "final");
    for (const auto& f : without->take_buffered_events())
        EXPECT_FALSE(f.at("event") == "agent" && f.at("payload").at("stream") == "tool") << "tool event leaked";

    // The second model call saw the tool result; history shows call and result.
    auto reqs = mock.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_NE(reqs[1].body.find("\"tool_call_id\":\"call_1\""), std::string::npos) << reqs[1].body;
    auto msgs = history(*with_tools);
    ASSERT_EQ(msgs.size(), 4u);
    EXPECT_EQ(msgs[2].at("role"), "toolResult");
    EXPECT_EQ(msgs[2].at("isError"), false);
}

TEST(Chat, ToolCannotEscapeTheWorkspace) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_tool_calls({{"call_x", "write", R"({"path":"../escape.txt","content":"x"})"}}));
    mock.push_openai(MockStep::make_text("I could not write there."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "write outside"}, {"idempotencyKey", "escape-run"}});
    wait_chat(*c, run_id, "final");
    EXPECT_FALSE(fs::exists(gw.state_dir() / "escape.txt"));
    auto msgs = history(*c);
    ASSERT_GE(msgs.size(), 3u);
    EXPECT_EQ(msgs[2].at("role"), "toolResult");
    EXPECT_EQ(msgs[2].at("isError"), true);
}

TEST(Chat, MissingKeyEndsWithErrorNamingProvider) {
    GatewayProcess gw(
        {.config = R"({agents: {defaults: {model: "openai/gpt-4o-mini"}}})", .env = {{"OPENAI_API_KEY", ""}}});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hello"}, {"idempotencyKey", "no-key"}});
    auto err = wait_chat(*c, run_id, "error");
    const std::string msg = str(err.at("errorMessage"));
    EXPECT_NE(msg.find("openai"), std::string::npos) << msg;
    EXPECT_NE(msg.find("OPENAI_API_KEY"), std::string::npos) << msg;
    auto waited = c->call("agent.wait", json::object{{"runId", run_id}, {"timeoutMs", 1000}}).as_object();
    EXPECT_EQ(waited.at("status"), "error");
}

TEST(Chat, UnreachableProviderEndsWithError) {
    GatewayProcess gw({.config = R"({models: {providers: {dead: {baseUrl: "http://127.0.0.1:9/v1", apiKey: "k",
                                     api: "openai-completions"}}}, agents: {defaults: {model: "dead/m"}}})"});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hello"}, {"idempotencyKey", "dead-provider"}});
    auto err = wait_chat(*c, run_id, "error");
    EXPECT_NE(str(err.at("errorMessage")).find("dead"), std::string::npos) << str(err.at("errorMessage"));
}

TEST(Chat, RateLimitIsRetriedThenSucceeds) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_http_error(429, 0));
    mock.push_openai(MockStep::make_text("after the retry"));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "retry-run"}});
    EXPECT_EQ(message_text(wait_chat(*c, run_id, "final")), "after the retry");
    EXPECT_EQ(mock.requests().size(), 2u);
}

TEST(Chat, FallsBackToNextModelOnAuthFailure) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_http_error(401));
    mock.push_anthropic(MockStep::make_text("from the fallback"));
    GatewayProcess gw({.config = mock_config(mock, R"(agents: {defaults: {model: {primary: "mock/mock-model",
                                                     fallbacks: ["claude/claude-test"]}}})")});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "fallback-run"}});
    EXPECT_EQ(message_text(wait_chat(*c, run_id, "final")), "from the fallback");
    bool saw_fallback = false;
    for (const auto& f : c->take_buffered_events())
        if (f.at("event") == "agent" && f.at("payload").at("stream") == "lifecycle" &&
            f.at("payload").at("data").at("phase") == "fallback")
            saw_fallback = true;
    EXPECT_TRUE(saw_fallback);
}

TEST(Chat, ServerErrorAndMalformedStreamEndWithErrors) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_malformed_sse());
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "malformed-run"}});
    auto err = wait_chat(*c, run_id, "error");
    EXPECT_FALSE(str(err.at("errorMessage")).empty());
    // The failed turn is in the history with its error.
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].at("stopReason"), "error");
}

TEST(Chat, CutStreamKeepsPartialTextAndReportsError) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_cut_mid_reply("this reply is cut off before it ends"));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "cut-run"}});
    wait_chat(*c, run_id, "error");
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].at("stopReason"), "error");
    EXPECT_FALSE(content_text(msgs[1]).empty());
}

TEST(Chat, StalledStreamTimesOut) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_stall());
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "stall-run"}, {"timeoutMs", 1500}});
    auto err = wait_chat(*c, run_id, "error");
    EXPECT_EQ(err.at("errorKind"), "timeout");
    ASSERT_TRUE(mock.wait_for_stream_closed_by_client(5s));
}

TEST(Chat, AbortMidStreamKeepsPartial) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_slow_text("one two three four five six seven eight nine ten", 150));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "count"}, {"idempotencyKey", "abort-run"}});
    wait_chat(*c, run_id, "delta");
    auto res = c->call("chat.abort", json::object{{"sessionKey", "main"}, {"runId", run_id}}).as_object();
    EXPECT_EQ(res.at("aborted"), true);
    EXPECT_EQ(res.at("runIds").as_array().size(), 1u);
    auto ab = wait_chat(*c, run_id, "aborted");
    EXPECT_EQ(ab.at("stopReason"), "rpc");
    const std::string partial = message_text(ab);
    EXPECT_FALSE(partial.empty());
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].at("stopReason"), "aborted");
    EXPECT_EQ(content_text(msgs[1]), partial);
    ASSERT_TRUE(mock.wait_for_stream_closed_by_client(5s));
    auto waited = c->call("agent.wait", json::object{{"runId", run_id}}).as_object();
    EXPECT_EQ(waited.at("status"), "timeout");
    EXPECT_EQ(waited.at("stopReason"), "rpc");
}

TEST(Chat, StopPhraseAbortsTheSession) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_slow_text("a long answer that keeps going and going", 150));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "talk"}, {"idempotencyKey", "stop-run"}});
    wait_chat(*c, run_id, "delta");
    auto res = c->call("chat.send", json::object{{"message", "/stop"}, {"idempotencyKey", "stop-cmd"}}).as_object();
    EXPECT_EQ(res.at("ok"), true);
    EXPECT_EQ(res.at("aborted"), true);
    EXPECT_EQ(wait_chat(*c, run_id, "aborted").at("stopReason"), "stop");
}

TEST(Chat, DuplicateKeyIsInFlightThenCached) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_slow_text("slow and steady", 100));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    json::object params{{"message", "hi"}, {"idempotencyKey", "dup-key"}};
    EXPECT_EQ(c->call("chat.send", params).at("status"), "started");
    EXPECT_EQ(c->call("chat.send", params).at("status"), "in_flight");
    wait_chat(*c, "dup-key", "final");
    auto again = c->call("chat.send", params).as_object();
    EXPECT_EQ(again.at("status"), "ok");
    EXPECT_EQ(again.at("runId"), "dup-key");
    EXPECT_EQ(mock.requests().size(), 1u);
}

TEST(Chat, InvalidRequestsNameTheField) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto e1 = rpc_error([&] { c->call("chat.send", json::object{{"message", ""}}); });
    EXPECT_EQ(e1.code(), "INVALID_REQUEST");
    EXPECT_NE(e1.message_text().find("message"), std::string::npos);
    auto e2 = rpc_error([&] { c->call("chat.send", json::object{{"message", std::string("a\0b", 3)}}); });
    EXPECT_NE(e2.message_text().find("null bytes"), std::string::npos);
    auto e3 = rpc_error([&] { c->call("chat.send", json::object{{"message", 5}}); });
    EXPECT_NE(e3.message_text().find("message"), std::string::npos);
    auto e4 = rpc_error([&] { c->call("chat.history", json::object{{"sessionKey", "main"}, {"limit", 0}}); });
    EXPECT_NE(e4.message_text().find("limit"), std::string::npos);
    auto e5 = rpc_error([&] {
        c->call("chat.send",
                json::object{{"message", "x"}, {"attachments", json::array{json::object{{"content", "%%"}}}}});
    });
    EXPECT_NE(e5.message_text().find("attachments[0]"), std::string::npos);
    auto e6 = rpc_error([&] { c->call("agent", json::object{{"message", "x"}}); });
    EXPECT_NE(e6.message_text().find("idempotencyKey"), std::string::npos);
}

TEST(Chat, ImageAttachmentReachesTheProvider) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_text("A red pixel."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    // A 1x1 PNG.
    const std::string png =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    const std::string run_id =
        send(*c, {{"message", "what is this?"},
                  {"idempotencyKey", "image-run"},
                  {"attachments", json::array{json::object{{"mimeType", "image/png"}, {"content", png}}}}});
    wait_chat(*c, run_id, "final");
    EXPECT_NE(mock.requests().back().body.find("data:image/png;base64," + png), std::string::npos);
    auto msgs = history(*c);
    const auto& image = msgs[0].at("content").as_array().at(1).as_object();
    EXPECT_EQ(image.at("omitted"), true);
    EXPECT_FALSE(image.contains("data"));
}

TEST(Chat, HistoryLimitAndMaxChars) {
    MockLlmServer mock;
    mock.set_default_step(MockStep::make_text("0123456789abcdefghij"));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    for (int i = 0; i < 3; ++i) {
        const std::string id = "hist-" + std::to_string(i);
        send(*c, {{"message", "turn " + std::to_string(i)}, {"idempotencyKey", id}});
        wait_chat(*c, id, "final");
    }
    auto res = c->call("chat.history", json::object{{"sessionKey", "main"}, {"limit", 2}, {"maxChars", 5}}).as_object();
    EXPECT_FALSE(str(res.at("sessionId")).empty());
    const auto& msgs = res.at("messages").as_array();
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(content_text(msgs[1]), "01234…(truncated)…");
    auto none = c->call("chat.history", json::object{{"sessionKey", "agent:main:nobody"}}).as_object();
    EXPECT_TRUE(none.at("messages").as_array().empty());
}

TEST(Chat, InjectAppendsAndEmitsFinal) {
    GatewayProcess gw;
    auto c = connect_client(cli_opts(gw));
    auto missing = rpc_error([&] { c->call("chat.inject", json::object{{"sessionKey", "main"}, {"message", "x"}}); });
    EXPECT_EQ(missing.message_text(), "session not found");
    c->call("sessions.patch", json::object{{"key", "main"}, {"label", "home"}});
    auto res = c->call("chat.inject", json::object{{"sessionKey", "main"}, {"message", "note"}, {"label", "cron"}})
                   .as_object();
    const std::string id = str(res.at("messageId"));
    auto ev = c->wait_event("chat", kRun).at("payload").as_object();
    EXPECT_EQ(str(ev.at("runId")), "inject-" + id);
    EXPECT_EQ(ev.at("seq").as_int64(), 0);
    EXPECT_EQ(ev.at("state"), "final");
    EXPECT_EQ(message_text(ev), "[cron]\n\nnote");
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].at("model"), "gateway-injected");
}

TEST(Agent, TwoResponsesUnderOneRequestId) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_text("agent answer"));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    json::value params = json::object{{"message", "do it"}, {"idempotencyKey", "agent-1"}, {"sessionKey", "jobs"}};
    const std::string id = c->send_request("agent", &params);
    auto first = c->wait_response(id, kRun);
    EXPECT_EQ(first.at("ok"), true);
    EXPECT_EQ(first.at("payload").at("status"), "accepted");
    auto second = c->wait_response(id, kRun);
    EXPECT_EQ(second.at("ok"), true);
    const auto& p = second.at("payload").as_object();
    EXPECT_EQ(p.at("status"), "ok");
    EXPECT_EQ(p.at("summary"), "completed");
    EXPECT_EQ(p.at("result").at("payloads").at(0).at("text"), "agent answer");
    EXPECT_EQ(p.at("result").at("meta").at("agentMeta").at("provider"), "mock");
    auto waited = c->call("agent.wait", json::object{{"runId", "agent-1"}}).as_object();
    EXPECT_EQ(waited.at("status"), "ok");
    EXPECT_EQ(history(*c, "agent:main:jobs").size(), 2u);
    auto bad = rpc_error([&] {
        c->call("agent", json::object{{"message", "x"}, {"idempotencyKey", "agent-2"}, {"agentId", "ghost"}});
    });
    EXPECT_EQ(bad.message_text(), "unknown agent id \"ghost\"");
}

TEST(Agent, WaitTimesOutForARunStillGoing) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_slow_text("slow slow slow slow slow slow", 200));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "hi"}, {"idempotencyKey", "wait-run"}});
    auto waited = c->call("agent.wait", json::object{{"runId", run_id}, {"timeoutMs", 100}}).as_object();
    EXPECT_EQ(waited.at("status"), "timeout");
    EXPECT_FALSE(waited.contains("stopReason"));
    auto done = c->call("agent.wait", json::object{{"runId", run_id}, {"timeoutMs", 20000}}, 25s).as_object();
    EXPECT_EQ(done.at("status"), "ok");
}

TEST(Chat, KillDuringStreamKeepsHistoryAfterRestart) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_slow_text(std::string(400, 'x'), 20));
    TempDir state("chat-kill");
    std::string partial;
    {
        GatewayProcess gw({.config = mock_config(mock), .state_dir = state.path});
        auto c = connect_client(cli_opts(gw));
        const std::string run_id = send(*c, {{"message", "remember this"}, {"idempotencyKey", "kill-run"}});
        // Wait until the partial text has been saved at least once (saves are at most 500 ms apart).
        auto start = std::chrono::steady_clock::now();
        for (;;) {
            wait_chat(*c, run_id, "delta");
            if (std::chrono::steady_clock::now() - start > 1200ms) break;
        }
        gw.stop(SIGKILL);
    }
    GatewayProcess gw({.config = mock_config(mock), .state_dir = state.path});
    auto c = connect_client(cli_opts(gw));
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].at("role"), "user");
    EXPECT_EQ(content_text(msgs[0]), "remember this");
    EXPECT_EQ(msgs[1].at("stopReason"), "aborted");
    EXPECT_FALSE(content_text(msgs[1]).empty());
    auto waited = c->call("agent.wait", json::object{{"runId", "kill-run"}, {"timeoutMs", 100}}).as_object();
    EXPECT_EQ(waited.at("status"), "timeout");
    EXPECT_EQ(waited.at("stopReason"), "restart");
    auto row = c->call("sessions.list").at("sessions").at(0).as_object();
    EXPECT_EQ(row.at("abortedLastRun"), true);
}

namespace {

void chat_turns(client::GatewayClient& c, int n, std::string_view prefix) {
    for (int i = 0; i < n; ++i) {
        const std::string id = std::string(prefix) + std::to_string(i);
        send(c, {{"message", "turn " + std::to_string(i)}, {"idempotencyKey", id}});
        wait_chat(c, id, "final");
    }
}

}  // namespace

TEST(SessionsCompact, LineTrimArchivesThenKeepsTheTail) {
    MockLlmServer mock;
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    auto none = c->call("sessions.compact", json::object{{"key", "main"}, {"maxLines", 2}}).as_object();
    EXPECT_EQ(none.at("compacted"), false);
    EXPECT_EQ(none.at("reason"), "no sessionId");
    chat_turns(*c, 3, "trim-");
    auto res = c->call("sessions.compact", json::object{{"key", "main"}, {"maxLines", 2}}).as_object();
    EXPECT_EQ(res.at("compacted"), true);
    EXPECT_EQ(res.at("kept").as_int64(), 2);
    const fs::path archive = str(res.at("archived"));
    EXPECT_NE(read_file(archive).find("turn 0"), std::string::npos);
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(content_text(msgs[0]), "turn 2");
    auto again = c->call("sessions.compact", json::object{{"key", "main"}, {"maxLines", 5}}).as_object();
    EXPECT_EQ(again.at("compacted"), false);
    EXPECT_EQ(again.at("kept").as_int64(), 2);
}

TEST(SessionsCompact, SummaryReplacesOlderTurnsInTheNextPrompt) {
    MockLlmServer mock;
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    chat_turns(*c, 4, "sum-");
    mock.push_openai(MockStep::make_text("The user counted turns 0 to 3."));
    auto res = c->call("sessions.compact", json::object{{"key", "main"}}, 20s).as_object();
    ASSERT_EQ(res.at("compacted"), true);
    EXPECT_EQ(res.at("result").at("summary"), "The user counted turns 0 to 3.");
    const std::string summarise_request = mock.requests().back().body;
    EXPECT_NE(summarise_request.find("turn 0"), std::string::npos);

    send(*c, {{"message", "what did I count?"}, {"idempotencyKey", "after-compact"}});
    wait_chat(*c, "after-compact", "final");
    const std::string next = mock.requests().back().body;
    EXPECT_NE(next.find("The user counted turns 0 to 3."), std::string::npos);
    EXPECT_EQ(next.find("turn 0"), std::string::npos) << "summarised turns are not sent again";
    EXPECT_NE(next.find("turn 3"), std::string::npos) << "the kept tail is sent verbatim";
    // A second compaction right away has little left to summarise.
    auto again = c->call("sessions.compact", json::object{{"key", "main"}}, 20s).as_object();
    EXPECT_EQ(again.at("compacted"), false);
}

TEST(Chat, SessionsListDerivesTitleAndLastMessage) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_text("Here is   your plan."));
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    send(*c, {{"message", "Plan my\nweek please"}, {"idempotencyKey", "title-run"}});
    wait_chat(*c, "title-run", "final");
    auto row = c->call("sessions.list", json::object{{"includeDerivedTitles", true}, {"includeLastMessage", true}})
                   .at("sessions")
                   .at(0)
                   .as_object();
    EXPECT_EQ(row.at("derivedTitle"), "Plan my week please");
    EXPECT_EQ(row.at("lastMessagePreview"), "Here is your plan.");
    EXPECT_EQ(row.at("modelProvider"), "mock");
    auto plain = c->call("sessions.list").at("sessions").at(0).as_object();
    EXPECT_FALSE(plain.contains("derivedTitle"));
}

TEST(Chat, ShutdownDuringAStreamExitsCleanlyAndClosesTheRunOnRestart) {
    MockLlmServer mock;
    mock.push_openai(MockStep::make_slow_text(std::string(4000, 'y'), 20));
    TempDir state("chat-term");
    {
        GatewayProcess gw({.config = mock_config(mock), .state_dir = state.path});
        auto c = connect_client(cli_opts(gw));
        const std::string run_id = send(*c, {{"message", "go"}, {"idempotencyKey", "term-run"}});
        wait_chat(*c, run_id, "delta");
        auto exit = gw.stop(SIGTERM);
        EXPECT_TRUE(exit.exited);
        EXPECT_EQ(exit.code, 0) << gw.stderr_text();
    }
    GatewayProcess gw({.config = mock_config(mock), .state_dir = state.path});
    auto c = connect_client(cli_opts(gw));
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].at("stopReason"), "aborted");
    EXPECT_FALSE(content_text(msgs[1]).empty()) << "the streamed text is kept";
    auto waited = c->call("agent.wait", json::object{{"runId", "term-run"}, {"timeoutMs", 100}}).as_object();
    EXPECT_EQ(waited.at("status"), "timeout");
    EXPECT_EQ(waited.at("stopReason"), "shutdown");
}

TEST(Chat, SessionIdNamesTheTranscriptOfANewSession) {
    MockLlmServer mock;
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    const std::string sid = "0d2c1f5e-8a7b-4c3d-9e1f-123456789abc";
    send(*c, {{"message", "hi"}, {"idempotencyKey", "sid-run"}, {"sessionKey", "fresh"}, {"sessionId", sid}});
    wait_chat(*c, "sid-run", "final");
    auto res = c->call("chat.history", json::object{{"sessionKey", "fresh"}}).as_object();
    EXPECT_EQ(str(res.at("sessionId")), sid);
    EXPECT_EQ(res.at("sessionKey"), "agent:main:fresh");
}

TEST(Chat, SystemPromptCarriesWorkspaceFilesAndPendingSystemEvents) {
    MockLlmServer mock;
    GatewayProcess gw({.config = mock_config(mock)});
    auto c = connect_client(cli_opts(gw));
    c->call("agents.files.set",
            json::object{{"agentId", "main"}, {"name", "SOUL.md"}, {"content", "You speak like a lighthouse keeper."}});
    c->call("system-event", json::object{{"text", "Cron: the backup finished at 03:00."}});
    send(*c, {{"message", "anything new?"}, {"idempotencyKey", "prompt-run"}});
    wait_chat(*c, "prompt-run", "final");
    auto req = mock.requests().back().json().as_object();
    const auto& system = req.at("messages").at(0).as_object();
    EXPECT_EQ(system.at("role"), "system");
    const std::string prompt = str(system.at("content"));
    EXPECT_NE(prompt.find("You speak like a lighthouse keeper."), std::string::npos);
    EXPECT_NE(prompt.find("Cron: the backup finished at 03:00."), std::string::npos);
    // The event is consumed: the next turn does not repeat it.
    send(*c, {{"message", "and now?"}, {"idempotencyKey", "prompt-run-2"}});
    wait_chat(*c, "prompt-run-2", "final");
    const std::string next = str(mock.requests().back().json().at("messages").at(0).at("content"));
    EXPECT_EQ(next.find("backup finished"), std::string::npos);
}

TEST(Chat, StepLimitEndsALoopingRun) {
    MockLlmServer mock;
    mock.set_default_step(MockStep::make_tool_calls({{"", "read", R"({"path":"AGENTS.md"})"}}));
    GatewayProcess gw({.config = mock_config(mock, "gateway: {limits: {agentMaxSteps: 3}}")});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, {{"message", "loop forever"}, {"idempotencyKey", "loop-run"}});
    auto err = wait_chat(*c, run_id, "error");
    EXPECT_NE(str(err.at("errorMessage")).find("agentMaxSteps"), std::string::npos) << str(err.at("errorMessage"));
    EXPECT_EQ(mock.requests().size(), 3u);
}

TEST(Chat, ThinkingLevelReachesAnthropic) {
    MockLlmServer mock;
    mock.push_anthropic(MockStep::make_thinking("weighing options", "Go with B."));
    GatewayProcess gw({.config = mock_config(mock, R"(agents: {defaults: {model: "claude/claude-test"}})")});
    auto c = connect_client(cli_opts(gw));
    const std::string run_id =
        send(*c, {{"message", "A or B?"}, {"idempotencyKey", "think-run"}, {"thinking", "high"}});
    EXPECT_EQ(message_text(wait_chat(*c, run_id, "final")), "Go with B.");
    auto req = mock.requests().back().json().as_object();
    EXPECT_EQ(req.at("thinking").at("type"), "enabled");
    auto msgs = history(*c);
    ASSERT_EQ(msgs.size(), 2u);
    const auto& blocks = msgs[1].at("content").as_array();
    EXPECT_EQ(blocks.at(0).at("type"), "thinking");
    EXPECT_FALSE(blocks.at(0).as_object().contains("thinkingSignature")) << "signatures are not shown";
}

TEST(Chat, RouteAndProvenanceFieldsNeedAdmin) {
    GatewayProcess gw;
    auto o = backend_opts(gw);
    o.scopes = std::vector<std::string>{"operator.read", "operator.write"};
    auto c = connect_client(o);
    auto route = rpc_error([&] {
        c->call("chat.send", json::object{{"message", "x"}, {"originatingChannel", "slack"}});
    });
    EXPECT_EQ(route.code(), "INVALID_REQUEST");
    EXPECT_EQ(route.message_text(), "originating route fields require admin scope");
    auto prov = rpc_error([&] {
        c->call("chat.send", json::object{{"message", "x"}, {"systemProvenanceReceipt", "r"}});
    });
    EXPECT_EQ(prov.message_text(), "system provenance fields require admin scope");
}
