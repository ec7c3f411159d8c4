// Ed25519 device key pairs for signed connects (protocol core.md §2.4), via OpenSSL EVP.
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "client/gateway_client.hpp"
#include "core/device_auth.hpp"
#include "util/base64url.hpp"

namespace pincer::client {

namespace {

struct PkeyDeleter {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

void raw_keys(EVP_PKEY* key, std::array<uint8_t, 32>& seed, std::array<uint8_t, 32>& pub) {
    size_t seed_len = seed.size(), pub_len = pub.size();
    if (EVP_PKEY_get_raw_private_key(key, seed.data(), &seed_len) != 1 || seed_len != seed.size() ||
        EVP_PKEY_get_raw_public_key(key, pub.data(), &pub_len) != 1 || pub_len != pub.size()) {
        throw std::runtime_error("OpenSSL: cannot export Ed25519 key");
    }
}

}  // namespace

DeviceIdentity DeviceIdentity::generate() {
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) throw std::runtime_error("OpenSSL: Ed25519 key generation failed");
    DeviceIdentity d;
    raw_keys(key.get(), d.seed_, d.public_key_);
    return d;
}

DeviceIdentity DeviceIdentity::from_private_key(std::span<const uint8_t, 32> seed) {
    PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    if (!key) throw std::runtime_error("OpenSSL: invalid Ed25519 private key");
    DeviceIdentity d;
    raw_keys(key.get(), d.seed_, d.public_key_);
    return d;
}

std::string DeviceIdentity::id() const { return core::device_id_for(public_key_); }

std::string DeviceIdentity::public_key_b64url() const { return util::base64url_encode(public_key_); }

std::string DeviceIdentity::sign_b64url(std::string_view payload) const {
    PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
        throw std::runtime_error("OpenSSL: Ed25519 sign init failed");
    }
    std::array<uint8_t, 64> sig{};
    size_t sig_len = sig.size();
    if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, reinterpret_cast<const uint8_t*>(payload.data()),
                       payload.size()) != 1 ||
        sig_len != sig.size()) {
        throw std::runtime_error("OpenSSL: Ed25519 sign failed");
    }
    return util::base64url_encode(std::span<const uint8_t>(sig.data(), sig.size()));
}

}  // namespace pincer::client
