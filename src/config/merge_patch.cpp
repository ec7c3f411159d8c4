#include "config/merge_patch.hpp"

#include <boost/json.hpp>
#include <string>
#include <unordered_map>

namespace pincer::config {
namespace {

const boost::json::string* string_id(const boost::json::value& v) {
    const auto* obj = v.if_object();
    if (obj == nullptr) return nullptr;
    const auto it = obj->find("id");
    if (it == obj->end()) return nullptr;
    const auto* id = it->value().if_string();
    return id != nullptr && !id->empty() ? id : nullptr;
}

// Returns false (leaving `current` untouched) when `current` is not fully id-keyed, in which
// case the caller replaces the array like plain RFC 7396 does.
bool merge_arrays_by_id(boost::json::array& current, const boost::json::array& patch) {
    std::unordered_map<std::string, std::size_t> index_by_id;
    for (std::size_t i = 0; i < current.size(); ++i) {
        const auto* id = string_id(current[i]);
        if (id == nullptr) return false;
        index_by_id.emplace(std::string(*id), i);
    }
    for (const auto& entry : patch) {
        const auto* id = string_id(entry);
        if (id == nullptr) {
            current.push_back(entry);
            continue;
        }
        const auto it = index_by_id.find(std::string(*id));
        if (it == index_by_id.end()) {
            current.push_back(entry);
            index_by_id.emplace(std::string(*id), current.size() - 1);
            continue;
        }
        apply_merge_patch(current[it->second], entry);
    }
    return true;
}

}  // namespace

bool is_blocked_patch_key(std::string_view key) {
    return key == "__proto__" || key == "constructor" || key == "prototype";
}

void apply_merge_patch(boost::json::value& target, const boost::json::value& patch) {
    const auto* patch_obj = patch.if_object();
    if (patch_obj == nullptr) {
        target = patch;
        return;
    }
    if (!target.is_object()) target = boost::json::object();
    auto& obj = target.get_object();
    for (const auto& kv : *patch_obj) {
        const std::string_view key = kv.key();
        if (is_blocked_patch_key(key)) continue;
        const auto& value = kv.value();
        if (value.is_null()) {
            obj.stable_erase(key);  // keep the file's key order for the user
            continue;
        }
        const auto existing = obj.find(key);
        if (existing != obj.end() && existing->value().is_array() && value.is_array() &&
            merge_arrays_by_id(existing->value().get_array(), value.get_array())) {
            continue;
        }
        if (value.is_object()) {
            // Recurse into a copy-free slot: creates {} when the key is missing or not an object.
            boost::json::value& slot = obj[key];
            apply_merge_patch(slot, value);
            continue;
        }
        obj.insert_or_assign(key, value);
    }
}

}  // namespace pincer::config
