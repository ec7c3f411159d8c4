#include "core/frame.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/static_resource.hpp>
#include <vector>

namespace pincer::core {
namespace {

// Mirrors how the reference formats its validator errors: one message per failing keyword,
// first occurrence only, in schema order (required, additionalProperties, then per-field).
std::string describe_invalid(const json::object& o) {
    std::vector<std::string> parts;
    for (std::string_view key : {"id", "method"}) {
        if (!o.contains(key)) {
            parts.push_back("must have required property '" + std::string(key) + "'");
            break;
        }
    }
    for (const auto& kv : o) {
        std::string_view k = kv.key();
        if (k != "type" && k != "id" && k != "method" && k != "params") {
            parts.push_back("at root: unexpected property '" + std::string(k) + "'");
            break;
        }
    }
    auto type = o.find("type");
    if (type == o.end()) {
        parts.insert(parts.begin(), "must have required property 'type'");
    } else if (!type->value().is_string() || type->value().get_string() != "req") {
        parts.push_back("at /type: must be equal to constant");
    }
    for (std::string_view key : {"id", "method"}) {
        auto it = o.find(key);
        if (it == o.end()) continue;
        if (!it->value().is_string()) {
            parts.push_back("at /" + std::string(key) + ": must be string");
        } else if (it->value().get_string().empty()) {
            parts.push_back("at /" + std::string(key) + ": must NOT have fewer than 1 characters");
        }
    }
    std::string msg = "invalid request frame: ";
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i) msg += "; ";
        msg += parts[i];
    }
    return msg;
}

}  // namespace

InboundFrame parse_inbound(std::string_view text) {
    // A per-frame arena: small frames parse without touching the heap for the DOM.
    unsigned char stack_buf[4096];
    json::monotonic_resource arena(stack_buf, sizeof(stack_buf));
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, &arena);
    if (ec) return NotJson{};
    if (!v.is_object()) return InvalidFrame{"invalid", "invalid request frame: must be object"};
    const json::object& o = v.get_object();
    const json::string* type = get_string(o, "type");
    const json::string* id = get_string(o, "id");
    const json::string* method = get_string(o, "method");
    bool closed = true;
    for (const auto& kv : o) {
        std::string_view k = kv.key();
        if (k != "type" && k != "id" && k != "method" && k != "params") closed = false;
    }
    if (type && *type == "req" && id && !id->empty() && method && !method->empty() && closed) {
        RequestFrame req{std::string(sv(*id)), std::string(sv(*method)), nullptr};
        if (auto it = o.find("params"); it != o.end()) {
            if (has_non_finite(it->value())) return InvalidFrame{req.id, "invalid request frame: number out of range"};
            req.params = json::value(it->value(), json::storage_ptr());
        }
        return req;
    }
    return InvalidFrame{(id && !id->empty()) ? std::string(sv(*id)) : std::string("invalid"), describe_invalid(o)};
}

std::string serialize_ok(std::string_view id, const json::value& payload) {
    std::string out;
    out.reserve(64);
    out += R"({"type":"res","id":)";
    out += json::serialize(json::string_view(id.data(), id.size()));
    out += R"(,"ok":true,"payload":)";
    out += json::serialize(payload);
    out += '}';
    return out;
}

std::string serialize_error(std::string_view id, const RpcError& error, const json::value& payload) {
    std::string out = R"({"type":"res","id":)";
    out += json::serialize(json::string_view(id.data(), id.size()));
    out += R"(,"ok":false,)";
    if (!payload.is_null()) {
        out += R"("payload":)";
        out += json::serialize(payload);
        out += ',';
    }
    out += R"("error":)";
    out += json::serialize(to_wire(error));
    out += '}';
    return out;
}

std::string event_prefix(std::string_view event, const json::value& payload, const json::value& state_version) {
    std::string out = R"({"type":"event","event":)";
    out += json::serialize(json::string_view(event.data(), event.size()));
    out += R"(,"payload":)";
    out += json::serialize(payload);
    if (!state_version.is_null()) {
        out += R"(,"stateVersion":)";
        out += json::serialize(state_version);
    }
    return out;
}

std::string serialize_event(std::string_view event, const json::value& payload, int64_t seq,
                            const json::value& state_version) {
    std::string out = event_prefix(event, payload, state_version);
    if (seq >= 0) {
        out += R"(,"seq":)";
        out += std::to_string(seq);
    }
    out += '}';
    return out;
}

}  // namespace pincer::core
