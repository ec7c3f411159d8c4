// chat.history's projection and the model context built from transcripts (pure functions).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "methods/chat.hpp"
#include "methods/chat_runs.hpp"

namespace pincer::methods {
namespace {

namespace json = boost::json;

storage::TranscriptEntry entry(int64_t seq, const std::string& payload, std::string type = "message") {
    storage::TranscriptEntry e;
    e.seq = seq;
    e.entry_id = "e" + std::to_string(seq);
    e.ts_ms = seq;
    e.type = std::move(type);
    e.payload = payload;
    if (e.type == "message") e.role = std::string(json::parse(payload).at("role").as_string());
    return e;
}

std::string user(const std::string& text) { return json::serialize(json::object{{"role", "user"}, {"content", text}}); }

std::string assistant(json::array content, std::string stop = "stop") {
    return json::serialize(json::object{{"role", "assistant"}, {"content", std::move(content)}, {"stopReason", stop}});
}

json::object text_block(const std::string& t) { return json::object{{"type", "text"}, {"text", t}}; }

TEST(ChatHistory, ProjectsMessagesForDisplay) {
    json::object usage{{"input", 1},     {"output", 2},     {"totalTokens", 3},
                       {"cacheRead", 0}, {"cacheWrite", 0}, {"cost", json::object{{"input", 0.1}, {"total", 0.5}}},
                       {"extra", 9}};
    json::object a{
        {"role", "assistant"},
        {"content", json::array{json::object{{"type", "thinking"}, {"thinking", "hmm"}, {"thinkingSignature", "sig"}},
                                text_block("0123456789")}},
        {"usage", usage}};
    json::object u{
        {"role", "user"},
        {"content", json::array{text_block("look"),
                                json::object{{"type", "image"}, {"data", "AAAA"}, {"mimeType", "image/png"}}}}};
    json::object tool{
        {"role", "toolResult"}, {"toolCallId", "c"}, {"content", json::array{text_block("r")}}, {"details", 1}};
    auto out = project_history(
        {entry(1, json::serialize(u)), entry(2, json::serialize(a)), entry(3, json::serialize(tool))}, 4, 1 << 20);
    ASSERT_EQ(out.size(), 3u);
    const auto& img = out[0].at("content").at(1).as_object();
    EXPECT_FALSE(img.contains("data"));
    EXPECT_EQ(img.at("omitted"), true);
    EXPECT_EQ(img.at("bytes").as_int64(), 3);
    const auto& blocks = out[1].at("content").as_array();
    EXPECT_FALSE(blocks[0].as_object().contains("thinkingSignature"));
    EXPECT_EQ(blocks[1].at("text"), "0123…(truncated)…");
    EXPECT_EQ(json::serialize(out[1].at("usage")),
              R"({"input":1,"output":2,"totalTokens":3,"cacheRead":0,"cacheWrite":0,"cost":{"total":5E-1}})");
    EXPECT_FALSE(out[2].as_object().contains("details"));
    EXPECT_EQ(out[2].at("__openclaw").at("id"), "e3");
    EXPECT_EQ(out[2].at("__openclaw").at("seq").as_int64(), 3);
}

TEST(ChatHistory, DropsNoReplyAndOldestBeyondTheByteCap) {
    std::vector<storage::TranscriptEntry> entries;
    for (int i = 1; i <= 10; ++i) entries.push_back(entry(i, user(std::string(100, 'a' + i))));
    entries.push_back(entry(11, assistant(json::array{text_block("NO_REPLY")})));
    auto all = project_history(entries, 8000, 1 << 20);
    EXPECT_EQ(all.size(), 10u) << "the NO_REPLY turn is hidden";
    auto capped = project_history(entries, 8000, 600);
    ASSERT_FALSE(capped.empty());
    EXPECT_LE(json::serialize(capped).size(), 600u);
    EXPECT_EQ(capped.back().at("__openclaw").at("seq").as_int64(), 10) << "the newest messages are kept";
    EXPECT_LT(capped.size(), 10u);
}

TEST(ChatHistory, OversizedMessageBecomesAPlaceholder) {
    auto out = project_history({entry(1, user(std::string(200 * 1024, 'x')))}, 500'000, 6 << 20);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].at("content").at(0).at("text"), "[chat.history omitted: message too large]");
    EXPECT_EQ(out[0].at("__openclaw").at("truncated"), true);
}

TEST(ModelHistory, KeepsOnlyMatchedToolPairsAndSkipsEmptyFailures) {
    json::object call{{"type", "toolCall"}, {"id", "c1"}, {"name", "read"}, {"arguments", json::object{}}};
    json::object orphan_call{{"type", "toolCall"}, {"id", "c2"}, {"name", "read"}, {"arguments", json::object{}}};
    std::string result = json::serialize(json::object{{"role", "toolResult"}, {"toolCallId", "c1"}, {"content", "ok"}});
    std::string stray = json::serialize(json::object{{"role", "toolResult"}, {"toolCallId", "zz"}, {"content", "?"}});
    auto out = model_history({entry(1, user("hi")), entry(2, assistant(json::array{call, orphan_call})),
                              entry(3, result), entry(4, stray), entry(5, assistant(json::array{}, "error")),
                              entry(6, R"({"note":1})", "custom")});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[1].at("content").as_array().size(), 1u) << "the call without a result is dropped";
    EXPECT_EQ(out[2].at("toolCallId"), "c1");
}

TEST(ModelHistory, CompactionSummaryReplacesOlderTurns) {
    std::string compaction = R"({"summary":"They talked about boats.","firstKeptEntryId":"e3"})";
    auto out = model_history({entry(1, user("old")), entry(2, assistant(json::array{text_block("old reply")})),
                              entry(3, user("kept")), entry(4, compaction, "compaction"), entry(5, user("new"))});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_NE(std::string(out[0].at("content").as_string()).find("They talked about boats."), std::string::npos);
    EXPECT_EQ(out[1].at("content"), "kept");
    EXPECT_EQ(out[2].at("content"), "new");
}

TEST(StopPhrase, MatchesTheReferencePhrases) {
    for (const char* s : {"/stop", "stop", "Stop!", "  ABORT. ", "wait", "exit", "esc", "interrupt"})
        EXPECT_TRUE(is_stop_phrase(s)) << s;
    for (const char* s : {"stop the music", "don't stop", "", "/stopp"}) EXPECT_FALSE(is_stop_phrase(s)) << s;
}

}  // namespace
}  // namespace pincer::methods
