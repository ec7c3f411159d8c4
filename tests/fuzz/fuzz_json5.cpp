// libFuzzer target for the config file parser: arbitrary bytes into parse_json5, and every
// accepted document through serialize_pretty, which must produce JSON that parses back to an
// equal value (Boost.JSON's strict parser is the oracle; non-finite numbers excepted).
#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/json5.hpp"

namespace {

bool has_non_finite(const boost::json::value& v) {
    if (v.is_double()) return !std::isfinite(v.get_double());
    if (const auto* a = v.if_array()) {
        for (const auto& e : *a) {
            if (has_non_finite(e)) return true;
        }
    }
    if (const auto* o = v.if_object()) {
        for (const auto& kv : *o) {
            if (has_non_finite(kv.value())) return true;
        }
    }
    return false;
}

// Equality where numbers compare by value across int64/uint64/double ("1.0" prints as "1").
bool same(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
    if (a.kind() != b.kind()) return false;
    if (const auto* x = a.if_array()) {
        const auto& y = b.get_array();
        if (x->size() != y.size()) return false;
        for (std::size_t i = 0; i < x->size(); ++i) {
            if (!same((*x)[i], y[i])) return false;
        }
        return true;
    }
    if (const auto* x = a.if_object()) {
        const auto& y = b.get_object();
        if (x->size() != y.size()) return false;
        for (const auto& kv : *x) {
            const auto* other = y.if_contains(kv.key());
            if (other == nullptr || !same(kv.value(), *other)) return false;
        }
        return true;
    }
    return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = pincer::config::parse_json5(text);
    if (auto* err = std::get_if<pincer::config::Json5Error>(&result)) {
        if (err->message.rfind("JSON5: ", 0) != 0) std::abort();
        return 0;
    }
    const auto& value = std::get<boost::json::value>(result);
    const std::string out = pincer::config::serialize_pretty(value);
    boost::json::parse_options opts;
    opts.max_depth = pincer::config::kMaxJson5Depth + 1;
    boost::system::error_code ec;
    const boost::json::value back = boost::json::parse(out, ec, {}, opts);
    if (ec) std::abort();  // serialize_pretty must always emit valid JSON
    auto again = pincer::config::parse_json5(out);
    if (!std::holds_alternative<boost::json::value>(again)) std::abort();
    if (!has_non_finite(value) && !same(std::get<boost::json::value>(again), value)) {
        // Doubles print shortest-round-trip, ints exactly, strings valid UTF-8: must be lossless.
        std::abort();
    }
    return 0;
}
