#include "core/http_fetch.hpp"

namespace pincer::core {

std::string_view to_string(FetchError e) {
    switch (e) {
        case FetchError::none:
            return "none";
        case FetchError::bad_url:
            return "bad_url";
        case FetchError::resolve:
            return "resolve";
        case FetchError::connect:
            return "connect";
        case FetchError::tls:
            return "tls";
        case FetchError::timeout:
            return "timeout";
        case FetchError::closed_early:
            return "closed_early";
        case FetchError::too_large:
            return "too_large";
        case FetchError::protocol:
            return "protocol";
        case FetchError::cancelled:
            return "cancelled";
    }
    return "protocol";
}

std::string FetchHead::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) return v;
    }
    return {};
}

}  // namespace pincer::core
