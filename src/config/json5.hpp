#pragma once
/// JSON5 reader and pretty JSON writer for the config file.
///
/// The parser follows the reference implementation (npm json5@2.2.3) closely enough that
/// tests/diff/json5_diff.sh can check both agree on acceptance, values and error messages.
/// Deliberate differences, all documented here:
///   * Integers written without fraction or exponent that fit in int64 are kept exact as int64
///     (JavaScript would round above 2^53); everything else is a double. `-0` becomes int 0.
///   * `Infinity` / `NaN` (with optional sign) become non-finite doubles.
///   * A string escape that produces an unpaired UTF-16 surrogate becomes U+FFFD, so every
///     string in the result is valid UTF-8 (JavaScript keeps the lone surrogate).
///   * Input must be valid UTF-8 ("JSON5: invalid UTF-8 at L:C"); JavaScript never sees bytes.
///   * Nesting deeper than kMaxJson5Depth and input longer than kMaxJson5Bytes are rejected.
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace pincer::config {

/// Inputs longer than this are rejected without parsing (config files are a few KiB).
inline constexpr std::size_t kMaxJson5Bytes = 16 * 1024 * 1024;
/// Objects/arrays nested deeper than this are rejected; keeps recursion bounded.
inline constexpr int kMaxJson5Depth = 256;

/// A parse failure. `message` is the full text shown to users, in json5's wording, e.g.
/// "JSON5: invalid character 'x' at 3:5" or "JSON5: invalid end of input at 1:2".
/// `line` is 1-based; `column` is 1-based in UTF-16 code units (as json5 counts); both are 0 for
/// errors about the whole input (size limit).
struct Json5Error {
    std::string message;
    int line = 0;
    int column = 0;
};

using Json5Result = std::variant<boost::json::value, Json5Error>;

/// Parses a complete JSON5 text (comments, trailing commas, identifier keys, single-quoted
/// strings, hex/Infinity/NaN/leading-dot/trailing-dot/+sign numbers, \x \u and line-continuation
/// escapes). Duplicate keys: the last value wins, the first position is kept. Never throws.
Json5Result parse_json5(std::string_view text);

/// Serializes `v` as JSON the way JavaScript's JSON.stringify(v, null, 2) does: 2-space indent,
/// keys in stored order, "{}"/"[]" for empty containers, JavaScript number formatting, non-finite
/// doubles as null, invalid UTF-8 replaced by U+FFFD. No trailing newline.
std::string serialize_pretty(const boost::json::value& v);

/// Formats a double exactly as JavaScript's Number.prototype.toString() (shortest round-trip
/// digits, exponent form outside 1e-7 .. 1e21). Non-finite values give "NaN", "Infinity",
/// "-Infinity".
std::string format_number(double d);

}  // namespace pincer::config
