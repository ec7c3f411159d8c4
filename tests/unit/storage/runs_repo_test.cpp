#include "storage/runs_repo.hpp"

#include <gtest/gtest.h>

#include "storage_fixture.hpp"

namespace pincer::storage {
namespace {

class RunsRepoTest : public test_support::RepoTest<RunsRepo> {
protected:
    RunsRepoTest() : RepoTest("pincer-runs-test-") {}

    static RunRecord run(const std::string& id, int64_t started) {
        RunRecord r;
        r.run_id = id;
        r.session_key = "agent:main:main";
        r.session_id = "s-1";
        r.agent_id = "main";
        r.started_at_ms = started;
        return r;
    }
};

TEST_F(RunsRepoTest, StartSavePartialFinish) {
    repo_->start(run("r1", 10));
    repo_->save_partial("r1", "Hello, wor");
    auto got = repo_->get("r1");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, "running");
    EXPECT_EQ(got->partial_text, "Hello, wor");
    EXPECT_FALSE(got->ended_at_ms);

    EXPECT_TRUE(repo_->finish("r1", "ok", 20, "stop", std::nullopt, R"({"text":"Hello, world"})"));
    got = repo_->get("r1");
    EXPECT_EQ(got->status, "ok");
    EXPECT_EQ(got->ended_at_ms, 20);
    EXPECT_EQ(got->stop_reason, "stop");
    EXPECT_FALSE(got->error);
    EXPECT_EQ(got->result_json, R"({"text":"Hello, world"})");

    // A finished run's partial text is frozen.
    repo_->save_partial("r1", "late");
    EXPECT_EQ(repo_->get("r1")->partial_text, "Hello, wor");
    EXPECT_FALSE(repo_->finish("missing", "ok", 1, std::nullopt, std::nullopt, std::nullopt));
}

TEST_F(RunsRepoTest, RunningSurvivesReopenAndPruneKeepsThem) {
    repo_->start(run("a", 1));
    repo_->start(run("b", 2));
    repo_->finish("a", "error", 5, std::nullopt, "boom", std::nullopt);
    repo_->save_partial("b", "partial");
    open();
    auto running = repo_->running();
    ASSERT_EQ(running.size(), 1u);
    EXPECT_EQ(running[0].run_id, "b");
    EXPECT_EQ(running[0].partial_text, "partial");
    EXPECT_EQ(repo_->prune_ended_before(100), 1u);
    EXPECT_FALSE(repo_->get("a"));
    EXPECT_TRUE(repo_->get("b"));
}

TEST_F(RunsRepoTest, ReusedIdReplacesOldRun) {
    repo_->start(run("k", 1));
    repo_->finish("k", "ok", 2, "stop", std::nullopt, std::nullopt);
    repo_->start(run("k", 3));
    auto got = repo_->get("k");
    EXPECT_EQ(got->status, "running");
    EXPECT_EQ(got->started_at_ms, 3);
    EXPECT_FALSE(got->ended_at_ms);
    EXPECT_THROW(repo_->start(run("", 1)), StorageError);
}

}  // namespace
}  // namespace pincer::storage
