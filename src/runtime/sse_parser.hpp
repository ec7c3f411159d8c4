#pragma once
/// Incremental Server-Sent Events parser following the WHATWG "event stream interpretation" rules
/// (HTML Living Standard, 9.2.6), for the streamed responses of LLM providers. Pure parsing: the
/// caller owns the socket and feeds whatever byte chunks it reads, split anywhere (inside a CRLF,
/// a UTF-8 sequence or the BOM), and gets the same events as if the stream had arrived at once.
///
/// Bounded: a line or an event's data beyond the configured limits puts the parser in a sticky
/// error state instead of buffering without end, so a hostile or broken server cannot grow the
/// gateway's memory.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pincer::runtime {

/// Longest line (field name, colon and value, without its terminator) the parser buffers.
inline constexpr std::size_t kDefaultMaxSseLineBytes = 1024 * 1024;
/// Largest `data` of one event (its data lines joined with "\n").
inline constexpr std::size_t kDefaultMaxSseEventBytes = 8 * 1024 * 1024;

struct SseLimits {
    std::size_t max_line_bytes = kDefaultMaxSseLineBytes;
    std::size_t max_event_bytes = kDefaultMaxSseEventBytes;
};

struct SseEvent {
    /// The last `event` field of the block, "message" when there was none or it was empty.
    std::string type = "message";
    /// The block's `data` fields joined with "\n"; may be empty (a bare `data` line).
    std::string data;
    /// The stream's last event ID at dispatch time: it persists across events until another
    /// `id` field changes it, as EventSource's `lastEventId` does.
    std::string id;
    /// A valid `retry` field (ASCII digits only) that appeared in this event's block, if any.
    std::optional<int64_t> retry;

    bool operator==(const SseEvent&) const = default;
};

enum class SseError {
    none,
    /// A line exceeded `SseLimits::max_line_bytes` before its terminator arrived.
    line_too_long,
    /// An event's data exceeded `SseLimits::max_event_bytes` before its blank line arrived.
    event_too_large,
};

/// Stable lower-case name for logs and error messages ("line_too_long").
std::string_view to_string(SseError error);

/// How the stream ended, as reported by `SseParser::finish()`.
enum class SseEnd {
    /// Every field line was followed by the blank line that dispatches it (comments may trail).
    clean,
    /// The stream stopped inside an event or inside a line: that event was discarded, so the
    /// response was cut short.
    incomplete_event,
    /// The parser was already in an error state (see `SseParser::error()`).
    failed,
};

class SseParser {
public:
    explicit SseParser(SseLimits limits = {});

    /// Consumes the next chunk and appends every event it completes to `out` (existing elements
    /// are kept, so one vector can be cleared and reused per read). Returns false once the parser
    /// is in an error state; then no further events are produced until `finish()`.
    bool feed(std::string_view chunk, std::vector<SseEvent>& out);

    /// End of stream: discards any unterminated line and undispatched event (as the standard
    /// requires) and says whether there was one. Afterwards the parser accepts a new stream (a
    /// reconnect); the last event ID and reconnection time are kept, everything else is reset.
    [[nodiscard]] SseEnd finish();

    SseError error() const { return error_; }
    /// The last event ID buffer (what a reconnect sends as `Last-Event-ID`).
    const std::string& last_event_id() const { return last_event_id_; }
    /// The latest valid `retry` value seen on the stream, in milliseconds.
    std::optional<int64_t> reconnection_time_ms() const { return reconnection_time_ms_; }

private:
    void process_line(std::string_view line, std::vector<SseEvent>& out);
    void process_field(std::string_view name, std::string_view value);
    void dispatch(std::vector<SseEvent>& out);
    void reset_stream_state();

    SseLimits limits_;
    std::string line_;     // an unterminated line carried over from earlier chunks
    std::string scratch_;  // a line rewritten with U+FFFD for invalid UTF-8 (rare; reused)
    std::string data_;
    std::string event_type_;
    std::string last_event_id_;
    std::optional<int64_t> event_retry_;
    std::optional<int64_t> reconnection_time_ms_;
    std::size_t bom_matched_ = 0;  // bytes of a leading BOM matched so far; kBomDone once decided
    bool has_data_ = false;        // at least one data field since the last dispatch
    bool event_pending_ = false;   // a field line arrived since the last blank line
    bool skip_lf_ = false;         // the previous chunk ended with CR: a leading LF completes CRLF
    SseError error_ = SseError::none;
};

}  // namespace pincer::runtime
