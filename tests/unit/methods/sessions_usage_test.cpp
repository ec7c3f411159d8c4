// sessions.usage: param parsing (windows, offsets) and the builder over a temp-dir SQLite with
// seeded sessions, transcripts and usage records.
#include "methods/sessions_usage.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "methods/usage.hpp"

namespace pincer::methods {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kNov29 = 1'795'910'400'000;  // 2026-11-29T00:00:00Z
constexpr int64_t kNow = kNov29 + 10 * kHour;

int64_t day(std::string_view date) { return *parse_iso_date(date); }

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const core::RpcException& e) {
        return e.error.message;
    }
    return "(no error)";
}

TEST(SessionsUsageParams, UtcOffsets) {
    EXPECT_EQ(parse_utc_offset("UTC+2"), 120);
    EXPECT_EQ(parse_utc_offset("UTC-05:30"), -330);
    EXPECT_EQ(parse_utc_offset("UTC+14"), 840);
    EXPECT_EQ(parse_utc_offset("UTC-12:00"), -720);
    EXPECT_EQ(parse_utc_offset("UTC+0"), 0);
    for (std::string_view bad :
         {"UTC", "utc+2", "UTC+15", "UTC-12:30", "UTC+2:5", "UTC+2:60", "UTC+123", "+02:00", "UTC 2", "UTC+:30"})
        EXPECT_FALSE(parse_utc_offset(bad)) << bad;
}

TEST(SessionsUsageParams, Windows) {
    auto q = parse_sessions_usage_query({}, kNow, 0);
    EXPECT_EQ(q.last_day, day("2026-11-29"));
    EXPECT_EQ(q.first_day, day("2026-10-31"));
    EXPECT_EQ(q.limit, 50u);
    EXPECT_FALSE(q.key);

    q = parse_sessions_usage_query({{"key", "Work"}, {"limit", 5000}, {"startDate", "2026-11-01"}}, kNow, 0);
    EXPECT_EQ(*q.key, "agent:main:work");
    EXPECT_EQ(q.limit, 1000u) << "clamped";
    EXPECT_EQ(q.first_day, day("2026-11-01"));
    EXPECT_EQ(q.last_day, day("2026-11-29"));

    q = parse_sessions_usage_query({{"endDate", "2026-01-10"}}, kNow, 0);
    EXPECT_EQ(q.first_day, day("2025-12-12"));

    // 10:00Z on Nov 29 is already Nov 30 at UTC+14, still Nov 28 at UTC-11 (gateway mode).
    q = parse_sessions_usage_query({{"mode", "specific"}, {"utcOffset", "UTC+14"}}, kNow, 0);
    EXPECT_EQ(q.utc_offset_minutes, 840);
    EXPECT_EQ(q.last_day, day("2026-11-30"));
    q = parse_sessions_usage_query({{"mode", "gateway"}, {"utcOffset", "UTC+14"}}, kNow, -660);
    EXPECT_EQ(q.utc_offset_minutes, -660);
    EXPECT_EQ(q.last_day, day("2026-11-28"));
    q = parse_sessions_usage_query({{"utcOffset", "UTC+3"}}, kNow, 0);
    EXPECT_EQ(q.utc_offset_minutes, 0) << "utcOffset counts only in mode specific";

    EXPECT_EQ(message_of([] {
                  parse_sessions_usage_query({{"startDate", "2026-02-30"}}, kNow, 0);
              }),
              "invalid sessions.usage params: at /startDate: must be YYYY-MM-DD");
    EXPECT_EQ(message_of([] {
                  parse_sessions_usage_query({{"startDate", "2026-02-02"}, {"endDate", "2026-02-01"}}, kNow, 0);
              }),
              "invalid sessions.usage params: at /endDate: must not be before startDate");
    EXPECT_NE(message_of([] {
                  parse_sessions_usage_query({{"utcOffset", 3}}, kNow, 0);
              }).find("/utcOffset"),
              std::string::npos);
}

class SessionsUsageBuildTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pincer-sessions-usage-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        db_ = std::make_unique<storage::Database>(root_ / "pincer.sqlite");
        sessions_ = std::make_unique<storage::SessionsRepo>(*db_);
        transcripts_ = std::make_unique<storage::TranscriptsRepo>(*db_);
        usage_ = std::make_unique<storage::UsageRepo>(*db_);
    }
    void TearDown() override {
        usage_.reset();
        transcripts_.reset();
        sessions_.reset();
        db_.reset();
        fs::remove_all(root_);
    }

    void session(const std::string& key, const std::string& sid, int64_t updated) {
        storage::SessionEntry e;
        e.key = key;
        e.session_id = sid;
        e.updated_at_ms = updated;
        e.fields = {{"channel", "webchat"}};
        sessions_->upsert(e);
    }
    void call(const std::string& key, int64_t ts, int64_t in, std::optional<double> cost,
              const std::string& model = "gpt-4o") {
        storage::UsageRecord r;
        r.run_id = "run";
        r.session_key = key;
        r.agent_id = "main";
        r.provider = "openai";
        r.model = model;
        r.input_tokens = in;
        r.output_tokens = 1;
        r.cost_usd = cost;
        r.ts_ms = ts;
        usage_->record(r);
    }
    void message(const std::string& sid, int64_t ts, std::string payload) {
        storage::TranscriptEntry e;
        e.ts_ms = ts;
        e.payload = std::move(payload);
        transcripts_->append(sid, {std::move(e)});
    }
    json::object build(json::object params) {
        return build_sessions_usage(*sessions_, *transcripts_, *usage_, parse_sessions_usage_query(params, kNow, 0),
                                    kNow);
    }

    fs::path root_;
    std::unique_ptr<storage::Database> db_;
    std::unique_ptr<storage::SessionsRepo> sessions_;
    std::unique_ptr<storage::TranscriptsRepo> transcripts_;
    std::unique_ptr<storage::UsageRepo> usage_;
};

TEST_F(SessionsUsageBuildTest, SessionsCostsMessagesAndDays) {
    session("agent:main:a", "sid-a", kNov29 + 2 * kHour);
    session("agent:main:b", "sid-b", kNov29 + 1 * kHour);
    session("agent:main:idle", "sid-idle", kNov29 - 60 * 24 * kHour);  // outside the window
    call("agent:main:a", kNov29 - 23 * kHour, 10, 0.5);                // Nov 28 01:00Z
    call("agent:main:a", kNov29 + 1 * kHour, 20, std::nullopt, "gpt-5");
    call("agent:main:b", kNov29 + 3 * kHour, 40, 0.25);  // b's last call is the most recent activity
    call("agent:main:gone", kNov29, 80, 1.0);            // a deleted session: left out
    message("sid-a", kNov29 - 23 * kHour, R"({"role":"user","content":"hi"})");
    message("sid-a", kNov29 + kHour,
            R"({"role":"assistant","content":[{"type":"toolCall","id":"1","name":"read"},)"
            R"({"type":"toolCall","id":"2","name":"read"}],"stopReason":"error"})");
    message("sid-a", kNov29 - 90 * 24 * kHour, R"({"role":"user","content":"long ago"})");

    auto res = build({});
    const auto& rows = res.at("sessions").as_array();
    ASSERT_EQ(rows.size(), 2u) << json::serialize(res);
    EXPECT_EQ(rows[0].at("key"), "agent:main:b");
    EXPECT_EQ(rows[0].at("channel"), "webchat");
    const auto& a = rows[1].at("usage").as_object();
    EXPECT_EQ(a.at("input"), 30);
    EXPECT_EQ(a.at("totalCost"), 0.5);
    EXPECT_EQ(a.at("missingCostEntries"), 1);
    EXPECT_EQ(a.at("activityDates"), (json::array{"2026-11-28", "2026-11-29"}));
    EXPECT_EQ(a.at("firstActivity"), kNov29 - 23 * kHour);
    EXPECT_EQ(a.at("durationMs"), 24 * kHour);
    EXPECT_EQ(a.at("messageCounts"),
              (json::object{
                  {"total", 2}, {"user", 1}, {"assistant", 1}, {"toolCalls", 2}, {"toolResults", 0}, {"errors", 1}}));
    EXPECT_EQ(a.at("toolUsage"), (json::array{json::object{{"name", "read"}, {"count", 2}}}));
    ASSERT_EQ(a.at("modelUsage").as_array().size(), 2u);
    EXPECT_EQ(a.at("modelUsage").at(0).at("model"), "gpt-4o") << "costliest first";

    const auto& agg = res.at("aggregates").as_object();
    EXPECT_EQ(res.at("totals").at("input"), 70);
    EXPECT_EQ(res.at("totals").at("totalCost"), 0.75);
    EXPECT_EQ(agg.at("byModel").as_array().size(), 2u);
    EXPECT_EQ(agg.at("byProvider").at(0).at("count"), 3);
    EXPECT_EQ(agg.at("byChannel").at(0).at("channel"), "webchat");
    ASSERT_EQ(agg.at("daily").as_array().size(), 2u);
    EXPECT_EQ(
        agg.at("daily").at(0),
        (json::object{
            {"date", "2026-11-28"}, {"tokens", 11}, {"cost", 0.5}, {"messages", 1}, {"toolCalls", 0}, {"errors", 0}}));
    EXPECT_EQ(agg.at("daily").at(1).at("errors"), 1);

    // UTC+2 moves a's first call (01:00Z Nov 28) to 03:00 the same day, and keeps the window.
    auto east = build({{"mode", "specific"}, {"utcOffset", "UTC+2"}, {"key", "a"}});
    ASSERT_EQ(east.at("sessions").as_array().size(), 1u);
    EXPECT_EQ(east.at("sessions").at(0).at("usage").at("activityDates"), (json::array{"2026-11-28", "2026-11-29"}));

    // A session updated in the window without usage or messages is listed with usage null.
    session("agent:main:quiet", "sid-q", kNov29 + 4 * kHour);
    auto with_quiet = build({{"limit", 1}});
    ASSERT_EQ(with_quiet.at("sessions").as_array().size(), 1u);
    EXPECT_EQ(with_quiet.at("sessions").at(0).at("key"), "agent:main:quiet");
    EXPECT_TRUE(with_quiet.at("sessions").at(0).at("usage").is_null());
    EXPECT_EQ(with_quiet.at("totals").at("totalTokens"), 0);
}

}  // namespace
}  // namespace pincer::methods
