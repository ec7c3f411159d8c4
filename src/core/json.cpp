#include "core/json.hpp"

#include <algorithm>
#include <cmath>

namespace pincer::core {

std::optional<int64_t> get_int(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const auto& v = it->value();
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= uint64_t(INT64_MAX)) return int64_t(v.get_uint64());
    if (v.is_double()) {
        double d = v.get_double();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) return int64_t(d);
    }
    return std::nullopt;
}

std::optional<bool> get_bool(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_bool()) return std::nullopt;
    return it->value().get_bool();
}

json::array string_array(const std::vector<std::string>& items) {
    json::array a;
    a.reserve(items.size());
    for (const auto& s : items) a.emplace_back(s);
    return a;
}

const json::value* find_path(const json::value& root, std::string_view dotted) {
    const json::value* cur = &root;
    while (!dotted.empty()) {
        auto dot = dotted.find('.');
        auto part = dotted.substr(0, dot);
        if (!cur->is_object()) return nullptr;
        auto it = cur->get_object().find(part);
        if (it == cur->get_object().end()) return nullptr;
        cur = &it->value();
        dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    }
    return cur;
}

bool has_non_finite(const json::value& v) {
    if (const double* d = v.if_double()) return !std::isfinite(*d);
    if (const json::array* a = v.if_array()) {
        return std::any_of(a->begin(), a->end(), [](const json::value& e) { return has_non_finite(e); });
    }
    if (const json::object* o = v.if_object()) {
        return std::any_of(o->begin(), o->end(),
                           [](const json::key_value_pair& m) { return has_non_finite(m.value()); });
    }
    return false;
}

}  // namespace pincer::core
