// Certificates from the openssl CLI, driven by one config file of our own so the system's
// openssl.cnf (default extensions, prompts) plays no part.
#include "support/test_certs.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/gateway_process.hpp"

namespace pincer::e2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kConfig = R"([req]
distinguished_name = dn
prompt = no

[dn]
CN = placeholder

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[localhost_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid

[wrong_name_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
authorityKeyIdentifier = keyid
)";

std::string find_openssl() {
    const char* path = std::getenv("PATH");
    std::string dirs = path && *path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        fs::path candidate = fs::path(dirs.substr(start, end - start)) / "openssl";
        if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
        start = end + 1;
    }
    throw std::runtime_error("the TLS tests need the openssl command line tool on PATH");
}

void openssl(const std::string& exe, std::vector<std::string> args) {
    args.insert(args.begin(), exe);
    CommandResult r = run_command(args);
    if (r.exit_code != 0) {
        std::string cmd;
        for (const auto& a : args) cmd += a + " ";
        throw std::runtime_error("openssl failed (" + std::to_string(r.exit_code) + "): " + cmd + "\n" + r.out + r.err);
    }
}

// A new EC key and a certificate for `cn` with the extensions of `section`, signed by the CA.
void issue(const std::string& exe, const fs::path& dir, const std::string& name, const std::string& cn,
           const std::string& section, const std::string& serial) {
    const std::string cnf = (dir / "openssl.cnf").string();
    const std::string csr = (dir / (name + ".csr")).string();
    openssl(exe, {"req", "-new", "-config", cnf, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", (dir / (name + ".key")).string(), "-subj", "/CN=" + cn, "-out", csr});
    openssl(exe, {"x509", "-req", "-in", csr, "-CA", (dir / "ca.pem").string(), "-CAkey", (dir / "ca.key").string(),
                  "-set_serial", serial, "-days", "2", "-sha256", "-extfile", cnf, "-extensions", section, "-out",
                  (dir / (name + ".pem")).string()});
}

}  // namespace

TestCerts make_test_certs(const fs::path& dir) {
    const std::string exe = find_openssl();
    std::ofstream(dir / "openssl.cnf") << kConfig;
    openssl(exe, {"req",
                  "-x509",
                  "-config",
                  (dir / "openssl.cnf").string(),
                  "-extensions",
                  "ca_ext",
                  "-newkey",
                  "ec",
                  "-pkeyopt",
                  "ec_paramgen_curve:prime256v1",
                  "-nodes",
                  "-keyout",
                  (dir / "ca.key").string(),
                  "-subj",
                  "/CN=Pincer Test CA",
                  "-days",
                  "2",
                  "-sha256",
                  "-out",
                  (dir / "ca.pem").string()});
    issue(exe, dir, "localhost", "localhost", "localhost_ext", "2");
    issue(exe, dir, "wrong-name", "wrong.example", "wrong_name_ext", "3");
    return TestCerts{dir / "ca.pem", dir / "localhost.pem", dir / "localhost.key", dir / "wrong-name.pem",
                     dir / "wrong-name.key"};
}

}  // namespace pincer::e2e
