#pragma once
/// Plain HTTP routes served on the gateway port, as method groups declare them (the transport
/// serves them; handlers never see Beast types).
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace pincer::dispatch {

struct HttpRequestView {
    std::string method;  // "GET", "HEAD", ...
    std::string target;  // path and query as sent
    std::string path;    // path only
    std::string body;
    std::string remote_ip;
    bool loopback = false;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpReply {
    int status = 200;
    std::string content_type = "application/json; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpRoute {
    std::string path;
    std::vector<std::string> methods;  // others get 405 with Allow
    std::function<HttpReply(const HttpRequestView&)> handler;
};

}  // namespace pincer::dispatch
