// build_fetch_request: pi-ai transcript messages → an OpenAI Chat Completions or Anthropic Messages
// request. The transcript is first normalized into one neutral shape (empty blocks dropped, broken
// tool-call pairing repaired) so both encoders stay simple and a replayed transcript never earns a
// 400 the user cannot fix.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <utility>

#include "runtime/model_call.hpp"

namespace pincer::runtime {
namespace {

std::string_view str(const json::object& o, std::string_view key) {
    const json::string* s = core::get_string(o, key);
    return s != nullptr ? core::sv(*s) : std::string_view{};
}

// ---- The neutral conversation ----------------------------------------------------------------

struct Part {
    enum class Kind { text, image, thinking, tool_call };
    Kind kind = Kind::text;
    std::string text;             // text; thinking
    std::string signature;        // thinking
    std::string data, mime_type;  // image (base64)
    std::string id, name;         // tool_call
    json::object arguments;       // tool_call
};

struct Message {
    enum class Role { user, assistant, tool_result };
    Role role = Role::user;
    std::vector<Part> parts;
    std::string tool_call_id;  // tool_result
    bool is_error = false;     // tool_result
};

constexpr std::string_view kImageOmitted = "(image omitted: this model does not accept images)";
constexpr std::string_view kMissingToolResult = "No result was recorded for this tool call (the run was interrupted).";

Part text_part(std::string_view text) {
    Part p;
    p.text.assign(text);
    return p;
}

// pi-ai stores arguments parsed; older or foreign transcripts may hold the JSON text instead.
json::object arguments_of(const json::object& block) {
    auto it = block.find("arguments");
    if (it == block.end()) return {};
    if (it->value().is_object()) return it->value().get_object();
    if (it->value().is_string()) {
        boost::system::error_code ec;
        json::value parsed = json::parse(core::sv(it->value().get_string()), ec);
        if (!ec && parsed.is_object()) return std::move(parsed.get_object());
    }
    return {};
}

// Text, image, thinking and tool-call blocks of a message's content; a string is one text block.
// Empty text is dropped because Anthropic rejects empty text blocks.
std::vector<Part> parts_of(const json::object& message, bool images_allowed) {
    std::vector<Part> parts;
    auto it = message.find("content");
    if (it == message.end()) return parts;
    if (it->value().is_string()) {
        if (!it->value().get_string().empty()) parts.push_back(text_part(core::sv(it->value().get_string())));
        return parts;
    }
    const json::array* blocks = it->value().if_array();
    if (blocks == nullptr) return parts;
    for (const json::value& bv : *blocks) {
        const json::object* block = bv.if_object();
        if (block == nullptr) continue;
        const std::string_view type = str(*block, "type");
        if (type == "text") {
            if (!str(*block, "text").empty()) parts.push_back(text_part(str(*block, "text")));
        } else if (type == "image") {
            if (str(*block, "data").empty()) continue;
            if (!images_allowed) {
                parts.push_back(text_part(kImageOmitted));
                continue;
            }
            Part& p = parts.emplace_back();
            p.kind = Part::Kind::image;
            p.data.assign(str(*block, "data"));
            p.mime_type.assign(str(*block, "mimeType"));
            if (p.mime_type.empty()) p.mime_type = "image/png";
        } else if (type == "thinking") {
            if (str(*block, "thinking").empty()) continue;
            Part& p = parts.emplace_back();
            p.kind = Part::Kind::thinking;
            p.text.assign(str(*block, "thinking"));
            p.signature.assign(str(*block, "thinkingSignature"));
        } else if (type == "toolCall") {
            Part& p = parts.emplace_back();
            p.kind = Part::Kind::tool_call;
            p.id.assign(str(*block, "id"));
            p.name.assign(str(*block, "name"));
            p.arguments = arguments_of(*block);
        }
    }
    return parts;
}

bool has_kind(const std::vector<Part>& parts, Part::Kind kind) {
    return std::any_of(parts.begin(), parts.end(), [kind](const Part& p) { return p.kind == kind; });
}

// Both providers reject a transcript where a tool call lacks its result or a result lacks its
// call; an interrupted run leaves exactly that behind. Orphan results are dropped and missing
// results are filled in as errors, so the conversation stays replayable.
std::vector<Message> normalize(const json::array& messages, bool images_allowed) {
    std::vector<Message> out;
    std::vector<std::string> open_calls;  // ids of the last assistant's calls still without a result
    auto close_open_calls = [&] {
        for (std::string& id : open_calls) {
            Message& m = out.emplace_back();
            m.role = Message::Role::tool_result;
            m.tool_call_id = std::move(id);
            m.is_error = true;
            m.parts.push_back(text_part(kMissingToolResult));
        }
        open_calls.clear();
    };
    for (const json::value& mv : messages) {
        const json::object* m = mv.if_object();
        if (m == nullptr) continue;
        const std::string_view role = str(*m, "role");
        if (role == "toolResult") {
            const std::string_view id = str(*m, "toolCallId");
            auto open = std::find(open_calls.begin(), open_calls.end(), id);
            if (id.empty() || open == open_calls.end()) continue;
            open_calls.erase(open);
            Message& result = out.emplace_back();
            result.role = Message::Role::tool_result;
            result.tool_call_id.assign(id);
            result.is_error = core::get_bool(*m, "isError").value_or(false);
            result.parts = parts_of(*m, images_allowed);
            std::erase_if(result.parts, [](const Part& p) {
                return p.kind == Part::Kind::thinking || p.kind == Part::Kind::tool_call;
            });
            continue;
        }
        if (role != "user" && role != "assistant") continue;
        close_open_calls();
        if (role == "user") {
            Message user;
            user.parts = parts_of(*m, images_allowed);
            std::erase_if(user.parts, [](const Part& p) {
                return p.kind == Part::Kind::thinking || p.kind == Part::Kind::tool_call;
            });
            if (!user.parts.empty()) out.push_back(std::move(user));
            continue;
        }
        Message assistant;
        assistant.role = Message::Role::assistant;
        assistant.parts = parts_of(*m, /*images_allowed=*/false);
        std::erase_if(assistant.parts, [](const Part& p) { return p.kind == Part::Kind::image; });
        // A failed or aborted turn may hold half-streamed tool calls whose arguments never
        // completed; only its text is worth replaying.
        const std::string_view stop = str(*m, "stopReason");
        if (stop == "error" || stop == "aborted") {
            std::erase_if(assistant.parts, [](const Part& p) { return p.kind == Part::Kind::tool_call; });
        }
        if (assistant.parts.empty()) continue;
        for (const Part& p : assistant.parts) {
            if (p.kind == Part::Kind::tool_call) open_calls.push_back(p.id);
        }
        out.push_back(std::move(assistant));
    }
    close_open_calls();
    return out;
}

std::string joined_text(const std::vector<Part>& parts) {
    std::string text;
    for (const Part& p : parts) {
        if (p.kind != Part::Kind::text) continue;
        if (!text.empty()) text += "\n";
        text += p.text;
    }
    return text;
}

json::object schema_or_empty_object(const json::object& parameters) {
    if (!parameters.empty()) return parameters;
    return json::object{{"type", "object"}, {"properties", json::object{}}};
}

std::string_view trim_slashes(std::string_view url) {
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    return url;
}

bool is_thinking_level(std::string_view level) {
    return level == "minimal" || level == "low" || level == "medium" || level == "high" || level == "xhigh";
}

// ---- OpenAI Chat Completions -----------------------------------------------------------------

json::value openai_user_content(const std::vector<Part>& parts) {
    if (!has_kind(parts, Part::Kind::image)) return json::value(joined_text(parts));
    json::array content;
    for (const Part& p : parts) {
        if (p.kind == Part::Kind::text) {
            content.push_back(json::object{{"type", "text"}, {"text", p.text}});
        } else if (p.kind == Part::Kind::image) {
            content.push_back(
                json::object{{"type", "image_url"},
                             {"image_url", json::object{{"url", "data:" + p.mime_type + ";base64," + p.data}}}});
        }
    }
    return content;
}

json::object openai_assistant(const std::vector<Part>& parts) {
    json::object message{{"role", "assistant"}};
    const std::string text = joined_text(parts);
    json::array calls;
    for (const Part& p : parts) {
        if (p.kind != Part::Kind::tool_call) continue;
        calls.push_back(
            json::object{{"id", p.id},
                         {"type", "function"},
                         {"function", json::object{{"name", p.name}, {"arguments", json::serialize(p.arguments)}}}});
    }
    if (text.empty()) {
        message["content"] = nullptr;
    } else {
        message["content"] = text;
    }
    if (!calls.empty()) message["tool_calls"] = std::move(calls);
    return message;
}

json::array openai_messages(const ModelRequest& req, const std::vector<Message>& conversation) {
    json::array out;
    if (!req.system_prompt.empty()) out.push_back(json::object{{"role", "system"}, {"content", req.system_prompt}});
    for (const Message& m : conversation) {
        switch (m.role) {
            case Message::Role::user:
                out.push_back(json::object{{"role", "user"}, {"content", openai_user_content(m.parts)}});
                break;
            case Message::Role::assistant:
                if (joined_text(m.parts).empty() && !has_kind(m.parts, Part::Kind::tool_call)) break;
                out.push_back(openai_assistant(m.parts));
                break;
            case Message::Role::tool_result: {
                // Tool messages carry text only; images a tool returned are noted, not sent.
                std::string text = joined_text(m.parts);
                if (has_kind(m.parts, Part::Kind::image))
                    text += (text.empty() ? "" : "\n") + std::string(kImageOmitted);
                out.push_back(json::object{{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", text}});
                break;
            }
        }
    }
    return out;
}

bool is_official_openai(std::string_view base_url) {
    return base_url.empty() || base_url.find("://api.openai.com") != std::string_view::npos;
}

std::string_view reasoning_effort(std::string_view level, std::string_view model) {
    if (level == "xhigh") return "high";
    // Only the GPT-5 family knows "minimal"; o-series models reject it.
    if (level == "minimal" && !model.starts_with("gpt-5")) return "low";
    return level;
}

json::object openai_body(const ModelRequest& req, const std::vector<Message>& conversation) {
    json::object body;
    body["model"] = req.model.model;
    body["messages"] = openai_messages(req, conversation);
    body["stream"] = true;
    body["stream_options"] = json::object{{"include_usage", true}};
    // OpenAI's reasoning models refuse `max_tokens`; compatible servers (Ollama, vLLM, LM Studio)
    // have understood `max_tokens` far longer than its replacement.
    body[is_official_openai(req.model.base_url) ? "max_completion_tokens" : "max_tokens"] = req.model.max_tokens;
    if (!req.tools.empty()) {
        json::array tools;
        for (const ToolSpec& t : req.tools) {
            tools.push_back(
                json::object{{"type", "function"},
                             {"function", json::object{{"name", t.name},
                                                       {"description", t.description},
                                                       {"parameters", schema_or_empty_object(t.parameters)}}}});
        }
        body["tools"] = std::move(tools);
    }
    if (req.model.reasoning && is_thinking_level(req.thinking)) {
        body["reasoning_effort"] = reasoning_effort(req.thinking, req.model.model);
    }
    return body;
}

// ---- Anthropic Messages ----------------------------------------------------------------------

// Anthropic accepts tool ids matching ^[a-zA-Z0-9_-]+$ only; other providers' ids may not, and an
// imported transcript may hold an empty one.
std::string anthropic_tool_id(std::string_view id) {
    std::string out(id);
    for (char& c : out) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
    }
    if (out.empty()) out = "_";
    return out;
}

json::object anthropic_image(const Part& p) {
    return json::object{{"type", "image"},
                        {"source", json::object{{"type", "base64"}, {"media_type", p.mime_type}, {"data", p.data}}}};
}

json::array anthropic_blocks(const std::vector<Part>& parts) {
    json::array blocks;
    for (const Part& p : parts) {
        switch (p.kind) {
            case Part::Kind::text:
                blocks.push_back(json::object{{"type", "text"}, {"text", p.text}});
                break;
            case Part::Kind::image:
                blocks.push_back(anthropic_image(p));
                break;
            case Part::Kind::thinking:
                // Unsigned thinking (from another provider, or cut before its signature) would be
                // rejected; it is only context the model does not need.
                if (!p.signature.empty()) {
                    blocks.push_back(
                        json::object{{"type", "thinking"}, {"thinking", p.text}, {"signature", p.signature}});
                }
                break;
            case Part::Kind::tool_call:
                blocks.push_back(json::object{
                    {"type", "tool_use"}, {"id", anthropic_tool_id(p.id)}, {"name", p.name}, {"input", p.arguments}});
                break;
        }
    }
    return blocks;
}

json::object anthropic_tool_result(const Message& m) {
    json::object block{{"type", "tool_result"}, {"tool_use_id", anthropic_tool_id(m.tool_call_id)}};
    if (has_kind(m.parts, Part::Kind::image)) {
        block["content"] = anthropic_blocks(m.parts);
    } else {
        block["content"] = joined_text(m.parts);
    }
    block["is_error"] = m.is_error;
    return block;
}

json::array anthropic_messages(const std::vector<Message>& conversation) {
    json::array out;
    bool last_is_tool_results = false;
    for (const Message& m : conversation) {
        if (m.role == Message::Role::tool_result) {
            // One user message answers all of an assistant's tool calls.
            if (!last_is_tool_results) {
                out.push_back(json::object{{"role", "user"}, {"content", json::array{}}});
                last_is_tool_results = true;
            }
            out.back().as_object()["content"].as_array().push_back(anthropic_tool_result(m));
            continue;
        }
        last_is_tool_results = false;
        json::array blocks = anthropic_blocks(m.parts);
        if (blocks.empty()) continue;
        out.push_back(json::object{{"role", m.role == Message::Role::user ? "user" : "assistant"},
                                   {"content", std::move(blocks)}});
    }
    return out;
}

int64_t anthropic_thinking_budget(std::string_view level) {
    if (level == "minimal") return 1024;
    if (level == "low") return 2048;
    if (level == "medium") return 8192;
    if (level == "high") return 16384;
    return 32000;  // xhigh
}

json::object anthropic_body(const ModelRequest& req, const std::vector<Message>& conversation) {
    json::object body;
    body["model"] = req.model.model;
    int64_t max_tokens = req.model.max_tokens > 0 ? req.model.max_tokens : 8192;
    json::object thinking;
    if (is_thinking_level(req.thinking)) {
        const int64_t budget = anthropic_thinking_budget(req.thinking);
        thinking = json::object{{"type", "enabled"}, {"budget_tokens", budget}};
        // The budget is part of max_tokens; leave room for the answer itself.
        if (max_tokens <= budget) max_tokens = budget + 4096;
    }
    body["max_tokens"] = max_tokens;
    body["stream"] = true;
    if (!req.system_prompt.empty()) body["system"] = req.system_prompt;
    body["messages"] = anthropic_messages(conversation);
    if (!req.tools.empty()) {
        json::array tools;
        for (const ToolSpec& t : req.tools) {
            tools.push_back(json::object{{"name", t.name},
                                         {"description", t.description},
                                         {"input_schema", schema_or_empty_object(t.parameters)}});
        }
        body["tools"] = std::move(tools);
    }
    if (!thinking.empty()) body["thinking"] = std::move(thinking);
    return body;
}

void set_header(core::HttpHeaders& headers, std::string name, std::string value) {
    auto same = [&name](const auto& h) {
        return std::equal(h.first.begin(), h.first.end(), name.begin(), name.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        });
    };
    auto it = std::find_if(headers.begin(), headers.end(), same);
    if (it != headers.end()) {
        it->second = std::move(value);
    } else {
        headers.emplace_back(std::move(name), std::move(value));
    }
}

}  // namespace

core::FetchRequest build_fetch_request(const ModelRequest& req, const CallPolicy& policy) {
    const ModelRef& model = req.model;
    const bool anthropic = model.api == kApiAnthropicMessages;
    const std::vector<Message> conversation = normalize(req.messages, model.supports_images);

    core::FetchRequest out;
    out.method = "POST";
    out.connect_timeout_ms = policy.connect_timeout_ms;
    out.idle_timeout_ms = policy.idle_timeout_ms;
    set_header(out.headers, "content-type", "application/json");
    set_header(out.headers, "accept", "text/event-stream");
    if (anthropic) {
        // OpenClaw's Anthropic base URLs omit /v1 (the SDK appends /v1/messages); ours include it.
        const std::string_view base =
            model.base_url.empty() ? "https://api.anthropic.com/v1" : trim_slashes(model.base_url);
        out.url = std::string(base) + (base.ends_with("/v1") ? "/messages" : "/v1/messages");
        if (!model.api_key.empty()) set_header(out.headers, "x-api-key", model.api_key);
        set_header(out.headers, "anthropic-version", "2023-06-01");
        out.body = json::serialize(anthropic_body(req, conversation));
    } else {
        const std::string_view base =
            model.base_url.empty() ? "https://api.openai.com/v1" : trim_slashes(model.base_url);
        out.url = std::string(base) + "/chat/completions";
        if (!model.api_key.empty()) set_header(out.headers, "authorization", "Bearer " + model.api_key);
        out.body = json::serialize(openai_body(req, conversation));
    }
    for (const auto& [name, value] : model.headers) set_header(out.headers, name, value);
    return out;
}

}  // namespace pincer::runtime
