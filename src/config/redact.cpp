#include "config/redact.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <set>
#include <vector>

#include "config/json5.hpp"

namespace pincer::config {
namespace {

using Keys = std::vector<std::string>;  // object keys from the root; array indices left out

constexpr std::string_view kSensitiveSuffixes[] = {"token",  "password",   "passwd",    "secret",
                                                   "apikey", "privatekey", "accesskey", "secretkey"};
constexpr std::string_view kSensitiveNames[] = {"authorization", "cookie"};

bool matches_pattern(const Keys& keys, std::string_view pattern) {
    std::size_t i = 0;
    while (!pattern.empty()) {
        const auto dot = pattern.find('.');
        const std::string_view seg = pattern.substr(0, dot);
        pattern = dot == std::string_view::npos ? std::string_view() : pattern.substr(dot + 1);
        if (i >= keys.size() || (seg != "*" && seg != keys[i])) return false;
        ++i;
    }
    return i == keys.size();
}

bool is_secret_path(const Keys& keys) {
    if (keys.empty()) return false;
    if (is_sensitive_key(keys.back())) return true;
    return std::any_of(std::begin(kSensitivePathPatterns), std::end(kSensitivePathPatterns),
                       [&](std::string_view p) { return matches_pattern(keys, p); });
}

void redact_walk(boost::json::value& v, Keys& keys, std::set<std::string>* secrets) {
    if (auto* obj = v.if_object()) {
        for (auto& kv : *obj) {
            keys.emplace_back(kv.key());
            redact_walk(kv.value(), keys, secrets);
            keys.pop_back();
        }
    } else if (auto* arr = v.if_array()) {
        for (auto& e : *arr) redact_walk(e, keys, secrets);
    } else if (auto* str = v.if_string()) {
        if (!str->empty() && is_secret_path(keys)) {
            if (secrets != nullptr && *str != kRedacted) secrets->emplace(*str);
            *str = kRedacted;
        }
    }
}

// Structural equality where NaN equals NaN and numbers compare by value across int/uint/double,
// so the safety check of redact_raw does not trip over representation details.
bool same_value(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_double() || b.is_double()) {
            const double x = a.to_number<double>();
            const double y = b.to_number<double>();
            return x == y || (std::isnan(x) && std::isnan(y));
        }
        return a == b;
    }
    if (a.kind() != b.kind()) return false;
    if (const auto* oa = a.if_object()) {
        const auto& ob = b.get_object();
        if (oa->size() != ob.size()) return false;
        for (const auto& kv : *oa) {
            const auto* other = ob.if_contains(kv.key());
            if (other == nullptr || !same_value(kv.value(), *other)) return false;
        }
        return true;
    }
    if (const auto* aa = a.if_array()) {
        const auto& ab = b.get_array();
        if (aa->size() != ab.size()) return false;
        for (std::size_t i = 0; i < aa->size(); ++i) {
            if (!same_value((*aa)[i], ab[i])) return false;
        }
        return true;
    }
    return a == b;
}

bool starts_line_separator(std::string_view s, std::size_t i) {
    // U+2028 / U+2029 end a JSON5 line comment just like \n.
    return s.substr(i, 2) == "\xE2\x80" && i + 2 < s.size() && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9');
}

std::size_t skip_comment(std::string_view raw, std::size_t i) {
    if (raw.substr(i, 2) == "//") {
        while (i < raw.size() && raw[i] != '\n' && raw[i] != '\r' && !starts_line_separator(raw, i)) ++i;
        return i;
    }
    const auto end = raw.find("*/", i + 2);
    return end == std::string_view::npos ? raw.size() : end + 2;
}

// After a string literal: is it a property name? Only blanks and comments can sit between a key
// and its ':'; every byte >= 0x80 outside strings is a Unicode blank in valid JSON5.
bool followed_by_colon(std::string_view raw, std::size_t i) {
    while (i < raw.size()) {
        const auto c = static_cast<unsigned char>(raw[i]);
        if (c == '/' && (raw.substr(i, 2) == "//" || raw.substr(i, 2) == "/*")) {
            i = skip_comment(raw, i);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80) {
            ++i;
        } else {
            return c == ':';
        }
    }
    return false;
}

void replace_all(std::string& text, std::string_view needle, std::string_view with) {
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + with.size())) {
        text.replace(at, needle.size(), with);
    }
}

const boost::json::value* find_array_peer(const boost::json::array& current, const boost::json::value& incoming,
                                          std::size_t index) {
    const auto* in_obj = incoming.if_object();
    const auto* in_id = in_obj != nullptr ? in_obj->if_contains("id") : nullptr;
    if (in_id != nullptr && in_id->is_string()) {
        // Clients may reorder id-keyed lists (agents.list); follow the id, never the position.
        for (const auto& e : current) {
            const auto* obj = e.if_object();
            const auto* id = obj != nullptr ? obj->if_contains("id") : nullptr;
            if (id != nullptr && *id == *in_id) return &e;
        }
        return nullptr;
    }
    return index < current.size() ? &current[index] : nullptr;
}

bool restore_walk(boost::json::value& in, const boost::json::value* cur, Keys& keys, std::string& display,
                  RestoreResult& result) {
    if (auto* obj = in.if_object()) {
        const auto* cur_obj = cur != nullptr ? cur->if_object() : nullptr;
        for (auto& kv : *obj) {
            const std::size_t mark = display.size();
            if (!display.empty()) display += '.';
            display += kv.key();
            keys.emplace_back(kv.key());
            const bool ok = restore_walk(kv.value(), cur_obj != nullptr ? cur_obj->if_contains(kv.key()) : nullptr,
                                         keys, display, result);
            keys.pop_back();
            display.resize(mark);
            if (!ok) return false;
        }
    } else if (auto* arr = in.if_array()) {
        const auto* cur_arr = cur != nullptr ? cur->if_array() : nullptr;
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const std::size_t mark = display.size();
            display += (display.empty() ? "" : ".") + std::to_string(i);
            const auto* peer = cur_arr != nullptr ? find_array_peer(*cur_arr, (*arr)[i], i) : nullptr;
            const bool ok = restore_walk((*arr)[i], peer, keys, display, result);
            display.resize(mark);
            if (!ok) return false;
        }
    } else if (auto* str = in.if_string()) {
        if (*str == kRedacted && is_secret_path(keys)) {
            if (cur == nullptr) {
                result.ok = false;
                result.path = display;
                result.error = "config." + display + ": redacted placeholder has no stored value";
                return false;
            }
            in = *cur;
        }
    }
    return true;
}

}  // namespace

bool is_sensitive_key(std::string_view key) {
    std::string norm;
    norm.reserve(key.size());
    for (char c : key) {
        if (c == '_' || c == '-') continue;
        norm += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    }
    for (auto name : kSensitiveNames) {
        if (norm == name) return true;
    }
    return std::any_of(std::begin(kSensitiveSuffixes), std::end(kSensitiveSuffixes),
                       [&](std::string_view s) { return norm.ends_with(s); });
}

bool is_sensitive_path(std::string_view dotted_path) {
    Keys keys;
    while (!dotted_path.empty()) {
        const auto dot = dotted_path.find('.');
        const std::string_view seg = dotted_path.substr(0, dot);
        dotted_path = dot == std::string_view::npos ? std::string_view() : dotted_path.substr(dot + 1);
        const bool index =
            !seg.empty() && std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!index) keys.emplace_back(seg);
    }
    return is_secret_path(keys);
}

boost::json::value redact(const boost::json::value& config) {
    boost::json::value copy = config;
    Keys keys;
    redact_walk(copy, keys, nullptr);
    return copy;
}

std::optional<std::string> redact_raw(std::string_view raw, const boost::json::value& parsed) {
    boost::json::value expected = parsed;
    std::set<std::string> secret_set;
    Keys keys;
    redact_walk(expected, keys, &secret_set);
    if (secret_set.empty()) return std::string(raw);
    // Longest first, so a secret that contains another is replaced whole.
    std::vector<std::string> secrets(secret_set.begin(), secret_set.end());
    std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });

    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '"' || c == '\'') {
            std::size_t k = i + 1;
            while (k < raw.size() && raw[k] != c) k += raw[k] == '\\' ? 2 : 1;
            const std::size_t end = std::min(k + 1, raw.size());
            const std::string_view literal = raw.substr(i, end - i);
            bool hide = false;
            if (!followed_by_colon(raw, end)) {
                auto decoded = parse_json5(literal);
                const auto* v = std::get_if<boost::json::value>(&decoded);
                hide = v != nullptr && v->is_string() && secret_set.count(std::string(v->get_string())) > 0;
            }
            if (hide) {
                out += c;
                out += kRedacted;
                out += c;
            } else {
                out += literal;
            }
            i = end;
        } else if (c == '/' && (raw.substr(i, 2) == "//" || raw.substr(i, 2) == "/*")) {
            const std::size_t end = skip_comment(raw, i);
            std::string comment(raw.substr(i, end - i));
            for (const auto& s : secrets) replace_all(comment, s, kRedacted);
            out += comment;
            i = end;
        } else {
            out += c;
            ++i;
        }
    }

    auto reparsed = parse_json5(out);
    const auto* v = std::get_if<boost::json::value>(&reparsed);
    if (v == nullptr || !same_value(*v, expected)) return std::nullopt;
    return out;
}

RestoreResult restore_redacted(boost::json::value& incoming, const boost::json::value& current) {
    RestoreResult result;
    Keys keys;
    std::string display;
    restore_walk(incoming, &current, keys, display, result);
    return result;
}

}  // namespace pincer::config
