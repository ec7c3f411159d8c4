// Outbound HTTP(S) with streamed responses. One coroutine per request; the TLS context is made
// on the first https request, so a gateway that never calls out pays nothing for OpenSSL.
#include "transport/http_fetcher.hpp"

#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

namespace pincer::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using core::FetchError;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 16 * 1024;

struct Target {
    bool tls = false;
    std::string host, port, path;
};

std::optional<Target> parse_target(const std::string& url) {
    auto u = boost::urls::parse_uri(url);
    if (!u) return std::nullopt;
    Target t;
    if (u->scheme() == "https") {
        t.tls = true;
    } else if (u->scheme() != "http") {
        return std::nullopt;
    }
    t.host = std::string(u->host_address());
    if (t.host.empty()) return std::nullopt;
    t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
    t.path = std::string(u->encoded_path());
    if (t.path.empty()) t.path = "/";
    if (u->has_query()) t.path += "?" + std::string(u->encoded_query());
    return t;
}

// The peer must prove it is `host`. OpenSSL checks the name itself (not an Asio verify callback),
// so a mismatch is reported as one; an IP address is matched against the certificate's IP entries
// and not sent as SNI, which carries host names only (RFC 6066; Node does the same).
bool expect_peer(SSL* ssl, const std::string& host) {
    boost::system::error_code not_ip;
    asio::ip::make_address(host, not_ip);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (!not_ip) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1 &&
           SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
}

// Why the certificate was refused ("unable to get local issuer certificate", "hostname mismatch",
// "certificate has expired", ...), which the handshake error ("certificate verify failed") omits.
std::string verify_failure(SSL* ssl) {
    const long result = SSL_get_verify_result(ssl);
    if (result == X509_V_OK) return {};
    return std::string(": ") + X509_verify_cert_error_string(result);
}

class Call final : public core::FetchHandle, public std::enable_shared_from_this<Call> {
public:
    Call(asio::io_context& ioc, core::FetchRequest req, core::FetchCallbacks cb)
        : ioc_(ioc), req_(std::move(req)), cb_(std::move(cb)) {}

    /// Reports a failure found before any I/O (e.g. a bad URL), asynchronously like all outcomes.
    void fail(FetchError e, std::string message) { finish(e, message); }

    void cancel() override {
        if (done_) return;
        cancelled_ = true;
        if (close_) close_();
    }

    /// The request's coroutine; it owns `self`, so the call lives until it ends even when the
    /// caller drops its handle.
    static awaitable<void> start(std::shared_ptr<Call> self, ssl::context* tls_ctx, Target target) {
        co_await self->run(tls_ctx, std::move(target));
    }

private:
    awaitable<void> run(ssl::context* tls_ctx, Target target) {
        tcp::resolver resolver(ioc_);
        beast::tcp_stream tcp_stream(ioc_);
        close_ = [&tcp_stream] { beast::get_lowest_layer(tcp_stream).close(); };
        tcp_stream.expires_after(std::chrono::milliseconds(req_.connect_timeout_ms));
        auto [rec, results] = co_await resolver.async_resolve(target.host, target.port, kNoThrow);
        if (rec)
            co_return finish(cancelled_ ? FetchError::cancelled : FetchError::resolve,
                             "cannot resolve " + target.host + ": " + rec.message());
        auto [cec, ep] = co_await tcp_stream.async_connect(results, kNoThrow);
        if (cec)
            co_return finish(classify(cec, FetchError::connect),
                             "cannot connect to " + target.host + ":" + target.port + ": " + cec.message());
        if (!target.tls) {
            co_await exchange(tcp_stream, target);
            co_return;
        }
        beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), *tls_ctx);
        close_ = [&tls] { beast::get_lowest_layer(tls).close(); };
        if (!expect_peer(tls.native_handle(), target.host)) {
            co_return finish(FetchError::tls, "TLS: cannot set the expected server name");
        }
        auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kNoThrow);
        if (hec)
            co_return finish(classify(hec, FetchError::tls), "TLS handshake with " + target.host + " failed: " +
                                                                 hec.message() + verify_failure(tls.native_handle()));
        co_await exchange(tls, target);
    }

    FetchError classify(const beast::error_code& ec, FetchError fallback) const {
        if (cancelled_) return FetchError::cancelled;
        if (ec == beast::error::timeout) return FetchError::timeout;
        return fallback;
    }

    template <typename Stream>
    awaitable<void> exchange(Stream& stream, const Target& target) {
        http::request<http::string_body> request{http::string_to_verb(req_.method), target.path, 11};
        request.set(http::field::host, target.host);
        request.set(http::field::user_agent, "pincer/" PINCER_VERSION);
        for (const auto& [k, v] : req_.headers) request.set(k, v);
        request.body() = req_.body;
        request.prepare_payload();
        beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(req_.idle_timeout_ms));
        auto [wec, wn] = co_await http::async_write(stream, request, kNoThrow);
        if (wec)
            co_return finish(classify(wec, FetchError::closed_early), "sending the request failed: " + wec.message());

        beast::flat_buffer buffer;
        http::response_parser<http::buffer_body> parser;
        parser.body_limit(req_.max_body_bytes);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
        if (hec)
            co_return finish(classify(hec, FetchError::closed_early), "reading the response failed: " + hec.message());
        core::FetchHead head;
        head.status = static_cast<int>(parser.get().result_int());
        for (const auto& f : parser.get()) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            head.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        if (cb_.on_head) cb_.on_head(head);
        std::array<char, kChunk> chunk;
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(req_.idle_timeout_ms));
            auto [rec, n] = co_await http::async_read_some(stream, buffer, parser, kNoThrow);
            if (rec == http::error::need_buffer) rec = {};
            const size_t got = chunk.size() - parser.get().body().size;
            if (got > 0 && cb_.on_body && !cb_.on_body(std::string_view(chunk.data(), got))) {
                cancelled_ = true;
                co_return finish(FetchError::cancelled, "stopped by the reader");
            }
            if (rec == http::error::body_limit) co_return finish(FetchError::too_large, "response body too large");
            if (rec == http::error::partial_message || rec == asio::error::eof) {
                co_return finish(classify(rec, FetchError::closed_early), "connection closed mid-response");
            }
            if (rec)
                co_return finish(classify(rec, FetchError::protocol), "reading the response failed: " + rec.message());
        }
        finish(FetchError::none, {});
        beast::error_code ignore;
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignore);
    }

    void finish(FetchError e, const std::string& message) {
        if (done_) return;
        done_ = true;
        close_ = nullptr;
        if (cb_.on_done) cb_.on_done(e, message);
    }

    asio::io_context& ioc_;
    core::FetchRequest req_;
    core::FetchCallbacks cb_;
    std::function<void()> close_;
    bool cancelled_ = false;
    bool done_ = false;
};

class BeastFetcher final : public core::HttpFetcher {
public:
    BeastFetcher(asio::io_context& ioc, FetcherOptions options) : ioc_(ioc), options_(std::move(options)) {}

    std::shared_ptr<core::FetchHandle> fetch(core::FetchRequest request, core::FetchCallbacks callbacks) override {
        auto target = parse_target(request.url);
        auto call = std::make_shared<Call>(ioc_, std::move(request), std::move(callbacks));
        if (!target) {
            // Reported asynchronously, like every other outcome, so callers see one code path.
            asio::post(ioc_, [call] { call->fail(FetchError::bad_url, "invalid URL (need http:// or https://)"); });
            return call;
        }
        ssl::context* ctx = nullptr;
        if (target->tls) ctx = &tls_context();
        asio::co_spawn(ioc_, Call::start(call, ctx, std::move(*target)), asio::detached);
        return call;
    }

private:
    ssl::context& tls_context() {
        if (!tls_) {
            tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
            tls_->set_default_verify_paths();
            if (!options_.extra_ca_file.empty()) {
                // A bad extra CA file must not take HTTPS down: the system store still applies.
                boost::system::error_code ec;
                tls_->load_verify_file(options_.extra_ca_file, ec);
                if (ec) spdlog::warn("cannot load extra CA file {}: {}", options_.extra_ca_file, ec.message());
            }
            tls_->set_verify_mode(ssl::verify_peer);
            tls_->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1);
        }
        return *tls_;
    }

    asio::io_context& ioc_;
    FetcherOptions options_;
    std::unique_ptr<ssl::context> tls_;
};

}  // namespace

std::unique_ptr<core::HttpFetcher> make_http_fetcher(asio::io_context& ioc, FetcherOptions options) {
    return std::make_unique<BeastFetcher>(ioc, std::move(options));
}

}  // namespace pincer::transport
