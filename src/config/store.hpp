#pragma once
/// The config file on disk: load (JSON5 + validation + hash) and atomic write.
/// Synchronous and blocking (file I/O, fsync): call it off the network thread. A ConfigStore
/// holds no state besides the path, so concurrent calls need outside serialisation only
/// for write-after-check sequences (baseHash), which the caller owns.
#include <boost/json/value.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/json5.hpp"
#include "config/schema.hpp"

namespace pincer::config {

struct LoadResult {
    bool exists = false;        ///< false when the file is missing (that is not an error)
    std::string raw;            ///< file text as read ("" when missing)
    boost::json::value parsed;  ///< parsed config; {} when missing; null on read or parse errors
    bool valid = false;         ///< parsed and validate_config found no issue (missing file = valid)
    std::vector<ConfigIssue> issues;
    std::vector<std::string> ignored;       ///< ignored_keys(parsed)
    std::string hash;                       ///< sha256 hex of raw; "" when missing
    std::optional<Json5Error> parse_error;  ///< set when the text is not valid JSON5
    std::string error;                      ///< human-readable read or parse failure ("" when none)
};

struct WriteResult {
    bool ok = false;
    std::string raw;    ///< the text written (serialize_pretty + "\n")
    std::string hash;   ///< sha256 hex of raw
    std::string error;  ///< why it failed; the previous file is untouched when !ok
};

class ConfigStore {
public:
    explicit ConfigStore(std::filesystem::path path);

    const std::filesystem::path& path() const { return path_; }

    /// Reads and parses the file. Never throws; problems are reported in the result.
    /// Files larger than kMaxJson5Bytes are refused.
    LoadResult load() const;

    /// Replaces the file with `cfg` atomically: creates the parent directory (0700) if missing,
    /// writes `<path>.tmp-<random>` (0600) in the same directory, fsyncs it, renames it over the
    /// path and fsyncs the directory, so readers see either the old or the new file, whole.
    /// Always 0600 because the file holds secrets; a symlink at `path` is replaced, not followed.
    /// Never throws; on failure the temp file is removed and the old file is left as it was.
    WriteResult write_atomic(const boost::json::value& cfg) const;

private:
    std::filesystem::path path_;
};

}  // namespace pincer::config
