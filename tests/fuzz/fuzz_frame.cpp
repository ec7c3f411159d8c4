// Fuzzes everything the gateway does with an untrusted text frame before and after the
// handshake: frame classification, connect-params validation and param schemas.
#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/frame.hpp"
#include "core/handshake.hpp"
#include "dispatch/params.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pincer;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto frame = core::parse_inbound(text);
    if (auto* req = std::get_if<core::RequestFrame>(&frame)) {
        auto parsed = core::parse_connect_params(req->params);
        if (auto* p = std::get_if<core::ConnectParams>(&parsed)) {
            (void)core::negotiate_protocol(p->min_protocol, p->max_protocol);
            core::SharedAuthConfig cfg{core::AuthMode::token, "secret-token", ""};
            if (auto reason = core::check_shared_auth(cfg, *p)) (void)core::auth_failure(*reason, *p, 4);
        }
        static const dispatch::ParamSchema schema = dispatch::ParamSchema()
                                                        .integer("cursor", 0)
                                                        .integer("limit", 1, 5000)
                                                        .string("raw", false, true)
                                                        .enumeration("mode", {"now", "next-heartbeat"})
                                                        .boolean("probe")
                                                        .object("patch")
                                                        .array("items");
        (void)schema.validate(req->params);
        (void)core::serialize_ok(req->id, req->params);
    }
    return 0;
}
