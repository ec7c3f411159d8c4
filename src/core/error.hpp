#pragma once
/// Errors as handlers and the handshake produce them, and their one mapping to the wire shape.
#include <cstdint>
#include <optional>
#include <string>

#include "core/json.hpp"

namespace pincer::core {

/// Wire error codes. v3 clients know the first five; FORBIDDEN is v4-only.
enum class ErrorCode { invalid_request, unavailable, not_paired, not_linked, agent_timeout, forbidden };

std::string_view to_string(ErrorCode code);

/// What a client sees: the protocol's ErrorShape {code, message, details?, retryable?, retryAfterMs?}.
struct RpcError {
    ErrorCode code = ErrorCode::invalid_request;
    std::string message;
    json::value details;  // null = absent
    std::optional<bool> retryable;
    std::optional<int64_t> retry_after_ms;

    static RpcError invalid(std::string message) {
        return {ErrorCode::invalid_request, std::move(message), {}, {}, {}};
    }
    static RpcError unavailable(std::string message) {
        return {ErrorCode::unavailable, std::move(message), {}, {}, {}};
    }
};

/// The ErrorShape object, in the field order the reference sends.
json::object to_wire(const RpcError& e);

/// Thrown by handlers' helpers (param readers) to leave with a client-visible error; the
/// dispatcher catches it in one place. Anything else thrown becomes a generic UNAVAILABLE.
struct RpcException : std::exception {
    RpcError error;
    explicit RpcException(RpcError e) : error(std::move(e)) {}
    const char* what() const noexcept override { return error.message.c_str(); }
};

/// Leaves a handler with INVALID_REQUEST `message` (and optional details).
[[noreturn]] inline void throw_invalid(std::string message, json::value details = nullptr) {
    RpcError e = RpcError::invalid(std::move(message));
    e.details = std::move(details);
    throw RpcException(std::move(e));
}

}  // namespace pincer::core
