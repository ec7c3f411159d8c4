#include <boost/json/parse.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "methods/sessions.hpp"

namespace pincer::methods {
namespace {

// ---------------------------------------------------------------------------------------------
// sessions.preview

std::string clip(std::string text, size_t max_chars) {
    // Collapse whitespace runs, as a one-line preview.
    std::string out;
    bool space = false;
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    if (out.size() <= max_chars) return out;
    size_t cut = max_chars - 1;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    return out.substr(0, cut) + "…";
}

std::string preview_role(std::string_view role) {
    if (role == "user" || role == "assistant" || role == "system") return std::string(role);
    if (role == "toolResult" || role == "tool") return "tool";
    return "other";
}

// The preview text of a pi-ai message, or "" when it has nothing to show.
std::string preview_text(const json::object& msg) {
    const json::value* content = msg.if_contains("content");
    if (!content) return {};
    if (content->is_string()) return std::string(core::sv(content->get_string()));
    if (!content->is_array()) return {};
    std::string text;
    std::vector<std::string> tools;
    std::string media;
    for (const auto& part : content->get_array()) {
        if (!part.is_object()) continue;
        const auto& o = part.get_object();
        const json::string* type = core::get_string(o, "type");
        if (!type) continue;
        if (*type == "text") {
            if (const json::string* t = core::get_string(o, "text")) {
                if (!text.empty()) text += ' ';
                text += core::sv(*t);
            }
        } else if (*type == "toolCall" || *type == "tool_use") {
            const json::string* name = core::get_string(o, "name");
            tools.emplace_back(name ? std::string(core::sv(*name)) : "tool");
        } else if (*type == "image") {
            media = "[image]";
        } else if (*type != "thinking" && media.empty()) {
            media = "[" + std::string(core::sv(*type)) + "]";
        }
    }
    if (!text.empty()) return text;
    if (!tools.empty()) {
        std::string s = "call " + tools[0];
        if (tools.size() > 1) s += ", " + tools[1];
        if (tools.size() > 2) s += " +" + std::to_string(tools.size() - 2);
        return s;
    }
    return media;
}

}  // namespace

json::object session_preview(storage::SessionsRepo& sessions, storage::TranscriptsRepo& transcripts,
                             const std::string& key, size_t limit, size_t max_chars) {
    json::object out{{"key", key}, {"status", "missing"}, {"items", json::array{}}};
    try {
        auto entry = sessions.get(canonical_session_key(key));
        if (!entry) return out;
        json::array items;
        for (const auto& t : transcripts.tail(entry->session_id, limit)) {
            if (t.type != "message") continue;
            json::value payload = json::parse(t.payload);
            if (!payload.is_object()) continue;
            std::string text = preview_text(payload.get_object());
            if (text.empty()) continue;
            items.push_back(json::object{{"role", preview_role(t.role.value_or(""))}, {"text", clip(text, max_chars)}});
        }
        out["status"] = items.empty() ? "empty" : "ok";
        out["items"] = std::move(items);
    } catch (const std::exception&) {
        out["status"] = "error";
        out["items"] = json::array{};
    }
    return out;
}

void add_list_extras(storage::TranscriptsRepo& transcripts, const std::string& session_id, bool derived_title,
                     bool last_message, json::object& row) {
    auto text_of = [](const storage::TranscriptEntry& t) -> std::string {
        if (t.type != "message") return {};
        boost::system::error_code ec;
        json::value payload = json::parse(t.payload, ec);
        return (!ec && payload.is_object()) ? preview_text(payload.get_object()) : std::string();
    };
    try {
        if (derived_title) {
            // The reference derives a title from the first user message.
            for (const auto& t : transcripts.after(session_id, 0, 20)) {
                if (t.role != "user") continue;
                if (auto text = text_of(t); !text.empty()) {
                    row["derivedTitle"] = clip(text, kDerivedTitleChars);
                    break;
                }
            }
        }
        if (last_message) {
            auto tail = transcripts.tail(session_id, 5);
            for (auto it = tail.rbegin(); it != tail.rend(); ++it) {
                if (it->role != "user" && it->role != "assistant") continue;
                if (auto text = text_of(*it); !text.empty()) {
                    row["lastMessagePreview"] = clip(text, kLastMessageChars);
                    break;
                }
            }
        }
    } catch (const std::exception&) {
        // A preview is decoration: a row without one beats a failed listing.
    }
}

}  // namespace pincer::methods
