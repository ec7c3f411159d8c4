#pragma once
/// Small wrappers over libsodium: hashing, randomness, ids and constant-time compares.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pincer::util {

std::array<uint8_t, 32> sha256(std::string_view data);
/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
std::string to_hex(std::span<const uint8_t> bytes);

/// Fills `out` from the OS CSPRNG; aborts if the CSPRNG is unavailable.
void random_fill(std::span<uint8_t> out);
/// Random RFC 4122 version-4 UUID, lowercase.
std::string uuid_v4();
/// 32 random bytes, base64url without padding (43 characters): gateway and device tokens.
std::string random_token();

/// Compares two secrets in time that depends only on their lengths, never on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace pincer::util
