#include "storage/system_events.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage_fixture.hpp"

namespace pincer::storage {
namespace {

class SystemEventStoreTest : public test_support::RepoTest<SystemEventStore> {
protected:
    SystemEventStoreTest() : RepoTest("pincer-events-test-") {}

    std::unique_ptr<SystemEventStore>& store_ = repo_;  // the tests' name for the fixture's repo_
};

TEST_F(SystemEventStoreTest, EnqueuePeekDrain) {
    EXPECT_TRUE(store_->peek("main", 10).empty());
    EXPECT_TRUE(store_->drain("main").empty());

    int64_t a = store_->enqueue("main", "first", R"({"kind":"cron"})", 10);
    int64_t b = store_->enqueue("main", "second", "", 20);
    store_->enqueue("other", "elsewhere", "", 15);
    EXPECT_LT(a, b);
    EXPECT_EQ(store_->count_pending("main"), 2u);

    auto peeked = store_->peek("main", 1);
    ASSERT_EQ(peeked.size(), 1u);
    EXPECT_EQ(peeked[0].id, a);
    EXPECT_EQ(peeked[0].text, "first");
    EXPECT_EQ(peeked[0].source_json, R"({"kind":"cron"})");
    EXPECT_EQ(peeked[0].ts_ms, 10);
    EXPECT_EQ(store_->peek("main", 10).size(), 2u);
    EXPECT_EQ(store_->count_pending("main"), 2u);  // peek doesn't consume

    auto drained = store_->drain("main");
    ASSERT_EQ(drained.size(), 2u);
    EXPECT_EQ(drained[0].text, "first");
    EXPECT_EQ(drained[1].text, "second");
    EXPECT_EQ(drained[1].source_json, "");
    EXPECT_EQ(drained[1].session_key, "main");
    EXPECT_EQ(store_->count_pending("main"), 0u);
    EXPECT_TRUE(store_->drain("main").empty());
    EXPECT_EQ(store_->count_pending("other"), 1u);

    store_->enqueue("main", "third", "", 30);
    drained = store_->drain("main");
    ASSERT_EQ(drained.size(), 1u);
    EXPECT_EQ(drained[0].text, "third");

    EXPECT_EQ(store_->prune_consumed(25), 2u);
    EXPECT_EQ(store_->prune_consumed(100), 1u);
    EXPECT_EQ(store_->count_pending("other"), 1u);
}

TEST_F(SystemEventStoreTest, KeepsAtMostHundredPendingPerSession) {
    ASSERT_EQ(SystemEventStore::kDefaultMaxPendingPerSession, 100u);
    for (int i = 0; i < 130; ++i) store_->enqueue("main", "e" + std::to_string(i), "", i);
    store_->enqueue("other", "x", "", 0);
    EXPECT_EQ(store_->count_pending("main"), 100u);
    EXPECT_EQ(store_->count_pending("other"), 1u);
    auto drained = store_->drain("main");
    ASSERT_EQ(drained.size(), 100u);
    EXPECT_EQ(drained.front().text, "e30");  // the 30 oldest were dropped
    EXPECT_EQ(drained.back().text, "e129");

    // Consumed events don't count against the cap.
    for (int i = 0; i < 100; ++i) store_->enqueue("main", "n" + std::to_string(i), "", i);
    EXPECT_EQ(store_->count_pending("main"), 100u);
    EXPECT_EQ(store_->peek("main", 1).front().text, "n0");
}

TEST_F(SystemEventStoreTest, PendingEventsSurviveReopen) {
    store_->enqueue("main", "durable", "", 1);
    store_.reset();
    db_ = std::make_unique<Database>(root_ / "pincer.sqlite");
    store_ = std::make_unique<SystemEventStore>(*db_);
    auto drained = store_->drain("main");
    ASSERT_EQ(drained.size(), 1u);
    EXPECT_EQ(drained[0].text, "durable");
}

}  // namespace
}  // namespace pincer::storage
