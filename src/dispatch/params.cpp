#include "dispatch/params.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pincer::dispatch {
namespace {

bool is_blank(const json::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

void ParamSchema::add(std::string name, ParamType type, bool required) {
    ParamRule r;
    r.name = std::move(name);
    r.type = type;
    r.required = required;
    rules_.push_back(std::move(r));
}

ParamSchema& ParamSchema::string(std::string name, bool required, bool non_empty) {
    add(std::move(name), ParamType::string, required);
    rules_.back().non_empty = non_empty;
    return *this;
}
ParamSchema& ParamSchema::enumeration(std::string name, std::initializer_list<std::string_view> values, bool required) {
    add(std::move(name), ParamType::string, required);
    for (auto v : values) rules_.back().one_of.emplace_back(v);
    return *this;
}
ParamSchema& ParamSchema::integer(std::string name, int64_t min, int64_t max, bool required) {
    add(std::move(name), ParamType::integer, required);
    rules_.back().min = min;
    rules_.back().max = max;
    return *this;
}
ParamSchema& ParamSchema::boolean(std::string name, bool required) {
    add(std::move(name), ParamType::boolean, required);
    return *this;
}
ParamSchema& ParamSchema::object(std::string name, bool required) {
    add(std::move(name), ParamType::object, required);
    return *this;
}
ParamSchema& ParamSchema::array(std::string name, bool required) {
    add(std::move(name), ParamType::array, required);
    return *this;
}
ParamSchema& ParamSchema::any(std::string name, bool required) {
    add(std::move(name), ParamType::any, required);
    return *this;
}
ParamSchema& ParamSchema::unchecked() {
    unchecked_ = true;
    return *this;
}

std::optional<std::string> ParamSchema::validate(const json::value& params) const {
    if (unchecked_) return std::nullopt;
    if (params.is_null()) {
        for (const auto& r : rules_) {
            if (r.required) return fmt::format("must have required property '{}'", r.name);
        }
        return std::nullopt;
    }
    if (!params.is_object()) return std::string("must be object");
    const json::object& o = params.get_object();
    for (const auto& r : rules_) {
        auto it = o.find(r.name);
        if (it == o.end()) {
            if (r.required) return fmt::format("must have required property '{}'", r.name);
            continue;
        }
        const json::value& v = it->value();
        const std::string at = "at /" + r.name;
        switch (r.type) {
            case ParamType::string:
                if (!v.is_string()) return fmt::format("{}: must be string", at);
                if (r.non_empty && is_blank(v.get_string())) return fmt::format("{}: must not be empty", at);
                if (!r.one_of.empty() &&
                    std::find(r.one_of.begin(), r.one_of.end(), std::string_view(v.get_string())) == r.one_of.end()) {
                    return fmt::format("{}: must be equal to one of the allowed values ({})", at,
                                       fmt::join(r.one_of, ", "));
                }
                break;
            case ParamType::integer: {
                auto n = core::get_int(o, r.name);
                if (!n) return fmt::format("{}: must be integer", at);
                if (*n < r.min) return fmt::format("{}: must be >= {}", at, r.min);
                if (*n > r.max) return fmt::format("{}: must be <= {}", at, r.max);
                break;
            }
            case ParamType::boolean:
                if (!v.is_bool()) return fmt::format("{}: must be boolean", at);
                break;
            case ParamType::object:
                if (!v.is_object()) return fmt::format("{}: must be object", at);
                break;
            case ParamType::array:
                if (!v.is_array()) return fmt::format("{}: must be array", at);
                break;
            case ParamType::any:
                break;
        }
    }
    return std::nullopt;
}

}  // namespace pincer::dispatch
