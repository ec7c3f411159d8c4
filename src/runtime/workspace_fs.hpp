#pragma once
/// File primitives shared by the file tools and the system prompt (private to runtime). Callers
/// resolve paths with confine_to_workspace() first; these never follow a symlink at the final
/// component, so a link swapped in after the check is refused instead of followed.
#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace pincer::runtime::wsfs {

/// True when `p` is `root` or lies below it (both absolute and normalised).
bool inside(const std::filesystem::path& root, const std::filesystem::path& p);

/// Opens an existing regular file read-only with O_NOFOLLOW and fills `st`. Returns -1 and sets
/// `err` (naming `shown`, the path as the model wrote it) on failure.
int open_regular(const std::filesystem::path& p, std::string_view shown, struct stat& st, std::string& err);

/// Reads `fd` to the end, at most `max_bytes`. False on a read error or when the file is longer
/// (`err` says which; `out` then holds what was read).
bool read_fd(int fd, size_t max_bytes, std::string& out, std::string& err, std::string_view shown);

/// Replaces `p` with `content` atomically: a temp file in the same directory (0600, or the
/// existing file's mode), fsync, rename, fsync of the directory. Refuses a final component that
/// is a symlink, a directory, a non-regular file or a hard-linked file.
bool write_atomic(const std::filesystem::path& p, std::string_view content, std::string_view shown, std::string& err);

/// Creates the missing directories of `dir` (0700), all of which must lie inside `root`.
bool make_dirs(const std::filesystem::path& root, const std::filesystem::path& dir, std::string_view shown,
               std::string& err);

}  // namespace pincer::runtime::wsfs
