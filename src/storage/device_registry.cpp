#include "storage/device_registry.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "util/crypto.hpp"

namespace pincer::storage {
namespace {

namespace json = boost::json;

std::string encode_strings(const std::vector<std::string>& values) {
    json::array arr;
    arr.reserve(values.size());
    for (const auto& v : values) arr.emplace_back(v);
    return json::serialize(arr);
}

// Stored arrays are written only by encode_strings, so anything else means a damaged database;
// fail loudly rather than hand out a device with silently empty scopes.
std::vector<std::string> decode_strings(const std::string& text, std::string_view column) {
    std::error_code ec;
    json::value parsed = json::parse(text, ec);
    if (ec || !parsed.is_array()) throw StorageError("corrupt " + std::string(column) + " column: " + text);
    std::vector<std::string> out;
    for (const auto& item : parsed.as_array()) {
        if (!item.is_string()) throw StorageError("corrupt " + std::string(column) + " column: " + text);
        out.emplace_back(item.as_string());
    }
    return out;
}

std::vector<std::string> as_set(std::vector<std::string> values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
}

bool same_scope_set(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return as_set(a) == as_set(b);
}

constexpr std::string_view kDeviceColumns =
    "device_id, public_key, roles, scopes, display_name, platform, device_family, client_id, client_mode, "
    "remote_ip, created_at_ms, approved_at_ms";

core::PairedDevice read_device(const Statement& st) {
    core::PairedDevice d;
    d.device_id = st.column_text(0);
    d.public_key = st.column_text(1);
    d.roles = decode_strings(st.column_text(2), "devices.roles");
    d.scopes = decode_strings(st.column_text(3), "devices.scopes");
    d.display_name = st.column_text(4);
    d.platform = st.column_text(5);
    d.device_family = st.column_text(6);
    d.client_id = st.column_text(7);
    d.client_mode = st.column_text(8);
    d.remote_ip = st.column_text(9);
    d.created_at_ms = st.column_int64(10);
    d.approved_at_ms = st.column_int64(11);
    return d;
}

constexpr std::string_view kPendingColumns =
    "request_id, device_id, public_key, display_name, platform, device_family, client_id, client_mode, role, "
    "scopes, remote_ip, reason, silent, is_repair, ts";

core::PairingRequest read_pending(const Statement& st) {
    core::PairingRequest r;
    r.request_id = st.column_text(0);
    r.device_id = st.column_text(1);
    r.public_key = st.column_text(2);
    r.display_name = st.column_text(3);
    r.platform = st.column_text(4);
    r.device_family = st.column_text(5);
    r.client_id = st.column_text(6);
    r.client_mode = st.column_text(7);
    r.role = st.column_text(8);
    r.scopes = decode_strings(st.column_text(9), "pairing_requests.scopes");
    r.remote_ip = st.column_text(10);
    r.reason = st.column_text(11);
    r.silent = st.column_int64(12) != 0;
    r.is_repair = st.column_int64(13) != 0;
    r.ts = st.column_int64(14);
    return r;
}

std::string select_from(std::string_view columns, std::string_view rest) {
    std::string sql = "SELECT ";
    sql += columns;
    sql += ' ';
    sql += rest;
    return sql;
}

}  // namespace

std::optional<core::PairedDevice> SqliteDeviceRegistry::find_device(const std::string& device_id) {
    auto guard = db_.lock();
    auto st = db_.prepare(select_from(kDeviceColumns, "FROM devices WHERE device_id = ?1"));
    st.bind(1, device_id);
    if (!st.step()) return std::nullopt;
    return read_device(st);
}

void SqliteDeviceRegistry::upsert_device(const core::PairedDevice& device) {
    auto guard = db_.lock();
    // ON CONFLICT DO UPDATE rather than INSERT OR REPLACE: REPLACE deletes the old row first, which
    // would cascade to the device's tokens.
    auto st = db_.prepare(
        "INSERT INTO devices (device_id, public_key, roles, scopes, display_name, platform, device_family, "
        "client_id, client_mode, remote_ip, created_at_ms, approved_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
        "ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key, roles = excluded.roles, "
        "scopes = excluded.scopes, display_name = excluded.display_name, platform = excluded.platform, "
        "device_family = excluded.device_family, client_id = excluded.client_id, "
        "client_mode = excluded.client_mode, remote_ip = excluded.remote_ip, "
        "created_at_ms = excluded.created_at_ms, approved_at_ms = excluded.approved_at_ms");
    st.bind(1, device.device_id)
        .bind(2, device.public_key)
        .bind(3, encode_strings(device.roles))
        .bind(4, encode_strings(device.scopes))
        .bind(5, device.display_name)
        .bind(6, device.platform)
        .bind(7, device.device_family)
        .bind(8, device.client_id)
        .bind(9, device.client_mode)
        .bind(10, device.remote_ip)
        .bind(11, device.created_at_ms)
        .bind(12, device.approved_at_ms);
    st.run();
}

std::optional<core::DeviceToken> SqliteDeviceRegistry::find_token(const std::string& device_id,
                                                                  const std::string& role) {
    auto guard = db_.lock();
    auto st = db_.prepare(
        "SELECT device_id, role, token, scopes, issued_at_ms FROM device_tokens WHERE device_id = ?1 AND role = ?2");
    st.bind(1, device_id).bind(2, role);
    if (!st.step()) return std::nullopt;
    core::DeviceToken t;
    t.device_id = st.column_text(0);
    t.role = st.column_text(1);
    t.token = st.column_text(2);
    t.scopes = decode_strings(st.column_text(3), "device_tokens.scopes");
    t.issued_at_ms = st.column_int64(4);
    return t;
}

core::DeviceToken SqliteDeviceRegistry::ensure_token(const std::string& device_id, const std::string& role,
                                                     const std::vector<std::string>& scopes, int64_t now_ms) {
    // One write transaction so two concurrent handshakes can't both issue and one lose its token.
    Transaction tx(db_);
    if (auto existing = find_token(device_id, role); existing && same_scope_set(existing->scopes, scopes)) {
        tx.commit();
        return *existing;
    }
    core::DeviceToken t{device_id, role, util::random_token(), scopes, now_ms};
    auto st = db_.prepare(
        "INSERT INTO device_tokens (device_id, role, token, scopes, issued_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (device_id, role) DO UPDATE SET token = excluded.token, scopes = excluded.scopes, "
        "issued_at_ms = excluded.issued_at_ms");
    st.bind(1, t.device_id).bind(2, t.role).bind(3, t.token).bind(4, encode_strings(t.scopes)).bind(5, t.issued_at_ms);
    st.run();
    tx.commit();
    return t;
}

core::PairingRequest SqliteDeviceRegistry::add_pending(const core::PairingRequest& request) {
    Transaction tx(db_);
    {
        auto st = db_.prepare(select_from(
            kPendingColumns, "FROM pairing_requests WHERE device_id = ?1 AND role = ?2 ORDER BY ts, rowid"));
        st.bind(1, request.device_id).bind(2, request.role);
        while (st.step()) {
            core::PairingRequest existing = read_pending(st);
            if (same_scope_set(existing.scopes, request.scopes)) {
                tx.commit();
                return existing;
            }
        }
    }
    core::PairingRequest stored = request;
    if (stored.request_id.empty()) stored.request_id = util::uuid_v4();
    auto st = db_.prepare(
        "INSERT INTO pairing_requests (request_id, device_id, public_key, display_name, platform, device_family, "
        "client_id, client_mode, role, scopes, remote_ip, reason, silent, is_repair, ts) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    st.bind(1, stored.request_id)
        .bind(2, stored.device_id)
        .bind(3, stored.public_key)
        .bind(4, stored.display_name)
        .bind(5, stored.platform)
        .bind(6, stored.device_family)
        .bind(7, stored.client_id)
        .bind(8, stored.client_mode)
        .bind(9, stored.role)
        .bind(10, encode_strings(stored.scopes))
        .bind(11, stored.remote_ip)
        .bind(12, stored.reason)
        .bind(13, int64_t{stored.silent ? 1 : 0})
        .bind(14, int64_t{stored.is_repair ? 1 : 0})
        .bind(15, stored.ts);
    st.run();
    tx.commit();
    return stored;
}

std::vector<core::PairingRequest> SqliteDeviceRegistry::list_pending() {
    auto guard = db_.lock();
    auto st = db_.prepare(select_from(kPendingColumns, "FROM pairing_requests ORDER BY ts, rowid"));
    std::vector<core::PairingRequest> out;
    while (st.step()) out.push_back(read_pending(st));
    return out;
}

std::vector<core::PairedDevice> SqliteDeviceRegistry::list_devices() {
    auto guard = db_.lock();
    auto st = db_.prepare(select_from(kDeviceColumns, "FROM devices ORDER BY approved_at_ms, device_id"));
    std::vector<core::PairedDevice> out;
    while (st.step()) out.push_back(read_device(st));
    return out;
}

std::optional<core::PairingRequest> SqliteDeviceRegistry::find_pending(const std::string& request_id) {
    auto guard = db_.lock();
    auto st = db_.prepare(select_from(kPendingColumns, "FROM pairing_requests WHERE request_id = ?1"));
    st.bind(1, request_id);
    if (!st.step()) return std::nullopt;
    return read_pending(st);
}

bool SqliteDeviceRegistry::remove_pending(const std::string& request_id) {
    auto guard = db_.lock();
    auto st = db_.prepare("DELETE FROM pairing_requests WHERE request_id = ?1");
    st.bind(1, request_id);
    st.run();
    return db_.changes() > 0;
}

}  // namespace pincer::storage
