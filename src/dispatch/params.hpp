#pragma once
/// Declarative param validators for the method table. A schema lists the fields a handler reads;
/// unknown fields are ignored (lenient, as the issue asks) while known ones are type- and
/// range-checked, so handlers can read them without re-validating.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace pincer::dispatch {

enum class ParamType { string, integer, boolean, object, array, any };

struct ParamRule {
    std::string name;
    ParamType type = ParamType::any;
    bool required = false;
    int64_t min = INT64_MIN;
    int64_t max = INT64_MAX;
    std::vector<std::string> one_of;  // allowed string values (empty = any)
    bool non_empty = false;           // strings: at least one non-blank character
};

class ParamSchema {
public:
    ParamSchema& string(std::string name, bool required = false, bool non_empty = false);
    ParamSchema& enumeration(std::string name, std::initializer_list<std::string_view> values, bool required = false);
    ParamSchema& integer(std::string name, int64_t min = INT64_MIN, int64_t max = INT64_MAX, bool required = false);
    ParamSchema& boolean(std::string name, bool required = false);
    ParamSchema& object(std::string name, bool required = false);
    ParamSchema& array(std::string name, bool required = false);
    ParamSchema& any(std::string name, bool required = false);
    /// Skip validation entirely (the reference does not validate e.g. `health` params).
    ParamSchema& unchecked();

    /// nullopt when valid; otherwise "<problem>" in the reference's validator wording, e.g.
    /// "at /limit: must be <= 5000" or "must have required property 'raw'".
    std::optional<std::string> validate(const json::value& params) const;

private:
    void add(std::string name, ParamType type, bool required);

    std::vector<ParamRule> rules_;
    bool unchecked_ = false;
};

}  // namespace pincer::dispatch
