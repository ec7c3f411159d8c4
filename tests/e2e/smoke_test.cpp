// The smallest end-to-end proof: the binary starts, speaks the handshake, answers health.
#include <gtest/gtest.h>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"

using namespace pincer;

TEST(Smoke, StartsAndAnswersHealthOverWebSocket) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    client::ConnectOptions o;
    o.url = gw.url();
    o.token = gw.token();
    auto hello = c.connect(o);
    EXPECT_EQ(hello.at("type").as_string(), "hello-ok");
    EXPECT_EQ(hello.at("protocol").as_int64(), 4);
    auto health = c.call("health");
    EXPECT_TRUE(health.at("ok").as_bool());
}
