#include "dispatch/presence.hpp"

#include <algorithm>

namespace pincer::dispatch {
namespace {

std::string presence_text(std::string_view host, std::string_view mode) {
    return "Node: " + std::string(host) + " \u00b7 mode " + std::string(mode);
}

}  // namespace

Presence::Presence(json::object self_entry, PresenceLimits limits) : self_(std::move(self_entry)), limits_(limits) {}

json::object* Presence::find(std::string_view key) {
    for (auto& [k, e] : entries_) {
        if (k == key) return &e;
    }
    return nullptr;
}

bool Presence::on_connect(const ConnState& c, int64_t now_ms) {
    if (c.presence_key.empty()) return false;
    json::object e;
    std::string host = !c.display_name.empty() ? c.display_name : c.client_id;
    e["host"] = host;
    e["ip"] = c.remote_ip;
    e["version"] = c.client_version;
    e["platform"] = c.client_platform;
    if (!c.device_family.empty()) e["deviceFamily"] = c.device_family;
    if (!c.model_identifier.empty()) e["modelIdentifier"] = c.model_identifier;
    e["mode"] = c.client_mode;
    e["roles"] = json::array{json::string(core::to_string(c.role))};
    e["scopes"] = core::string_array(c.scopes);
    if (!c.device_id.empty()) e["deviceId"] = c.device_id;
    if (!c.instance_id.empty()) e["instanceId"] = c.instance_id;
    e["reason"] = "connect";
    e["ts"] = now_ms;
    e["text"] = presence_text(host, c.client_mode);
    if (json::object* existing = find(c.presence_key)) {
        *existing = std::move(e);
    } else {
        entries_.emplace_back(c.presence_key, std::move(e));
    }
    prune(now_ms);
    ++version_;
    return true;
}

bool Presence::on_disconnect(const ConnState& c, int64_t now_ms) {
    if (c.presence_key.empty()) return false;
    json::object* e = find(c.presence_key);
    if (!e) return false;
    (*e)["reason"] = "disconnect";
    (*e)["ts"] = now_ms;
    ++version_;
    return true;
}

void Presence::upsert_reported(const json::object& fields, int64_t now_ms) {
    std::string key;
    for (std::string_view k : {"deviceId", "instanceId", "host"}) {
        if (auto s = core::get_string(fields, k); s && !s->empty()) {
            key = std::string(k) + ":" + std::string(core::sv(*s));
            break;
        }
    }
    if (key.empty()) key = "reported";
    json::object e;
    static constexpr std::string_view kFields[] = {
        "host",   "ip",   "version", "platform", "deviceFamily", "modelIdentifier", "mode",      "lastInputSeconds",
        "reason", "tags", "text",    "deviceId", "roles",        "scopes",          "instanceId"};
    for (auto f : kFields) {
        if (auto it = fields.find(f); it != fields.end()) e[f] = it->value();
    }
    e["ts"] = now_ms;
    if (json::object* existing = find(key)) {
        *existing = std::move(e);
    } else {
        entries_.emplace_back(std::move(key), std::move(e));
    }
    prune(now_ms);
    ++version_;
}

void Presence::prune(int64_t now_ms) {
    auto expired = [&](const std::pair<std::string, json::object>& kv) {
        auto reason = core::get_string(kv.second, "reason");
        auto ts = core::get_int(kv.second, "ts");
        return reason && *reason == "disconnect" && ts && now_ms - *ts > limits_.disconnected_ttl_ms;
    };
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), expired), entries_.end());
    while (entries_.size() > limits_.max_entries) entries_.erase(entries_.begin());
}

json::array Presence::list(int64_t now_ms) {
    prune(now_ms);
    json::array out;
    out.reserve(entries_.size() + 1);
    json::object self = self_;
    self["ts"] = now_ms;
    out.emplace_back(std::move(self));
    for (const auto& [k, e] : entries_) out.emplace_back(e);
    return out;
}

}  // namespace pincer::dispatch
