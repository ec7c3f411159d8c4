#pragma once
/// Secret redaction for everything the config methods return, and the reverse on write.
///
/// Sensitivity rule (one rule for redact, redact_raw and restore_redacted, so round trips hold):
/// a non-empty string is a secret when
///   (a) the nearest object key above it (array indices are skipped) is a sensitive key name:
///       after lower-casing and dropping '_' and '-', the name is or ends with one of
///       token, password, passwd, secret, apikey, privatekey, accesskey, secretkey,
///       or is exactly authorization / cookie
///       (so token, botToken, appToken, accessToken, refreshToken, clientSecret, apiKey,
///       api_key, OPENAI_API_KEY, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY all count; maxTokens does not); or
///   (b) its path matches one of kSensitivePathPatterns ('*' = any one key, indices skipped):
///       environment variables and provider HTTP headers, whose key names say nothing.
/// Non-string values (numbers, booleans, SecretRef objects) are never redacted.
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace pincer::config {

/// The placeholder OpenClaw uses; clients send it back unchanged to mean "keep the stored value".
constexpr std::string_view kRedacted = "__OPENCLAW_REDACTED__";

/// Extra sensitive paths beyond the key-name rule (see file comment).
inline constexpr std::string_view kSensitivePathPatterns[] = {
    "env.*",
    "env.vars.*",
    "models.providers.*.headers.*",
};

/// The key-name rule (a) above.
bool is_sensitive_key(std::string_view key);

/// Whether a string at this dotted path (e.g. "gateway.auth.token", "models.providers.openai.apiKey")
/// is a secret. Segments are object keys; purely numeric segments are treated as array indices.
bool is_sensitive_path(std::string_view dotted_path);

/// A copy of `config` with every secret string replaced by kRedacted.
boost::json::value redact(const boost::json::value& config);

/// The raw file text with the secrets of `parsed` (which must be parse_json5(raw_text)) replaced
/// by kRedacted: inside value string literals (quotes kept) and anywhere inside comments.
/// Returns nullopt when the result cannot be shown safely, i.e. it does not parse to exactly
/// redact(parsed) (a secret that also occurs as a key or as a non-secret value); callers then
/// report raw as null, as OpenClaw does.
std::optional<std::string> redact_raw(std::string_view raw_text, const boost::json::value& parsed);

struct RestoreResult {
    bool ok = true;
    std::string path;   ///< dotted path of the first unresolved placeholder, when !ok
    std::string error;  ///< e.g. "config.gateway.auth.token: redacted placeholder has no stored value"
};

/// Replaces each kRedacted string found at a secret path of `incoming` with the value at the same
/// path of `current` (the stored config). Array elements are matched by their string "id" when both
/// sides have one, else by index. A placeholder at a non-secret path is left alone (it is data).
/// Fails, naming the path, when `current` has no value there; `incoming` may then be partly restored.
RestoreResult restore_redacted(boost::json::value& incoming, const boost::json::value& current);

}  // namespace pincer::config
