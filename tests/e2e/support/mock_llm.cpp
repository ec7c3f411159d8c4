// The scripted fake LLM provider: one Session per connection, reading requests with Beast's parser
// and writing responses as raw bytes (so a reply can be cut mid-body or stalled at will). While a
// response is in progress a read stays armed on the socket, so a client that goes away mid-stream is
// noticed at once, even when nothing more is being written (stall). In TLS mode a session first
// completes the server handshake and then does the same over the ssl::stream.
#include "support/mock_llm.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace pincer::e2e {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = ssl::stream<tcp::socket>;

constexpr size_t kTextDeltaBytes = 4;         // text and thinking deltas
constexpr size_t kArgsDeltaBytes = 8;         // tool-call argument fragments
constexpr uint64_t kMaxBodyBytes = 64 << 20;  // requests carry whole transcripts
constexpr uint32_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kWatchReadBytes = 4096;
constexpr int kSlowDefaultDelayMs = 100;

enum class Api { openai, anthropic };

// ---------------------------------------------------------------------------------------------
// Response plans: what to write, in which pieces, and how the response ends.

enum class Ending {
    complete,  // terminate the chunked body (when chunked) and keep the connection if allowed
    cut,       // close the socket right after the last piece
    stall,     // write nothing more; wait for the client to go away
};

struct Plan {
    std::string head;                 // status line and headers; "" sends nothing at all
    std::vector<std::string> pieces;  // body pieces; each one HTTP chunk when chunked
    bool chunked = false;
    int delay_ms = 0;  // between pieces
    Ending ending = Ending::complete;
    bool keep_alive = true;
};

std::string status_line(int status) {
    std::string_view reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
    if (reason == "<unknown-status>") reason = "Status";
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
}

std::string connection_header(bool keep_alive) {
    return keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
}

Plan json_plan(int status, std::string body, bool keep_alive,
               const std::vector<std::pair<std::string, std::string>>& extra_headers = {}) {
    Plan p;
    p.head = status_line(status) + "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n" + connection_header(keep_alive);
    for (const auto& [name, value] : extra_headers) p.head += name + ": " + value + "\r\n";
    p.head += "\r\n";
    p.pieces.push_back(std::move(body));
    p.keep_alive = keep_alive;
    return p;
}

Plan sse_plan(std::vector<std::string> events, int delay_ms, Ending ending, bool keep_alive) {
    Plan p;
    p.head = status_line(200) +
             "Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
             "Transfer-Encoding: chunked\r\n" +
             connection_header(keep_alive) + "\r\n";
    p.pieces = std::move(events);
    p.chunked = true;
    p.delay_ms = delay_ms;
    p.ending = ending;
    p.keep_alive = keep_alive;
    return p;
}

std::string http_chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return std::string(size) + std::string(data) + "\r\n";
}

// Splits into pieces of about `n` bytes without cutting a UTF-8 sequence.
std::vector<std::string> split_utf8(std::string_view s, size_t n) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t end = std::min(s.size(), i + n);
        while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
        out.emplace_back(s.substr(i, end - i));
        i = end;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Provider-shaped bodies.

struct ReplyContext {
    std::string id;
    std::string model;
    int64_t created = 0;
    bool keep_alive = true;
};

std::string openai_error(int status, std::string_view message) {
    std::string type = "server_error";
    json::value code = nullptr;
    switch (status) {
        case 400:
            type = "invalid_request_error";
            break;
        case 401:
            type = "invalid_request_error";
            code = "invalid_api_key";
            break;
        case 403:
            type = "permission_error";
            break;
        case 404:
            type = "not_found_error";
            code = "model_not_found";
            break;
        case 429:
            type = "rate_limit_error";
            code = "rate_limit_exceeded";
            break;
        default:
            break;
    }
    return json::serialize(
        json::object{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}});
}

std::string anthropic_error(int status, std::string_view message) {
    std::string type = "api_error";
    if (status == 400) type = "invalid_request_error";
    if (status == 401) type = "authentication_error";
    if (status == 403) type = "permission_error";
    if (status == 404) type = "not_found_error";
    if (status == 413) type = "request_too_large";
    if (status == 429) type = "rate_limit_error";
    if (status == 529) type = "overloaded_error";
    return json::serialize(json::object{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
}

std::string provider_error(Api api, int status, std::string_view message) {
    return api == Api::openai ? openai_error(status, message) : anthropic_error(status, message);
}

std::string scripted_error_message(int status) {
    if (status == 429) return "Rate limit reached (scripted by the mock provider)";
    if (status == 529) return "Overloaded (scripted by the mock provider)";
    return "Scripted error " + std::to_string(status) + " from the mock provider";
}

// How many text deltas a cut reply sends before closing: the first half, at least one.
size_t cut_count(size_t deltas) { return std::max<size_t>(1, deltas / 2); }

// ---- OpenAI Chat Completions ----

std::string openai_chunk(const ReplyContext& c, json::object delta, json::value finish_reason = nullptr) {
    json::object chunk{{"id", c.id},
                       {"object", "chat.completion.chunk"},
                       {"created", c.created},
                       {"model", c.model},
                       {"system_fingerprint", "fp_mock"}};
    chunk["choices"] = json::array{json::object{
        {"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", std::move(finish_reason)}}};
    return "data: " + json::serialize(chunk) + "\n\n";
}

std::string openai_usage_chunk(const ReplyContext& c, const MockStep& s) {
    json::object chunk{{"id", c.id}, {"object", "chat.completion.chunk"}, {"created", c.created}, {"model", c.model}};
    chunk["choices"] = json::array{};
    chunk["usage"] = json::object{{"prompt_tokens", s.input_tokens},
                                  {"completion_tokens", s.output_tokens},
                                  {"total_tokens", s.input_tokens + s.output_tokens}};
    return "data: " + json::serialize(chunk) + "\n\n";
}

Plan openai_stream(const MockStep& s, const ReplyContext& c) {
    using Kind = MockStep::Kind;
    std::vector<std::string> ev;
    int delay = s.delay_ms_between_chunks;
    if (s.kind == Kind::slow_text && delay <= 0) delay = kSlowDefaultDelayMs;
    if (s.kind == Kind::malformed_sse) {
        ev = {"data: {\"id\":\"" + c.id + "\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":\n\n",
              "data: this is not json\n\n", "data: [DONE]\n\n"};
        return sse_plan(std::move(ev), delay, Ending::complete, c.keep_alive);
    }
    ev.push_back(openai_chunk(c, {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}));
    auto text = split_utf8(s.text, kTextDeltaBytes);
    if (s.kind == Kind::stall || s.kind == Kind::cut_mid_reply) {
        size_t n = s.kind == Kind::stall ? std::min<size_t>(1, text.size()) : cut_count(text.size());
        for (size_t i = 0; i < n && i < text.size(); ++i) ev.push_back(openai_chunk(c, {{"content", text[i]}}));
        return sse_plan(std::move(ev), delay, s.kind == Kind::stall ? Ending::stall : Ending::cut, c.keep_alive);
    }
    if (s.kind == Kind::thinking_then_text) {
        for (auto& t : split_utf8(s.thinking, kTextDeltaBytes))
            ev.push_back(openai_chunk(c, {{"reasoning_content", t}}));
    }
    for (auto& t : text) ev.push_back(openai_chunk(c, {{"content", t}}));
    bool tools = s.kind == Kind::tool_calls;
    if (tools) {
        for (size_t i = 0; i < s.tool_calls.size(); ++i) {
            const auto& call = s.tool_calls[i];
            json::object first{{"index", i},
                               {"id", call.id},
                               {"type", "function"},
                               {"function", {{"name", call.name}, {"arguments", ""}}}};
            ev.push_back(openai_chunk(c, {{"tool_calls", json::array{std::move(first)}}}));
            for (auto& frag : split_utf8(call.arguments, kArgsDeltaBytes)) {
                json::object part{{"index", i}, {"function", {{"arguments", frag}}}};
                ev.push_back(openai_chunk(c, {{"tool_calls", json::array{std::move(part)}}}));
            }
        }
    }
    ev.push_back(openai_chunk(c, {}, tools ? "tool_calls" : "stop"));
    ev.push_back(openai_usage_chunk(c, s));
    ev.push_back("data: [DONE]\n\n");
    return sse_plan(std::move(ev), delay, Ending::complete, c.keep_alive);
}

std::string openai_completion(const MockStep& s, const ReplyContext& c) {
    json::object message{{"role", "assistant"}, {"refusal", nullptr}};
    if (s.text.empty() && s.kind == MockStep::Kind::tool_calls) {
        message["content"] = nullptr;
    } else {
        message["content"] = s.text;
    }
    if (s.kind == MockStep::Kind::thinking_then_text) message["reasoning_content"] = s.thinking;
    bool tools = s.kind == MockStep::Kind::tool_calls;
    if (tools) {
        json::array calls;
        for (const auto& call : s.tool_calls) {
            calls.push_back(json::object{{"id", call.id},
                                         {"type", "function"},
                                         {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
        }
        message["tool_calls"] = std::move(calls);
    }
    json::object body{{"id", c.id}, {"object", "chat.completion"}, {"created", c.created}, {"model", c.model}};
    body["choices"] = json::array{json::object{{"index", 0},
                                               {"message", std::move(message)},
                                               {"logprobs", nullptr},
                                               {"finish_reason", tools ? "tool_calls" : "stop"}}};
    body["usage"] = json::object{{"prompt_tokens", s.input_tokens},
                                 {"completion_tokens", s.output_tokens},
                                 {"total_tokens", s.input_tokens + s.output_tokens}};
    return json::serialize(body);
}

// ---- Anthropic Messages ----

std::string anthropic_event(std::string_view name, const json::object& data) {
    return "event: " + std::string(name) + "\ndata: " + json::serialize(data) + "\n\n";
}

class AnthropicBlocks {
public:
    explicit AnthropicBlocks(std::vector<std::string>& ev) : ev_(ev) {}

    void start(json::object content_block) {
        ev_.push_back(anthropic_event(
            "content_block_start",
            {{"type", "content_block_start"}, {"index", index_}, {"content_block", std::move(content_block)}}));
    }
    void delta(json::object delta) {
        ev_.push_back(anthropic_event(
            "content_block_delta", {{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(delta)}}));
    }
    void stop() {
        ev_.push_back(anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}}));
        ++index_;
    }

private:
    std::vector<std::string>& ev_;
    int index_ = 0;
};

json::object anthropic_message_start(const MockStep& s, const ReplyContext& c) {
    json::object message{{"id", c.id},
                         {"type", "message"},
                         {"role", "assistant"},
                         {"model", c.model},
                         {"content", json::array{}},
                         {"stop_reason", nullptr},
                         {"stop_sequence", nullptr}};
    message["usage"] = json::object{{"input_tokens", s.input_tokens},
                                    {"cache_creation_input_tokens", 0},
                                    {"cache_read_input_tokens", 0},
                                    {"output_tokens", 1}};
    return {{"type", "message_start"}, {"message", std::move(message)}};
}

Plan anthropic_stream(const MockStep& s, const ReplyContext& c) {
    using Kind = MockStep::Kind;
    std::vector<std::string> ev;
    int delay = s.delay_ms_between_chunks;
    if (s.kind == Kind::slow_text && delay <= 0) delay = kSlowDefaultDelayMs;
    if (s.kind == Kind::malformed_sse) {
        ev = {"event: message_start\ndata: {\"type\":\"message_start\",\"message\":\n\n",
              "event: content_block_delta\ndata: this is not json\n\n",
              "event: message_stop\ndata: {\"type\":\"message_stop\"\n\n"};
        return sse_plan(std::move(ev), delay, Ending::complete, c.keep_alive);
    }
    ev.push_back(anthropic_event("message_start", anthropic_message_start(s, c)));
    ev.push_back(anthropic_event("ping", {{"type", "ping"}}));
    AnthropicBlocks blocks(ev);
    auto text = split_utf8(s.text, kTextDeltaBytes);
    if (s.kind == Kind::stall || s.kind == Kind::cut_mid_reply) {
        blocks.start({{"type", "text"}, {"text", ""}});
        size_t n = s.kind == Kind::stall ? std::min<size_t>(1, text.size()) : cut_count(text.size());
        for (size_t i = 0; i < n && i < text.size(); ++i) blocks.delta({{"type", "text_delta"}, {"text", text[i]}});
        return sse_plan(std::move(ev), delay, s.kind == Kind::stall ? Ending::stall : Ending::cut, c.keep_alive);
    }
    if (s.kind == Kind::thinking_then_text) {
        blocks.start({{"type", "thinking"}, {"thinking", ""}});
        for (auto& t : split_utf8(s.thinking, kTextDeltaBytes))
            blocks.delta({{"type", "thinking_delta"}, {"thinking", t}});
        blocks.delta({{"type", "signature_delta"}, {"signature", "mock-signature"}});
        blocks.stop();
    }
    bool tools = s.kind == Kind::tool_calls;
    if (!text.empty() || !tools) {
        blocks.start({{"type", "text"}, {"text", ""}});
        for (auto& t : text) blocks.delta({{"type", "text_delta"}, {"text", t}});
        blocks.stop();
    }
    if (tools) {
        for (const auto& call : s.tool_calls) {
            blocks.start({{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", json::object{}}});
            for (auto& frag : split_utf8(call.arguments, kArgsDeltaBytes)) {
                blocks.delta({{"type", "input_json_delta"}, {"partial_json", frag}});
            }
            blocks.stop();
        }
    }
    ev.push_back(anthropic_event(
        "message_delta", {{"type", "message_delta"},
                          {"delta", {{"stop_reason", tools ? "tool_use" : "end_turn"}, {"stop_sequence", nullptr}}},
                          {"usage", {{"output_tokens", s.output_tokens}}}}));
    ev.push_back(anthropic_event("message_stop", {{"type", "message_stop"}}));
    return sse_plan(std::move(ev), delay, Ending::complete, c.keep_alive);
}

std::string anthropic_message(const MockStep& s, const ReplyContext& c) {
    json::array content;
    if (s.kind == MockStep::Kind::thinking_then_text) {
        content.push_back(
            json::object{{"type", "thinking"}, {"thinking", s.thinking}, {"signature", "mock-signature"}});
    }
    bool tools = s.kind == MockStep::Kind::tool_calls;
    if (!s.text.empty() || !tools) content.push_back(json::object{{"type", "text"}, {"text", s.text}});
    if (tools) {
        for (const auto& call : s.tool_calls) {
            boost::system::error_code ec;
            json::value input = json::parse(call.arguments, ec);
            if (ec || !input.is_object()) input = json::object{};
            content.push_back(
                json::object{{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}});
        }
    }
    json::object body{{"id", c.id},
                      {"type", "message"},
                      {"role", "assistant"},
                      {"model", c.model},
                      {"content", std::move(content)},
                      {"stop_reason", tools ? "tool_use" : "end_turn"},
                      {"stop_sequence", nullptr}};
    body["usage"] = json::object{{"input_tokens", s.input_tokens}, {"output_tokens", s.output_tokens}};
    return json::serialize(body);
}

// ---- one plan per step ----

Plan step_plan(Api api, const MockStep& s, bool stream, const ReplyContext& c) {
    using Kind = MockStep::Kind;
    if (s.kind == Kind::http_error) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (s.retry_after_s) headers.emplace_back("retry-after", std::to_string(*s.retry_after_s));
        std::string body =
            s.error_body.empty() ? provider_error(api, s.status, scripted_error_message(s.status)) : s.error_body;
        return json_plan(s.status, std::move(body), c.keep_alive, headers);
    }
    if (stream) return api == Api::openai ? openai_stream(s, c) : anthropic_stream(s, c);
    switch (s.kind) {
        case Kind::malformed_sse:
            return json_plan(200, "{\"id\": this is not json", c.keep_alive);
        case Kind::stall: {
            Plan p;  // not even a status line
            p.ending = Ending::stall;
            return p;
        }
        case Kind::cut_mid_reply: {
            std::string full = api == Api::openai ? openai_completion(s, c) : anthropic_message(s, c);
            Plan p = json_plan(200, full, c.keep_alive);
            p.pieces[0].resize(full.size() / 2);
            p.ending = Ending::cut;
            return p;
        }
        default:
            return json_plan(200, api == Api::openai ? openai_completion(s, c) : anthropic_message(s, c), c.keep_alive);
    }
}

Plan models_plan(bool anthropic, bool keep_alive) {
    json::array data;
    if (anthropic) {
        for (const char* id : {"claude-mock-1", "claude-mock-2"}) {
            data.push_back(json::object{
                {"type", "model"}, {"id", id}, {"display_name", id}, {"created_at", "2025-01-01T00:00:00Z"}});
        }
        return json_plan(200,
                         json::serialize(json::object{{"data", std::move(data)},
                                                      {"has_more", false},
                                                      {"first_id", "claude-mock-1"},
                                                      {"last_id", "claude-mock-2"}}),
                         keep_alive);
    }
    for (const char* id : {"mock-gpt-1", "mock-gpt-2"}) {
        data.push_back(json::object{{"id", id}, {"object", "model"}, {"created", 1735689600}, {"owned_by", "mock"}});
    }
    return json_plan(200, json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}}), keep_alive);
}

// ---------------------------------------------------------------------------------------------
// Shared state and routing.

struct Shared {
    mutable std::mutex mu;
    mutable std::condition_variable cv;
    std::deque<MockStep> openai, anthropic;
    MockStep default_step = MockStep::make_text("ok");
    std::vector<MockLlmServer::Request> requests;
    size_t open_streams = 0;
    size_t closed_by_client = 0;
    uint64_t next_id = 0;
    size_t tls_ok = 0;
    std::vector<std::string> tls_failures;

    void response_ended(bool by_client) {
        {
            std::lock_guard lock(mu);
            --open_streams;
            if (by_client) ++closed_by_client;
        }
        cv.notify_all();
    }
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

MockLlmServer::Request to_record(const http::request<http::string_body>& req) {
    MockLlmServer::Request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.path = r.target.substr(0, r.target.find('?'));
    for (const auto& field : req) {
        auto [it, inserted] = r.headers.emplace(lower(field.name_string()), std::string(field.value()));
        if (!inserted) it->second += ", " + std::string(field.value());
    }
    r.body = req.body();
    return r;
}

// Records the request, consumes a step when it is a chat request and returns what to answer.
Plan respond(Shared& shared, const http::request<http::string_body>& req) {
    MockLlmServer::Request rec = to_record(req);
    bool keep_alive = req.keep_alive();
    std::optional<Api> api;
    if (req.method() == http::verb::post && (rec.path == "/v1/chat/completions" || rec.path == "/chat/completions")) {
        api = Api::openai;
    } else if (req.method() == http::verb::post && (rec.path == "/v1/messages" || rec.path == "/messages")) {
        api = Api::anthropic;
    }
    boost::system::error_code ec;
    json::value body = api ? json::parse(rec.body, ec) : json::value();
    bool valid = api && !ec && body.is_object();

    std::optional<MockStep> step;
    uint64_t id = 0;
    {
        std::lock_guard lock(shared.mu);
        shared.requests.push_back(rec);
        id = ++shared.next_id;
        if (valid) {
            auto& queue = *api == Api::openai ? shared.openai : shared.anthropic;
            if (queue.empty()) {
                step = shared.default_step;
            } else {
                step = std::move(queue.front());
                queue.pop_front();
            }
        }
    }
    shared.cv.notify_all();

    if (!api) {
        if (req.method() == http::verb::get && (rec.path == "/v1/models" || rec.path == "/models")) {
            return models_plan(rec.headers.count("anthropic-version") > 0, keep_alive);
        }
        return json_plan(404, openai_error(404, "no route for " + rec.method + " " + rec.path), keep_alive);
    }
    if (!valid) return json_plan(400, provider_error(*api, 400, "request body is not a JSON object"), keep_alive);

    const json::object& obj = body.as_object();
    ReplyContext c;
    c.id = (*api == Api::openai ? "chatcmpl-mock-" : "msg_mock_") + std::to_string(id);
    const json::value* model = obj.if_contains("model");
    c.model = model && model->is_string() ? std::string(model->as_string()) : "mock-model";
    c.created = static_cast<int64_t>(std::time(nullptr));
    c.keep_alive = keep_alive;
    const json::value* stream = obj.if_contains("stream");
    return step_plan(*api, *step, stream && stream->is_bool() && stream->as_bool(), c);
}

// ---------------------------------------------------------------------------------------------
// One connection: read a request, write its plan, repeat while keep-alive.

// The TCP socket under a session's stream.
tcp::socket& tcp_of(tcp::socket& s) { return s; }
tcp::socket& tcp_of(TlsStream& s) { return s.next_layer(); }

// Stream is tcp::socket (plain HTTP) or TlsStream (HTTPS); the ssl::stream allows the one read and
// one write in flight at a time that a session needs, all on the server's single thread.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
public:
    template <class... Args>
    Session(Shared& shared, Args&&... stream_args)
        : socket_(std::forward<Args>(stream_args)...), timer_(socket_.get_executor()), shared_(shared) {}

    void start() {
        if constexpr (std::is_same_v<Stream, TlsStream>) {
            socket_.async_handshake(ssl::stream_base::server,
                                    [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
        } else {
            read_request();
        }
    }

private:
    using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

    // A failed handshake is what a client that rejects the certificate leaves behind: no request.
    void on_handshake(beast::error_code ec) {
        {
            std::lock_guard lock(shared_.mu);
            if (ec) {
                shared_.tls_failures.push_back(ec.message());
            } else {
                ++shared_.tls_ok;
            }
        }
        shared_.cv.notify_all();
        if (ec) return close();
        read_request();
    }

    void read_request() {
        parser_.emplace();
        parser_->body_limit(kMaxBodyBytes);
        parser_->header_limit(kMaxHeaderBytes);
        http::async_read_header(socket_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
    }

    // Clients such as curl hold a large body back until they see "100 Continue".
    void on_header(beast::error_code ec) {
        if (ec) return close();
        if (!beast::iequals(parser_->get()[http::field::expect], "100-continue")) return read_body();
        out_ = "HTTP/1.1 100 Continue\r\n\r\n";
        net::async_write(socket_, net::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return self->close();
            self->read_body();
        });
    }

    void read_body() {
        http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_request(ec); });
    }

    void on_request(beast::error_code ec) {
        if (ec) return close();
        plan_ = respond(shared_, parser_->get());
        parser_.reset();
        piece_ = 0;
        terminated_ = false;
        in_progress_ = true;
        {
            std::lock_guard lock(shared_.mu);
            ++shared_.open_streams;
        }
        shared_.cv.notify_all();
        watch();
        if (plan_.head.empty()) return next_piece();
        send(std::move(plan_.head));
    }

    // Keeps a read armed while responding: EOF or an error means the client went away. Bytes that
    // arrive (a pipelined request) stay in buffer_ for the parser.
    void watch() {
        watching_ = true;
        socket_.async_read_some(buffer_.prepare(kWatchReadBytes),
                                [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_watch(ec, n); });
    }

    void on_watch(beast::error_code ec, size_t n) {
        watching_ = false;
        if (closed_) return;
        if (ec == net::error::operation_aborted) return read_request();  // cancelled by finish(): parse what came
        if (ec) {
            end_response(true);
            return close();
        }
        buffer_.commit(n);
        if (in_progress_) return watch();
        read_request();
    }

    void send(std::string bytes) {
        out_ = std::move(bytes);
        net::async_write(socket_, net::buffer(out_),
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_written(ec); });
    }

    void on_written(beast::error_code ec) {
        if (closed_) return;
        if (ec) {
            end_response(true);
            return close();
        }
        next_piece();
    }

    void next_piece() {
        if (piece_ >= plan_.pieces.size()) return finish();
        if (piece_ > 0 && plan_.delay_ms > 0) {
            timer_.expires_after(std::chrono::milliseconds(plan_.delay_ms));
            timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
                if (!ec && !self->closed_) self->send_piece();
            });
            return;
        }
        send_piece();
    }

    void send_piece() {
        std::string& piece = plan_.pieces[piece_++];
        send(plan_.chunked ? http_chunk(piece) : std::move(piece));
    }

    void finish() {
        switch (plan_.ending) {
            case Ending::stall:
                return;  // the armed watch read notices when the client goes away
            case Ending::cut:
                end_response(false);
                return close();
            case Ending::complete:
                if (plan_.chunked && !terminated_) {
                    terminated_ = true;
                    return send("0\r\n\r\n");
                }
                end_response(false);
                if (!plan_.keep_alive) return close();
                if (!watching_) return read_request();
                // The watch read goes on as the wait for the next request; when a pipelined request is
                // already buffered, cancel it so on_watch starts parsing.
                if (buffer_.size() > 0) {
                    beast::error_code ignored;
                    tcp_of(socket_).cancel(ignored);
                }
                return;
        }
    }

    void end_response(bool by_client) {
        if (!in_progress_) return;
        in_progress_ = false;
        shared_.response_ended(by_client);
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        timer_.cancel();
        beast::error_code ignored;
        tcp_of(socket_).shutdown(tcp::socket::shutdown_send, ignored);
        tcp_of(socket_).close(ignored);
    }

    Stream socket_;
    net::steady_timer timer_;
    Shared& shared_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Plan plan_;
    size_t piece_ = 0;
    std::string out_;
    bool terminated_ = false;
    bool in_progress_ = false;
    bool watching_ = false;
    bool closed_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// MockStep factories.

MockStep MockStep::make_text(std::string text) {
    MockStep s;
    s.text = std::move(text);
    return s;
}

MockStep MockStep::make_tool_calls(std::vector<MockToolCall> calls, std::string text) {
    MockStep s;
    s.kind = Kind::tool_calls;
    s.tool_calls = std::move(calls);
    s.text = std::move(text);
    return s;
}

MockStep MockStep::make_thinking(std::string thinking, std::string text) {
    MockStep s;
    s.kind = Kind::thinking_then_text;
    s.thinking = std::move(thinking);
    s.text = std::move(text);
    return s;
}

MockStep MockStep::make_http_error(int status, std::optional<int> retry_after_s, std::string error_body) {
    MockStep s;
    s.kind = Kind::http_error;
    s.status = status;
    s.retry_after_s = retry_after_s;
    s.error_body = std::move(error_body);
    return s;
}

MockStep MockStep::make_malformed_sse() {
    MockStep s;
    s.kind = Kind::malformed_sse;
    return s;
}

MockStep MockStep::make_cut_mid_reply(std::string text) {
    MockStep s;
    s.kind = Kind::cut_mid_reply;
    s.text = std::move(text);
    return s;
}

MockStep MockStep::make_stall(std::string text) {
    MockStep s;
    s.kind = Kind::stall;
    s.text = std::move(text);
    return s;
}

MockStep MockStep::make_slow_text(std::string text, int delay_ms_between_chunks) {
    MockStep s;
    s.kind = Kind::slow_text;
    s.text = std::move(text);
    s.delay_ms_between_chunks = delay_ms_between_chunks;
    return s;
}

// ---------------------------------------------------------------------------------------------
// MockLlmServer.

json::value MockLlmServer::Request::json() const {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    return ec ? json::value() : v;
}

std::string MockLlmServer::Request::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

// Member order matters: the io_context is destroyed before `shared` (its pending handlers own the
// sessions, which refer to `shared`) and `tls` (their streams use it), and after the acceptor.
struct MockLlmServer::Impl {
    Shared shared;
    std::string url_host;
    std::optional<ssl::context> tls;  // set in TLS mode
    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    uint16_t port = 0;
    std::thread thread;

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            if (!ec) {
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);  // every SSE event leaves at once
                if (tls) {
                    std::make_shared<Session<TlsStream>>(shared, std::move(socket), *tls)->start();
                } else {
                    std::make_shared<Session<tcp::socket>>(shared, std::move(socket))->start();
                }
            }
            accept();
        });
    }
};

MockLlmServer::MockLlmServer() : MockLlmServer(MockLlmOptions{}) {}

MockLlmServer::MockLlmServer(MockLlmOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->url_host = options.url_host;
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
        try {
            auto& ctx = impl_->tls.emplace(ssl::context::tls_server);
            ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
            ctx.use_certificate_chain_file(options.tls_cert_file);
            ctx.use_private_key_file(options.tls_key_file, ssl::context::pem);
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error("mock LLM server cannot load its TLS certificate " + options.tls_cert_file +
                                     " / key " + options.tls_key_file + ": " + e.what());
        }
    }
    try {
        tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
        impl_->acceptor.open(ep.protocol());
        impl_->acceptor.set_option(net::socket_base::reuse_address(true));
        impl_->acceptor.bind(ep);
        impl_->acceptor.listen();
        impl_->port = impl_->acceptor.local_endpoint().port();
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(std::string("mock LLM server cannot listen on 127.0.0.1: ") + e.what());
    }
    impl_->accept();
    impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

MockLlmServer::~MockLlmServer() {
    impl_->ioc.stop();
    impl_->thread.join();
}

uint16_t MockLlmServer::port() const { return impl_->port; }

std::string MockLlmServer::openai_base_url() const { return anthropic_base_url() + "/v1"; }

std::string MockLlmServer::anthropic_base_url() const {
    return (impl_->tls ? "https://" : "http://") + impl_->url_host + ":" + std::to_string(impl_->port);
}

void MockLlmServer::push_openai(MockStep step) {
    std::lock_guard lock(impl_->shared.mu);
    impl_->shared.openai.push_back(std::move(step));
}

void MockLlmServer::push_anthropic(MockStep step) {
    std::lock_guard lock(impl_->shared.mu);
    impl_->shared.anthropic.push_back(std::move(step));
}

void MockLlmServer::set_default_step(MockStep step) {
    std::lock_guard lock(impl_->shared.mu);
    impl_->shared.default_step = std::move(step);
}

size_t MockLlmServer::pending_openai() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.openai.size();
}

size_t MockLlmServer::pending_anthropic() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.anthropic.size();
}

std::vector<MockLlmServer::Request> MockLlmServer::requests() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.requests;
}

bool MockLlmServer::wait_for_requests(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->shared.mu);
    return impl_->shared.cv.wait_for(lock, timeout, [&] { return impl_->shared.requests.size() >= n; });
}

size_t MockLlmServer::open_streams() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.open_streams;
}

bool MockLlmServer::wait_for_open_streams(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->shared.mu);
    return impl_->shared.cv.wait_for(lock, timeout, [&] { return impl_->shared.open_streams == n; });
}

size_t MockLlmServer::streams_closed_by_client() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.closed_by_client;
}

bool MockLlmServer::wait_for_stream_closed_by_client(std::chrono::milliseconds timeout, size_t n) const {
    std::unique_lock lock(impl_->shared.mu);
    return impl_->shared.cv.wait_for(lock, timeout, [&] { return impl_->shared.closed_by_client >= n; });
}

size_t MockLlmServer::tls_handshakes() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.tls_ok;
}

std::vector<std::string> MockLlmServer::tls_handshake_failures() const {
    std::lock_guard lock(impl_->shared.mu);
    return impl_->shared.tls_failures;
}

bool MockLlmServer::wait_for_tls_handshake_failures(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->shared.mu);
    return impl_->shared.cv.wait_for(lock, timeout, [&] { return impl_->shared.tls_failures.size() >= n; });
}

}  // namespace pincer::e2e
