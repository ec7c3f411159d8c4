// End-to-end pipelining: requests sent right behind `connect` (before anything is read) are
// answered after hello-ok in order; many requests in flight on one connection are all answered
// once with their ids; slow (blocking-pool) and fast requests sent together all complete.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// cli_opts() clients are cli/cli: not tracked in presence, so no presence event interleaves.

std::string req_text(std::string_view id, std::string_view method, const json::value& params = json::object{}) {
    return json::serialize(json::object{{"type", "req"}, {"id", id}, {"method", method}, {"params", params}});
}

// Reads frames until `n` res frames arrived; events are skipped. Returns them in arrival order.
std::vector<json::object> read_responses(client::GatewayClient& c, size_t n) {
    std::vector<json::object> out;
    while (out.size() < n) {
        auto f = c.read_frame(kWait);
        EXPECT_TRUE(f.json.is_object()) << f.text;
        if (!f.json.is_object()) continue;
        const auto& o = f.json.get_object();
        if (o.at("type") == "res") out.push_back(o);
    }
    return out;
}

}  // namespace

TEST(Pipelining, ConnectAndThreeRequestsInOneBurstBeforeReading) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.open(gw.url(), kWait);
    // Nothing is read before all four frames are out: no challenge is awaited (no device to sign).
    json::value params = client::build_connect_params(cli_opts(gw), json::object{});
    c.send_text(
        json::serialize(json::object{{"type", "req"}, {"id", "c1"}, {"method", "connect"}, {"params", params}}));
    c.send_text(req_text("r1", "health"));
    c.send_text(req_text("r2", "system-presence"));
    c.send_text(req_text("r3", "health"));

    auto first = c.read_frame(kWait);
    ASSERT_TRUE(first.json.is_object()) << first.text;
    EXPECT_EQ(first.json.at("type"), "event");
    EXPECT_EQ(first.json.at("event"), "connect.challenge");

    auto res = read_responses(c, 4);
    ASSERT_EQ(res.size(), 4u);
    EXPECT_EQ(res[0].at("id"), "c1");
    EXPECT_EQ(res[0].at("payload").at("type"), "hello-ok");
    EXPECT_EQ(res[1].at("id"), "r1");
    EXPECT_EQ(res[2].at("id"), "r2");
    EXPECT_EQ(res[3].at("id"), "r3");
    for (const auto& r : res) EXPECT_TRUE(r.at("ok").as_bool()) << r;
    EXPECT_TRUE(res[2].at("payload").is_array()) << "system-presence returns the presence list";
}

TEST(Pipelining, RequestsQueuedBehindASignedConnectAreAnsweredInOrderAfterHello) {
    e2e::GatewayProcess gw;
    auto id = client::DeviceIdentity::generate();
    client::GatewayClient c;
    const auto challenge = open_and_wait_challenge(c, gw);
    auto o = cli_opts(gw);
    o.device = &id;
    // A device connect is finished on the blocking pool (pairing store), so these frames usually
    // arrive while it is still in progress and are queued; either way the order must hold.
    json::value params = client::build_connect_params(o, challenge);
    c.send_text(
        json::serialize(json::object{{"type", "req"}, {"id", "c1"}, {"method", "connect"}, {"params", params}}));
    for (const char* rid : {"q1", "q2", "q3"}) c.send_text(req_text(rid, "health"));
    auto res = read_responses(c, 4);
    ASSERT_EQ(res.size(), 4u);
    EXPECT_EQ(res[0].at("id"), "c1");
    ASSERT_TRUE(res[0].at("ok").as_bool()) << res[0];
    EXPECT_EQ(res[0].at("payload").at("type"), "hello-ok");
    EXPECT_EQ(res[1].at("id"), "q1");
    EXPECT_EQ(res[2].at("id"), "q2");
    EXPECT_EQ(res[3].at("id"), "q3");
}

TEST(Pipelining, FiftyRequestsInFlightAreEachAnsweredOnce) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(cli_opts(gw));
    const char* methods[] = {"health", "system-presence", "config.get", "status", "logs.tail"};
    std::map<std::string, std::string> sent;  // id -> method
    for (int i = 0; i < 50; ++i) {
        const std::string rid = "p-" + std::to_string(i);
        const char* m = methods[i % 5];
        c.send_text(req_text(rid, m));
        sent[rid] = m;
    }
    auto res = read_responses(c, 50);
    std::set<std::string> got;
    for (const auto& r : res) {
        const std::string rid(r.at("id").as_string());
        EXPECT_TRUE(sent.count(rid)) << "unexpected id " << rid;
        EXPECT_TRUE(got.insert(rid).second) << "duplicate response for " << rid;
        EXPECT_TRUE(r.at("ok").as_bool()) << sent[rid] << ": " << r;
    }
    EXPECT_EQ(got.size(), 50u);
    // Nothing else is pending: a fresh request is answered next.
    auto h = c.call("health", json::object{}, kWait);
    EXPECT_TRUE(h.is_object());
}

TEST(Pipelining, SlowAndFastRequestsSentTogetherAllArrive) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(cli_opts(gw));
    std::set<std::string> sent;
    auto send = [&](const std::string& rid, std::string_view method, const json::value& params = json::object{}) {
        c.send_text(req_text(rid, method, params));
        sent.insert(rid);
    };
    // status and logs.tail run on the blocking pool; health is answered inline.
    send("slow-status-1", "status");
    send("slow-logs-1", "logs.tail", json::object{{"limit", 200}});
    send("fast-health-1", "health");
    send("slow-status-2", "status");
    send("fast-health-2", "health");
    send("slow-logs-2", "logs.tail", json::object{{"limit", 5}, {"maxBytes", 1000}});
    send("fast-presence", "system-presence");
    send("fast-health-3", "health");
    auto res = read_responses(c, sent.size());
    std::set<std::string> got;
    for (const auto& r : res) {
        got.insert(std::string(r.at("id").as_string()));
        EXPECT_TRUE(r.at("ok").as_bool()) << r;
    }
    EXPECT_EQ(got, sent);
    for (const auto& r : res) {
        if (r.at("id") == "slow-logs-1") {
            EXPECT_TRUE(r.at("payload").at("lines").is_array()) << r;
        }
        if (r.at("id") == "slow-status-1") {
            EXPECT_TRUE(r.at("payload").as_object().contains("runtimeVersion")) << r;
        }
    }
}
