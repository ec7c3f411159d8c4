#pragma once
/// Small helpers shared by the end-to-end tests: connect options for a GatewayProcess, expected-error
/// captures, JSON-to-string for comparisons, file reading and a scoped temporary directory.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "client/gateway_client.hpp"
#include "support/gateway_process.hpp"

namespace pincer::e2e {

/// Default bound for a blocking client call (connect, read, response, close) in these tests.
inline constexpr std::chrono::milliseconds kWait{5000};

/// Token-authenticated options for `gw` with the client library's defaults (client cli/cli, v3..v4).
client::ConnectOptions cli_opts(const GatewayProcess& gw, std::chrono::milliseconds timeout = kWait);

/// cli_opts as a gateway-client/backend client (keeps the scopes it asks for on v3 and v4 alike);
/// a non-empty `instance_id` is sent as client.instanceId, the key presence tracks it under.
client::ConnectOptions backend_opts(const GatewayProcess& gw, std::string_view instance_id = {});

/// Opens `c` to `gw` without connecting and waits for the connect.challenge; returns its payload.
const boost::json::object& open_and_wait_challenge(client::GatewayClient& c, const GatewayProcess& gw);

/// A new client, connected with `o` (connect() throws as usual when that fails).
std::unique_ptr<client::GatewayClient> connect_client(const client::ConnectOptions& o);

/// Runs connect() expecting an ok:false reply; returns the error object and the close that follows.
std::pair<boost::json::object, client::CloseInfo> connect_error(client::GatewayClient& c,
                                                                const client::ConnectOptions& o);

/// Runs `f` expecting it to throw client::RpcError and returns that error (an empty one, and a test
/// failure, when it does not throw).
template <class F>
client::RpcError rpc_error(F&& f) {
    try {
        f();
    } catch (const client::RpcError& e) {
        return e;
    }
    ADD_FAILURE() << "expected an RpcError";
    return client::RpcError(boost::json::object{}, boost::json::object{});
}

/// A JSON string as std::string for comparisons (a non-string serialises, so a mismatch stays readable).
std::string str(const boost::json::value& v);

/// The whole file as bytes ("" when it cannot be read).
std::string read_file(const std::filesystem::path& p);

/// A fresh directory <temp>/pincer-e2e-<tag>-XXXXXX, removed with its contents on destruction.
struct TempDir {
    explicit TempDir(std::string_view tag);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::filesystem::path path;
};

}  // namespace pincer::e2e
