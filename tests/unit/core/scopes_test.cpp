#include "core/scopes.hpp"

#include <gtest/gtest.h>

using namespace pincer::core;

TEST(Scopes, TableMatchesReference) {
    EXPECT_EQ(required_scope("health"), "operator.read");
    EXPECT_EQ(required_scope("config.get"), "operator.read");
    EXPECT_EQ(required_scope("config.set"), "operator.admin");
    EXPECT_EQ(required_scope("config.schema"), "operator.admin");
    EXPECT_EQ(required_scope("chat.send"), "operator.write");
    EXPECT_EQ(required_scope("logs.tail"), "operator.read");
    EXPECT_EQ(required_scope("device.pair.approve"), "operator.pairing");
    EXPECT_EQ(required_scope("exec.approval.resolve"), "operator.approvals");
    EXPECT_EQ(required_scope("node.event"), kNodeOnly);
    EXPECT_EQ(required_scope("system-event"), "operator.admin");
    // v4-only methods come from the pinned schema; unknown ones default to admin.
    EXPECT_TRUE(is_known_method("question.request"));
    EXPECT_EQ(required_scope("no.such.method"), "operator.admin");
    EXPECT_FALSE(is_known_method("no.such.method"));
}

TEST(Scopes, Implications) {
    std::vector<std::string> write{"operator.write"};
    EXPECT_TRUE(scope_satisfied(write, "operator.read"));
    EXPECT_FALSE(scope_satisfied(write, "operator.admin"));
    std::vector<std::string> admin{"operator.admin"};
    EXPECT_TRUE(scope_satisfied(admin, "operator.pairing"));
    std::vector<std::string> read{"operator.read"};
    EXPECT_FALSE(scope_satisfied(read, "operator.write"));
}

TEST(Scopes, AuthorizeFollowsReferenceOrder) {
    std::vector<std::string> none;
    EXPECT_EQ(authorize("health", Role::operator_role, none).outcome, AuthzOutcome::allowed);
    auto a = authorize("config.get", Role::operator_role, none);
    EXPECT_EQ(a.outcome, AuthzOutcome::missing_scope);
    EXPECT_EQ(a.missing, "operator.read");
    // Unknown methods are checked as admin before anyone learns they do not exist.
    std::vector<std::string> rw{"operator.read", "operator.write"};
    auto u = authorize("no.such.method", Role::operator_role, rw);
    EXPECT_EQ(u.outcome, AuthzOutcome::missing_scope);
    EXPECT_EQ(u.missing, "operator.admin");
    EXPECT_EQ(authorize("node.event", Role::operator_role, rw).outcome, AuthzOutcome::unauthorized_role);
    EXPECT_EQ(authorize("config.get", Role::node, none).outcome, AuthzOutcome::unauthorized_role);
    EXPECT_EQ(authorize("node.event", Role::node, none).outcome, AuthzOutcome::allowed);
    EXPECT_EQ(authorize("health", Role::node, none).outcome, AuthzOutcome::allowed);
}

TEST(Scopes, EventGuardsFailClosed) {
    std::vector<std::string> none, read{"operator.read"}, pairing{"operator.pairing"};
    EXPECT_TRUE(event_allowed("tick", Role::operator_role, none));
    EXPECT_TRUE(event_allowed("presence", Role::node, none));
    EXPECT_FALSE(event_allowed("chat", Role::operator_role, none));
    EXPECT_TRUE(event_allowed("chat", Role::operator_role, read));
    EXPECT_FALSE(event_allowed("device.pair.requested", Role::operator_role, read));
    EXPECT_TRUE(event_allowed("device.pair.requested", Role::operator_role, pairing));
    std::vector<std::string> admin{"operator.admin"};
    EXPECT_FALSE(event_allowed("made.up.event", Role::operator_role, admin));
}
