#include "runtime/sse_parser.hpp"

#include <limits>

namespace pincer::runtime {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::size_t kBomDone = 3;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_line_break(char c) { return c == '\n' || c == '\r'; }

// The WHATWG UTF-8 decoder, but copying valid sequences through unchanged and writing one U+FFFD
// per maximal invalid subpart. Returns false (and leaves `out` untouched) when `in` is already
// valid, which is the common case and costs no copy.
bool replace_invalid_utf8(std::string_view in, std::string& out) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
    bool rewriting = false;
    std::size_t copied = 0;  // prefix of `in` already reflected in `out`
    auto fail_at = [&](std::size_t start, std::size_t resume) {
        if (!rewriting) {
            out.clear();
            rewriting = true;
        }
        out.append(in.substr(copied, start - copied));
        out.append(kReplacement);
        copied = resume;
    };
    std::size_t i = 0;
    while (i < in.size()) {
        const unsigned char lead = byte(i);
        if (lead < 0x80) {
            ++i;
            continue;
        }
        std::size_t needed = 0;
        unsigned char lower = 0x80;
        unsigned char upper = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            needed = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            needed = 2;
            if (lead == 0xE0) lower = 0xA0;  // overlong
            if (lead == 0xED) upper = 0x9F;  // surrogates
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            needed = 3;
            if (lead == 0xF0) lower = 0x90;  // overlong
            if (lead == 0xF4) upper = 0x8F;  // beyond U+10FFFF
        } else {
            fail_at(i, i + 1);
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        std::size_t seen = 0;
        while (seen < needed && j < in.size()) {
            const unsigned char b = byte(j);
            if (b < lower || b > upper) break;
            lower = 0x80;
            upper = 0xBF;
            ++seen;
            ++j;
        }
        if (seen < needed) {
            // The offending byte is not consumed: it starts the next sequence.
            fail_at(i, j);
        }
        i = j;
    }
    if (!rewriting) return false;
    out.append(in.substr(copied));
    return true;
}

// `retry` is honoured only when it is all ASCII digits; values past int64 are ignored too
// rather than wrapped, since no sane server asks for a 292-million-year back-off.
std::optional<int64_t> parse_retry(std::string_view value) {
    if (value.empty()) return std::nullopt;
    int64_t result = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        const int digit = c - '0';
        if (result > (std::numeric_limits<int64_t>::max() - digit) / 10) return std::nullopt;
        result = result * 10 + digit;
    }
    return result;
}

}  // namespace

std::string_view to_string(SseError error) {
    switch (error) {
        case SseError::none:
            return "none";
        case SseError::line_too_long:
            return "line_too_long";
        case SseError::event_too_large:
            return "event_too_large";
    }
    return "unknown";
}

SseParser::SseParser(SseLimits limits) : limits_(limits) {}

bool SseParser::feed(std::string_view chunk, std::vector<SseEvent>& out) {
    if (error_ != SseError::none) return false;
    std::size_t i = 0;
    const std::size_t n = chunk.size();

    // A BOM may arrive one byte per chunk; bytes that turn out not to be one are line content.
    while (bom_matched_ < kBomDone && i < n) {
        if (chunk[i] == kBom[bom_matched_]) {
            ++bom_matched_;
            ++i;
            continue;
        }
        line_.append(kBom.substr(0, bom_matched_));
        bom_matched_ = kBomDone;
    }
    if (skip_lf_ && i < n) {
        if (chunk[i] == '\n') ++i;
        skip_lf_ = false;
    }

    while (i < n && error_ == SseError::none) {
        std::size_t end = i;
        while (end < n && !is_line_break(chunk[end])) ++end;
        const std::string_view segment = chunk.substr(i, end - i);
        if (end == n) {
            if (line_.size() + segment.size() > limits_.max_line_bytes) {
                error_ = SseError::line_too_long;
                break;
            }
            line_.append(segment);
            break;
        }
        if (line_.empty()) {
            // Whole line inside this chunk: parse it in place, no copy.
            if (segment.size() > limits_.max_line_bytes) {
                error_ = SseError::line_too_long;
                break;
            }
            process_line(segment, out);
        } else {
            if (line_.size() + segment.size() > limits_.max_line_bytes) {
                error_ = SseError::line_too_long;
                break;
            }
            line_.append(segment);
            process_line(line_, out);
            line_.clear();
        }
        if (chunk[end] == '\r') {
            if (end + 1 < n) {
                if (chunk[end + 1] == '\n') ++end;
            } else {
                skip_lf_ = true;
            }
        }
        i = end + 1;
    }
    return error_ == SseError::none;
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
    // Line breaks are ASCII and never inside a multi-byte sequence, so decoding line by line
    // yields exactly what decoding the whole stream would.
    if (replace_invalid_utf8(line, scratch_)) line = scratch_;
    if (line.empty()) {
        dispatch(out);
        return;
    }
    if (line.front() == ':') return;  // comment (keep-alive)
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        process_field(line, {});
        return;
    }
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    process_field(line.substr(0, colon), value);
}

void SseParser::process_field(std::string_view name, std::string_view value) {
    event_pending_ = true;
    if (name == "data") {
        const std::size_t added = value.size() + (has_data_ ? 1 : 0);
        if (data_.size() + added > limits_.max_event_bytes) {
            error_ = SseError::event_too_large;
            return;
        }
        if (has_data_) data_.push_back('\n');
        data_.append(value);
        has_data_ = true;
    } else if (name == "event") {
        event_type_.assign(value);
    } else if (name == "id") {
        if (value.find('\0') == std::string_view::npos) last_event_id_.assign(value);
    } else if (name == "retry") {
        if (auto ms = parse_retry(value)) {
            reconnection_time_ms_ = ms;
            event_retry_ = ms;
        }
    }
    // Any other field name is ignored, as the standard requires.
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
    if (has_data_) {
        SseEvent& event = out.emplace_back();
        if (!event_type_.empty()) event.type = event_type_;
        event.data = std::move(data_);
        event.id = last_event_id_;
        event.retry = event_retry_;
    }
    data_.clear();
    event_type_.clear();
    event_retry_.reset();
    has_data_ = false;
    event_pending_ = false;
}

void SseParser::reset_stream_state() {
    line_.clear();
    data_.clear();
    event_type_.clear();
    event_retry_.reset();
    bom_matched_ = 0;
    has_data_ = false;
    event_pending_ = false;
    skip_lf_ = false;
    error_ = SseError::none;
}

SseEnd SseParser::finish() {
    SseEnd end = SseEnd::clean;
    if (error_ != SseError::none) {
        end = SseEnd::failed;
    } else if (event_pending_ || !line_.empty() || (bom_matched_ > 0 && bom_matched_ < kBomDone)) {
        end = SseEnd::incomplete_event;
    }
    reset_stream_state();
    return end;
}

}  // namespace pincer::runtime
