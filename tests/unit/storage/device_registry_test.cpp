#include "storage/device_registry.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage_fixture.hpp"

namespace pincer::storage {
namespace {

class DeviceRegistryTest : public test_support::RepoTest<SqliteDeviceRegistry> {
protected:
    DeviceRegistryTest() : RepoTest("pincer-registry-test-") {}

    static core::PairedDevice device(const std::string& id) {
        core::PairedDevice d;
        d.device_id = id;
        d.public_key = "pk-" + id;
        d.roles = {"operator"};
        d.scopes = {"operator.read", "operator.write"};
        d.display_name = "Laptop \"quoted\", with comma";
        d.platform = "linux";
        d.device_family = "desktop";
        d.client_id = "cli";
        d.client_mode = "cli";
        d.remote_ip = "127.0.0.1";
        d.created_at_ms = 1000;
        d.approved_at_ms = 2000;
        return d;
    }

    static core::PairingRequest request(const std::string& device_id, const std::string& role,
                                        std::vector<std::string> scopes) {
        core::PairingRequest r;
        r.device_id = device_id;
        r.public_key = "pk-" + device_id;
        r.role = role;
        r.scopes = std::move(scopes);
        r.reason = "not-paired";
        r.silent = true;
        r.ts = 5000;
        return r;
    }

    std::unique_ptr<SqliteDeviceRegistry>& registry_ = repo_;  // the tests' name for the fixture's repo_
};

TEST_F(DeviceRegistryTest, UpsertAndFindDevice) {
    EXPECT_FALSE(registry_->find_device("d1").has_value());
    registry_->upsert_device(device("d1"));
    auto found = registry_->find_device("d1");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->public_key, "pk-d1");
    EXPECT_EQ(found->roles, std::vector<std::string>{"operator"});
    EXPECT_EQ(found->scopes, (std::vector<std::string>{"operator.read", "operator.write"}));
    EXPECT_EQ(found->display_name, "Laptop \"quoted\", with comma");
    EXPECT_EQ(found->client_mode, "cli");
    EXPECT_EQ(found->remote_ip, "127.0.0.1");
    EXPECT_EQ(found->created_at_ms, 1000);
    EXPECT_EQ(found->approved_at_ms, 2000);

    auto changed = device("d1");
    changed.roles = {"operator", "node"};
    changed.scopes = {};
    changed.approved_at_ms = 3000;
    registry_->upsert_device(changed);
    found = registry_->find_device("d1");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->roles, (std::vector<std::string>{"operator", "node"}));
    EXPECT_TRUE(found->scopes.empty());
    EXPECT_EQ(found->approved_at_ms, 3000);

    registry_->upsert_device(device("d2"));
    EXPECT_EQ(registry_->list_devices().size(), 2u);

    open();  // survives reopen
    EXPECT_TRUE(registry_->find_device("d2").has_value());
}

TEST_F(DeviceRegistryTest, EnsureTokenReusesForSameScopes) {
    registry_->upsert_device(device("d1"));
    EXPECT_FALSE(registry_->find_token("d1", "operator").has_value());
    auto first = registry_->ensure_token("d1", "operator", {"operator.read", "operator.write"}, 100);
    EXPECT_EQ(first.token.size(), 43u);
    EXPECT_EQ(first.issued_at_ms, 100);

    // Same set in another order (and with a duplicate): the same token.
    auto again = registry_->ensure_token("d1", "operator", {"operator.write", "operator.read", "operator.read"}, 200);
    EXPECT_EQ(again.token, first.token);
    EXPECT_EQ(again.issued_at_ms, 100);

    auto stored = registry_->find_token("d1", "operator");
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->token, first.token);
    EXPECT_EQ(stored->scopes, (std::vector<std::string>{"operator.read", "operator.write"}));

    // Different scopes: a new token replaces the old one.
    auto upgraded = registry_->ensure_token("d1", "operator", {"operator.admin"}, 300);
    EXPECT_NE(upgraded.token, first.token);
    EXPECT_EQ(upgraded.issued_at_ms, 300);
    stored = registry_->find_token("d1", "operator");
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->token, upgraded.token);
    EXPECT_EQ(stored->scopes, std::vector<std::string>{"operator.admin"});

    // Roles have independent tokens.
    auto node = registry_->ensure_token("d1", "node", {}, 400);
    EXPECT_NE(node.token, upgraded.token);
    EXPECT_EQ(registry_->find_token("d1", "operator")->token, upgraded.token);

    // Re-upserting the device (e.g. metadata update) keeps its tokens.
    registry_->upsert_device(device("d1"));
    EXPECT_EQ(registry_->find_token("d1", "operator")->token, upgraded.token);
}

TEST_F(DeviceRegistryTest, EnsureTokenRequiresPairedDevice) {
    EXPECT_THROW(registry_->ensure_token("ghost", "operator", {}, 1), StorageError);
    EXPECT_FALSE(registry_->find_token("ghost", "operator").has_value());
}

TEST_F(DeviceRegistryTest, RemovingDeviceRevokesTokens) {
    registry_->upsert_device(device("d1"));
    registry_->ensure_token("d1", "operator", {"operator.read"}, 1);
    db_->exec("DELETE FROM devices WHERE device_id = 'd1'");
    EXPECT_FALSE(registry_->find_token("d1", "operator").has_value());
}

TEST_F(DeviceRegistryTest, PendingDedupe) {
    auto first = registry_->add_pending(request("d1", "operator", {"operator.read", "operator.write"}));
    EXPECT_EQ(first.request_id.size(), 36u);  // uuid v4
    EXPECT_EQ(first.device_id, "d1");

    auto same = registry_->add_pending(request("d1", "operator", {"operator.write", "operator.read"}));
    EXPECT_EQ(same.request_id, first.request_id);
    EXPECT_EQ(registry_->list_pending().size(), 1u);

    auto other_scopes = registry_->add_pending(request("d1", "operator", {"operator.admin"}));
    EXPECT_NE(other_scopes.request_id, first.request_id);
    auto other_role = registry_->add_pending(request("d1", "node", {"operator.read", "operator.write"}));
    EXPECT_NE(other_role.request_id, first.request_id);
    auto other_device = registry_->add_pending(request("d2", "operator", {"operator.read", "operator.write"}));
    EXPECT_NE(other_device.request_id, first.request_id);
    EXPECT_EQ(registry_->list_pending().size(), 4u);

    auto explicit_id = request("d3", "operator", {});
    explicit_id.request_id = "req-fixed";
    EXPECT_EQ(registry_->add_pending(explicit_id).request_id, "req-fixed");

    auto found = registry_->find_pending(first.request_id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->scopes, (std::vector<std::string>{"operator.read", "operator.write"}));
    EXPECT_EQ(found->reason, "not-paired");
    EXPECT_TRUE(found->silent);
    EXPECT_FALSE(found->is_repair);
    EXPECT_EQ(found->ts, 5000);

    EXPECT_TRUE(registry_->remove_pending(first.request_id));
    EXPECT_FALSE(registry_->remove_pending(first.request_id));
    EXPECT_FALSE(registry_->find_pending(first.request_id).has_value());
    EXPECT_EQ(registry_->list_pending().size(), 4u);
}

TEST_F(DeviceRegistryTest, CorruptRowThrows) {
    registry_->upsert_device(device("d1"));
    db_->exec("UPDATE devices SET scopes = 'operator.read' WHERE device_id = 'd1'");
    EXPECT_THROW(registry_->find_device("d1"), StorageError);
}

}  // namespace
}  // namespace pincer::storage
