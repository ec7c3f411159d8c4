// libFuzzer target: arbitrary client-supplied device fields through key normalisation and
// signature verification. Input layout: key text '\n' signature text '\n' nonce (missing parts empty).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/device_auth.hpp"

namespace {

std::string_view take_field(std::string_view& rest) {
    size_t cut = rest.find('\n');
    std::string_view field = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
    return field;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pincer::core;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::string_view key_text = take_field(rest);
    std::string_view sig_text = take_field(rest);
    std::string_view nonce = rest;

    auto key = normalize_public_key(key_text);
    // Keys that fail to parse still exercise signature decoding and the EVP path with a fixed, honest
    // key (RFC 8032 test 1). Not all-zero: that is a small-order point, for which Ed25519 forgeries are
    // trivial, and the trap below would then fire on a property of the key rather than a bug.
    static constexpr PublicKey kFallback = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                            0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                            0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    PublicKey k = key.value_or(kFallback);
    if (key) {
        (void)device_id_for(*key);
        (void)public_key_base64url(*key);
    }

    DeviceSignatureInput in;
    in.device_id = device_id_for(k);
    in.client_id = "cli";
    in.client_mode = "cli";
    in.role = "operator";
    in.scopes = {"operator.read"};
    in.signed_at_ms = static_cast<int64_t>(size);
    in.nonce = std::string(nonce);
    in.platform = std::string(nonce.substr(0, nonce.size() / 2));
    in.device_family = std::string(sig_text.substr(0, 16));
    auto version = verify_device_signature(k, sig_text, in);
    // A random input forging a valid signature would mean verification is broken.
    if (version != DeviceSignatureVersion::none && !key) __builtin_trap();
    (void)verify_ed25519(k, nonce, std::span(data, size));
    return 0;
}
