#include "support/gateway_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pincer::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::filesystem::path make_temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pincer-e2e-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

// fork+exec with stdout to a pipe (returned) and stderr to a file.
// With `in_fd_out`, stdin is a pipe too (its write end returned), else it is inherited.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, int& out_fd,
            const std::string& err_path, int* err_fd_out = nullptr, int* in_fd_out = nullptr) {
    int out_pipe[2];
    int err_pipe[2] = {-1, -1};
    int in_pipe[2] = {-1, -1};
    if (pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    if (err_fd_out && pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
    if (in_fd_out && pipe(in_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (in_fd_out) dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        if (err_fd_out) {
            dup2(err_pipe[1], 2);
        } else {
            int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) dup2(fd, 2);
        }
        for (int fd = 3; fd < 1024; ++fd) close(fd);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out_pipe[1]);
    out_fd = out_pipe[0];
    if (err_fd_out) {
        close(err_pipe[1]);
        *err_fd_out = err_pipe[0];
    }
    if (in_fd_out) {
        close(in_pipe[0]);
        *in_fd_out = in_pipe[1];
    }
    return pid;
}

bool read_some(int fd, std::string& into, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    into.append(buf, size_t(n));
    return true;
}

}  // namespace

GatewayProcess::GatewayProcess(GatewayOptions opts) : opts_(std::move(opts)) {
    if (opts_.state_dir.empty()) {
        state_dir_ = make_temp_dir();
        own_state_dir_ = true;
    } else {
        state_dir_ = opts_.state_dir;
    }
    if (!opts_.config.empty()) {
        std::ofstream(config_path()) << opts_.config;
    }
    std::vector<std::string> argv = {PINCER_BINARY, "gateway", "run", "--port", "0"};
    if (!opts_.token.empty()) {
        argv.push_back("--token");
        argv.push_back(opts_.token);
    }
    for (const auto& a : opts_.extra_args) argv.push_back(a);
    auto env = opts_.env;
    env["PINCER_STATE_DIR"] = state_dir_.string();
    env.erase("PINCER_CONFIG_PATH");
    int out_fd = -1;
    pid_ = spawn(argv, env, out_fd, (state_dir_ / "stderr.log").string());
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    const std::string marker = "pincer: listening on ";
    while (Clock::now() < deadline) {
        auto pos = stdout_.find(marker);
        if (pos != std::string::npos) {
            auto eol = stdout_.find('\n', pos);
            if (eol != std::string::npos) {
                auto colon = stdout_.rfind(':', eol);
                port_ = static_cast<uint16_t>(std::stoi(stdout_.substr(colon + 1, eol - colon - 1)));
                break;
            }
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("pincer exited during start-up: " + stderr_text() + stdout_);
        }
        read_some(out_fd, stdout_, 100);
    }
    // Keep draining stdout in the background so the child never blocks on a full pipe.
    std::thread([out_fd] {
        char buf[4096];
        while (read(out_fd, buf, sizeof(buf)) > 0) {
        }
        close(out_fd);
    }).detach();
    if (port_ == 0) throw std::runtime_error("pincer did not report a port: " + stderr_text());
}

GatewayProcess::~GatewayProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    if (own_state_dir_) {
        std::error_code ec;
        std::filesystem::remove_all(state_dir_, ec);
    }
}

std::string GatewayProcess::stderr_text() const {
    std::ifstream in(state_dir_ / "stderr.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

ExitStatus GatewayProcess::stop(int sig, std::chrono::milliseconds timeout) {
    ExitStatus st;
    if (pid_ <= 0) return st;
    const auto start = Clock::now();
    kill(pid_, sig);
    while (Clock::now() - start < timeout) {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            st.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            if (WIFEXITED(status)) {
                st.exited = true;
                st.code = WEXITSTATUS(status);
            } else if (WIFSIGNALED(status)) {
                st.signal = WTERMSIG(status);
            }
            return st;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    st.elapsed = timeout;
    return st;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout) {
    return run_command(argv, env, timeout, CommandInput{});
}

CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout, const CommandInput& input) {
    CommandResult r;
    int out_fd = -1, err_fd = -1, in_fd = -1;
    pid_t pid = spawn(argv, env, out_fd, "", &err_fd, input.stdin_text ? &in_fd : nullptr);
    if (input.stdin_text) {
        // Small inputs fit the pipe buffer; closing gives the child its EOF.
        signal(SIGPIPE, SIG_IGN);
        (void)!write(in_fd, input.stdin_text->data(), input.stdin_text->size());
        close(in_fd);
    }
    const auto deadline = Clock::now() + timeout;
    bool out_open = true, err_open = true;
    bool signalled = input.signal_when_stdout_contains.empty();
    while ((out_open || err_open) && Clock::now() < deadline) {
        pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
        if (poll(fds, 2, 100) <= 0) continue;
        char buf[4096];
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                (i == 0 ? out_open : err_open) = false;
            } else {
                (i == 0 ? r.out : r.err).append(buf, size_t(n));
            }
        }
        if (!signalled && r.out.find(input.signal_when_stdout_contains) != std::string::npos) {
            kill(pid, input.signal);
            signalled = true;
        }
    }
    if (out_open || err_open) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(out_fd);
    close(err_fd);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace pincer::e2e
