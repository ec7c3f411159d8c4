#pragma once
/// Thin conveniences over Boost.JSON used across layers.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pincer {
namespace json = boost::json;
}

namespace pincer::core {

/// The string at `key`, or nullptr when absent or not a string.
inline const json::string* get_string(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return (it != o.end() && it->value().is_string()) ? &it->value().get_string() : nullptr;
}
inline const json::object* get_object(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return (it != o.end() && it->value().is_object()) ? &it->value().get_object() : nullptr;
}
inline const json::array* get_array(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return (it != o.end() && it->value().is_array()) ? &it->value().get_array() : nullptr;
}
/// An integral number at `key` (doubles with no fraction count), else nullopt.
std::optional<int64_t> get_int(const json::object& o, std::string_view key);
std::optional<bool> get_bool(const json::object& o, std::string_view key);
inline std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

/// A JSON array of the strings, in order.
json::array string_array(const std::vector<std::string>& items);

/// Follows a dotted path ("gateway.auth.token") through nested objects.
const json::value* find_path(const json::value& root, std::string_view dotted);

/// True when `v` holds a number beyond double's range anywhere. Boost.JSON reads 1e400 as infinity
/// and writes it back as `Infinity`, which is not JSON: untrusted input holding one must be refused
/// before it is stored or relayed.
bool has_non_finite(const json::value& v);

}  // namespace pincer::core
