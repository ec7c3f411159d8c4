// usage.cost / usage.status: the pure builders over a temp-dir SQLite, and the two methods driven
// through dispatch::Gateway with fake connections (no sockets, no threads).
#include "methods/usage.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "../dispatch/fakes.hpp"
#include "core/error.hpp"

namespace pincer::methods {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// The reference capture's usage.cost call: 2026-11-29T10:55:09.459Z.
constexpr int64_t kNow = 1'795'949'709'459;
constexpr int64_t kNov29 = 1'795'910'400'000;  // 2026-11-29T00:00:00Z
constexpr const char* kToken = "unit-test-token-0123456789abcdef";

class UsageMethodsTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pincer-usage-methods-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        db_ = std::make_unique<storage::Database>(root_ / "pincer.sqlite");
        repo_ = std::make_unique<storage::UsageRepo>(*db_);
    }
    void TearDown() override {
        repo_.reset();
        db_.reset();
        fs::remove_all(root_);
    }

    void add(int64_t ts, int64_t in, int64_t out, std::optional<double> cost, int64_t cache_read = 0,
             int64_t cache_write = 0) {
        storage::UsageRecord r;
        r.run_id = "run-" + std::to_string(ts);
        r.session_key = "agent:main:main";
        r.agent_id = "main";
        r.provider = "openai";
        r.model = "gpt-4o";
        r.input_tokens = in;
        r.output_tokens = out;
        r.cache_read = cache_read;
        r.cache_write = cache_write;
        r.cost_usd = cost;
        r.ts_ms = ts;
        repo_->record(r);
    }

    static const json::object& row(const json::object& result, size_t i) {
        return result.at("daily").as_array().at(i).as_object();
    }
    static const json::object* find_row(const json::object& result, std::string_view date) {
        for (auto& r : result.at("daily").as_array()) {
            if (r.as_object().at("date").as_string() == date) return &r.as_object();
        }
        return nullptr;
    }

    fs::path root_;
    std::unique_ptr<storage::Database> db_;
    std::unique_ptr<storage::UsageRepo> repo_;
};

void expect_zero(const json::object& t) {
    for (auto key : {"input", "output", "cacheRead", "cacheWrite", "totalTokens", "totalCost", "inputCost",
                     "outputCost", "cacheReadCost", "cacheWriteCost", "missingCostEntries"}) {
        ASSERT_TRUE(t.contains(key)) << key;
        EXPECT_EQ(t.at(key).to_number<double>(), 0.0) << key;
    }
}

TEST(UsageDates, ParseAndFormat) {
    EXPECT_EQ(parse_iso_date("1970-01-01"), 0);
    EXPECT_EQ(parse_iso_date("2026-11-29"), kNov29 / kDay);
    EXPECT_EQ(parse_iso_date("2024-02-29"), parse_iso_date("2024-02-28").value() + 1);
    EXPECT_FALSE(parse_iso_date("2026-02-29"));
    EXPECT_FALSE(parse_iso_date("2026-13-01"));
    EXPECT_FALSE(parse_iso_date("2026-00-10"));
    EXPECT_FALSE(parse_iso_date("2026-1-01"));
    EXPECT_FALSE(parse_iso_date("2026/11/29"));
    EXPECT_FALSE(parse_iso_date(""));
    EXPECT_EQ(format_iso_date(0), "1970-01-01");
    EXPECT_EQ(format_iso_date(-1), "1969-12-31");
    EXPECT_EQ(format_iso_date(kNov29 / kDay), "2026-11-29");
    EXPECT_EQ(format_iso_date(*parse_iso_date("2000-02-29")), "2000-02-29");
}

TEST_F(UsageMethodsTest, EmptyDbGivesThirtyZeroRowsEndingToday) {
    json::object r = build_usage_cost(*repo_, UsageCostQuery{}, kNow);
    EXPECT_EQ(r.at("updatedAt").as_int64(), kNow);
    EXPECT_EQ(r.at("days").as_int64(), 30);
    const auto& daily = r.at("daily").as_array();
    ASSERT_EQ(daily.size(), 30u);
    // As the reference capture: 2026-10-31 .. 2026-11-29, oldest first.
    EXPECT_EQ(row(r, 0).at("date").as_string(), "2026-10-31");
    EXPECT_EQ(row(r, 1).at("date").as_string(), "2026-11-01");
    EXPECT_EQ(row(r, 29).at("date").as_string(), "2026-11-29");
    for (auto& d : daily) {
        EXPECT_EQ(d.as_object().size(), 12u);
        expect_zero(d.as_object());
    }
    EXPECT_EQ(r.at("totals").as_object().size(), 11u);
    expect_zero(r.at("totals").as_object());
    // Zero costs serialize as the reference's `0`, not `0E0`.
    EXPECT_NE(json::serialize(r).find("\"totalCost\":0,"), std::string::npos);
    EXPECT_EQ(r.at("cacheStatus").at("status").as_string(), "fresh");
}

TEST_F(UsageMethodsTest, RecordsOnTwoDaysFillThoseRowsAndTheTotals) {
    add(kNov29 - 2 * kDay + 5 * kHour, 100, 50, 0.25, 10, 2);  // 2026-11-27
    add(kNov29 - 2 * kDay + 9 * kHour, 20, 10, 0.5);           // 2026-11-27
    add(kNov29 + 1 * kHour, 7, 3, 1.0);                        // 2026-11-29
    add(kNov29 - 30 * kDay + kHour, 1000, 1000, 9.0);          // 2026-10-30: outside the window

    json::object r = build_usage_cost(*repo_, UsageCostQuery{}, kNow);
    ASSERT_EQ(r.at("daily").as_array().size(), 30u);
    const json::object& d27 = row(r, 27);
    EXPECT_EQ(d27.at("date").as_string(), "2026-11-27");
    EXPECT_EQ(d27.at("input").as_int64(), 120);
    EXPECT_EQ(d27.at("output").as_int64(), 60);
    EXPECT_EQ(d27.at("cacheRead").as_int64(), 10);
    EXPECT_EQ(d27.at("cacheWrite").as_int64(), 2);
    EXPECT_EQ(d27.at("totalTokens").as_int64(), 192);
    EXPECT_DOUBLE_EQ(d27.at("totalCost").to_number<double>(), 0.75);
    EXPECT_EQ(d27.at("inputCost").to_number<double>(), 0.0);  // no cost split is recorded
    EXPECT_EQ(d27.at("missingCostEntries").as_int64(), 0);
    expect_zero(row(r, 28));
    EXPECT_EQ(row(r, 29).at("totalTokens").as_int64(), 10);
    EXPECT_DOUBLE_EQ(row(r, 29).at("totalCost").to_number<double>(), 1.0);

    const json::object& t = r.at("totals").as_object();
    EXPECT_EQ(t.at("input").as_int64(), 127);
    EXPECT_EQ(t.at("output").as_int64(), 63);
    EXPECT_EQ(t.at("totalTokens").as_int64(), 202);
    EXPECT_DOUBLE_EQ(t.at("totalCost").to_number<double>(), 1.75);
    EXPECT_EQ(t.at("missingCostEntries").as_int64(), 0);
}

TEST_F(UsageMethodsTest, UtcOffsetShiftsARecordAcrossMidnight) {
    add(kNov29 - kHour + 30 * 60'000, 5, 5, 0.1);  // 2026-11-28T23:30Z

    json::object utc = build_usage_cost(*repo_, UsageCostQuery{}, kNow);
    EXPECT_EQ(find_row(utc, "2026-11-28")->at("input").as_int64(), 5);
    EXPECT_EQ(find_row(utc, "2026-11-29")->at("input").as_int64(), 0);

    UsageCostQuery east;
    east.utc_offset_minutes = 60;  // 00:30 on the 29th locally
    json::object e = build_usage_cost(*repo_, east, kNow);
    EXPECT_EQ(e.at("daily").as_array().size(), 30u);
    EXPECT_EQ(row(e, 29).at("date").as_string(), "2026-11-29");
    EXPECT_EQ(find_row(e, "2026-11-28")->at("input").as_int64(), 0);
    EXPECT_EQ(find_row(e, "2026-11-29")->at("input").as_int64(), 5);

    // At UTC-12 it is 22:55 on the 28th, so the window ends on the 28th.
    UsageCostQuery west;
    west.utc_offset_minutes = -720;
    json::object w = build_usage_cost(*repo_, west, kNow);
    EXPECT_EQ(row(w, 29).at("date").as_string(), "2026-11-28");
    EXPECT_EQ(row(w, 0).at("date").as_string(), "2026-10-30");
    EXPECT_EQ(find_row(w, "2026-11-28")->at("input").as_int64(), 5);  // 11:30 on the 28th locally
}

TEST_F(UsageMethodsTest, StartAndEndDateOverrideDays) {
    add(kNov29 - 28 * kDay + kHour, 1, 1, 0.5);  // 2026-11-01
    add(kNov29 - 26 * kDay + kHour, 2, 2, 0.5);  // 2026-11-03
    add(kNov29 - 25 * kDay + kHour, 4, 4, 0.5);  // 2026-11-04: outside

    json::object params{{"startDate", "2026-11-01"}, {"endDate", "2026-11-03"}, {"days", 7}};
    json::object r = build_usage_cost(*repo_, parse_usage_cost_query(params), kNow);
    EXPECT_EQ(r.at("days").as_int64(), 3);
    ASSERT_EQ(r.at("daily").as_array().size(), 3u);
    EXPECT_EQ(row(r, 0).at("date").as_string(), "2026-11-01");
    EXPECT_EQ(row(r, 1).at("date").as_string(), "2026-11-02");
    EXPECT_EQ(row(r, 2).at("date").as_string(), "2026-11-03");
    EXPECT_EQ(row(r, 0).at("input").as_int64(), 1);
    EXPECT_EQ(row(r, 2).at("input").as_int64(), 2);
    EXPECT_EQ(r.at("totals").at("input").as_int64(), 3);
    EXPECT_DOUBLE_EQ(r.at("totals").at("totalCost").to_number<double>(), 1.0);

    // A single day; `days` alone.
    json::object one = build_usage_cost(
        *repo_, parse_usage_cost_query(json::object{{"startDate", "2026-11-04"}, {"endDate", "2026-11-04"}}), kNow);
    ASSERT_EQ(one.at("daily").as_array().size(), 1u);
    EXPECT_EQ(one.at("totals").at("input").as_int64(), 4);
    json::object week = build_usage_cost(*repo_, parse_usage_cost_query(json::object{{"days", 7}}), kNow);
    ASSERT_EQ(week.at("daily").as_array().size(), 7u);
    EXPECT_EQ(row(week, 0).at("date").as_string(), "2026-11-23");
}

TEST_F(UsageMethodsTest, MissingCostEntriesAreCounted) {
    add(kNov29 + kHour, 10, 10, std::nullopt);
    add(kNov29 + 2 * kHour, 10, 10, std::nullopt);
    add(kNov29 + 3 * kHour, 10, 10, 0.125);
    json::object r = build_usage_cost(*repo_, UsageCostQuery{}, kNow);
    EXPECT_EQ(row(r, 29).at("missingCostEntries").as_int64(), 2);
    EXPECT_EQ(r.at("totals").at("missingCostEntries").as_int64(), 2);
    EXPECT_DOUBLE_EQ(r.at("totals").at("totalCost").to_number<double>(), 0.125);
    EXPECT_EQ(r.at("totals").at("totalTokens").as_int64(), 60);
}

TEST_F(UsageMethodsTest, BadDatesAreInvalidRequestsNamingTheField) {
    auto message = [](json::object p) -> std::string {
        try {
            parse_usage_cost_query(p);
        } catch (const core::RpcException& e) {
            EXPECT_EQ(e.error.code, core::ErrorCode::invalid_request);
            return e.error.message;
        }
        return "no error";
    };
    EXPECT_EQ(message({{"startDate", "2026-02-30"}}), "invalid usage.cost params: at /startDate: must be YYYY-MM-DD");
    EXPECT_EQ(message({{"endDate", 20261101}}), "invalid usage.cost params: at /endDate: must be YYYY-MM-DD");
    EXPECT_EQ(message({{"startDate", "2026-11-05"}, {"endDate", "2026-11-01"}}),
              "invalid usage.cost params: at /endDate: must not be before startDate");
    EXPECT_NE(message({{"startDate", "2024-01-01"}, {"endDate", "2026-01-01"}}).find("at /startDate"),
              std::string::npos);
    EXPECT_EQ(message({{"startDate", nullptr}}), "no error");
}

TEST_F(UsageMethodsTest, StatusShape) {
    json::object s = build_usage_status(*repo_, kNow);
    EXPECT_EQ(s.at("updatedAt").as_int64(), kNow);
    EXPECT_TRUE(s.at("providers").as_array().empty());
    EXPECT_EQ(s.at("recorded").at("records").as_int64(), 0);
    add(kNov29, 1, 1, 0.1);
    add(kNov29 - 400 * kDay, 1, 1, 0.1);
    EXPECT_EQ(build_usage_status(*repo_, kNow).at("recorded").at("records").as_int64(), 2);
}

// The two methods end to end through the gateway (scope, schema validation, pool reply).
class UsageGatewayTest : public UsageMethodsTest {
protected:
    void SetUp() override {
        UsageMethodsTest::SetUp();
        dispatch::AuthSettings auth;
        auth.shared.mode = core::AuthMode::token;
        auth.shared.token = kToken;
        for (auto s : core::all_operator_scopes()) auth.default_scopes.emplace_back(s);
        dispatch::ServerInfo info{"0.0.0-test", "boot", "host", "/cfg", "/state", clock_.now_ms()};
        gateway_ = std::make_unique<dispatch::Gateway>(loop_, clock_, table_, &registry_, info, core::Limits{}, auth);
        register_usage(table_, *gateway_, *repo_);
        table_.freeze();
        conn_ = std::make_shared<pincer::testing::FakeConnection>();
        conn_->state.remote_ip = "127.0.0.1";
        conn_->state.loopback = true;
        gateway_->on_open(conn_);
        send("connect",
             json::object{
                 {"minProtocol", 3},
                 {"maxProtocol", 4},
                 {"client", json::object{{"id", "cli"}, {"version", "1"}, {"platform", "linux"}, {"mode", "cli"}}},
                 {"auth", json::object{{"token", kToken}}}},
             "c");
        ASSERT_TRUE(conn_->last().at("ok").as_bool()) << conn_->frames.back();
    }
    void TearDown() override {
        gateway_->on_close(conn_);
        gateway_.reset();
        UsageMethodsTest::TearDown();
    }
    json::object send(std::string_view method, const json::value& params, std::string id = "1") {
        json::object req{{"type", "req"}, {"id", id}, {"method", method}, {"params", params}};
        gateway_->on_message(conn_, json::serialize(req));
        loop_.run();
        return conn_->last();
    }

    core::ManualClock clock_{kNow};
    pincer::testing::FakeLoop loop_;
    pincer::testing::FakeRegistry registry_;
    dispatch::MethodTable table_;
    std::unique_ptr<dispatch::Gateway> gateway_;
    std::shared_ptr<pincer::testing::FakeConnection> conn_;
};

TEST_F(UsageGatewayTest, CostAndStatusOverTheWire) {
    add(kNov29 + kHour, 3, 4, 0.5);
    json::object res = send("usage.cost", json::object{});
    ASSERT_TRUE(res.at("ok").as_bool()) << json::serialize(res);
    const auto& p = res.at("payload").as_object();
    EXPECT_EQ(p.at("updatedAt").as_int64(), kNow);
    EXPECT_EQ(p.at("daily").as_array().size(), 30u);
    EXPECT_EQ(p.at("totals").at("totalTokens").as_int64(), 7);

    res = send("usage.status", json::object{}, "2");
    ASSERT_TRUE(res.at("ok").as_bool()) << json::serialize(res);
    EXPECT_TRUE(res.at("payload").at("providers").as_array().empty());
    EXPECT_EQ(res.at("payload").at("recorded").at("records").as_int64(), 1);

    ASSERT_NE(table_.find("usage.cost"), nullptr);
    EXPECT_EQ(table_.find("usage.cost")->scope, "operator.read");
    EXPECT_EQ(table_.find("usage.status")->scope, "operator.read");
}

TEST_F(UsageGatewayTest, InvalidParamsNameTheField) {
    json::object res = send("usage.cost", json::object{{"days", 0}});
    ASSERT_FALSE(res.at("ok").as_bool());
    EXPECT_EQ(res.at("error").at("code").as_string(), "INVALID_REQUEST");
    EXPECT_NE(std::string(res.at("error").at("message").as_string()).find("/days"), std::string::npos)
        << json::serialize(res);

    res = send("usage.cost", json::object{{"utcOffsetMinutes", 900}}, "2");
    ASSERT_FALSE(res.at("ok").as_bool());
    EXPECT_NE(std::string(res.at("error").at("message").as_string()).find("/utcOffsetMinutes"), std::string::npos);

    res = send("usage.cost", json::object{{"startDate", "yesterday"}}, "3");
    ASSERT_FALSE(res.at("ok").as_bool());
    EXPECT_EQ(res.at("error").at("code").as_string(), "INVALID_REQUEST");
    EXPECT_EQ(res.at("error").at("message").as_string(),
              "invalid usage.cost params: at /startDate: must be YYYY-MM-DD");
}

}  // namespace
}  // namespace pincer::methods
