#include "runtime/provider_stream.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <limits>
#include <optional>
#include <utility>

namespace pincer::runtime {
namespace {

namespace json = boost::json;
using Kind = StreamDelta::Kind;

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

const json::value* find(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &it->value();
}

std::string_view get_string(const json::object& o, std::string_view key) {
    const json::value* v = find(o, key);
    if (v == nullptr || !v->is_string()) return {};
    const json::string& s = v->get_string();
    return {s.data(), s.size()};
}

const json::object* get_object(const json::object& o, std::string_view key) {
    const json::value* v = find(o, key);
    return v != nullptr ? v->if_object() : nullptr;
}

const json::array* get_array(const json::object& o, std::string_view key) {
    const json::value* v = find(o, key);
    return v != nullptr ? v->if_array() : nullptr;
}

// Integral JSON number at `key` (a double with no fraction counts: some servers print 12.0).
std::optional<int64_t> get_int(const json::object& o, std::string_view key) {
    const json::value* v = find(o, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) {
        const uint64_t u = v->get_uint64();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
        return static_cast<int64_t>(u);
    }
    if (v->is_double()) {
        const double d = v->get_double();
        // Range-check before converting: a cast of an out-of-range double is undefined.
        if (d >= -9.2e18 && d <= 9.2e18 && d == static_cast<double>(static_cast<int64_t>(d))) {
            return static_cast<int64_t>(d);
        }
    }
    return std::nullopt;
}

// Token counts are never negative; a server that says so is treated as not reporting.
int64_t get_count(const json::object& o, std::string_view key) {
    auto n = get_int(o, key);
    return n && *n > 0 ? *n : 0;
}

std::optional<int> get_index(const json::object& o) {
    auto n = get_int(o, "index");
    if (!n || *n < 0 || *n > std::numeric_limits<int>::max()) return std::nullopt;
    return static_cast<int>(*n);
}

// Parses one event's JSON; the message says what was wrong for the run's error event.
std::optional<json::object> parse_object(std::string_view data, std::string& error) {
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);
    if (ec) {
        error = "provider sent malformed JSON in its stream (" + ec.message() + ")";
        return std::nullopt;
    }
    if (!v.is_object()) {
        error = "provider sent a stream event that is not a JSON object";
        return std::nullopt;
    }
    return std::move(v.get_object());
}

StreamDelta make(Kind kind, int index = 0) {
    StreamDelta d;
    d.kind = kind;
    d.index = index;
    return d;
}

void emit_text(std::vector<StreamDelta>& out, Kind kind, int index, std::string_view text) {
    if (text.empty()) return;
    StreamDelta& d = out.emplace_back(make(kind, index));
    d.text.assign(text);
}

// The provider's error object, which OpenAI-compatible servers and Anthropic shape alike:
// {"type"?, "code"?, "message"}; some proxies send a bare string instead.
void describe_error(const json::value& error, std::string& type, std::string& message) {
    if (const json::object* o = error.if_object()) {
        type.assign(get_string(*o, "type"));
        if (type.empty()) {
            if (const json::value* code = find(*o, "code"); code != nullptr && !code->is_null()) {
                type = code->is_string() ? std::string(code->get_string()) : json::serialize(*code);
            }
        }
        message.assign(get_string(*o, "message"));
        if (message.empty()) message = json::serialize(error);
    } else if (error.is_string()) {
        message.assign(error.get_string());
    } else {
        message = json::serialize(error);
    }
    if (type.empty()) type = "provider_error";
}

std::string_view normalize_openai_stop(std::string_view reason) {
    if (reason == "length") return "length";
    if (reason == "tool_calls" || reason == "function_call") return "toolUse";
    if (reason == "content_filter") return "error";
    // "stop" and whatever a compatible server invents ("eos", "end_turn"): the model is done.
    return "stop";
}

std::string_view normalize_anthropic_stop(std::string_view reason) {
    if (reason == "max_tokens" || reason == "model_context_window_exceeded") return "length";
    if (reason == "tool_use") return "toolUse";
    if (reason == "refusal") return "error";
    // end_turn, stop_sequence, pause_turn and future reasons.
    return "stop";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions

void OpenAiChatStreamDecoder::fail(std::vector<StreamDelta>& out, std::string_view type, std::string message) {
    StreamDelta& d = out.emplace_back(make(Kind::error));
    d.error_type.assign(type);
    d.error_message = std::move(message);
    failed_ = true;
    done_ = true;
}

void OpenAiChatStreamDecoder::feed(std::string_view data, std::vector<StreamDelta>& out) {
    if (done_) return;
    data = trim(data);
    if (data.empty()) return;  // keep-alive
    if (data == "[DONE]") {
        done_ = true;
        return;
    }
    std::string parse_error;
    auto chunk = parse_object(data, parse_error);
    if (!chunk) return fail(out, kErrorMalformedStream, std::move(parse_error));

    if (const json::value* error = find(*chunk, "error"); error != nullptr && !error->is_null()) {
        std::string type, message;
        describe_error(*error, type, message);
        return fail(out, type, std::move(message));
    }

    // One entry of delta.tool_calls; false when it was malformed (an error delta was emitted).
    auto tool_call = [&](const json::object& call) -> bool {
        const std::string_view id = get_string(call, "id");
        std::string_view name;
        std::string args_text;
        std::string_view args;
        if (const json::object* fn = get_object(call, "function")) {
            name = get_string(*fn, "name");
            if (const json::value* a = find(*fn, "arguments")) {
                if (a->is_string()) {
                    args = {a->get_string().data(), a->get_string().size()};
                } else if (a->is_object()) {
                    // Some servers send the arguments already parsed.
                    args_text = json::serialize(*a);
                    args = args_text;
                }
            }
        }
        int index = 0;
        if (find(call, "index") != nullptr) {
            auto n = get_index(call);
            if (!n) {
                fail(out, kErrorMalformedStream, "provider sent an invalid tool call index");
                return false;
            }
            index = *n;
        } else if (!tool_calls_.empty()) {
            // Servers that omit the index (Gemini's compatibility layer) send each call whole; a
            // new id means a new call.
            const ToolCallState& last = tool_calls_.back();
            const bool next = !id.empty() && id != last.id && last.index < std::numeric_limits<int>::max();
            index = next ? last.index + 1 : last.index;
        }
        auto state = std::find_if(tool_calls_.begin(), tool_calls_.end(),
                                  [&](const ToolCallState& s) { return s.index == index; });
        const bool is_new = state == tool_calls_.end();
        if (is_new) state = tool_calls_.insert(tool_calls_.end(), ToolCallState{index, {}, {}});
        // Many servers repeat id and name on every chunk: announce only news.
        const bool news = is_new || (state->id.empty() && !id.empty()) || (state->name.empty() && !name.empty());
        if (state->id.empty()) state->id.assign(id);
        if (state->name.empty()) state->name.assign(name);
        if (news) {
            StreamDelta& d = out.emplace_back(make(Kind::tool_call_start, index));
            d.tool_id = state->id;
            d.tool_name = state->name;
        }
        emit_text(out, Kind::tool_call_args, index, args);
        return true;
    };

    if (const json::array* choices = get_array(*chunk, "choices")) {
        for (const json::value& choice_value : *choices) {
            const json::object* choice = choice_value.if_object();
            if (choice == nullptr) continue;
            if (auto n = get_int(*choice, "index"); n && *n != 0) continue;
            if (const json::object* delta = get_object(*choice, "delta")) {
                // DeepSeek and vLLM say reasoning_content, OpenRouter and Ollama say reasoning;
                // a server sending both would repeat the same text, so take one.
                std::string_view reasoning = get_string(*delta, "reasoning_content");
                if (reasoning.empty()) reasoning = get_string(*delta, "reasoning");
                emit_text(out, Kind::thinking, 0, reasoning);
                emit_text(out, Kind::text, 0, get_string(*delta, "content"));
                // A refusal replaces the answer; showing it beats an empty reply.
                emit_text(out, Kind::text, 0, get_string(*delta, "refusal"));
                if (const json::array* calls = get_array(*delta, "tool_calls")) {
                    for (const json::value& call : *calls) {
                        if (call.is_object() && !tool_call(call.get_object())) return;
                    }
                }
            }
            const std::string_view finish = get_string(*choice, "finish_reason");
            if (!finish.empty() && !stop_seen_) {
                stop_seen_ = true;
                StreamDelta& d = out.emplace_back(make(Kind::stop));
                d.raw_stop_reason.assign(finish);
                d.stop_reason.assign(normalize_openai_stop(finish));
                // Ollama and older vLLM say "stop" after streaming tool calls; the calls are what
                // the agent loop must act on.
                if (d.stop_reason == "stop" && !tool_calls_.empty()) d.stop_reason = "toolUse";
            }
        }
    }

    if (const json::object* usage = get_object(*chunk, "usage")) {
        StreamDelta& d = out.emplace_back(make(Kind::usage));
        int64_t cached = 0;
        if (const json::object* details = get_object(*usage, "prompt_tokens_details")) {
            cached = get_count(*details, "cached_tokens");
        }
        if (cached == 0) cached = get_count(*usage, "prompt_cache_hit_tokens");  // DeepSeek
        const int64_t prompt = get_count(*usage, "prompt_tokens");
        d.input_tokens = std::max<int64_t>(prompt - cached, 0);
        d.output_tokens = get_count(*usage, "completion_tokens");
        d.cache_read = cached;
    }
}

void OpenAiChatStreamDecoder::finish(std::vector<StreamDelta>& out) {
    if (done_ || stop_seen_) return;
    fail(out, kErrorTruncatedStream, "provider stream ended before the response was complete");
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages

void AnthropicStreamDecoder::fail(std::vector<StreamDelta>& out, std::string_view type, std::string message) {
    StreamDelta& d = out.emplace_back(make(Kind::error));
    d.error_type.assign(type);
    d.error_message = std::move(message);
    failed_ = true;
    done_ = true;
}

void AnthropicStreamDecoder::feed(std::string_view event_type, std::string_view data, std::vector<StreamDelta>& out) {
    if (done_) return;
    data = trim(data);
    if (data.empty()) return;
    std::string parse_error;
    auto event = parse_object(data, parse_error);
    if (!event) return fail(out, kErrorMalformedStream, std::move(parse_error));
    std::string_view type = get_string(*event, "type");
    if (type.empty()) type = event_type;

    const int index = get_index(*event).value_or(0);
    auto usage_delta = [&](const json::object& usage) {
        StreamDelta& d = out.emplace_back(make(Kind::usage));
        d.input_tokens = get_count(usage, "input_tokens");
        d.output_tokens = get_count(usage, "output_tokens");
        d.cache_read = get_count(usage, "cache_read_input_tokens");
        d.cache_write = get_count(usage, "cache_creation_input_tokens");
    };

    if (type == "message_start") {
        if (const json::object* message = get_object(*event, "message")) {
            if (const json::object* usage = get_object(*message, "usage")) usage_delta(*usage);
        }
    } else if (type == "content_block_start") {
        const json::object* block = get_object(*event, "content_block");
        if (block == nullptr) return;
        const std::string_view block_type = get_string(*block, "type");
        if (block_type == "text") {
            emit_text(out, Kind::text, index, get_string(*block, "text"));
        } else if (block_type == "thinking") {
            emit_text(out, Kind::thinking, index, get_string(*block, "thinking"));
            emit_text(out, Kind::thinking_signature, index, get_string(*block, "signature"));
        } else if (block_type == "tool_use") {
            if (std::find(tool_blocks_.begin(), tool_blocks_.end(), index) == tool_blocks_.end()) {
                tool_blocks_.push_back(index);
            }
            StreamDelta& d = out.emplace_back(make(Kind::tool_call_start, index));
            d.tool_id.assign(get_string(*block, "id"));
            d.tool_name.assign(get_string(*block, "name"));
            // Streaming sends `input: {}` and the arguments as deltas; a proxy may send them whole.
            if (const json::object* input = get_object(*block, "input"); input != nullptr && !input->empty()) {
                emit_text(out, Kind::tool_call_args, index, json::serialize(*input));
            }
        }
        // redacted_thinking, server_tool_use and tool results are not ours to surface.
    } else if (type == "content_block_delta") {
        const json::object* delta = get_object(*event, "delta");
        if (delta == nullptr) return;
        const std::string_view delta_type = get_string(*delta, "type");
        if (delta_type == "text_delta") {
            emit_text(out, Kind::text, index, get_string(*delta, "text"));
        } else if (delta_type == "thinking_delta") {
            emit_text(out, Kind::thinking, index, get_string(*delta, "thinking"));
        } else if (delta_type == "signature_delta") {
            emit_text(out, Kind::thinking_signature, index, get_string(*delta, "signature"));
        } else if (delta_type == "input_json_delta") {
            if (std::find(tool_blocks_.begin(), tool_blocks_.end(), index) != tool_blocks_.end()) {
                emit_text(out, Kind::tool_call_args, index, get_string(*delta, "partial_json"));
            }
        }
    } else if (type == "message_delta") {
        if (const json::object* usage = get_object(*event, "usage")) usage_delta(*usage);
        if (const json::object* delta = get_object(*event, "delta")) {
            const std::string_view reason = get_string(*delta, "stop_reason");
            if (!reason.empty() && !stop_seen_) {
                stop_seen_ = true;
                StreamDelta& d = out.emplace_back(make(Kind::stop));
                d.raw_stop_reason.assign(reason);
                d.stop_reason.assign(normalize_anthropic_stop(reason));
            }
        }
    } else if (type == "message_stop") {
        done_ = true;
    } else if (type == "error") {
        std::string error_type, message;
        const json::value* error = find(*event, "error");
        describe_error(error != nullptr ? *error : json::value(*event), error_type, message);
        fail(out, error_type, std::move(message));
    }
    // content_block_stop, ping and unknown events carry nothing we need.
}

void AnthropicStreamDecoder::finish(std::vector<StreamDelta>& out) {
    if (done_ || stop_seen_) return;
    fail(out, kErrorTruncatedStream, "provider stream ended before the response was complete");
}

// ---------------------------------------------------------------------------------------------

void accumulate(AssistantTurn& turn, const StreamDelta& delta) {
    auto tool_call = [&](int index) -> AssistantTurn::ToolCall& {
        // Search from the back: the delta almost always belongs to the newest call.
        for (auto it = turn.tool_calls.rbegin(); it != turn.tool_calls.rend(); ++it) {
            if (it->index == index) return *it;
        }
        AssistantTurn::ToolCall& call = turn.tool_calls.emplace_back();
        call.index = index;
        return call;
    };
    switch (delta.kind) {
        case Kind::text:
            turn.text += delta.text;
            break;
        case Kind::thinking:
            turn.thinking += delta.text;
            break;
        case Kind::thinking_signature:
            turn.thinking_signature += delta.text;
            break;
        case Kind::tool_call_start: {
            AssistantTurn::ToolCall& call = tool_call(delta.index);
            if (call.id.empty()) call.id = delta.tool_id;
            if (call.name.empty()) call.name = delta.tool_name;
            break;
        }
        case Kind::tool_call_args:
            tool_call(delta.index).arguments_json += delta.text;
            break;
        case Kind::usage:
            turn.input_tokens = std::max(turn.input_tokens, delta.input_tokens);
            turn.output_tokens = std::max(turn.output_tokens, delta.output_tokens);
            turn.cache_read = std::max(turn.cache_read, delta.cache_read);
            turn.cache_write = std::max(turn.cache_write, delta.cache_write);
            break;
        case Kind::stop:
            if (turn.stop_reason != "error") {
                turn.stop_reason = delta.stop_reason;
                turn.raw_stop_reason = delta.raw_stop_reason;
            }
            break;
        case Kind::error:
            turn.stop_reason = "error";
            turn.error_type = delta.error_type;
            turn.error_message = delta.error_message;
            break;
    }
}

}  // namespace pincer::runtime
