#include "storage/idempotency_repo.hpp"

#include <gtest/gtest.h>

#include <string>

#include "storage_fixture.hpp"

namespace pincer::storage {
namespace {

class IdempotencyRepoTest : public test_support::RepoTest<IdempotencyRepo> {
protected:
    IdempotencyRepoTest() : RepoTest("pincer-idempotency-test-") {}

    static IdempotencyRecord rec(const std::string& key, const std::string& status, int64_t expires) {
        return IdempotencyRecord{key, R"({"runId":")" + key + R"("})", status, expires};
    }
};

TEST_F(IdempotencyRepoTest, PutGetExpireSweep) {
    EXPECT_FALSE(repo_->get("chat:a", 0).has_value());
    repo_->put(rec("chat:a", "in_flight", 100));
    auto got = repo_->get("chat:a", 50);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->status, "in_flight");
    EXPECT_EQ(got->payload, R"({"runId":"chat:a"})");
    EXPECT_EQ(got->expires_at_ms, 100);

    repo_->put(rec("chat:a", "ok", 200));  // the run finished: same key, final result
    EXPECT_EQ(repo_->get("chat:a", 150)->status, "ok");
    EXPECT_FALSE(repo_->get("chat:a", 200).has_value());  // expired reads as absent
    EXPECT_EQ(repo_->size(), 1u);                         // ... but stays until swept

    repo_->put(rec("chat:b", "ok", 300));
    EXPECT_EQ(repo_->sweep(200), 1u);
    EXPECT_EQ(repo_->size(), 1u);
    EXPECT_TRUE(repo_->get("chat:b", 200).has_value());
    EXPECT_TRUE(repo_->remove("chat:b"));
    EXPECT_FALSE(repo_->remove("chat:b"));
    EXPECT_THROW(repo_->put(rec("", "ok", 1)), StorageError);
}

TEST_F(IdempotencyRepoTest, PutIfAbsentClaimsOnce) {
    EXPECT_FALSE(repo_->put_if_absent(rec("k", "in_flight", 100), 0).has_value());
    auto dup = repo_->put_if_absent(rec("k", "other", 500), 10);
    ASSERT_TRUE(dup.has_value());
    EXPECT_EQ(dup->status, "in_flight");
    EXPECT_EQ(repo_->get("k", 10)->expires_at_ms, 100);  // the duplicate wrote nothing
    // Once expired, the key can be claimed again.
    EXPECT_FALSE(repo_->put_if_absent(rec("k", "again", 500), 100).has_value());
    EXPECT_EQ(repo_->get("k", 100)->status, "again");
}

TEST_F(IdempotencyRepoTest, OldestAreEvictedBeyondTheCap) {
    ASSERT_EQ(IdempotencyRepo::kDefaultCap, 1000u);
    {
        // The first 1,000 in one transaction (1,000 separate fsyncs would make the test slow); the
        // repository's own puts then push past the cap.
        Transaction tx(*db_);
        auto st =
            db_->prepare("INSERT INTO idempotency (key, payload, status, expires_at_ms) VALUES (?1, '{}', 'ok', ?2)");
        for (int i = 0; i < 1000; ++i) {
            st.reset();
            st.bind(1, "k" + std::to_string(i)).bind(2, int64_t{1'000'000});
            st.run();
        }
        tx.commit();
    }
    for (int i = 1000; i < 1005; ++i) repo_->put(rec("k" + std::to_string(i), "ok", 1'000'000));
    EXPECT_EQ(repo_->size(), 1000u);
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(repo_->get("k" + std::to_string(i), 0).has_value()) << i;
    EXPECT_TRUE(repo_->get("k5", 0).has_value());
    EXPECT_TRUE(repo_->get("k1004", 0).has_value());

    // Rewriting a key keeps its age: k5 is still the oldest and goes first.
    repo_->put(rec("k5", "updated", 1'000'000));
    repo_->put(rec("new", "ok", 1'000'000));
    EXPECT_FALSE(repo_->get("k5", 0).has_value());
    EXPECT_TRUE(repo_->get("k6", 0).has_value());

    IdempotencyRepo small(*db_, 2);
    small.put(rec("x", "ok", 1'000'000));
    EXPECT_EQ(small.size(), 2u);
    EXPECT_TRUE(small.get("x", 0).has_value());
    EXPECT_TRUE(small.get("new", 0).has_value());
}

}  // namespace
}  // namespace pincer::storage
