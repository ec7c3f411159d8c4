#pragma once
/// core::HttpFetcher over Beast on the gateway's io_context: HTTP/1.1, TLS verified against the
/// system CA store (host name or IP address checked, SNI sent for names), streamed bodies, per-phase
/// timeouts, cancel.
#include <memory>

#include "core/http_fetch.hpp"

namespace boost::asio {
class io_context;
}

namespace pincer::transport {

struct FetcherOptions {
    /// Extra CA bundle (PEM file) trusted besides the system store; tests point it at their own CA.
    std::string extra_ca_file;
};

std::unique_ptr<core::HttpFetcher> make_http_fetcher(boost::asio::io_context& ioc, FetcherOptions options = {});

}  // namespace pincer::transport
