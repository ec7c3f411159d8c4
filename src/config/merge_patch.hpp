#pragma once
/// JSON merge patch for config.patch: RFC 7396 plus OpenClaw's id-keyed array extension.
#include <boost/json/value.hpp>
#include <string_view>

namespace pincer::config {

/// True for the keys a merge patch never writes: "__proto__", "constructor", "prototype". OpenClaw
/// drops them to avoid prototype pollution; Pincer drops them so both servers accept the same patches.
bool is_blocked_patch_key(std::string_view key);

/// Applies `patch` to `target` in place (RFC 7396 semantics):
///   * a non-object patch replaces the target;
///   * object patches merge key by key, recursing into objects (a non-object target becomes {});
///   * a null patch value deletes the key; blocked keys (above) are skipped;
///   * arrays replace, except when both the current and the patch value are arrays and every
///     current element is an object with a non-empty string "id": then patch elements whose id
///     matches are merge-patched into that element, elements with a new id or no id are appended
///     (copied as-is), and current elements not mentioned stay in place.
void apply_merge_patch(boost::json::value& target, const boost::json::value& patch);

}  // namespace pincer::config
