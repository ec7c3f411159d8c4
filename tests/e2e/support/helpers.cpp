#include "support/helpers.hpp"

#include <stdlib.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace pincer::e2e {

namespace json = boost::json;

client::ConnectOptions cli_opts(const GatewayProcess& gw, std::chrono::milliseconds timeout) {
    client::ConnectOptions o;
    o.url = gw.url();
    o.token = gw.token();
    o.timeout = timeout;
    return o;
}

client::ConnectOptions backend_opts(const GatewayProcess& gw, std::string_view instance_id) {
    auto o = cli_opts(gw);
    o.client_id = "gateway-client";
    o.client_mode = "backend";
    if (!instance_id.empty()) o.extra = json::object{{"client", json::object{{"instanceId", instance_id}}}};
    return o;
}

const json::object& open_and_wait_challenge(client::GatewayClient& c, const GatewayProcess& gw) {
    c.open(gw.url(), kWait);
    return c.wait_challenge(kWait);
}

std::unique_ptr<client::GatewayClient> connect_client(const client::ConnectOptions& o) {
    auto c = std::make_unique<client::GatewayClient>();
    c->connect(o);
    return c;
}

std::pair<json::object, client::CloseInfo> connect_error(client::GatewayClient& c, const client::ConnectOptions& o) {
    try {
        c.connect(o);
    } catch (const client::RpcError& e) {
        return {e.error, c.wait_close(kWait)};
    }
    ADD_FAILURE() << "connect unexpectedly succeeded";
    return {};
}

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TempDir::TempDir(std::string_view tag) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("pincer-e2e-" + std::string(tag) + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

}  // namespace pincer::e2e
