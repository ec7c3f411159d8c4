// Ed25519 device key pairs for signed connects (protocol core.md §2.4), via libsodium (the
// gateway verifies with the same library; the unit tests pin interop with Node's signatures).
#include <sodium.h>

#include <stdexcept>

#include "client/gateway_client.hpp"
#include "core/device_auth.hpp"
#include "util/base64url.hpp"

namespace pincer::client {

namespace {

void ensure_sodium() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium: initialisation failed");
}

}  // namespace

DeviceIdentity DeviceIdentity::generate() {
    ensure_sodium();
    std::array<uint8_t, 32> seed{};
    randombytes_buf(seed.data(), seed.size());
    return from_private_key(seed);
}

DeviceIdentity DeviceIdentity::from_private_key(std::span<const uint8_t, 32> seed) {
    ensure_sodium();
    DeviceIdentity d;
    std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
    if (crypto_sign_seed_keypair(d.public_key_.data(), sk.data(), seed.data()) != 0) {
        throw std::runtime_error("libsodium: invalid Ed25519 private key");
    }
    std::copy(seed.begin(), seed.end(), d.seed_.begin());
    sodium_memzero(sk.data(), sk.size());
    return d;
}

std::string DeviceIdentity::id() const { return core::device_id_for(public_key_); }

std::string DeviceIdentity::public_key_b64url() const { return util::base64url_encode(public_key_); }

std::string DeviceIdentity::sign_b64url(std::string_view payload) const {
    ensure_sodium();
    std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
    std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed_.data());
    std::array<uint8_t, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                         sk.data());
    sodium_memzero(sk.data(), sk.size());
    return util::base64url_encode(std::span<const uint8_t>(sig.data(), sig.size()));
}

}  // namespace pincer::client
