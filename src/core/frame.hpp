#pragma once
/// Inbound frame classification and outbound frame serialisation (no I/O).
#include <memory_resource>
#include <string>
#include <string_view>
#include <variant>

#include "core/error.hpp"
#include "core/json.hpp"

namespace pincer::core {

/// A valid `req` frame. `params` is null when the client sent none (handlers treat it as {}).
struct RequestFrame {
    std::string id;
    std::string method;
    json::value params;
};

/// Valid JSON that is not a valid request: answered with INVALID_REQUEST under `reply_id`
/// (the frame's own string id, else "invalid"); the socket stays open after the handshake.
struct InvalidFrame {
    std::string reply_id;
    std::string message;  // "invalid request frame: ..."
};

/// Text that is not JSON at all: ignored after the handshake (the reference sends nothing).
struct NotJson {};

using InboundFrame = std::variant<RequestFrame, InvalidFrame, NotJson>;

/// Parses and validates one inbound text frame against the reference's closed RequestFrame
/// schema, reporting problems in the reference's wording.
InboundFrame parse_inbound(std::string_view text);

/// `{"type":"res","id":..,"ok":true,"payload":..}`
std::string serialize_ok(std::string_view id, const json::value& payload);
/// `{"type":"res","id":..,"ok":false,"error":{..}}` (plus `payload` when not null).
std::string serialize_error(std::string_view id, const RpcError& error, const json::value& payload = nullptr);
/// `{"type":"event","event":..,"payload":..[,"stateVersion":..]` without the closing brace, so a
/// broadcast can share it and append a per-connection `,"seq":N}`.
std::string event_prefix(std::string_view event, const json::value& payload,
                         const json::value& state_version = nullptr);
/// Event frame; `seq` < 0 means no seq (targeted and pre-handshake events).
std::string serialize_event(std::string_view event, const json::value& payload, int64_t seq = -1,
                            const json::value& state_version = nullptr);

}  // namespace pincer::core
