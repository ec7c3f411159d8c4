// End-to-end graceful shutdown: on SIGTERM every connected client gets
// `shutdown {reason:"gateway stopping", restartExpectedMs:null}` and then close 1012
// "service restart"; the process exits 0 within 2 s.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <future>
#include <memory>
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

client::ConnectOptions opts(const e2e::GatewayProcess& gw, std::string id, std::string mode, int protocol) {
    auto o = cli_opts(gw);
    o.client_id = std::move(id);
    o.client_mode = std::move(mode);
    o.min_protocol = o.max_protocol = protocol;
    return o;
}

struct Drained {
    std::vector<json::object> frames;
    client::CloseInfo close;
};

// Reads every frame until the connection closes.
Drained drain(client::GatewayClient& c) {
    Drained d;
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    for (;;) {
        if (std::chrono::steady_clock::now() > deadline) {
            ADD_FAILURE() << "the connection did not close in time";
            return d;
        }
        try {
            auto f = c.read_frame(kWait);
            EXPECT_TRUE(f.json.is_object()) << f.text;
            if (f.json.is_object()) d.frames.push_back(f.json.get_object());
        } catch (const client::ClosedError& e) {
            d.close = e.close;
            return d;
        }
    }
}

void expect_shutdown_then_1012(const Drained& d) {
    ASSERT_FALSE(d.frames.empty()) << "no shutdown event";
    const auto& last = d.frames.back();
    EXPECT_EQ(last.at("type"), "event");
    EXPECT_EQ(last.at("event"), "shutdown");
    json::object payload{{"reason", "gateway stopping"}, {"restartExpectedMs", nullptr}};
    EXPECT_EQ(last.at("payload"), payload);
    EXPECT_TRUE(last.contains("seq"));
    EXPECT_EQ(d.close.code, 1012);
    EXPECT_EQ(d.close.reason, "service restart");
}

}  // namespace

TEST(Shutdown, SigtermBroadcastsShutdownClosesWith1012AndExitsZeroQuickly) {
    e2e::GatewayProcess gw;
    std::vector<std::unique_ptr<client::GatewayClient>> clients;
    for (auto [id, mode, protocol] : {std::tuple{"gateway-client", "backend", 4}, std::tuple{"cli", "cli", 4},
                                      std::tuple{"gateway-client", "backend", 3}}) {
        auto c = std::make_unique<client::GatewayClient>();
        c->connect(opts(gw, id, mode, protocol));
        clients.push_back(std::move(c));
    }
    // A socket that never completed the handshake is closed too (no shutdown event for it).
    client::GatewayClient preauth;
    open_and_wait_challenge(preauth, gw);

    // Stop on another thread while this one keeps reading, as real clients would.
    auto stopped = std::async(std::launch::async, [&] { return gw.stop(SIGTERM, 5s); });
    for (auto& c : clients) expect_shutdown_then_1012(drain(*c));
    auto pre = drain(preauth);
    EXPECT_TRUE(pre.frames.empty());
    EXPECT_EQ(pre.close.code, 1012);

    auto st = stopped.get();
    EXPECT_TRUE(st.exited);
    EXPECT_EQ(st.code, 0);
    EXPECT_LT(st.elapsed, 2000ms);
}

TEST(Shutdown, ExitsWithinTwoSecondsEvenWhenClientsDoNotAnswerTheClose) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(opts(gw, "gateway-client", "backend", 4));
    // Nobody reads while the gateway stops: it must not wait for the close handshake forever.
    auto st = gw.stop(SIGTERM, 5s);
    EXPECT_TRUE(st.exited);
    EXPECT_EQ(st.code, 0);
    EXPECT_LT(st.elapsed, 2000ms);
    // What the gateway wrote before exiting is still delivered: the shutdown event, then its close
    // frame, whose code the client reports even though its own close reply fails (EPIPE).
    auto d = drain(c);
    ASSERT_FALSE(d.frames.empty());
    EXPECT_EQ(d.frames.back().at("event"), "shutdown");
    EXPECT_EQ(d.close.code, 1012);
}

TEST(Shutdown, SigintBehavesLikeSigterm) {
    e2e::GatewayProcess gw;
    client::GatewayClient c;
    c.connect(opts(gw, "gateway-client", "backend", 4));
    auto stopped = std::async(std::launch::async, [&] { return gw.stop(SIGINT, 5s); });
    expect_shutdown_then_1012(drain(c));
    auto st = stopped.get();
    EXPECT_TRUE(st.exited);
    EXPECT_EQ(st.code, 0);
    EXPECT_LT(st.elapsed, 2000ms);
}
