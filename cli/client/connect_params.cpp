// Builds the `connect` request params (protocol core.md §2.3) and signs the device block (§2.4).
// Kept apart from gateway_client.cpp so it compiles without Beast.
#include <boost/json/array.hpp>

#include "client/gateway_client.hpp"
#include "core/device_auth.hpp"

namespace pincer::client {

namespace json = boost::json;

namespace {

json::array to_array(const std::vector<std::string>& items) {
    json::array a;
    for (const auto& s : items) a.emplace_back(s);
    return a;
}

// RFC 7396: objects merge recursively, null deletes, anything else replaces.
void merge_patch(json::object& target, const json::object& patch) {
    for (const auto& kv : patch) {
        if (kv.value().is_null()) {
            target.erase(kv.key());
        } else if (kv.value().is_object()) {
            auto it = target.find(kv.key());
            if (it == target.end() || !it->value().is_object()) {
                json::object fresh;
                merge_patch(fresh, kv.value().get_object());
                target[kv.key()] = std::move(fresh);
            } else {
                merge_patch(it->value().get_object(), kv.value().get_object());
            }
        } else {
            target[kv.key()] = kv.value();
        }
    }
}

}  // namespace

json::object build_connect_params(const ConnectOptions& opts, const json::object& challenge) {
    json::object params;
    params["minProtocol"] = opts.min_protocol;
    params["maxProtocol"] = opts.max_protocol;
    json::object client;
    client["id"] = opts.client_id;
    client["version"] = opts.client_version;
    client["platform"] = opts.platform;
    client["mode"] = opts.client_mode;
    if (!opts.device_family.empty()) client["deviceFamily"] = opts.device_family;
    params["client"] = std::move(client);
    params["caps"] = to_array(opts.caps);
    if (opts.role) params["role"] = *opts.role;
    if (opts.scopes) params["scopes"] = to_array(*opts.scopes);

    json::object auth;
    if (!opts.token.empty()) auth["token"] = opts.token;
    if (!opts.password.empty()) auth["password"] = opts.password;
    if (!opts.device_token.empty()) auth["deviceToken"] = opts.device_token;
    if (!auth.empty()) params["auth"] = std::move(auth);

    if (opts.device) {
        std::string nonce;
        int64_t ts = 0;
        if (auto it = challenge.find("nonce"); it != challenge.end() && it->value().is_string()) {
            nonce = std::string(it->value().get_string());
        }
        if (auto it = challenge.find("ts"); it != challenge.end()) {
            if (it->value().is_int64())
                ts = it->value().get_int64();
            else if (it->value().is_uint64())
                ts = static_cast<int64_t>(it->value().get_uint64());
            else if (it->value().is_double())
                ts = static_cast<int64_t>(it->value().get_double());
        }
        core::DeviceSignatureInput in;
        in.device_id = opts.device->id();
        in.client_id = opts.client_id;
        in.client_mode = opts.client_mode;
        in.role = opts.role.value_or("operator");
        in.scopes = opts.scopes.value_or(std::vector<std::string>{});
        in.signed_at_ms = ts;
        // The server rebuilds the token slot as auth.token, else auth.deviceToken.
        in.token = !opts.token.empty() ? opts.token : opts.device_token;
        in.nonce = nonce;
        in.platform = opts.platform;
        in.device_family = opts.device_family;
        json::object device;
        device["id"] = in.device_id;
        device["publicKey"] = opts.device->public_key_b64url();
        device["signature"] = opts.device->sign_b64url(core::build_device_payload_v3(in));
        device["signedAt"] = ts;
        device["nonce"] = nonce;
        params["device"] = std::move(device);
    }
    merge_patch(params, opts.extra);
    return params;
}

}  // namespace pincer::client
