// The scripted fake LLM provider (support/mock_llm) over real sockets: every step kind in both wire
// formats, errors with retry-after, request recording, keep-alive, and connections the client drops
// mid-stream being noticed and released.
#include "support/mock_llm.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/gateway_client.hpp"

using namespace pincer;
using namespace std::chrono_literals;
namespace json = boost::json;
using e2e::MockLlmServer;
using e2e::MockStep;
using e2e::MockToolCall;

namespace {

constexpr auto kWait = 5000ms;

std::string post(const std::string& path, const std::string& body, const std::string& extra_headers = "",
                 bool keep_alive = false) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + extra_headers + (keep_alive ? "" : "Connection: close\r\n") + "\r\n" +
           body;
}

std::string chat_body(bool stream) {
    return std::string(R"({"model":"gpt-test","stream":)") + (stream ? "true" : "false") +
           R"(,"messages":[{"role":"user","content":"hi"}]})";
}

std::string messages_body(bool stream) {
    return std::string(R"({"model":"claude-test","max_tokens":64,"stream":)") + (stream ? "true" : "false") +
           R"(,"messages":[{"role":"user","content":"hi"}]})";
}

client::HttpResponse send(const MockLlmServer& srv, const std::string& raw) {
    return client::http_request("127.0.0.1", srv.port(), raw, kWait);
}

client::HttpResponse openai(const MockLlmServer& srv, bool stream = true) {
    return send(srv, post("/v1/chat/completions", chat_body(stream), "Authorization: Bearer sk-test\r\n"));
}

client::HttpResponse anthropic(const MockLlmServer& srv, bool stream = true) {
    return send(srv, post("/v1/messages", messages_body(stream),
                          "x-api-key: sk-ant-test\r\nanthropic-version: 2023-06-01\r\n"));
}

std::optional<json::value> parse_json(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return std::nullopt;
    return v;
}

// ---- SSE ----

struct SseEvent {
    std::string event;
    std::string data;
};

std::vector<SseEvent> parse_sse(std::string_view body) {
    std::vector<SseEvent> out;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        std::string_view block = body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? body.size() : end + 2;
        SseEvent ev;
        size_t lp = 0;
        while (lp < block.size()) {
            size_t le = block.find('\n', lp);
            std::string_view line = block.substr(lp, le == std::string_view::npos ? std::string_view::npos : le - lp);
            lp = le == std::string_view::npos ? block.size() : le + 1;
            if (line.starts_with("event: ")) ev.event = line.substr(7);
            if (line.starts_with("data: ")) ev.data += line.substr(6);
        }
        if (!ev.event.empty() || !ev.data.empty()) out.push_back(std::move(ev));
    }
    return out;
}

struct OpenAiStream {
    std::string content, reasoning, finish_reason;
    std::vector<MockToolCall> calls;
    json::object usage;
    int content_deltas = 0;
    bool done = false;
};

// Every data line must be a chat.completion.chunk until the final [DONE].
OpenAiStream parse_openai_stream(std::string_view body) {
    OpenAiStream r;
    for (const auto& ev : parse_sse(body)) {
        EXPECT_FALSE(r.done) << "data after [DONE]: " << ev.data;
        if (ev.data == "[DONE]") {
            r.done = true;
            continue;
        }
        auto v = parse_json(ev.data);
        if (!v || !v->is_object()) {
            ADD_FAILURE() << "not a JSON chunk: " << ev.data;
            continue;
        }
        const json::object& chunk = v->as_object();
        EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
        EXPECT_EQ(chunk.at("model").as_string(), "gpt-test");
        if (const auto* usage = chunk.if_contains("usage"); usage && usage->is_object()) r.usage = usage->as_object();
        for (const auto& choice : chunk.at("choices").as_array()) {
            const json::object& delta = choice.at("delta").as_object();
            if (const auto* c = delta.if_contains("content"); c && c->is_string() && !c->as_string().empty()) {
                r.content += c->as_string();
                ++r.content_deltas;
            }
            if (const auto* c = delta.if_contains("reasoning_content"); c && c->is_string()) {
                r.reasoning += c->as_string();
            }
            if (const auto* tcs = delta.if_contains("tool_calls")) {
                for (const auto& tc : tcs->as_array()) {
                    size_t index = static_cast<size_t>(tc.at("index").to_number<int64_t>());
                    if (r.calls.size() <= index) r.calls.resize(index + 1);
                    auto& call = r.calls[index];
                    if (const auto* id = tc.as_object().if_contains("id")) call.id = id->as_string();
                    const json::object& fn = tc.at("function").as_object();
                    if (const auto* name = fn.if_contains("name")) call.name = name->as_string();
                    if (const auto* args = fn.if_contains("arguments")) call.arguments += args->as_string();
                }
            }
            if (const auto& fr = choice.at("finish_reason"); fr.is_string()) r.finish_reason = fr.as_string();
        }
    }
    return r;
}

struct AnthropicStream {
    std::vector<std::string> events;
    std::vector<std::string> block_types;
    std::string text, thinking, signature, stop_reason;
    std::vector<MockToolCall> calls;
    int64_t input_tokens = -1, output_tokens = -1;
};

// Every event's data must be JSON whose type is the event name.
AnthropicStream parse_anthropic_stream(std::string_view body) {
    AnthropicStream r;
    for (const auto& ev : parse_sse(body)) {
        r.events.push_back(ev.event);
        auto v = parse_json(ev.data);
        if (!v || !v->is_object()) {
            ADD_FAILURE() << "not JSON: " << ev.data;
            continue;
        }
        const json::object& data = v->as_object();
        EXPECT_EQ(data.at("type").as_string(), ev.event);
        if (ev.event == "message_start") {
            EXPECT_EQ(data.at("message").at("model").as_string(), "claude-test");
            r.input_tokens = data.at("message").at("usage").at("input_tokens").to_number<int64_t>();
        } else if (ev.event == "content_block_start") {
            const json::object& block = data.at("content_block").as_object();
            EXPECT_EQ(data.at("index").to_number<int64_t>(), static_cast<int64_t>(r.block_types.size()));
            r.block_types.emplace_back(block.at("type").as_string());
            if (r.block_types.back() == "tool_use") {
                r.calls.push_back(
                    {std::string(block.at("id").as_string()), std::string(block.at("name").as_string()), ""});
                EXPECT_TRUE(block.at("input").as_object().empty());
            }
        } else if (ev.event == "content_block_delta") {
            const json::object& d = data.at("delta").as_object();
            std::string_view type = d.at("type").as_string();
            if (type == "text_delta") r.text += d.at("text").as_string();
            if (type == "thinking_delta") r.thinking += d.at("thinking").as_string();
            if (type == "signature_delta") r.signature += d.at("signature").as_string();
            if (type == "input_json_delta") r.calls.back().arguments += d.at("partial_json").as_string();
        } else if (ev.event == "message_delta") {
            r.stop_reason = data.at("delta").at("stop_reason").as_string();
            r.output_tokens = data.at("usage").at("output_tokens").to_number<int64_t>();
        }
    }
    return r;
}

// The event names with consecutive content_block_delta runs collapsed to one, for sequence checks.
std::vector<std::string> collapsed(const std::vector<std::string>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        if (e == "content_block_delta" && !out.empty() && out.back() == e) continue;
        out.push_back(e);
    }
    return out;
}

// A plain TCP connection that reads incrementally, for streams the test abandons or the server stalls.
class RawConn {
public:
    explicit RawConn(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ADD_FAILURE() << "connect failed";
    }
    ~RawConn() { close(); }
    RawConn(const RawConn&) = delete;
    RawConn& operator=(const RawConn&) = delete;

    void write(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                ADD_FAILURE() << "send failed";
                return;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }
    /// Reads until `marker` appears in what was received since `from` (true), EOF or the timeout (false).
    bool read_until(std::string_view marker, std::chrono::milliseconds timeout, size_t from = 0) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (received_.find(marker, from) == std::string::npos) {
            if (!read_some(deadline)) return false;
        }
        return true;
    }
    /// Reads until the peer closes (true) or the timeout (false).
    bool read_to_eof(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!eof_) {
            if (!read_some(deadline)) return eof_;
        }
        return true;
    }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    const std::string& received() const { return received_; }

private:
    bool read_some(std::chrono::steady_clock::time_point deadline) {
        if (eof_ || fd_ < 0) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        received_.append(buf, static_cast<size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool eof_ = false;
    std::string received_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions

TEST(MockLlm, OpenAiTextStreamsChunksThenUsageThenDone) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_text("Hello there, streaming world!"));
    auto res = openai(srv);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.headers["content-type"], "text/event-stream; charset=utf-8");
    EXPECT_EQ(res.headers["transfer-encoding"], "chunked");
    auto r = parse_openai_stream(res.body);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.content, "Hello there, streaming world!");
    EXPECT_GT(r.content_deltas, 3);
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_EQ(r.usage.at("prompt_tokens").to_number<int64_t>(), 12);
    EXPECT_EQ(r.usage.at("completion_tokens").to_number<int64_t>(), 7);
    EXPECT_TRUE(res.body.ends_with("data: [DONE]\n\n"));
}

TEST(MockLlm, OpenAiToolCallsStreamIdNameThenArgumentFragments) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_tool_calls({{"call_1", "read_file", R"({"path":"/tmp/a.txt"})"},
                                               {"call_2", "web_search", R"({"query":"pincer gateway","n":3})"}},
                                              "Let me look."));
    auto r = parse_openai_stream(openai(srv).body);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.content, "Let me look.");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].id, "call_1");
    EXPECT_EQ(r.calls[0].name, "read_file");
    EXPECT_EQ(r.calls[0].arguments, R"({"path":"/tmp/a.txt"})");
    EXPECT_EQ(r.calls[1].id, "call_2");
    EXPECT_EQ(r.calls[1].name, "web_search");
    EXPECT_EQ(r.calls[1].arguments, R"({"query":"pincer gateway","n":3})");
    EXPECT_EQ(r.finish_reason, "tool_calls");
}

TEST(MockLlm, OpenAiThinkingStreamsReasoningContentFirst) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_thinking("Consider the question… carefully.", "Answer: 42"));
    auto res = openai(srv);
    auto r = parse_openai_stream(res.body);
    EXPECT_EQ(r.reasoning, "Consider the question… carefully.");  // split without breaking the UTF-8 ellipsis
    EXPECT_EQ(r.content, "Answer: 42");
    EXPECT_LT(res.body.find("reasoning_content"), res.body.find("Answer"));
}

TEST(MockLlm, OpenAiNonStreamingReturnsOneCompletion) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_text("whole reply"));
    srv.push_openai(MockStep::make_tool_calls({{"call_9", "exec", R"({"cmd":"ls"})"}}));
    auto res = openai(srv, false);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.headers["content-type"], "application/json");
    auto v = parse_json(res.body);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->at("object").as_string(), "chat.completion");
    EXPECT_EQ(v->at("choices").at(0).at("message").at("content").as_string(), "whole reply");
    EXPECT_EQ(v->at("choices").at(0).at("finish_reason").as_string(), "stop");
    EXPECT_EQ(v->at("usage").at("total_tokens").to_number<int64_t>(), 19);

    auto tools = parse_json(openai(srv, false).body);
    ASSERT_TRUE(tools);
    const auto& msg = tools->at("choices").at(0).at("message");
    EXPECT_TRUE(msg.at("content").is_null());
    EXPECT_EQ(msg.at("tool_calls").at(0).at("function").at("arguments").as_string(), R"({"cmd":"ls"})");
    EXPECT_EQ(tools->at("choices").at(0).at("finish_reason").as_string(), "tool_calls");
}

TEST(MockLlm, EmptyQueueAnswersOkOnBothEndpoints) {
    MockLlmServer srv;
    EXPECT_EQ(parse_openai_stream(openai(srv).body).content, "ok");
    EXPECT_EQ(parse_anthropic_stream(anthropic(srv).body).text, "ok");
    srv.set_default_step(MockStep::make_text("default"));
    EXPECT_EQ(parse_openai_stream(openai(srv).body).content, "default");
}

TEST(MockLlm, ModelsListAndUnknownRoute) {
    MockLlmServer srv;
    auto res = send(srv, "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(res.status, 200);
    auto v = parse_json(res.body);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->at("object").as_string(), "list");
    EXPECT_EQ(v->at("data").as_array().size(), 2u);
    auto ant = parse_json(send(srv,
                               "GET /v1/models HTTP/1.1\r\nHost: x\r\nanthropic-version: 2023-06-01\r\n"
                               "Connection: close\r\n\r\n")
                              .body);
    ASSERT_TRUE(ant);
    EXPECT_EQ(ant->at("data").at(0).at("type").as_string(), "model");
    EXPECT_EQ(send(srv, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status, 404);
    EXPECT_EQ(send(srv, post("/v1/chat/completions", "not json")).status, 400);
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

TEST(MockLlm, AnthropicTextStreamsTheDocumentedEventSequence) {
    MockLlmServer srv;
    srv.push_anthropic(MockStep::make_text("Hello from the mock Claude."));
    auto res = anthropic(srv);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.headers["transfer-encoding"], "chunked");
    auto r = parse_anthropic_stream(res.body);
    EXPECT_EQ(collapsed(r.events),
              (std::vector<std::string>{"message_start", "ping", "content_block_start", "content_block_delta",
                                        "content_block_stop", "message_delta", "message_stop"}));
    EXPECT_EQ(r.text, "Hello from the mock Claude.");
    EXPECT_EQ(r.stop_reason, "end_turn");
    EXPECT_EQ(r.input_tokens, 12);
    EXPECT_EQ(r.output_tokens, 7);
}

TEST(MockLlm, AnthropicThinkingThenTextUsesTwoBlocks) {
    MockLlmServer srv;
    srv.push_anthropic(MockStep::make_thinking("Let me think step by step.", "Done thinking."));
    auto r = parse_anthropic_stream(anthropic(srv).body);
    EXPECT_EQ(r.block_types, (std::vector<std::string>{"thinking", "text"}));
    EXPECT_EQ(r.thinking, "Let me think step by step.");
    EXPECT_FALSE(r.signature.empty());
    EXPECT_EQ(r.text, "Done thinking.");
    EXPECT_EQ(r.events.back(), "message_stop");
}

TEST(MockLlm, AnthropicToolUseStreamsInputJsonDeltas) {
    MockLlmServer srv;
    MockStep step = MockStep::make_tool_calls({{"toolu_01", "read_file", R"({"path":"/etc/hosts","lines":10})"}});
    step.output_tokens = 33;
    srv.push_anthropic(step);
    auto r = parse_anthropic_stream(anthropic(srv).body);
    EXPECT_EQ(r.block_types, (std::vector<std::string>{"tool_use"}));
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].id, "toolu_01");
    EXPECT_EQ(r.calls[0].name, "read_file");
    EXPECT_EQ(r.calls[0].arguments, R"({"path":"/etc/hosts","lines":10})");
    EXPECT_EQ(r.stop_reason, "tool_use");
    EXPECT_EQ(r.output_tokens, 33);
}

TEST(MockLlm, AnthropicNonStreamingReturnsOneMessage) {
    MockLlmServer srv;
    srv.push_anthropic(MockStep::make_tool_calls({{"toolu_2", "exec", R"({"cmd":"ls"})"}}, "Running it."));
    auto v = parse_json(anthropic(srv, false).body);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->at("type").as_string(), "message");
    EXPECT_EQ(v->at("content").at(0).at("text").as_string(), "Running it.");
    EXPECT_EQ(v->at("content").at(1).at("input").at("cmd").as_string(), "ls");
    EXPECT_EQ(v->at("stop_reason").as_string(), "tool_use");
}

// ---------------------------------------------------------------------------------------------
// Errors and broken streams

TEST(MockLlm, RateLimitWithRetryAfterThenSuccess) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_http_error(429, 2));
    srv.push_openai(MockStep::make_text("after the retry"));
    srv.push_anthropic(MockStep::make_http_error(429, 1));

    auto limited = openai(srv);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.headers["retry-after"], "2");
    auto err = parse_json(limited.body);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->at("error").at("type").as_string(), "rate_limit_error");
    EXPECT_FALSE(err->at("error").at("message").as_string().empty());
    EXPECT_EQ(err->at("error").at("code").as_string(), "rate_limit_exceeded");
    EXPECT_EQ(parse_openai_stream(openai(srv).body).content, "after the retry");

    auto ant = anthropic(srv);
    EXPECT_EQ(ant.status, 429);
    EXPECT_EQ(ant.headers["retry-after"], "1");
    auto aerr = parse_json(ant.body);
    ASSERT_TRUE(aerr);
    EXPECT_EQ(aerr->at("type").as_string(), "error");
    EXPECT_EQ(aerr->at("error").at("type").as_string(), "rate_limit_error");
    EXPECT_EQ(srv.pending_openai(), 0u);
    EXPECT_EQ(srv.pending_anthropic(), 0u);
}

TEST(MockLlm, ServerErrorAndCustomErrorBody) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_http_error(500));
    srv.push_anthropic(MockStep::make_http_error(529));
    srv.push_openai(MockStep::make_http_error(503, std::nullopt, R"({"error":{"message":"custom"}})"));
    auto res = openai(srv);
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.headers.count("retry-after"), 0u);
    EXPECT_EQ(parse_json(res.body)->at("error").at("type").as_string(), "server_error");
    auto ant = anthropic(srv);
    EXPECT_EQ(ant.status, 529);
    EXPECT_EQ(parse_json(ant.body)->at("error").at("type").as_string(), "overloaded_error");
    auto custom = openai(srv);
    EXPECT_EQ(custom.status, 503);
    EXPECT_EQ(custom.body, R"({"error":{"message":"custom"}})");
}

TEST(MockLlm, MalformedSseHasDataLinesThatAreNotJson) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_malformed_sse());
    srv.push_anthropic(MockStep::make_malformed_sse());
    for (const auto& res : {openai(srv), anthropic(srv)}) {
        EXPECT_EQ(res.status, 200);
        EXPECT_EQ(res.headers.at("content-type"), "text/event-stream; charset=utf-8");
        auto events = parse_sse(res.body);
        ASSERT_FALSE(events.empty());
        int bad = 0;
        for (const auto& ev : events) {
            if (ev.data != "[DONE]" && !parse_json(ev.data)) ++bad;
        }
        EXPECT_GE(bad, 2) << res.body;
    }
}

TEST(MockLlm, CutMidReplyClosesWithoutTheEndOfStream) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_cut_mid_reply());
    srv.push_anthropic(MockStep::make_cut_mid_reply());
    // http_request hands back the undecoded body when the chunked framing never ends.
    auto res = openai(srv);
    EXPECT_EQ(res.status, 200);
    EXPECT_NE(res.raw.find("\"content\":\"this\""), std::string::npos) << res.raw;
    EXPECT_EQ(res.raw.find("[DONE]"), std::string::npos);
    EXPECT_EQ(res.raw.find("\r\n0\r\n\r\n"), std::string::npos);
    EXPECT_EQ(res.raw.find("finish_reason\":\"stop"), std::string::npos);

    auto ant = anthropic(srv);
    EXPECT_EQ(ant.status, 200);
    EXPECT_NE(ant.raw.find("text_delta"), std::string::npos);
    EXPECT_EQ(ant.raw.find("message_stop"), std::string::npos);
    EXPECT_EQ(ant.raw.find("\r\n0\r\n\r\n"), std::string::npos);
    EXPECT_TRUE(srv.wait_for_open_streams(0, kWait));
    EXPECT_EQ(srv.streams_closed_by_client(), 0u);
}

TEST(MockLlm, StalledStreamIsReleasedWhenTheClientCloses) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_stall("never finished"));
    RawConn conn(srv.port());
    conn.write(post("/v1/chat/completions", chat_body(true), "", true));
    ASSERT_TRUE(conn.read_until("\"content\":\"neve\"", kWait)) << conn.received();
    ASSERT_TRUE(srv.wait_for_open_streams(1, kWait));
    // Nothing more comes: the stream is stalled, not finished.
    EXPECT_FALSE(conn.read_until("[DONE]", 300ms));
    EXPECT_EQ(srv.open_streams(), 1u);
    conn.close();
    EXPECT_TRUE(srv.wait_for_stream_closed_by_client(kWait));
    EXPECT_TRUE(srv.wait_for_open_streams(0, kWait));
    EXPECT_EQ(srv.streams_closed_by_client(), 1u);
}

TEST(MockLlm, AnthropicStalledStreamIsReleasedToo) {
    MockLlmServer srv;
    srv.push_anthropic(MockStep::make_stall());
    RawConn conn(srv.port());
    conn.write(post("/v1/messages", messages_body(true), "anthropic-version: 2023-06-01\r\n", true));
    ASSERT_TRUE(conn.read_until("text_delta", kWait)) << conn.received();
    EXPECT_NE(conn.received().find("event: ping"), std::string::npos);
    conn.close();
    EXPECT_TRUE(srv.wait_for_stream_closed_by_client(kWait));
    EXPECT_TRUE(srv.wait_for_open_streams(0, kWait));
}

TEST(MockLlm, AbortMidSlowStreamIsNoticed) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_slow_text(std::string(400, 'x'), 50));  // ~100 deltas, ~5 s in all
    RawConn conn(srv.port());
    auto started = std::chrono::steady_clock::now();
    conn.write(post("/v1/chat/completions", chat_body(true), "", true));
    ASSERT_TRUE(conn.read_until("\"content\":\"xxxx\"", kWait));
    ASSERT_TRUE(conn.read_until("\"content\":\"xxxx\"", kWait, conn.received().find("xxxx") + 4));  // a 2nd delta
    EXPECT_EQ(srv.open_streams(), 1u);
    conn.close();
    EXPECT_TRUE(srv.wait_for_stream_closed_by_client(kWait));
    EXPECT_TRUE(srv.wait_for_open_streams(0, kWait));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // noticed long before the stream would end
}

TEST(MockLlm, SlowTextPacesItsEvents) {
    MockLlmServer srv;
    srv.push_anthropic(MockStep::make_slow_text("abcdefgh", 40));
    auto started = std::chrono::steady_clock::now();
    auto r = parse_anthropic_stream(anthropic(srv).body);
    EXPECT_EQ(r.text, "abcdefgh");
    // message_start, ping, block start, 2 deltas, block stop, message_delta, message_stop: 7 pauses.
    EXPECT_GE(std::chrono::steady_clock::now() - started, 7 * 40ms);
}

TEST(MockLlm, NonStreamingStallAndCut) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_stall());
    srv.push_openai(MockStep::make_cut_mid_reply());
    RawConn conn(srv.port());
    conn.write(post("/v1/chat/completions", chat_body(false), "", true));
    ASSERT_TRUE(srv.wait_for_open_streams(1, kWait));
    EXPECT_FALSE(conn.read_until("HTTP/1.1", 200ms));
    conn.close();
    EXPECT_TRUE(srv.wait_for_stream_closed_by_client(kWait));

    auto cut = openai(srv, false);
    EXPECT_EQ(cut.status, 200);
    EXPECT_FALSE(parse_json(cut.body));
    EXPECT_LT(cut.body.size(), std::stoul(cut.headers.at("content-length")));
}

// ---------------------------------------------------------------------------------------------
// Recording, keep-alive, shutdown

TEST(MockLlm, RecordsEveryRequestWithLowercasedHeadersAndBody) {
    MockLlmServer srv;
    std::string body = chat_body(true);
    send(srv,
         post("/v1/chat/completions?api-version=1", body, "Authorization: Bearer sk-abc\r\nX-Custom-Thing: 1\r\n"));
    anthropic(srv, false);
    ASSERT_TRUE(srv.wait_for_requests(2, kWait));
    auto reqs = srv.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
    EXPECT_EQ(reqs[0].target, "/v1/chat/completions?api-version=1");
    EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-abc");
    EXPECT_EQ(reqs[0].header("x-custom-thing"), "1");
    EXPECT_EQ(reqs[0].body, body);
    EXPECT_EQ(reqs[0].json().at("messages").at(0).at("content").as_string(), "hi");
    EXPECT_EQ(reqs[1].path, "/v1/messages");
    EXPECT_EQ(reqs[1].header("x-api-key"), "sk-ant-test");
    EXPECT_EQ(reqs[1].header("anthropic-version"), "2023-06-01");
    EXPECT_FALSE(srv.wait_for_requests(3, 50ms));
}

TEST(MockLlm, KeepAliveServesSequentialAndPipelinedRequests) {
    MockLlmServer srv;
    srv.push_openai(MockStep::make_text("first"));
    srv.push_openai(MockStep::make_text("second"));
    srv.push_openai(MockStep::make_text("third"));
    RawConn conn(srv.port());
    conn.write(post("/v1/chat/completions", chat_body(true), "", true));
    ASSERT_TRUE(conn.read_until("[DONE]\n\n\r\n0\r\n\r\n", kWait));
    size_t mark = conn.received().size();
    // Two more at once: the second arrives while the first is still being answered.
    conn.write(post("/v1/chat/completions", chat_body(true), "", true) +
               post("/v1/chat/completions", chat_body(true), "", true));
    ASSERT_TRUE(conn.read_until("\"content\":\"thir\"", kWait, mark)) << conn.received();
    ASSERT_TRUE(conn.read_until("[DONE]\n\n\r\n0\r\n\r\n", kWait, conn.received().find("thir")));
    EXPECT_NE(conn.received().find("\"content\":\"seco\""), std::string::npos);
    EXPECT_TRUE(srv.wait_for_requests(3, kWait));
    EXPECT_TRUE(srv.wait_for_open_streams(0, kWait));
    EXPECT_EQ(srv.streams_closed_by_client(), 0u);
}

TEST(MockLlm, ExpectContinueGetsAnInterimResponse) {
    MockLlmServer srv;
    std::string body = chat_body(true);
    RawConn conn(srv.port());
    conn.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_TRUE(conn.read_until("HTTP/1.1 100 Continue\r\n\r\n", kWait));
    conn.write(body);
    ASSERT_TRUE(conn.read_until("data: [DONE]", kWait));
    ASSERT_TRUE(srv.wait_for_requests(1, kWait));
    EXPECT_EQ(srv.requests()[0].body, body);
}

TEST(MockLlm, DestructorDropsStalledConnectionsPromptly) {
    std::optional<MockLlmServer> srv(std::in_place);
    srv->push_anthropic(MockStep::make_stall());
    RawConn conn(srv->port());
    conn.write(post("/v1/messages", messages_body(true), "", true));
    ASSERT_TRUE(conn.read_until("text_delta", kWait));
    auto started = std::chrono::steady_clock::now();
    srv.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_TRUE(conn.read_to_eof(kWait));  // the server's side of the connection is gone
}
