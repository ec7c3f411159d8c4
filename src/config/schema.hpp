#pragma once
/// Pincer's config schema (the part of openclaw.json it understands), UI hints, and validation.
///
/// Pincer reads `gateway.*` and `logging.*`. Every other top-level key of an OpenClaw config
/// (agents, models, channels, ...) and every unknown key inside gateway/logging is *ignored*:
/// kept unchanged on write and listed by ignored_keys(), never a validation failure. This lets an
/// existing ~/.openclaw/openclaw.json load as is.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

namespace pincer::config {

/// JSON Schema (draft-07) for the whole config; gateway/logging fully described, other OpenClaw
/// top-level keys present as unconstrained `{}` nodes. Nodes carry title/description from the
/// UI hints and `default` where Pincer has one. Built once; safe to share between threads.
const boost::json::value& config_schema();

/// "dotted.path" (may contain `*`) -> {label, help, sensitive?, advanced?, placeholder?, group?,
/// order?}, the `uiHints` of config.schema. Built once; safe to share between threads.
const boost::json::object& config_ui_hints();

/// One validation problem. `path` is dotted ("gateway.port", "gateway.auth.defaultScopes.1"),
/// empty for the root. `allowed_values` lists the accepted values for enum failures.
struct ConfigIssue {
    std::string path;
    std::string message;
    std::vector<std::string> allowed_values;
};

/// Checks `cfg` against config_schema(): root must be an object; known keys are checked for type,
/// enum, minimum/maximum, IP format and duplicate items. Ignored keys are not checked.
/// Empty result = valid.
std::vector<ConfigIssue> validate_config(const boost::json::value& cfg);

/// Dotted paths of keys present in `cfg` that Pincer does not use (see file comment), in file order.
std::vector<std::string> ignored_keys(const boost::json::value& cfg);

/// `[{path, message, allowedValues?}]`, the wire shape of config.get `issues`.
boost::json::array issues_to_json(const std::vector<ConfigIssue>& issues);

/// "invalid config: <path>: <message>; ... (+N more issues)" with at most 3 issues spelled out,
/// the error text OpenClaw returns from config.set/patch/apply.
std::string summarize_issues(const std::vector<ConfigIssue>& issues);

}  // namespace pincer::config
