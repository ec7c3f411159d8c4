// libFuzzer target for base64 as clients send it (attachments, device keys and signatures):
// arbitrary text through base64_decode_any, and arbitrary bytes through base64url_encode.
// Oracles: encoding decodes back to the input, also in the standard alphabet and with padding;
// the encoding is unpadded base64url of the expected length; a decode succeeds only on text of
// the two alphabets (plus trailing '=') with a possible length, gives floor(6n/8) bytes, and
// decodes identically once re-encoded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "util/base64url.hpp"

namespace {

bool in_alphabets(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '+' || c == '/';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pincer::util;
    const std::span<const uint8_t> bytes(data, size);

    // Bytes → text → bytes.
    const std::string enc = base64url_encode(bytes);
    if (enc.size() != (size * 4 + 2) / 3) std::abort();
    for (char c : enc) {
        if (!in_alphabets(c) || c == '+' || c == '/') std::abort();
    }
    auto back = base64_decode_any(enc);
    if (!back || !std::equal(back->begin(), back->end(), data, data + size) || back->size() != size) std::abort();
    std::string standard = enc;
    for (char& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (standard.size() % 4 != 0) standard += '=';
    auto back_std = base64_decode_any(standard);
    if (!back_std || *back_std != *back) std::abort();

    // Text → bytes: accepted exactly when well-formed.
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto dec = base64_decode_any(text);
    std::string_view body = text;
    while (!body.empty() && body.back() == '=') body.remove_suffix(1);
    bool valid = body.size() % 4 != 1;
    for (char c : body) valid = valid && in_alphabets(c);
    if (dec.has_value() != valid) std::abort();
    if (!dec) return 0;
    if (dec->size() != body.size() * 6 / 8) std::abort();
    auto again = base64_decode_any(base64url_encode(*dec));
    if (!again || *again != *dec) std::abort();
    return 0;
}
