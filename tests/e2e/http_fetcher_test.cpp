// The outbound HTTP client (transport::make_http_fetcher) against the scripted provider server,
// over real sockets: streamed bodies, error statuses, cut and stalled streams, cancellation, and
// certificate verification against the provider in TLS mode (certificates from a test CA).
#include "transport/http_fetcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "support/helpers.hpp"
#include "support/mock_llm.hpp"
#include "support/test_certs.hpp"

using namespace pincer;
using namespace std::chrono_literals;

namespace {

struct Outcome {
    core::FetchHead head;
    bool got_head = false;
    std::string body;
    core::FetchError error = core::FetchError::none;
    std::string message;
    bool done = false;
};

class Fetch {
public:
    explicit Fetch(transport::FetcherOptions options = {})
        : fetcher_(transport::make_http_fetcher(ioc_, std::move(options))) {}

    // Starts a request; `stop_after` > 0 makes the reader stop after that many body bytes.
    std::shared_ptr<core::FetchHandle> start(core::FetchRequest req, Outcome& out, size_t stop_after = 0) {
        core::FetchCallbacks cb;
        cb.on_head = [&out](const core::FetchHead& h) {
            out.head = h;
            out.got_head = true;
        };
        cb.on_body = [&out, stop_after](std::string_view chunk) {
            out.body.append(chunk);
            return stop_after == 0 || out.body.size() < stop_after;
        };
        cb.on_done = [&out](core::FetchError e, const std::string& m) {
            out.error = e;
            out.message = m;
            out.done = true;
        };
        return fetcher_->fetch(std::move(req), std::move(cb));
    }

    // Runs the loop until the outcome is complete (bounded).
    void wait(const Outcome& out, std::chrono::milliseconds limit = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!out.done && std::chrono::steady_clock::now() < deadline) {
            ioc_.restart();
            ioc_.run_for(20ms);
        }
        ASSERT_TRUE(out.done) << "request did not finish in time";
    }

    boost::asio::io_context& ioc() { return ioc_; }

private:
    boost::asio::io_context ioc_;
    std::unique_ptr<core::HttpFetcher> fetcher_;
};

core::FetchRequest chat_request(const e2e::MockLlmServer& mock) {
    core::FetchRequest req;
    req.url = mock.openai_base_url() + "/chat/completions";
    req.headers = {{"content-type", "application/json"}, {"authorization", "Bearer sk-test"}};
    req.body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
    return req;
}

// One CA and its certificates for the whole file (removed at exit).
const e2e::TestCerts& certs() {
    static e2e::TempDir dir("fetch-tls");
    static const e2e::TestCerts certs = e2e::make_test_certs(dir.path);
    return certs;
}

e2e::MockLlmOptions tls_server(bool wrong_name = false) {
    const auto& c = certs();
    return {.tls_cert_file = (wrong_name ? c.wrong_name_cert : c.localhost_cert).string(),
            .tls_key_file = (wrong_name ? c.wrong_name_key : c.localhost_key).string(),
            .url_host = "localhost"};
}

transport::FetcherOptions trusting_test_ca() { return {.extra_ca_file = certs().ca_cert.string()}; }

// A request to a TLS server that must be refused during the handshake: a tls error naming the
// reason, a failed handshake on the server's side and no request there.
void expect_rejected(const e2e::MockLlmServer& mock, transport::FetcherOptions options, const std::string& url,
                     const std::string& reason) {
    Fetch f(std::move(options));
    Outcome out;
    auto req = chat_request(mock);
    req.url = url;
    f.start(req, out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::tls) << out.message;
    EXPECT_FALSE(out.got_head);
    EXPECT_NE(out.message.find("certificate verify failed"), std::string::npos) << out.message;
    EXPECT_NE(out.message.find(reason), std::string::npos) << out.message;
    EXPECT_TRUE(mock.wait_for_tls_handshake_failures(1, 2s));
    EXPECT_EQ(mock.tls_handshakes(), 0u);
    EXPECT_TRUE(mock.requests().empty());
}

}  // namespace

TEST(HttpFetcher, StreamsAResponseBodyAndSendsTheRequestAsGiven) {
    e2e::MockLlmServer mock;
    mock.push_openai(e2e::MockStep::make_text("Hello there"));
    Fetch f;
    Outcome out;
    f.start(chat_request(mock), out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::none) << out.message;
    EXPECT_EQ(out.head.status, 200);
    EXPECT_NE(out.head.header("content-type").find("text/event-stream"), std::string::npos);
    EXPECT_NE(out.body.find("data: [DONE]"), std::string::npos) << out.body;
    ASSERT_TRUE(mock.wait_for_requests(1, 2s));
    auto req = mock.requests().at(0);
    EXPECT_EQ(req.path, "/v1/chat/completions");
    EXPECT_EQ(req.header("authorization"), "Bearer sk-test");
    EXPECT_EQ(req.json().at("model").as_string(), "m");
}

TEST(HttpFetcher, ErrorStatusesArriveWithTheirHeaders) {
    e2e::MockLlmServer mock;
    mock.push_openai(e2e::MockStep::make_http_error(429, 2));
    Fetch f;
    Outcome out;
    f.start(chat_request(mock), out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::none);
    EXPECT_EQ(out.head.status, 429);
    EXPECT_EQ(out.head.header("retry-after"), "2");
    EXPECT_NE(out.body.find("error"), std::string::npos);
}

TEST(HttpFetcher, AStreamCutMidReplyEndsClosedEarly) {
    e2e::MockLlmServer mock;
    mock.push_openai(e2e::MockStep::make_cut_mid_reply());
    Fetch f;
    Outcome out;
    f.start(chat_request(mock), out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::closed_early) << out.message;
    EXPECT_TRUE(out.got_head);
}

TEST(HttpFetcher, AStalledStreamTimesOutAndReleasesTheConnection) {
    e2e::MockLlmServer mock;
    mock.push_openai(e2e::MockStep::make_stall());
    Fetch f;
    Outcome out;
    auto req = chat_request(mock);
    req.idle_timeout_ms = 300;
    f.start(req, out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::timeout) << out.message;
    EXPECT_TRUE(mock.wait_for_stream_closed_by_client(3s));
}

TEST(HttpFetcher, CancelAbortsAStreamInFlight) {
    e2e::MockLlmServer mock;
    mock.push_openai(e2e::MockStep::make_slow_text("a fairly long reply that trickles in slowly", 50));
    Fetch f;
    Outcome out;
    auto handle = f.start(chat_request(mock), out);
    // Let the head and a few events arrive, then cancel.
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (out.body.empty() && std::chrono::steady_clock::now() < until) {
        f.ioc().restart();
        f.ioc().run_for(10ms);
    }
    ASSERT_FALSE(out.body.empty());
    handle->cancel();
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::cancelled);
    EXPECT_TRUE(mock.wait_for_stream_closed_by_client(3s));
}

TEST(HttpFetcher, TheReaderCanStopTheStream) {
    e2e::MockLlmServer mock;
    mock.push_openai(e2e::MockStep::make_slow_text("stop me after the first bytes", 20));
    Fetch f;
    Outcome out;
    f.start(chat_request(mock), out, /*stop_after=*/1);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::cancelled);
}

TEST(HttpFetcher, ConnectionFailuresAndBadUrlsAreReportedNotThrown) {
    Fetch f;
    Outcome refused, bad, scheme;
    core::FetchRequest r1;
    r1.url = "http://127.0.0.1:1/v1/chat/completions";
    f.start(r1, refused);
    f.wait(refused);
    EXPECT_EQ(refused.error, core::FetchError::connect) << refused.message;
    core::FetchRequest r2;
    r2.url = "not a url";
    f.start(r2, bad);
    f.wait(bad);
    EXPECT_EQ(bad.error, core::FetchError::bad_url);
    core::FetchRequest r3;
    r3.url = "ftp://127.0.0.1/x";
    f.start(r3, scheme);
    f.wait(scheme);
    EXPECT_EQ(scheme.error, core::FetchError::bad_url);
}

TEST(HttpFetcher, HttpsToAPlainHttpServerFailsTheTlsHandshake) {
    e2e::MockLlmServer mock;
    Fetch f;
    Outcome out;
    core::FetchRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(mock.port()) + "/v1/models";
    req.method = "GET";
    f.start(req, out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::tls) << out.message;
}

TEST(HttpFetcher, HttpsWithATrustedExtraCaStreamsTheResponse) {
    e2e::MockLlmServer mock(tls_server());
    mock.push_openai(e2e::MockStep::make_text("over TLS"));
    Fetch f(trusting_test_ca());
    Outcome out;
    f.start(chat_request(mock), out);  // https://localhost:P/v1/chat/completions
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::none) << out.message;
    EXPECT_EQ(out.head.status, 200);
    EXPECT_NE(out.body.find("data: [DONE]"), std::string::npos) << out.body;
    ASSERT_EQ(mock.requests().size(), 1u);
    EXPECT_EQ(mock.requests()[0].header("host"), "localhost");
    EXPECT_EQ(mock.tls_handshakes(), 1u);
}

TEST(HttpFetcher, HttpsToAnIpAddressChecksTheCertificatesIpEntry) {
    e2e::MockLlmServer mock(tls_server());
    Fetch f(trusting_test_ca());
    Outcome out;
    auto req = chat_request(mock);
    req.url = "https://127.0.0.1:" + std::to_string(mock.port()) + "/v1/chat/completions";
    f.start(req, out);
    f.wait(out);
    EXPECT_EQ(out.error, core::FetchError::none) << out.message;
    EXPECT_EQ(out.head.status, 200);
}

TEST(HttpFetcher, HttpsWithoutTheCaIsRefusedBeforeAnyRequest) {
    e2e::MockLlmServer mock(tls_server());
    expect_rejected(mock, {}, mock.openai_base_url() + "/chat/completions", "unable to get local issuer certificate");
}

TEST(HttpFetcher, HttpsToAHostTheCertificateDoesNotNameIsRefused) {
    e2e::MockLlmServer wrong(tls_server(/*wrong_name=*/true));
    expect_rejected(wrong, trusting_test_ca(), wrong.openai_base_url() + "/chat/completions", "hostname mismatch");
    // Reached by an IP address, which the certificate does not list either.
    e2e::MockLlmServer by_ip(tls_server(/*wrong_name=*/true));
    expect_rejected(by_ip, trusting_test_ca(),
                    "https://127.0.0.1:" + std::to_string(by_ip.port()) + "/v1/chat/completions",
                    "IP address mismatch");
}

TEST(HttpFetcher, AnUnreadableExtraCaFileLeavesTheSystemStoreInCharge) {
    e2e::MockLlmServer mock(tls_server());
    expect_rejected(mock, {.extra_ca_file = certs().ca_cert.string() + ".missing"},
                    mock.openai_base_url() + "/chat/completions", "unable to get local issuer certificate");
}
