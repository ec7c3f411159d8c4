// The model's view of a session (transcript entries → pi-ai messages) and the stop phrases that
// turn a chat.send into an abort.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>

#include "methods/chat_runs.hpp"

namespace pincer::methods {

json::object assistant_text_message(const std::string& text, int64_t ts) {
    return json::object{{"role", "assistant"},
                        {"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                        {"timestamp", ts}};
}

bool is_stop_phrase(std::string_view message) {
    std::string s;
    for (char c : message) s.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
    while (!s.empty() &&
           (std::isspace(static_cast<unsigned char>(s.back())) || std::ispunct(static_cast<unsigned char>(s.back()))))
        s.pop_back();
    size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    s.erase(0, b);
    static constexpr std::string_view kPhrases[] = {"/stop", "stop",   "abort",     "esc", "wait",
                                                    "exit",  "/abort", "interrupt", "/esc"};
    return std::find(std::begin(kPhrases), std::end(kPhrases), s) != std::end(kPhrases);
}

json::array model_history(const std::vector<storage::TranscriptEntry>& entries) {
    size_t start = 0;
    std::string summary;
    int64_t summary_ts = 0;
    for (size_t i = entries.size(); i-- > 0;) {
        if (entries[i].type != "compaction") continue;
        start = i + 1;
        summary_ts = entries[i].ts_ms;
        boost::system::error_code ec;
        auto v = json::parse(entries[i].payload, ec);
        if (!ec && v.is_object()) {
            const auto& c = v.as_object();
            if (auto* s = c.if_contains("summary"); s && s->is_string()) summary = s->as_string();
            // The summary replaces what came before the first kept entry; the kept tail stays verbatim.
            if (auto* k = c.if_contains("firstKeptEntryId"); k && k->is_string()) {
                for (size_t j = 0; j < i; ++j)
                    if (entries[j].entry_id == k->as_string()) start = j;
            }
        }
        break;
    }
    std::vector<json::object> msgs;
    if (!summary.empty()) {
        msgs.push_back(json::object{{"role", "user"},
                                    {"content", "The conversation so far, summarized:\n\n" + summary},
                                    {"timestamp", summary_ts}});
    }
    for (size_t i = start; i < entries.size(); ++i) {
        const auto& e = entries[i];
        if (e.type != "message" || !e.role) continue;
        if (*e.role != "user" && *e.role != "assistant" && *e.role != "toolResult") continue;
        boost::system::error_code ec;
        auto v = json::parse(e.payload, ec);
        if (ec || !v.is_object()) continue;
        msgs.push_back(std::move(v.as_object()));
    }
    // Providers reject tool results without their call and calls without their result: keep
    // only matched pairs (a crash or abort between a call and its result leaves either behind).
    std::vector<std::string> results, calls;
    for (const auto& m : msgs) {
        if (m.at("role") == "toolResult") {
            if (auto* id = m.if_contains("toolCallId"); id && id->is_string()) results.emplace_back(id->as_string());
        } else if (m.at("role") == "assistant") {
            if (auto* c = m.if_contains("content"); c && c->is_array())
                for (const auto& b : c->as_array())
                    if (b.is_object() && b.as_object().if_contains("type") && b.at("type") == "toolCall" &&
                        b.as_object().if_contains("id") && b.at("id").is_string())
                        calls.emplace_back(b.at("id").as_string());
        }
    }
    auto has = [](const std::vector<std::string>& v, std::string_view id) {
        return std::find(v.begin(), v.end(), id) != v.end();
    };
    json::array out;
    for (auto& m : msgs) {
        if (m.at("role") == "toolResult") {
            auto* id = m.if_contains("toolCallId");
            if (!id || !id->is_string() || !has(calls, id->as_string())) continue;
        } else if (m.at("role") == "assistant") {
            if (auto* c = m.if_contains("content"); c && c->is_array()) {
                auto& blocks = c->as_array();
                for (auto it = blocks.begin(); it != blocks.end();) {
                    bool orphan = it->is_object() && it->as_object().if_contains("type") &&
                                  it->at("type") == "toolCall" &&
                                  !(it->as_object().if_contains("id") && it->at("id").is_string() &&
                                    has(results, it->at("id").as_string()));
                    it = orphan ? blocks.erase(it) : it + 1;
                }
                if (blocks.empty()) continue;  // a failed or aborted turn that produced nothing
            }
        }
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace pincer::methods
