// libFuzzer target for provider streams: arbitrary bytes through the SSE parser, once whole and
// once in chunks whose sizes the input chooses, then every event through both provider decoders
// and accumulate(). Oracles: chunking never changes the events, the error or the end verdict;
// event fields are always valid UTF-8; an error delta is always a decoder's last delta.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "runtime/provider_stream.hpp"
#include "runtime/sse_parser.hpp"

namespace {

using namespace pincer::runtime;

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            ++i;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            n = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return false;
            const auto c = static_cast<unsigned char>(s[i + k]);
            if (c < lo || c > hi) return false;
            lo = 0x80;
            hi = 0xBF;
        }
        i += n + 1;
    }
    return true;
}

struct Parsed {
    std::vector<SseEvent> events;
    SseError error = SseError::none;
    SseEnd end = SseEnd::clean;
};

void check_deltas(const std::vector<StreamDelta>& deltas, bool failed) {
    for (std::size_t i = 0; i < deltas.size(); ++i) {
        if (deltas[i].kind == StreamDelta::Kind::error && i + 1 != deltas.size()) std::abort();
    }
    if (failed != (!deltas.empty() && deltas.back().kind == StreamDelta::Kind::error)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    // Small limits derived from the input, so the error paths are reachable at fuzzing sizes.
    const SseLimits limits{.max_line_bytes = 1 + std::size_t{data[0]} * 8,
                           .max_event_bytes = 1 + std::size_t{data[1]} * 32};
    uint32_t rng = 0x9E3779B9u ^ data[2];
    const std::string_view stream(reinterpret_cast<const char*>(data + 3), size - 3);

    Parsed whole;
    {
        SseParser parser(limits);
        parser.feed(stream, whole.events);
        whole.error = parser.error();
        whole.end = parser.finish();
    }
    Parsed chunked;
    {
        SseParser parser(limits);
        std::size_t i = 0;
        while (i < stream.size()) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            const std::size_t n = std::min<std::size_t>(rng % 17, stream.size() - i);  // 0 is a valid read
            parser.feed(stream.substr(i, n), chunked.events);
            i += n;
        }
        chunked.error = parser.error();
        chunked.end = parser.finish();
    }
    if (whole.events != chunked.events || whole.error != chunked.error || whole.end != chunked.end) std::abort();
    if ((whole.error != SseError::none) != (whole.end == SseEnd::failed)) std::abort();

    OpenAiChatStreamDecoder openai;
    AnthropicStreamDecoder anthropic;
    std::vector<StreamDelta> openai_deltas, anthropic_deltas;
    for (const SseEvent& e : whole.events) {
        if (!valid_utf8(e.type) || !valid_utf8(e.data) || !valid_utf8(e.id)) std::abort();
        if (e.data.size() > limits.max_event_bytes) std::abort();
        openai.feed(e.data, openai_deltas);
        anthropic.feed(e.type, e.data, anthropic_deltas);
    }
    openai.finish(openai_deltas);
    anthropic.finish(anthropic_deltas);
    check_deltas(openai_deltas, openai.failed());
    check_deltas(anthropic_deltas, anthropic.failed());

    AssistantTurn a, b;
    for (const auto& d : openai_deltas) accumulate(a, d);
    for (const auto& d : anthropic_deltas) accumulate(b, d);
    if (openai.failed() && a.stop_reason != "error") std::abort();
    if (anthropic.failed() && b.stop_reason != "error") std::abort();
    return 0;
}
