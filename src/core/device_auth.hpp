#pragma once
/// Device identity checks for the connect handshake (protocol core.md §2.4): Ed25519 public-key
/// normalisation, device-id derivation, the v2/v3 signed payload strings and signature verification.
/// Everything here is pure and thread-safe; no function throws, bad input yields false/nullopt/none.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pincer::core {

/// Wire bounds from the newest schema, enforced before any decoding so hostile input stays cheap.
inline constexpr size_t kMaxPublicKeyChars = 1024;
inline constexpr size_t kMaxSignatureChars = 256;
inline constexpr size_t kEd25519SignatureBytes = 64;

/// The fields a client binds into its device signature, as the server rebuilds them.
struct DeviceSignatureInput {
    std::string device_id, client_id, client_mode, role;
    std::vector<std::string> scopes;  // joined with "," in the order sent
    int64_t signed_at_ms = 0;
    std::string token;  // empty when absent
    std::string nonce;
    std::string platform, device_family;  // raw; v3 normalises: trim, lowercase ASCII A-Z only
};

/// Normalises v3 metadata (platform, deviceFamily) like the reference clients: trims the same
/// whitespace as JavaScript's String.prototype.trim (ASCII and Unicode spaces, BOM, line
/// separators), then lowercases ASCII A-Z only; other bytes, including non-ASCII, are untouched.
std::string normalize_device_metadata(std::string_view value);

/// `v2|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce`.
std::string build_device_payload_v2(const DeviceSignatureInput& in);
/// `v3|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce|platform|deviceFamily`, with
/// platform and deviceFamily passed through normalize_device_metadata.
std::string build_device_payload_v3(const DeviceSignatureInput& in);

using PublicKey = std::array<uint8_t, 32>;

/// Accepts base64url/base64 raw 32-byte key, or an SPKI PEM ("-----BEGIN PUBLIC KEY-----") Ed25519 key.
/// Text containing "BEGIN" is treated as PEM (as the reference server does). Returns nullopt for
/// anything longer than kMaxPublicKeyChars, non-Ed25519 keys, or a raw key that is not 32 bytes.
std::optional<PublicKey> normalize_public_key(std::string_view text);

/// Canonical wire/storage form of a key: base64url of the raw 32 bytes, no padding.
std::string public_key_base64url(const PublicKey& key);

/// The device id a key must present: lowercase hex SHA-256 of the raw 32-byte key.
std::string device_id_for(const PublicKey& key);

/// Ed25519 verification of `message` (raw bytes) against `signature` (must be 64 bytes).
bool verify_ed25519(const PublicKey& key, std::string_view message, std::span<const uint8_t> signature);

enum class DeviceSignatureVersion { none, v2, v3 };

/// Tries the v3 payload first, then v2. signature_text is base64url (standard base64 accepted too).
/// Returns none when the text exceeds kMaxSignatureChars, fails to decode, or neither payload verifies.
DeviceSignatureVersion verify_device_signature(const PublicKey& key, std::string_view signature_text,
                                               const DeviceSignatureInput& in);

}  // namespace pincer::core
