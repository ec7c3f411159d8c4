// Workspace confinement and the no-follow file primitives behind the file tools.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <system_error>

#include "runtime/tools.hpp"
#include "runtime/workspace_fs.hpp"

namespace pincer::runtime {

namespace fs = std::filesystem;

namespace wsfs {

bool inside(const fs::path& root, const fs::path& p) {
    auto q = p.begin();
    for (auto r = root.begin(); r != root.end(); ++r) {
        if (r->empty() && std::next(r) == root.end()) break;  // trailing separator
        if (q == p.end() || *r != *q) return false;
        ++q;
    }
    return true;
}

int open_regular(const fs::path& p, std::string_view shown, struct stat& st, std::string& err) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        const int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            err = "File not found: " + std::string(shown);
        else if (e == ELOOP)
            err = "Refusing to follow a symlink: " + std::string(shown);
        else
            err = "Cannot open " + std::string(shown) + ": " + std::strerror(e);
        return -1;
    }
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = S_ISDIR(st.st_mode) ? "Path is a directory, not a file: " + std::string(shown)
                                  : "Not a regular file: " + std::string(shown);
        ::close(fd);
        return -1;
    }
    // O_NONBLOCK only kept the open from hanging on a FIFO; regular files ignore it, but clear it anyway.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

bool read_fd(int fd, size_t max_bytes, std::string& out, std::string& err, std::string_view shown) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err = "Cannot read " + std::string(shown) + ": " + std::strerror(errno);
            return false;
        }
        if (n == 0) return true;
        if (out.size() + static_cast<size_t>(n) > max_bytes) {
            out.append(buf, max_bytes - out.size());
            err = "File too large: " + std::string(shown) + " (limit " + std::to_string(max_bytes) + " bytes)";
            return false;
        }
        out.append(buf, static_cast<size_t>(n));
    }
}

namespace {

std::string random_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(12, '0');
    uint64_t v = rng();
    for (char& c : s) {
        c = kHex[v & 15];
        v >>= 4;
    }
    return s;
}

bool write_all(int fd, std::string_view content) {
    size_t off = 0;
    while (off < content.size()) {
        const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

bool write_atomic(const fs::path& p, std::string_view content, std::string_view shown, std::string& err) {
    const std::string name = p.filename().string();
    const std::string who(shown);
    if (name.empty() || name == "." || name == "..") {
        err = "Path is a directory, not a file: " + who;
        return false;
    }
    const int dirfd = ::open(p.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dirfd < 0) {
        err = "Cannot open the directory of " + who + ": " + std::strerror(errno);
        return false;
    }
    mode_t mode = 0600;
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode))
            err = "Refusing to follow a symlink: " + who;
        else if (S_ISDIR(st.st_mode))
            err = "Path is a directory, not a file: " + who;
        else if (!S_ISREG(st.st_mode))
            err = "Not a regular file: " + who;
        else if (st.st_nlink > 1)
            err = "Refusing to modify a hard-linked file: " + who;
        if (!err.empty()) {
            ::close(dirfd);
            return false;
        }
        mode = st.st_mode & 07777;
    }
    // Long names would push the temp name past NAME_MAX; a prefix is enough to recognise it.
    const std::string stem = "." + name.substr(0, 200) + ".tmp-";
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
        tmp = stem + random_suffix();
        fd = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        err = "Cannot write " + who + ": " + std::strerror(errno);
        ::close(dirfd);
        return false;
    }
    // fchmod after creation: the umask must not loosen or tighten a preserved mode.
    bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, content) && ::fsync(fd) == 0;
    int saved = errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        ::unlinkat(dirfd, tmp.c_str(), 0);
        ::close(dirfd);
        err = "Cannot write " + who + ": " + std::strerror(saved);
        return false;
    }
    ::fsync(dirfd);
    ::close(dirfd);
    return true;
}

bool make_dirs(const fs::path& root, const fs::path& dir, std::string_view shown, std::string& err) {
    if (!inside(root, dir)) {
        err = "Path escapes the workspace: " + std::string(shown);
        return false;
    }
    fs::path cur = root;
    for (const fs::path& part : dir.lexically_relative(root)) {
        if (part.empty() || part == ".") continue;
        cur /= part;
        if (::mkdir(cur.c_str(), 0700) == 0) continue;
        const int e = errno;
        struct stat st {};
        // An existing entry must be a real directory: confine resolved every symlink, so a link
        // here appeared after the check.
        if (e == EEXIST && ::lstat(cur.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
        err = "Cannot create directory for " + std::string(shown) + ": " +
              (e == EEXIST ? std::string("a path component is not a directory") : std::strerror(e));
        return false;
    }
    return true;
}

}  // namespace wsfs

namespace {

/// `p` below `base`, component-wise with "." and empty components dropped; nullopt when `p` is
/// not under `base`. ".." stays in the result so the walk can refuse it physically.
std::optional<fs::path> below(const fs::path& base, const fs::path& p) {
    fs::path clean;
    for (const fs::path& part : p) {
        if (part.empty() || part == ".") continue;
        clean /= part;
    }
    auto q = clean.begin();
    for (const fs::path& part : base) {
        if (part.empty() || part == ".") continue;
        if (q == clean.end() || *q != part) return std::nullopt;
        ++q;
    }
    fs::path rest;
    for (; q != clean.end(); ++q) rest /= *q;
    return rest;
}

}  // namespace

ConfinedPath confine_to_workspace(const fs::path& workspace, std::string_view requested, bool for_write) {
    ConfinedPath out;
    const std::string req(requested);
    auto refuse = [&](std::string msg) {
        out.path.clear();
        out.error = std::move(msg);
        return out;
    };
    if (req.empty()) return refuse("Path is empty");
    if (req.find('\0') != std::string::npos) return refuse("Path contains a NUL byte");
    if (workspace.empty()) return refuse("No workspace is configured");

    std::error_code ec;
    const fs::path root = fs::canonical(workspace, ec);
    if (ec) return refuse("Workspace is not accessible: " + workspace.string());
    const std::string escapes = "Path escapes the workspace: " + req;

    fs::path rel;
    const fs::path asked(req);
    if (asked.is_absolute()) {
        // The model may spell the workspace as configured (e.g. under a symlinked /tmp) or as
        // the real path; both name the same directory.
        auto r = below(root, asked);
        if (!r) r = below(fs::absolute(workspace, ec).lexically_normal(), asked);
        if (!r) return refuse(escapes);
        rel = *r;
    } else {
        rel = asked;
    }

    // Walk the components physically: ".." pops the real directory, every symlink is resolved
    // and must land inside the root, so the invariant `inside(root, cur)` holds at each step.
    fs::path cur = root;
    for (const fs::path& part : rel) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (cur == root) return refuse(escapes);
            cur = cur.parent_path();
            continue;
        }
        const fs::path next = cur / part;
        struct stat st {};
        if (::lstat(next.c_str(), &st) != 0) {
            const int e = errno;
            if (e != ENOENT && e != ENOTDIR) return refuse("Cannot access " + req + ": " + std::strerror(e));
            cur = next;  // missing: the rest of the walk is lexical until ".." returns to real dirs
            continue;
        }
        if (!S_ISLNK(st.st_mode)) {
            cur = next;
            continue;
        }
        const fs::path target = fs::canonical(next, ec);
        if (ec) {
            // A dangling link could point anywhere; writing through it would create that file.
            return refuse("Path contains a broken symlink: " + req);
        }
        if (!wsfs::inside(root, target)) return refuse(escapes);
        cur = target;
    }

    if (for_write && cur == root) return refuse("Path is a directory, not a file: " + req);
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) {
        if (!for_write) return refuse("File not found: " + req);
    } else if (for_write && S_ISREG(st.st_mode) && st.st_nlink > 1) {
        return refuse("Refusing to modify a hard-linked file: " + req);
    }
    out.path = cur;
    return out;
}

}  // namespace pincer::runtime
