#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "methods/chat.hpp"

namespace pincer::methods {
namespace {

constexpr std::string_view kTruncated = "…(truncated)…";

/// Clips to `max_chars` code points (never splitting a UTF-8 sequence).
void clip(json::string& s, size_t max_chars) {
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
        if (chars++ == max_chars) {
            std::string out(s.data(), i);
            out += kTruncated;
            s = out;
            return;
        }
    }
}

void clip_field(json::object& o, std::string_view key, size_t max_chars) {
    if (auto* v = o.if_contains(key); v && v->is_string()) clip(v->as_string(), max_chars);
}

void project_content(json::object& msg, size_t max_chars) {
    json::value* content = msg.if_contains("content");
    if (!content) return;
    if (content->is_string()) {
        clip(content->as_string(), max_chars);
        return;
    }
    if (!content->is_array()) return;
    for (auto& block : content->as_array()) {
        if (!block.is_object()) continue;
        auto& b = block.as_object();
        auto* type = b.if_contains("type");
        if (!type || !type->is_string()) continue;
        if (*type == "text") {
            clip_field(b, "text", max_chars);
        } else if (*type == "thinking") {
            b.erase("thinkingSignature");
            clip_field(b, "thinking", max_chars);
        } else if (*type == "image") {
            size_t bytes = 0;
            if (auto* d = b.if_contains("data"); d && d->is_string()) bytes = d->as_string().size() * 3 / 4;
            b.erase("data");
            b["omitted"] = true;
            b["bytes"] = static_cast<int64_t>(bytes);
        }
    }
}

void reduce_usage(json::object& msg) {
    auto* u = msg.if_contains("usage");
    if (!u || !u->is_object()) return;
    auto& usage = u->as_object();
    json::object out;
    for (std::string_view k : {"input", "output", "totalTokens", "cacheRead", "cacheWrite"})
        if (auto* v = usage.if_contains(k)) out[k] = *v;
    if (auto* c = usage.if_contains("cost"); c && c->is_object()) {
        if (auto* t = c->as_object().if_contains("total")) out["cost"] = json::object{{"total", *t}};
    }
    *u = std::move(out);
}

bool is_no_reply(const json::object& msg) {
    auto* content = msg.if_contains("content");
    if (!content) return false;
    std::string text;
    if (content->is_string()) {
        text = content->as_string();
    } else if (content->is_array()) {
        for (const auto& b : content->as_array()) {
            if (!b.is_object()) continue;
            auto* type = b.as_object().if_contains("type");
            if (!type || *type != "text") return false;
            if (auto* t = b.as_object().if_contains("text"); t && t->is_string()) text += t->as_string();
        }
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    return text == "NO_REPLY";
}

}  // namespace

json::object project_message(const storage::TranscriptEntry& entry, size_t max_chars) {
    boost::system::error_code ec;
    json::value v = json::parse(entry.payload, ec);
    json::object msg = (!ec && v.is_object()) ? std::move(v.as_object()) : json::object{};
    project_content(msg, max_chars);
    clip_field(msg, "errorMessage", max_chars);
    reduce_usage(msg);
    msg.erase("details");
    msg["__openclaw"] = json::object{{"id", entry.entry_id}, {"seq", entry.seq}};
    return msg;
}

json::array project_history(const std::vector<storage::TranscriptEntry>& entries, size_t max_chars, size_t max_bytes) {
    struct Row {
        json::value msg;
        size_t bytes;  // serialised size: the budget counts what will be sent
    };
    std::vector<Row> rows;
    rows.reserve(entries.size());
    for (const auto& e : entries) {
        json::object msg;
        if (e.type == "compaction") {
            msg =
                json::object{{"role", "system"},
                             {"content", json::array{json::object{{"type", "text"}, {"text", "Compaction"}}}},
                             {"timestamp", e.ts_ms},
                             {"__openclaw", json::object{{"kind", "compaction"}, {"id", e.entry_id}, {"seq", e.seq}}}};
        } else if (e.type == "message" && e.role &&
                   (*e.role == "user" || *e.role == "assistant" || *e.role == "toolResult")) {
            msg = project_message(e, max_chars);
            if (*e.role == "assistant" && is_no_reply(msg)) continue;
        } else {
            continue;
        }
        size_t bytes = json::serialize(msg).size();
        if (bytes > kMaxHistoryMessageBytes) {
            json::object placeholder{
                {"role", msg.contains("role") ? msg.at("role") : json::value("assistant")},
                {"content",
                 json::array{json::object{{"type", "text"}, {"text", "[chat.history omitted: message too large]"}}}},
                {"timestamp", e.ts_ms},
                {"__openclaw", json::object{{"id", e.entry_id}, {"seq", e.seq}, {"truncated", true}}}};
            bytes = json::serialize(placeholder).size();
            msg = std::move(placeholder);
        }
        rows.push_back(Row{std::move(msg), bytes});
    }
    // Newest first until the budget is spent: a long session shows its latest turns.
    size_t total = 2, first = rows.size();
    while (first > 0 && total + rows[first - 1].bytes + 1 <= max_bytes) {
        total += rows[first - 1].bytes + 1;
        --first;
    }
    json::array out;
    out.reserve(rows.size() - first);
    for (size_t i = first; i < rows.size(); ++i) out.push_back(std::move(rows[i].msg));
    return out;
}

}  // namespace pincer::methods
