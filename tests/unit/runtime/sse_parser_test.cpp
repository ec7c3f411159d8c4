#include "runtime/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace pincer::runtime {
namespace {

using Events = std::vector<SseEvent>;

SseEvent event(std::string data, std::string type = "message", std::string id = "") {
    SseEvent e;
    e.type = std::move(type);
    e.data = std::move(data);
    e.id = std::move(id);
    return e;
}

// Feeds the whole stream as one chunk; `end` receives finish()'s verdict.
Events parse_all(std::string_view stream, SseEnd* end = nullptr, SseLimits limits = {}) {
    SseParser parser(limits);
    Events out;
    parser.feed(stream, out);
    const SseEnd e = parser.finish();
    if (end != nullptr) *end = e;
    return out;
}

// Exercises every feature once: BOM, all three line endings, comments, multi-line data, a bare
// field, event types, ids (persisting and reset), retry, an unknown field, UTF-8 text.
const std::string kSample =
    "\xEF\xBB\xBF"
    ": keep-alive comment\r\n"
    "event: greeting\r\n"
    "data: h\xC3\xA9llo\r\n"
    "data:  two spaces\n"
    "id: 7\r"
    "retry: 1500\n"
    "\r\n"
    "data\n"
    "unknown: x\r"
    "\r"
    "data:{\"k\":\"\xE2\x82\xAC\"}\n"
    "id\n"
    "\n"
    "event: done\n"
    "data: [DONE]\n"
    "\n";

Events sample_events() {
    SseEvent first = event("h\xC3\xA9llo\n two spaces", "greeting", "7");
    first.retry = 1500;
    return {first, event("", "message", "7"), event("{\"k\":\"\xE2\x82\xAC\"}"), event("[DONE]", "done")};
}

TEST(SseParser, SampleStreamParsesAsExpected) {
    SseEnd end{};
    EXPECT_EQ(parse_all(kSample, &end), sample_events());
    EXPECT_EQ(end, SseEnd::clean);
}

TEST(SseParser, EverySingleSplitPointGivesTheSameEvents) {
    const Events expected = sample_events();
    for (std::size_t cut = 0; cut <= kSample.size(); ++cut) {
        SseParser parser;
        Events out;
        ASSERT_TRUE(parser.feed(std::string_view(kSample).substr(0, cut), out));
        ASSERT_TRUE(parser.feed(std::string_view(kSample).substr(cut), out));
        EXPECT_EQ(parser.finish(), SseEnd::clean) << "cut at " << cut;
        EXPECT_EQ(out, expected) << "cut at " << cut;
    }
}

TEST(SseParser, EveryPairOfSplitPointsGivesTheSameEvents) {
    const Events expected = sample_events();
    const std::string_view s = kSample;
    for (std::size_t a = 0; a <= s.size(); ++a) {
        for (std::size_t b = a; b <= s.size(); ++b) {
            SseParser parser;
            Events out;
            parser.feed(s.substr(0, a), out);
            parser.feed(s.substr(a, b - a), out);
            parser.feed(s.substr(b), out);
            ASSERT_EQ(parser.finish(), SseEnd::clean) << a << "," << b;
            ASSERT_EQ(out, expected) << "cuts at " << a << "," << b;
        }
    }
}

TEST(SseParser, ByteByByteWithEmptyChunksGivesTheSameEvents) {
    SseParser parser;
    Events out;
    for (char c : kSample) {
        ASSERT_TRUE(parser.feed({}, out));
        ASSERT_TRUE(parser.feed(std::string_view(&c, 1), out));
    }
    EXPECT_EQ(parser.finish(), SseEnd::clean);
    EXPECT_EQ(out, sample_events());
}

TEST(SseParser, AllLineEndingStylesAreEquivalent) {
    const Events expected = {event("a\nb", "x"), event("c")};
    for (std::string_view eol : {"\n", "\r\n", "\r"}) {
        std::string stream;
        for (std::string_view line : {"event: x", "data: a", "data: b", "", "data: c", ""}) {
            stream.append(line).append(eol);
        }
        SseEnd end{};
        EXPECT_EQ(parse_all(stream, &end), expected) << "eol size " << eol.size();
        EXPECT_EQ(end, SseEnd::clean);
    }
}

TEST(SseParser, CrLfSplitAcrossChunksIsOneLineBreak) {
    // If the LF after a chunk-final CR were taken as a second line break it would dispatch early.
    SseParser parser;
    Events out;
    parser.feed("data: a\r", out);
    parser.feed("\ndata: b\r", out);
    parser.feed("\n\r", out);
    parser.feed("\n", out);
    EXPECT_EQ(out, Events{event("a\nb")});
    EXPECT_EQ(parser.finish(), SseEnd::clean);
}

TEST(SseParser, LoneCrThenLfAreTwoLineBreaks) {
    EXPECT_EQ(parse_all("data: a\r\r\ndata: b\n\n"), (Events{event("a"), event("b")}));
    EXPECT_EQ(parse_all("data: a\n\r\n"), Events{event("a")});
    EXPECT_EQ(parse_all("data: a\n\n\r\r\n\n"), Events{event("a")});
}

TEST(SseParser, LeadingBomIsStrippedOnce) {
    EXPECT_EQ(parse_all("\xEF\xBB\xBF"
                        "data: x\n\n"),
              Events{event("x")});
    // A second BOM is part of the field name, which is then unknown and ignored.
    EXPECT_TRUE(parse_all("\xEF\xBB\xBF\xEF\xBB\xBF"
                          "data: x\n\n")
                    .empty());
    // A BOM later in the stream is ordinary content.
    EXPECT_EQ(parse_all("data: \xEF\xBB\xBFx\n\n"), Events{event("\xEF\xBB\xBFx")});
}

TEST(SseParser, BomSplitAcrossChunks) {
    SseParser parser;
    Events out;
    parser.feed("\xEF", out);
    parser.feed("\xBB", out);
    parser.feed(
        "\xBF"
        "da",
        out);
    parser.feed("ta: x\n\n", out);
    EXPECT_EQ(out, Events{event("x")});
    EXPECT_EQ(parser.finish(), SseEnd::clean);
}

TEST(SseParser, PartialBomIsContentNotDropped) {
    // "\xEF\xBB" is not a BOM; the bytes stay (decoded as one U+FFFD) and make an unknown field.
    SseParser parser;
    Events out;
    parser.feed("\xEF", out);
    parser.feed("\xBB", out);
    parser.feed("data: x\n\n", out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(parser.finish(), SseEnd::clean);

    SseParser cut;
    cut.feed("\xEF\xBB", out);
    EXPECT_EQ(cut.finish(), SseEnd::incomplete_event);
}

TEST(SseParser, CommentsAreIgnored) {
    SseEnd end{};
    EXPECT_TRUE(parse_all(": hello\n:\n\n: bye\n", &end).empty());
    EXPECT_EQ(end, SseEnd::clean);
    EXPECT_EQ(parse_all("data: a\n: inside an event\ndata: b\n\n"), Events{event("a\nb")});
}

TEST(SseParser, FieldValueSyntax) {
    EXPECT_EQ(parse_all("data:no space\n\n"), Events{event("no space")});
    EXPECT_EQ(parse_all("data:  two\n\n"), Events{event(" two")});
    EXPECT_EQ(parse_all("data: a:b: c\n\n"), Events{event("a:b: c")});
    EXPECT_EQ(parse_all("data: trailing \n\n"), Events{event("trailing ")});
    // A field without a colon has an empty value.
    EXPECT_EQ(parse_all("data\ndata\n\n"), Events{event("\n")});
    // Names are case-sensitive; unknown fields are ignored.
    EXPECT_TRUE(parse_all("Data: x\nDATA: y\nfoo: z\n\n").empty());
}

TEST(SseParser, EmptyDataDispatchesButNoDataDoesNot) {
    EXPECT_EQ(parse_all("data:\n\n"), Events{event("")});
    EXPECT_TRUE(parse_all("event: ping\n\n").empty());
    // The discarded block's type must not leak into the next event.
    EXPECT_EQ(parse_all("event: ping\n\ndata: x\n\n"), Events{event("x")});
    EXPECT_EQ(parse_all("event:\ndata: x\n\n"), Events{event("x")});
}

TEST(SseParser, LastEventTypeWins) { EXPECT_EQ(parse_all("event: a\nevent: b\ndata: x\n\n"), Events{event("x", "b")}); }

TEST(SseParser, IdPersistsUntilChanged) {
    SseParser parser;
    Events out;
    parser.feed("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\n", out);
    EXPECT_EQ(out, (Events{event("a", "message", "1"), event("b", "message", "1"), event("c")}));
    // An id in a block without data still updates the buffer.
    EXPECT_EQ(parser.last_event_id(), "2");
}

TEST(SseParser, IdWithNulIsIgnored) {
    using namespace std::string_literals;
    EXPECT_EQ(parse_all("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"s),
              (Events{event("a", "message", "1"), event("b", "message", "1")}));
}

TEST(SseParser, RetryAcceptsOnlyDigits) {
    SseParser parser;
    Events out;
    parser.feed("retry: 3000\ndata: a\n\n", out);
    parser.feed("retry: 12a\ndata: b\n\n", out);
    parser.feed("retry: -1\nretry: 1.5\nretry:\nretry:  5\ndata: c\n\n", out);
    parser.feed("retry: 99999999999999999999999\ndata: d\n\n", out);
    parser.feed("retry: 250\n\n", out);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].retry, 3000);
    EXPECT_EQ(out[1].retry, std::nullopt);
    EXPECT_EQ(out[2].retry, std::nullopt);
    EXPECT_EQ(out[3].retry, std::nullopt);
    EXPECT_EQ(parser.reconnection_time_ms(), 250);
}

TEST(SseParser, MissingTrailingBlankLineIsDetected) {
    SseEnd end{};
    EXPECT_EQ(parse_all("data: a\n\ndata: b\n", &end), Events{event("a")});
    EXPECT_EQ(end, SseEnd::incomplete_event);

    EXPECT_EQ(parse_all("data: a\n\ndata: b", &end), Events{event("a")});
    EXPECT_EQ(end, SseEnd::incomplete_event);

    // Any field starts an event, even one that would not dispatch.
    parse_all("data: a\n\nevent: x\n", &end);
    EXPECT_EQ(end, SseEnd::incomplete_event);

    // A stream cut inside a line, even a comment, is cut.
    parse_all("data: a\n\n: keep", &end);
    EXPECT_EQ(end, SseEnd::incomplete_event);

    parse_all("data: a\n\n: keep-alive\n", &end);
    EXPECT_EQ(end, SseEnd::clean);

    // CR is a complete line break on its own.
    EXPECT_EQ(parse_all("data: a\r\r", &end), Events{event("a")});
    EXPECT_EQ(end, SseEnd::clean);

    parse_all("", &end);
    EXPECT_EQ(end, SseEnd::clean);
}

TEST(SseParser, FinishResetsForANewStreamButKeepsIdAndRetry) {
    SseParser parser;
    Events out;
    parser.feed("id: 9\nretry: 10\ndata: a\n\ndata: partial", out);
    EXPECT_EQ(parser.finish(), SseEnd::incomplete_event);
    parser.feed(
        "\xEF\xBB\xBF"
        "data: b\n\n",
        out);
    EXPECT_EQ(parser.finish(), SseEnd::clean);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].data, "b");
    EXPECT_EQ(out[1].id, "9");
    EXPECT_EQ(parser.reconnection_time_ms(), 10);
}

TEST(SseParser, InvalidUtf8IsReplaced) {
    EXPECT_EQ(parse_all("data: a\xFF"
                        "b\n\n"),
              Events{event("a\xEF\xBF\xBD"
                           "b")});
    // Truncated sequence before the line break: one replacement for the maximal subpart.
    EXPECT_EQ(parse_all("data: \xE2\x82\n\n"), Events{event("\xEF\xBF\xBD")});
    // Surrogate (ED A0 80): ED is a subpart on its own, then A0 and 80 each.
    EXPECT_EQ(parse_all("data: \xED\xA0\x80\n\n"), Events{event("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")});
    // Overlong encoding of '/'.
    EXPECT_EQ(parse_all("data: \xC0\xAF\n\n"), Events{event("\xEF\xBF\xBD\xEF\xBF\xBD")});
    // A valid 4-byte sequence passes through.
    EXPECT_EQ(parse_all("data: \xF0\x9F\xA6\x80\n\n"), Events{event("\xF0\x9F\xA6\x80")});
}

TEST(SseParser, Utf8SplitAcrossChunksIsPreserved) {
    const std::string crab = "data: \xF0\x9F\xA6\x80 and \xE2\x82\xAC\n\n";
    for (std::size_t cut = 0; cut <= crab.size(); ++cut) {
        SseParser parser;
        Events out;
        parser.feed(std::string_view(crab).substr(0, cut), out);
        parser.feed(std::string_view(crab).substr(cut), out);
        ASSERT_EQ(out, Events{event("\xF0\x9F\xA6\x80 and \xE2\x82\xAC")}) << cut;
    }
}

TEST(SseParser, LineTooLongIsAnError) {
    SseLimits limits{.max_line_bytes = 16, .max_event_bytes = 1024};
    {
        // Exactly at the limit is fine, in one chunk or across chunks.
        SseParser parser(limits);
        Events out;
        EXPECT_TRUE(parser.feed("data: 0123456789\n\n", out));
        EXPECT_TRUE(parser.feed("data: 01234", out));
        EXPECT_TRUE(parser.feed("56789\n\n", out));
        EXPECT_EQ(out.size(), 2u);
    }
    {
        SseParser parser(limits);
        Events out;
        EXPECT_FALSE(parser.feed("data: a\n\ndata: 0123456789A\n\ndata: b\n\n", out));
        EXPECT_EQ(parser.error(), SseError::line_too_long);
        EXPECT_EQ(out, Events{event("a")});
        EXPECT_FALSE(parser.feed("data: c\n\n", out));  // sticky
        EXPECT_EQ(out.size(), 1u);
        EXPECT_EQ(parser.finish(), SseEnd::failed);
        EXPECT_EQ(parser.error(), SseError::none);
    }
    {
        // A line that never ends must not grow the buffer past the limit.
        SseParser parser(limits);
        Events out;
        bool ok = true;
        for (int i = 0; i < 100 && ok; ++i) ok = parser.feed("xxxxx", out);
        EXPECT_FALSE(ok);
        EXPECT_EQ(parser.error(), SseError::line_too_long);
    }
    EXPECT_EQ(to_string(SseError::line_too_long), "line_too_long");
}

TEST(SseParser, EventTooLargeIsAnError) {
    SseLimits limits{.max_line_bytes = 64, .max_event_bytes = 10};
    {
        SseParser parser(limits);
        Events out;
        // "01234\n5678" is 10 bytes: at the limit.
        EXPECT_TRUE(parser.feed("data: 01234\ndata: 5678\n\n", out));
        EXPECT_EQ(out, Events{event("01234\n5678")});
    }
    {
        SseParser parser(limits);
        Events out;
        EXPECT_FALSE(parser.feed("data: 01234\ndata: 56789\n\n", out));
        EXPECT_EQ(parser.error(), SseError::event_too_large);
        EXPECT_TRUE(out.empty());
        EXPECT_EQ(parser.finish(), SseEnd::failed);
    }
    {
        // Many empty data lines count their separators.
        SseParser parser(limits);
        Events out;
        std::string many;
        for (int i = 0; i < 12; ++i) many += "data\n";
        EXPECT_FALSE(parser.feed(many, out));
        EXPECT_EQ(parser.error(), SseError::event_too_large);
    }
    EXPECT_EQ(to_string(SseError::event_too_large), "event_too_large");
}

TEST(SseParser, DefaultLimitsAreDocumentedValues) {
    EXPECT_EQ(SseLimits{}.max_line_bytes, 1024u * 1024u);
    EXPECT_EQ(SseLimits{}.max_event_bytes, 8u * 1024u * 1024u);
}

TEST(SseParser, AppendsToExistingOutput) {
    SseParser parser;
    Events out{event("old")};
    parser.feed("data: new\n\n", out);
    EXPECT_EQ(out, (Events{event("old"), event("new")}));
}

}  // namespace
}  // namespace pincer::runtime
