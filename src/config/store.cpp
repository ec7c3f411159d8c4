#include "config/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "util/crypto.hpp"

namespace pincer::config {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes the descriptor on every path out of write_atomic.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close(); }
    int get() const { return fd_; }
    int close() {
        int rc = 0;
        if (fd_ >= 0) rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }

private:
    int fd_;
};

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(std::size_t(n));
    }
    return true;
}

std::optional<std::string> read_file(const std::filesystem::path& path, std::string& out, bool& exists) {
    exists = false;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        return "cannot read " + path.string() + ": " + errno_text(errno);
    }
    Fd guard(fd);
    exists = true;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return "cannot read " + path.string() + ": " + errno_text(errno);
    if (S_ISDIR(st.st_mode)) return "cannot read " + path.string() + ": is a directory";
    char buf[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return "cannot read " + path.string() + ": " + errno_text(errno);
        }
        if (n == 0) break;
        out.append(buf, std::size_t(n));
        if (out.size() > kMaxJson5Bytes) {
            return "config file " + path.string() + " is larger than " + std::to_string(kMaxJson5Bytes) + " bytes";
        }
    }
    return std::nullopt;
}

}  // namespace

ConfigStore::ConfigStore(std::filesystem::path path) : path_(std::move(path)) {}

LoadResult ConfigStore::load() const {
    LoadResult r;
    try {
        if (auto err = read_file(path_, r.raw, r.exists)) {
            r.error = *err;
            return r;
        }
        if (!r.exists) {
            r.parsed = boost::json::object();
            r.valid = true;
            return r;
        }
        r.hash = util::sha256_hex(r.raw);
        auto parsed = parse_json5(r.raw);
        if (auto* err = std::get_if<Json5Error>(&parsed)) {
            r.error = err->message;
            r.parse_error = std::move(*err);
            return r;
        }
        r.parsed = std::move(std::get<boost::json::value>(parsed));
        r.issues = validate_config(r.parsed);
        r.ignored = ignored_keys(r.parsed);
        r.valid = r.issues.empty();
    } catch (const std::exception& e) {
        // Only allocation failure can get here; report it like any other read failure.
        r.parsed = nullptr;
        r.valid = false;
        r.error = "cannot load " + path_.string() + ": " + e.what();
    }
    return r;
}

WriteResult ConfigStore::write_atomic(const boost::json::value& cfg) const {
    WriteResult r;
    try {
        r.raw = serialize_pretty(cfg) + "\n";
        r.hash = util::sha256_hex(r.raw);

        std::filesystem::path dir = path_.parent_path();
        if (dir.empty()) dir = ".";
        std::error_code ec;
        if (!std::filesystem::exists(dir, ec)) {
            std::filesystem::create_directories(dir, ec);
            if (ec) {
                r.error = "cannot create " + dir.string() + ": " + ec.message();
                return r;
            }
            // Only the directories we created; an existing parent keeps its mode.
            std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
        }

        const std::filesystem::path tmp = path_.string() + ".tmp-" + util::random_token().substr(0, 12);
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (fd.get() < 0) {
            r.error = "cannot create " + tmp.string() + ": " + errno_text(errno);
            return r;
        }
        auto fail = [&](std::string what) {
            const int err = errno;
            fd.close();
            ::unlink(tmp.c_str());
            r.error = what + " " + tmp.string() + ": " + errno_text(err);
            return r;
        };
        // The umask may have narrowed 0600 already, but never widened it; make it exact.
        if (::fchmod(fd.get(), 0600) != 0) return fail("cannot chmod");
        if (!write_all(fd.get(), r.raw)) return fail("cannot write");
        if (::fsync(fd.get()) != 0) return fail("cannot fsync");
        if (fd.close() != 0) return fail("cannot close");
        if (::rename(tmp.c_str(), path_.c_str()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            r.error = "cannot rename " + tmp.string() + " to " + path_.string() + ": " + errno_text(err);
            return r;
        }
        // Make the rename itself durable; the new file is in place either way, so a failure here
        // is not reported as a failed write.
        if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
        r.ok = true;
    } catch (const std::exception& e) {
        r.ok = false;
        r.error = "cannot write " + path_.string() + ": " + e.what();
    }
    return r;
}

}  // namespace pincer::config
