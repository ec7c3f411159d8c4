#include <cctype>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "methods/sessions.hpp"
#include "util/strings.hpp"

namespace pincer::methods {
namespace {

constexpr size_t kMaxLabelChars = 512;

using util::trim;
std::string lower(std::string_view s) { return util::ascii_lower(s); }
using core::throw_invalid;
// ---------------------------------------------------------------------------------------------
// sessions.patch

struct EnumField {
    std::string_view name;
    std::vector<std::string_view> values;                                // the canonical values, in the error's order
    std::vector<std::pair<std::string_view, std::string_view>> aliases;  // alias -> canonical
};

const std::vector<EnumField>& enum_fields() {
    static const std::vector<EnumField> fields = {
        {"thinkingLevel",
         {"off", "minimal", "low", "medium", "high", "xhigh", "adaptive", "max"},
         {{"on", "low"},
          {"enable", "low"},
          {"min", "minimal"},
          {"mid", "medium"},
          {"med", "medium"},
          {"ultra", "high"},
          {"highest", "high"},
          {"auto", "adaptive"},
          {"think", "minimal"}}},
        {"verboseLevel",
         {"off", "on", "full"},
         {{"true", "on"},
          {"yes", "on"},
          {"1", "on"},
          {"minimal", "on"},
          {"all", "full"},
          {"everything", "full"},
          {"false", "off"},
          {"no", "off"},
          {"0", "off"}}},
        {"traceLevel", {"off", "on", "raw"}, {}},
        {"reasoningLevel", {"off", "on", "stream"}, {}},
        {"responseUsage", {"off", "tokens", "full"}, {{"on", "tokens"}}},
        {"elevatedLevel", {"off", "on", "ask", "full"}, {}},
        {"execHost", {"auto", "sandbox", "gateway", "node"}, {}},
        {"execSecurity", {"deny", "allowlist", "full"}, {}},
        {"execAsk", {"off", "on-miss", "always"}, {}},
        {"sendPolicy", {"allow", "deny"}, {}},
        {"groupActivation", {"mention", "always"}, {}},
    };
    return fields;
}

std::string normalize_enum(const EnumField& f, const json::value& v) {
    std::string s;
    if (v.is_string())
        s = lower(trim(core::sv(v.get_string())));
    else if (v.is_bool())
        s = v.get_bool() ? "true" : "false";
    for (auto canonical : f.values)
        if (s == canonical) return s;
    for (auto [alias, canonical] : f.aliases)
        if (s == alias) return std::string(canonical);
    std::string allowed;
    for (auto c : f.values) allowed += (allowed.empty() ? "" : "|") + std::string(c);
    throw_invalid("invalid " + std::string(f.name) + " (use " + allowed + ")");
}

bool is_spawn_key(std::string_view key) {
    return key.find(":subagent:") != std::string_view::npos || key.find(":acp:") != std::string_view::npos;
}

// The store patch for sessions.patch params (absent = unchanged, null = clear, value = set).
}  // namespace

json::object build_session_patch(const json::object& p, const std::string& key,
                                 const std::optional<storage::SessionEntry>& cur) {
    json::object out;
    if (const json::value* v = p.if_contains("label")) {
        if (v->is_null()) {
            out["label"] = nullptr;
        } else {
            if (!v->is_string()) throw_invalid("invalid label: must be a string");
            std::string label = trim(core::sv(v->get_string()));
            if (label.empty()) throw_invalid("invalid label: empty");
            if (label.size() > kMaxLabelChars) throw_invalid("invalid label: too long (max 512)");
            out["label"] = label;
        }
    }
    for (const auto& f : enum_fields()) {
        const json::value* v = p.if_contains(f.name);
        if (!v) continue;
        if (v->is_null()) {
            out[f.name] = nullptr;
            continue;
        }
        std::string value = normalize_enum(f, *v);
        // responseUsage "off" is the default: the field is removed.
        if (f.name == "responseUsage" && value == "off")
            out[f.name] = nullptr;
        else
            out[f.name] = value;
    }
    if (const json::value* v = p.if_contains("fastMode")) {
        if (!v->is_null() && !v->is_bool()) throw_invalid("invalid fastMode: must be a boolean");
        out["fastMode"] = *v;
    }
    if (const json::value* v = p.if_contains("execNode")) {
        if (v->is_null()) {
            out["execNode"] = nullptr;
        } else {
            if (!v->is_string() || trim(core::sv(v->get_string())).empty())
                throw_invalid("invalid execNode: must be a non-empty string");
            out["execNode"] = trim(core::sv(v->get_string()));
        }
    }
    if (const json::value* v = p.if_contains("model")) {
        if (v->is_null()) {
            for (std::string_view f : {"providerOverride", "modelOverride", "modelOverrideSource"}) out[f] = nullptr;
        } else {
            std::string m = v->is_string() ? trim(core::sv(v->get_string())) : std::string();
            const size_t slash = m.find('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == m.size())
                throw_invalid("invalid model: use provider/model");
            out["providerOverride"] = m.substr(0, slash);
            out["modelOverride"] = m.substr(slash + 1);
            out["modelOverrideSource"] = "user";
            out["liveModelSwitchPending"] = true;
        }
    }
    // Lineage: only for sub-agent / ACP sessions, and write-once.
    static constexpr std::array<std::string_view, 5> kLineage = {"spawnedBy", "spawnedWorkspaceDir", "spawnDepth",
                                                                 "subagentRole", "subagentControlScope"};
    for (std::string_view name : kLineage) {
        const json::value* v = p.if_contains(name);
        if (!v) continue;
        if (!is_spawn_key(key))
            throw_invalid(std::string(name) + " is only supported for subagent:* or acp:* sessions");
        json::value value;
        if (!v->is_null()) {
            if (name == "spawnDepth") {
                if (!v->is_int64() || v->get_int64() < 0) throw_invalid("invalid spawnDepth: must be an integer >= 0");
                value = *v;
            } else if (name == "subagentRole") {
                value = normalize_enum({"subagentRole", {"orchestrator", "leaf"}, {}}, *v);
            } else if (name == "subagentControlScope") {
                value = normalize_enum({"subagentControlScope", {"children", "none"}, {}}, *v);
            } else {
                if (!v->is_string() || trim(core::sv(v->get_string())).empty())
                    throw_invalid("invalid " + std::string(name) + ": must be a non-empty string");
                std::string s = trim(core::sv(v->get_string()));
                value = name == "spawnedBy" ? canonical_session_key(s) : s;
            }
        }
        const json::value* existing = cur ? cur->fields.if_contains(name) : nullptr;
        if (existing && !existing->is_null()) {
            if (*existing != value) throw_invalid(std::string(name) + " cannot be changed once set");
            continue;
        }
        out[name] = value;
    }
    return out;
}

}  // namespace pincer::methods
