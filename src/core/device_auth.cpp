#include "core/device_auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "util/base64url.hpp"
#include "util/crypto.hpp"

namespace pincer::core {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemEnd = "-----END PUBLIC KEY-----";
// An Ed25519 SubjectPublicKeyInfo has exactly one DER encoding: this fixed prefix plus the raw key.
constexpr std::array<uint8_t, 12> kEd25519SpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                        0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};



bool is_ascii_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// UTF-8 encodings of the non-ASCII code points JavaScript's trim() removes: U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF. Matching the reference
// clients' trim exactly matters because the result is signed.
bool is_js_space_multibyte(std::string_view s) {
    if (s.size() == 2) return s == "\xC2\xA0";
    if (s.size() != 3) return false;
    auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    if (b(0) == 0xE2 && b(1) == 0x80) {
        return (b(2) >= 0x80 && b(2) <= 0x8A) || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF;
    }
    return s == "\xE1\x9A\x80" || s == "\xE2\x81\x9F" || s == "\xE3\x80\x80" || s == "\xEF\xBB\xBF";
}

size_t leading_space_len(std::string_view s) {
    if (s.empty()) return 0;
    if (is_ascii_space(static_cast<unsigned char>(s[0]))) return 1;
    for (size_t n : {size_t{2}, size_t{3}}) {
        if (s.size() >= n && is_js_space_multibyte(s.substr(0, n))) return n;
    }
    return 0;
}

size_t trailing_space_len(std::string_view s) {
    if (s.empty()) return 0;
    if (is_ascii_space(static_cast<unsigned char>(s.back()))) return 1;
    for (size_t n : {size_t{2}, size_t{3}}) {
        if (s.size() >= n && is_js_space_multibyte(s.substr(s.size() - n))) return n;
    }
    return 0;
}

std::string_view trim_ascii(std::string_view s) {
    while (!s.empty() && is_ascii_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && is_ascii_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (size_t i = 0; i < scopes.size(); ++i) {
        if (i != 0) out += ',';
        out += scopes[i];
    }
    return out;
}

std::string build_common(std::string_view version, const DeviceSignatureInput& in) {
    std::string out;
    out.reserve(128 + in.device_id.size() + in.token.size() + in.nonce.size());
    out += version;
    for (std::string_view part : {std::string_view(in.device_id), std::string_view(in.client_id),
                                  std::string_view(in.client_mode), std::string_view(in.role)}) {
        out += '|';
        out += part;
    }
    out += '|';
    out += join_scopes(in.scopes);
    out += '|';
    out += std::to_string(in.signed_at_ms);
    out += '|';
    out += in.token;
    out += '|';
    out += in.nonce;
    return out;
}

std::optional<PublicKey> parse_pem(std::string_view text) {
    text = trim_ascii(text);
    if (!text.starts_with(kPemBegin) || !text.ends_with(kPemEnd)) return std::nullopt;
    std::string_view body = text.substr(kPemBegin.size(), text.size() - kPemBegin.size() - kPemEnd.size());
    std::string compact;
    compact.reserve(body.size());
    for (char c : body) {
        if (!is_ascii_space(static_cast<unsigned char>(c))) compact += c;
    }
    auto der = util::base64_decode_any(compact);
    if (!der || der->size() != kEd25519SpkiPrefix.size() + PublicKey{}.size()) return std::nullopt;
    if (!std::equal(kEd25519SpkiPrefix.begin(), kEd25519SpkiPrefix.end(), der->begin())) return std::nullopt;
    PublicKey key{};
    std::copy(der->begin() + kEd25519SpkiPrefix.size(), der->end(), key.begin());
    return key;
}

bool verify_with(const PublicKey& key, std::string_view message, std::span<const uint8_t> signature) {
    if (signature.size() != kEd25519SignatureBytes || sodium_init() < 0) return false;
    return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), key.data()) == 0;
}

}  // namespace

std::string normalize_device_metadata(std::string_view value) {
    while (size_t n = leading_space_len(value)) value.remove_prefix(n);
    while (size_t n = trailing_space_len(value)) value.remove_suffix(n);
    std::string out(value);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string build_device_payload_v2(const DeviceSignatureInput& in) { return build_common("v2", in); }

std::string build_device_payload_v3(const DeviceSignatureInput& in) {
    std::string out = build_common("v3", in);
    out += '|';
    out += normalize_device_metadata(in.platform);
    out += '|';
    out += normalize_device_metadata(in.device_family);
    return out;
}

std::optional<PublicKey> normalize_public_key(std::string_view text) {
    if (text.empty() || text.size() > kMaxPublicKeyChars) return std::nullopt;
    if (text.find("BEGIN") != std::string_view::npos) return parse_pem(text);
    auto raw = util::base64_decode_any(text);
    if (!raw || raw->size() != PublicKey{}.size()) return std::nullopt;
    PublicKey key{};
    std::copy(raw->begin(), raw->end(), key.begin());
    return key;
}

std::string public_key_base64url(const PublicKey& key) { return util::base64url_encode(std::span(key)); }

std::string device_id_for(const PublicKey& key) {
    return util::sha256_hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

bool verify_ed25519(const PublicKey& key, std::string_view message, std::span<const uint8_t> signature) {
    return verify_with(key, message, signature);
}

DeviceSignatureVersion verify_device_signature(const PublicKey& key, std::string_view signature_text,
                                               const DeviceSignatureInput& in) {
    if (signature_text.empty() || signature_text.size() > kMaxSignatureChars) return DeviceSignatureVersion::none;
    auto sig = util::base64_decode_any(signature_text);
    if (!sig || sig->size() != kEd25519SignatureBytes) return DeviceSignatureVersion::none;
    if (verify_with(key, build_device_payload_v3(in), *sig)) return DeviceSignatureVersion::v3;
    if (verify_with(key, build_device_payload_v2(in), *sig)) return DeviceSignatureVersion::v2;
    return DeviceSignatureVersion::none;
}

}  // namespace pincer::core
