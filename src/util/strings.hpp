#pragma once
/// Small string helpers shared by layers (ASCII-only: protocol keys and labels).
#include <string>
#include <string_view>

namespace pincer::util {

/// `s` without leading and trailing ASCII whitespace.
std::string trim(std::string_view s);
/// `s` with ASCII letters lowercased; other bytes unchanged.
std::string ascii_lower(std::string_view s);

}  // namespace pincer::util
