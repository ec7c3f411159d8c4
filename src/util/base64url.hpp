#pragma once
/// Base64url (RFC 4648 §5) helpers used for device keys, signatures and tokens.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pincer::util {

/// Encodes without padding, as the OpenClaw wire format does.
std::string base64url_encode(std::span<const uint8_t> bytes);
inline std::string base64url_encode(std::string_view s) {
    return base64url_encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

/// Decodes base64url or standard base64, with or without padding. Returns nullopt on any
/// character outside both alphabets or an impossible length.
std::optional<std::vector<uint8_t>> base64_decode_any(std::string_view text);

}  // namespace pincer::util
