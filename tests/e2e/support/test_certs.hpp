#pragma once
/// A throwaway PKI for the TLS tests, made with the `openssl` command line tool: a CA, a server
/// certificate for `localhost` and 127.0.0.1 signed by it, and one for `wrong.example` signed by it
/// too (EC P-256 keys, valid for two days from now).
#include <filesystem>

namespace pincer::e2e {

struct TestCerts {
    std::filesystem::path ca_cert;  // the CA certificate: what a client must trust
    std::filesystem::path localhost_cert, localhost_key;
    std::filesystem::path wrong_name_cert, wrong_name_key;
};

/// Writes the files into `dir` (which must exist). Throws std::runtime_error with openssl's output
/// when a step fails or no `openssl` is on PATH.
TestCerts make_test_certs(const std::filesystem::path& dir);

}  // namespace pincer::e2e
