#include "storage/usage_repo.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "storage_fixture.hpp"

namespace pincer::storage {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kJan1 = 1'735'689'600'000;  // 2025-01-01T00:00:00Z

class UsageRepoTest : public test_support::RepoTest<UsageRepo> {
protected:
    UsageRepoTest() : RepoTest("pincer-usage-test-") {}

    static UsageRecord rec(const std::string& session, int64_t ts, int64_t in, int64_t out,
                           std::optional<double> cost) {
        UsageRecord r;
        r.run_id = "run-" + std::to_string(ts);
        r.session_key = session;
        r.agent_id = "main";
        r.provider = "openai";
        r.model = "gpt-4o";
        r.input_tokens = in;
        r.output_tokens = out;
        r.cache_read = 3;
        r.cache_write = 1;
        r.cost_usd = cost;
        r.ts_ms = ts;
        return r;
    }
};

TEST_F(UsageRepoTest, RecordAndTotals) {
    int64_t a = repo_->record(rec("agent:main:main", kJan1 + 1000, 100, 50, 0.1));
    int64_t b = repo_->record(rec("agent:main:main", kJan1 + 2000, 10, 5, std::nullopt));
    repo_->record(rec("agent:main:other", kJan1 + 3000, 1, 1, 0.2));
    EXPECT_LT(a, b);

    UsageTotals t = repo_->totals(kJan1, kJan1 + kDay);
    EXPECT_EQ(t.records, 3);
    EXPECT_EQ(t.input, 111);
    EXPECT_EQ(t.output, 56);
    EXPECT_EQ(t.cache_read, 9);
    EXPECT_EQ(t.cache_write, 3);
    EXPECT_EQ(t.total_tokens, 111 + 56 + 9 + 3);
    EXPECT_DOUBLE_EQ(t.total_cost, 0.1 + 0.2);
    EXPECT_EQ(t.missing_cost_entries, 1);

    // The range is half-open.
    EXPECT_EQ(repo_->totals(kJan1 + 1000, kJan1 + 3000).records, 2);
    UsageTotals empty = repo_->totals(0, 1);
    EXPECT_EQ(empty.records, 0);
    EXPECT_EQ(empty.total_cost, 0.0);

    UsageTotals s = repo_->by_session("agent:main:main");
    EXPECT_EQ(s.records, 2);
    EXPECT_EQ(s.input, 110);
    EXPECT_EQ(s.missing_cost_entries, 1);
    EXPECT_DOUBLE_EQ(s.total_cost, 0.1);
    EXPECT_EQ(repo_->by_session("agent:main:main", kJan1 + 1500, kJan1 + kDay).records, 1);

    auto records = repo_->records_for_session("agent:main:main", 10);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].cost_usd, 0.1);  // exact round trip of the double
    EXPECT_FALSE(records[1].cost_usd.has_value());
    EXPECT_EQ(records[0].model, "gpt-4o");
    EXPECT_EQ(records[0].cache_read, 3);

    EXPECT_EQ(repo_->prune_before(kJan1 + 2500), 2u);
    EXPECT_EQ(repo_->totals(0, kJan1 + kDay).records, 1);
}

TEST_F(UsageRepoTest, RejectsInvalidRecords) {
    EXPECT_THROW(repo_->record(rec("k", 1, -1, 0, 0.0)), StorageError);
    EXPECT_THROW(repo_->record(rec("k", 1, 0, 0, -0.5)), StorageError);
    EXPECT_THROW(repo_->record(rec("k", 1, 0, 0, std::nan(""))), StorageError);
    EXPECT_THROW(repo_->daily(0, 1, 15 * 60), StorageError);
}

TEST_F(UsageRepoTest, DailyGroupsByDateInTheOffset) {
    repo_->record(rec("k", kJan1 + 1 * 3'600'000, 1, 0, 1.0));            // Jan 1 01:00Z
    repo_->record(rec("k", kJan1 + 23 * 3'600'000, 2, 0, std::nullopt));  // Jan 1 23:00Z
    repo_->record(rec("k", kJan1 + kDay + 3'600'000, 4, 0, 0.5));         // Jan 2 01:00Z
    repo_->record(rec("k", kJan1 + 5 * kDay, 8, 0, 0.25));                // Jan 6, outside the range

    auto utc = repo_->daily(kJan1, kJan1 + 3 * kDay);
    ASSERT_EQ(utc.size(), 2u);
    EXPECT_EQ(utc[0].date, "2025-01-01");
    EXPECT_EQ(utc[0].totals.input, 3);
    EXPECT_EQ(utc[0].totals.missing_cost_entries, 1);
    EXPECT_DOUBLE_EQ(utc[0].totals.total_cost, 1.0);
    EXPECT_EQ(utc[1].date, "2025-01-02");
    EXPECT_EQ(utc[1].totals.input, 4);
    EXPECT_EQ(utc[1].totals.missing_cost_entries, 0);

    // UTC+2: 23:00Z is already Jan 2.
    auto plus2 = repo_->daily(kJan1, kJan1 + 3 * kDay, 120);
    ASSERT_EQ(plus2.size(), 2u);
    EXPECT_EQ(plus2[0].totals.input, 1);
    EXPECT_EQ(plus2[1].date, "2025-01-02");
    EXPECT_EQ(plus2[1].totals.input, 6);

    // UTC-5: 01:00Z on Jan 1 is still Dec 31, and 01:00Z on Jan 2 is Jan 1.
    auto minus5 = repo_->daily(kJan1, kJan1 + 3 * kDay, -300);
    ASSERT_EQ(minus5.size(), 2u);
    EXPECT_EQ(minus5[0].date, "2024-12-31");
    EXPECT_EQ(minus5[0].totals.input, 1);
    EXPECT_EQ(minus5[1].date, "2025-01-01");
    EXPECT_EQ(minus5[1].totals.input, 6);
    EXPECT_EQ(minus5[1].totals.records, 2);
}

TEST_F(UsageRepoTest, GroupedSplitsBySessionModelAndDate) {
    repo_->record(rec("agent:main:a", kJan1 + 1 * 3'600'000, 1, 1, 0.5));   // Jan 1 01:00Z
    repo_->record(rec("agent:main:a", kJan1 + 2 * 3'600'000, 2, 2, 0.25));  // Jan 1 02:00Z, same group
    UsageRecord other_model = rec("agent:main:a", kJan1 + 3 * 3'600'000, 4, 4, std::nullopt);
    other_model.provider = "anthropic";
    other_model.model = "claude";
    repo_->record(other_model);
    repo_->record(rec("agent:main:a", kJan1 + 23 * 3'600'000, 8, 8, 1.0));  // Jan 1 23:00Z
    repo_->record(rec("agent:main:b", kJan1 + 5 * 3'600'000, 16, 16, 2.0));
    repo_->record(rec("agent:main:b", kJan1 + 5 * kDay, 32, 32, 2.0));  // outside the range

    auto all = repo_->grouped(kJan1, kJan1 + 2 * kDay);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].session_key, "agent:main:a");
    EXPECT_EQ(all[0].provider, "anthropic");
    EXPECT_EQ(all[0].totals.missing_cost_entries, 1);
    EXPECT_EQ(all[1].provider, "openai");
    EXPECT_EQ(all[1].date, "2025-01-01");
    EXPECT_EQ(all[1].totals.records, 3);
    EXPECT_EQ(all[1].totals.input, 11);
    EXPECT_DOUBLE_EQ(all[1].totals.total_cost, 1.75);
    EXPECT_EQ(all[1].first_ts_ms, kJan1 + 1 * 3'600'000);
    EXPECT_EQ(all[1].last_ts_ms, kJan1 + 23 * 3'600'000);
    EXPECT_EQ(all[2].session_key, "agent:main:b");
    EXPECT_EQ(all[2].agent_id, "main");

    // UTC+2 moves the 23:00Z call to Jan 2; the key filter keeps only that session.
    auto a = repo_->grouped(kJan1, kJan1 + 2 * kDay, 120, "agent:main:a");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].date, "2025-01-01");
    EXPECT_EQ(a[1].date, "2025-01-01");
    EXPECT_EQ(a[1].totals.records, 2);
    EXPECT_EQ(a[2].date, "2025-01-02");
    EXPECT_EQ(a[2].totals.input, 8);

    EXPECT_TRUE(repo_->grouped(kJan1, kJan1 + 2 * kDay, 0, "agent:main:none").empty());
    EXPECT_THROW(repo_->grouped(kJan1, kJan1 + kDay, 900), StorageError);
}

TEST_F(UsageRepoTest, RangeQueriesUseTheTimeIndex) {
    auto guard = db_->lock();
    auto st = db_->prepare("EXPLAIN QUERY PLAN SELECT count(*) FROM usage_records WHERE ts_ms >= 1 AND ts_ms < 2");
    std::string plan;
    while (st.step()) plan += st.column_text(3) + "\n";
    EXPECT_NE(plan.find("usage_records_ts"), std::string::npos) << plan;
}

}  // namespace
}  // namespace pincer::storage
