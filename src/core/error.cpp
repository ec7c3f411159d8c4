#include "core/error.hpp"

namespace pincer::core {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request: return "INVALID_REQUEST";
        case ErrorCode::unavailable: return "UNAVAILABLE";
        case ErrorCode::not_paired: return "NOT_PAIRED";
        case ErrorCode::not_linked: return "NOT_LINKED";
        case ErrorCode::agent_timeout: return "AGENT_TIMEOUT";
        case ErrorCode::forbidden: return "FORBIDDEN";
    }
    return "UNAVAILABLE";
}

json::object to_wire(const RpcError& e) {
    json::object o;
    o["code"] = to_string(e.code);
    o["message"] = e.message;
    if (!e.details.is_null()) o["details"] = e.details;
    if (e.retryable) o["retryable"] = *e.retryable;
    if (e.retry_after_ms) o["retryAfterMs"] = *e.retry_after_ms;
    return o;
}

}  // namespace pincer::core
