// Outbound HTTPS to a model provider, through the real gateway: the scripted provider serves TLS
// with certificates made at test time by a throwaway CA, so a reply only arrives when the gateway
// verified the certificate chain (trusting the CA via NODE_EXTRA_CA_CERTS or PINCER_EXTRA_CA_CERTS)
// and the host name. Each failure case checks that the gateway did reach the server (a handshake
// failed there) and that no HTTP request got through, so none of them can pass with verification off.
#include <gtest/gtest.h>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"
#include "support/helpers.hpp"
#include "support/mock_llm.hpp"
#include "support/test_certs.hpp"

using namespace pincer;
using namespace pincer::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto kRun = 20s;

// One CA and its certificates for the whole suite (removed at exit).
const TestCerts& certs() {
    static TempDir dir("tls");
    static const TestCerts certs = make_test_certs(dir.path);
    return certs;
}

// An HTTPS provider on https://localhost:P presenting `cert`.
MockLlmOptions tls_server(const std::filesystem::path& cert, const std::filesystem::path& key) {
    return MockLlmOptions{.tls_cert_file = cert.string(), .tls_key_file = key.string(), .url_host = "localhost"};
}

// A gateway whose one provider is `mock`, with the given CA variables; the one not given is set
// empty so the test runner's own environment cannot add a CA.
GatewayOptions gateway(const MockLlmServer& mock, std::string node_extra_ca, std::string pincer_extra_ca = {}) {
    GatewayOptions o;
    o.config = R"({models: {providers: {secure: {baseUrl: ")" + mock.openai_base_url() +
               R"(", api: "openai-completions", apiKey: "test-key", models: [{id: "secure-model"}]}}},
                   agents: {defaults: {model: "secure/secure-model"}}})";
    o.env = {{"NODE_EXTRA_CA_CERTS", std::move(node_extra_ca)}, {"PINCER_EXTRA_CA_CERTS", std::move(pincer_extra_ca)}};
    return o;
}

json::object wait_chat(client::GatewayClient& c, const std::string& run_id, std::string_view state) {
    return c
        .wait_event("chat", kRun,
                    [&](const json::object& f) {
                        const auto& p = f.at("payload").as_object();
                        return str(p.at("runId")) == run_id && str(p.at("state")) == state;
                    })
        .at("payload")
        .as_object();
}

std::string send(client::GatewayClient& c, const std::string& idempotency_key) {
    auto ack = c.call("chat.send", json::object{{"message", "hello over TLS"}, {"idempotencyKey", idempotency_key}})
                   .as_object();
    EXPECT_EQ(ack.at("status"), "started");
    return str(ack.at("runId"));
}

std::string final_text(const json::object& payload) {
    std::string out;
    for (const auto& b : payload.at("message").at("content").as_array())
        if (b.at("type") == "text") out += b.at("text").as_string();
    return out;
}

// The run ends in an error event naming a failed certificate verification, after the gateway
// reached the server (a handshake failed there) without any HTTP request getting through.
std::string expect_rejected(client::GatewayClient& c, const MockLlmServer& mock, const std::string& run_id) {
    const std::string msg = str(wait_chat(c, run_id, "error").at("errorMessage"));
    EXPECT_NE(msg.find("TLS handshake with localhost failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
    EXPECT_TRUE(mock.wait_for_tls_handshake_failures(1, 5s)) << "the gateway never reached the TLS server";
    EXPECT_EQ(mock.tls_handshakes(), 0u);
    EXPECT_TRUE(mock.requests().empty()) << "an HTTP request got through: " << mock.requests().front().target;
    return msg;
}

}  // namespace

TEST(TlsProvider, CaFromNodeExtraCaCertsIsTrusted) {
    MockLlmServer mock(tls_server(certs().localhost_cert, certs().localhost_key));
    ASSERT_EQ(mock.openai_base_url().rfind("https://localhost:", 0), 0u) << mock.openai_base_url();
    mock.push_openai(MockStep::make_text("Verified over TLS."));
    GatewayProcess gw(gateway(mock, certs().ca_cert.string()));
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, "tls-node-extra");
    EXPECT_EQ(final_text(wait_chat(*c, run_id, "final")), "Verified over TLS.");
    ASSERT_EQ(mock.requests().size(), 1u);
    EXPECT_EQ(mock.requests()[0].path, "/v1/chat/completions");
    EXPECT_EQ(mock.requests()[0].header("authorization"), "Bearer test-key");
    EXPECT_EQ(mock.tls_handshakes(), 1u);
    EXPECT_TRUE(mock.tls_handshake_failures().empty());
}

TEST(TlsProvider, CaFromPincerExtraCaCertsIsTrusted) {
    MockLlmServer mock(tls_server(certs().localhost_cert, certs().localhost_key));
    mock.push_openai(MockStep::make_text("Also verified."));
    GatewayProcess gw(gateway(mock, "", certs().ca_cert.string()));
    auto c = connect_client(cli_opts(gw));
    const std::string run_id = send(*c, "tls-pincer-extra");
    EXPECT_EQ(final_text(wait_chat(*c, run_id, "final")), "Also verified.");
    EXPECT_EQ(mock.requests().size(), 1u);
}

TEST(TlsProvider, UntrustedCertificateEndsTheRunWithAnError) {
    MockLlmServer mock(tls_server(certs().localhost_cert, certs().localhost_key));
    mock.push_openai(MockStep::make_text("must never be seen"));
    GatewayProcess gw(gateway(mock, ""));
    auto c = connect_client(cli_opts(gw));
    const std::string msg = expect_rejected(*c, mock, send(*c, "tls-untrusted"));
    EXPECT_NE(msg.find("unable to get local issuer certificate"), std::string::npos) << msg;
}

TEST(TlsProvider, CertificateForAnotherHostIsRejected) {
    MockLlmServer mock(tls_server(certs().wrong_name_cert, certs().wrong_name_key));
    GatewayProcess gw(gateway(mock, certs().ca_cert.string()));
    auto c = connect_client(cli_opts(gw));
    const std::string msg = expect_rejected(*c, mock, send(*c, "tls-wrong-name"));
    EXPECT_NE(msg.find("hostname mismatch"), std::string::npos) << msg;
}

TEST(TlsProvider, MissingExtraCaFileIsWarnedAboutAndHttpsStillFailsCleanly) {
    MockLlmServer mock(tls_server(certs().localhost_cert, certs().localhost_key));
    const std::string missing = (certs().ca_cert.parent_path() / "no-such-ca.pem").string();
    GatewayProcess gw(gateway(mock, "", missing));
    auto c = connect_client(cli_opts(gw));
    expect_rejected(*c, mock, send(*c, "tls-missing-ca"));
    // The gateway is still up and serving, and it said why the file was not used.
    EXPECT_TRUE(c->call("health", json::object{}).is_object());
    EXPECT_NE(gw.stderr_text().find("cannot load extra CA file " + missing), std::string::npos) << gw.stderr_text();
}
