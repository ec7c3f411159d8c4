// End-to-end slow-consumer handling: a client that stops reading while the gateway has more than
// `maxBufferedBytes` queued for it has droppable events (`presence`) skipped and is closed with
// 1008 "slow consumer" by the next non-droppable event (`tick`); responses are never dropped.
//
// How this is made deterministic:
//  * maxBufferedBytes is the config minimum (65536) and tickIntervalMs the minimum (1000);
//    presence coalescing is off (presenceBroadcastIntervalMs 0) so each change broadcasts at once.
//  * The kernel absorbs a few MiB for a client that does not read (measured on loopback: ~4 MiB in
//    the server's send buffer, which Linux caps at tcp_wmem max, plus ~2 MiB in the client's receive
//    buffer). The slow client therefore queues ~20 MiB of *responses* for itself (responses are
//    queued without the buffered check): 80 pipelined `system-presence` calls, each answered with
//    the presence list, which holds one 256 KiB entry the driver added. Whatever the kernel takes,
//    the gateway keeps well over 64 KiB queued for it until it reads.
//  * Its last request is a `system-event` with presence fields, which broadcasts `presence`. When
//    the driver sees that broadcast, the gateway has handled all of the slow client's requests, and
//    that presence event was skipped for the slow client (droppable).
//  * The burst starts right after a `tick`, so the driver (which reads) has drained its own queue
//    long before the next tick; that next tick finds the slow client over the limit and closes it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
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

bool presence_mentions(const json::object& ev, std::string_view instance) {
    const auto* payload = ev.if_contains("payload");
    if (!payload || !payload->is_object()) return false;
    const auto* list = payload->get_object().if_contains("presence");
    if (!list || !list->is_array()) return false;
    for (const auto& e : list->get_array()) {
        const auto* id = e.is_object() ? e.get_object().if_contains("instanceId") : nullptr;
        if (id && id->is_string() && id->get_string() == instance) return true;
    }
    return false;
}

}  // namespace

TEST(Backpressure, SlowConsumerSkipsDroppableEventsThenIsClosedByTick) {
    e2e::GatewayOptions go;
    go.config =
        R"({ gateway: { tickIntervalMs: 1000, limits: { maxBufferedBytes: 65536, presenceBroadcastIntervalMs: 0 } } })";
    e2e::GatewayProcess gw(go);

    client::GatewayClient driver;
    driver.connect(backend_opts(gw, "driver"));
    // One 256 KiB presence entry makes every system-presence response ~256 KiB.
    json::object bulk{
        {"text", "bulk"}, {"instanceId", "bulk"}, {"tags", json::array{json::string(std::string(256 * 1024, 't'))}}};
    EXPECT_EQ(driver.call("system-event", bulk, kWait).at("ok"), true);

    client::GatewayClient slow;
    auto hello = slow.connect(backend_opts(gw, "slow-consumer"));
    EXPECT_EQ(hello.at("policy").at("maxBufferedBytes").as_int64(), 65536);

    // Sync on a tick: the next one is ~1 s away.
    driver.wait_event("tick", 3s);
    const auto burst_start = std::chrono::steady_clock::now();
    constexpr int kRequests = 80;
    for (int i = 0; i < kRequests; ++i) slow.send_request("system-presence");
    json::value marker = json::object{{"text", "marker"}, {"instanceId", "marker"}};
    slow.send_request("system-event", &marker);
    // Every slow request has been handled once the marker's presence broadcast reaches the driver.
    auto marker_ev =
        driver.wait_event("presence", kWait, [](const json::object& ev) { return presence_mentions(ev, "marker"); });
    const auto burst = std::chrono::steady_clock::now() - burst_start;
    EXPECT_LT(burst, 800ms) << "the burst must fit between two ticks for the driver to stay under the limit";

    // The next tick closes the slow client (it is broadcast to both in one pass).
    auto tick = driver.wait_event("tick", 3s);
    EXPECT_GT(tick.at("seq").as_int64(), marker_ev.at("seq").as_int64());
    const auto fatal_tick_ts = tick.at("payload").at("ts");

    // Now drain the slow client: everything queued before the close, then the close itself.
    // Bounded: if it was (wrongly) not closed, ticks keep arriving and the loop must still end.
    std::vector<json::object> frames;
    client::CloseInfo close;
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            auto f = slow.read_frame(kWait);
            if (f.json.is_object()) frames.push_back(f.json.get_object());
        } catch (const client::ClosedError& e) {
            close = e.close;
            break;
        } catch (const client::TimeoutError&) {
            break;
        }
    }
    EXPECT_EQ(close.code, 1008);
    EXPECT_EQ(close.reason, "slow consumer");

    int responses = 0;
    for (const auto& f : frames) {
        if (f.at("type") == "res") {
            ++responses;
            EXPECT_TRUE(f.at("ok").as_bool());
            continue;
        }
        if (f.at("event") == "tick") {
            EXPECT_NE(f.at("payload").at("ts"), fatal_tick_ts) << "the fatal tick is not sent";
        }
        if (f.at("event") == "presence") {
            EXPECT_FALSE(presence_mentions(f, "marker")) << "droppable presence must be skipped when slow";
        }
    }
    EXPECT_EQ(responses, kRequests + 1) << "responses are queued regardless of the limit and flushed before the close";

    // The driver is unaffected.
    EXPECT_TRUE(driver.call("health", json::object{}, kWait).is_object());
}

TEST(Backpressure, ReadingClientSurvivesLargeBroadcastsAndTicks) {
    e2e::GatewayOptions go;
    go.config =
        R"({ gateway: { tickIntervalMs: 1000, limits: { maxBufferedBytes: 65536, presenceBroadcastIntervalMs: 0 } } })";
    e2e::GatewayProcess gw(go);
    client::GatewayClient c;
    c.connect(backend_opts(gw, "reader"));
    c.wait_event("tick", 3s);
    json::object big{
        {"text", "big"}, {"instanceId", "big-1"}, {"tags", json::array{json::string(std::string(512 * 1024, 'b'))}}};
    EXPECT_EQ(c.call("system-event", big, kWait).at("ok"), true);
    auto t1 = c.wait_event("tick", 3s);
    auto t2 = c.wait_event("tick", 3s);
    EXPECT_EQ(t2.at("seq").as_int64(), t1.at("seq").as_int64() + 1);
    EXPECT_TRUE(c.is_open());
}
