#include "core/device_auth.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/base64url.hpp"

namespace pincer::core {
namespace {

// Real vectors produced by Node 20 (crypto.generateKeyPairSync('ed25519'), crypto.sign(null, ...)),
// i.e. exactly what OpenClaw's Node clients emit. The key was chosen to contain '-' so the base64url
// and standard-base64 spellings differ.
constexpr std::string_view kNodeKeyB64Url = "ZuLw9NenEzwPFUb6HVQwM1Gt6GRV-dQsFw1I-1uRTN8";
constexpr std::string_view kNodeKeyB64Std = "ZuLw9NenEzwPFUb6HVQwM1Gt6GRV+dQsFw1I+1uRTN8=";
constexpr std::string_view kNodeKeyPem =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAZuLw9NenEzwPFUb6HVQwM1Gt6GRV+dQsFw1I+1uRTN8=\n-----END PUBLIC "
    "KEY-----\n";
constexpr std::string_view kNodeDeviceId = "619754ae3fdd82bd63be2445e817d7be954abe0f798509ab9f55d3fe6d2b19fc";
constexpr std::string_view kNodePayloadV3 =
    "v3|619754ae3fdd82bd63be2445e817d7be954abe0f798509ab9f55d3fe6d2b19fc|cli|cli|operator|"
    "operator.read,operator.write|1700000000000|tok-123|n1|linux|iphone";
constexpr std::string_view kNodePayloadV2 =
    "v2|619754ae3fdd82bd63be2445e817d7be954abe0f798509ab9f55d3fe6d2b19fc|cli|cli|operator|"
    "operator.read,operator.write|1700000000000|tok-123|n1";
constexpr std::string_view kNodeSigV3 =
    "s-XT2EzhkMoTK8lPuPLp1KFYOYa-2MtLCj9P36r2S9LsD6wNCbhpD_pmgcq7lZvnHEeQ0DFI4LWAaxG147xkBA";
constexpr std::string_view kNodeSigV3Std =
    "s+XT2EzhkMoTK8lPuPLp1KFYOYa+2MtLCj9P36r2S9LsD6wNCbhpD/pmgcq7lZvnHEeQ0DFI4LWAaxG147xkBA==";
constexpr std::string_view kNodeSigV2 =
    "uLFzxQ24XVzCRffqyuVX2d3mtd4PJchdYmWdI7-Z50ydjwMQA8MjA4ADarQBtF66g9bA5aIpN8l0IwWFGHKbBw";
// An unrelated Node-generated Ed25519 key.
constexpr std::string_view kOtherKeyB64Url = "FCi_FzO8OykbGBL4z7jf63iwy863PxiOuXZDRzngeqU";

// RFC 8032 §7.1 TEST 1: public key and the signature of the empty message.
constexpr std::string_view kRfcKeyB64Url = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr std::string_view kRfcKeySha256 = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";

std::vector<uint8_t> from_hex(std::string_view hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

std::vector<uint8_t> decode(std::string_view b64) { return util::base64_decode_any(b64).value(); }

PublicKey node_key() { return normalize_public_key(kNodeKeyB64Url).value(); }

DeviceSignatureInput node_input() {
    DeviceSignatureInput in;
    in.device_id = std::string(kNodeDeviceId);
    in.client_id = "cli";
    in.client_mode = "cli";
    in.role = "operator";
    in.scopes = {"operator.read", "operator.write"};
    in.signed_at_ms = 1700000000000;
    in.token = "tok-123";
    in.nonce = "n1";
    in.platform = "Linux";
    in.device_family = "iPhone";
    return in;
}

DeviceSignatureInput doc_example_input() {
    DeviceSignatureInput in;
    in.device_id = "abc";
    in.client_id = "cli";
    in.client_mode = "cli";
    in.role = "operator";
    in.scopes = {"operator.read", "operator.write"};
    in.signed_at_ms = 1700000000000;
    in.nonce = "n1";
    in.platform = "Linux";
    return in;
}

// --- payload strings ---

TEST(DeviceAuthPayload, V3MatchesProtocolDocExample) {
    EXPECT_EQ(build_device_payload_v3(doc_example_input()),
              "v3|abc|cli|cli|operator|operator.read,operator.write|1700000000000||n1|linux|");
}

TEST(DeviceAuthPayload, V2MatchesProtocolDocExample) {
    EXPECT_EQ(build_device_payload_v2(doc_example_input()),
              "v2|abc|cli|cli|operator|operator.read,operator.write|1700000000000||n1");
}

TEST(DeviceAuthPayload, MatchesNodeBuiltStrings) {
    EXPECT_EQ(build_device_payload_v3(node_input()), kNodePayloadV3);
    EXPECT_EQ(build_device_payload_v2(node_input()), kNodePayloadV2);
}

TEST(DeviceAuthPayload, UpstreamCanonicalV3Vector) {
    // Same inputs as the reference clients' cross-runtime canonical vector.
    DeviceSignatureInput in;
    in.device_id = "dev-1";
    in.client_id = "openclaw-macos";
    in.client_mode = "ui";
    in.role = "operator";
    in.scopes = {"operator.admin", "operator.read"};
    in.signed_at_ms = 1700000000000;
    in.token = "tok-123";
    in.nonce = "nonce-abc";
    in.platform = "  IOS  ";
    in.device_family = "  iPhone  ";
    EXPECT_EQ(build_device_payload_v3(in),
              "v3|dev-1|openclaw-macos|ui|operator|operator.admin,operator.read|1700000000000|tok-123|nonce-abc|ios|"
              "iphone");
}

TEST(DeviceAuthPayload, ScopesKeepSentOrderAndEmptyListIsEmptyField) {
    DeviceSignatureInput in = doc_example_input();
    in.scopes = {"operator.write", "operator.admin", "operator.read"};
    EXPECT_EQ(build_device_payload_v2(in),
              "v2|abc|cli|cli|operator|operator.write,operator.admin,operator.read|1700000000000||n1");
    in.scopes.clear();
    in.platform.clear();
    EXPECT_EQ(build_device_payload_v3(in), "v3|abc|cli|cli|operator||1700000000000||n1||");
}

TEST(DeviceAuthPayload, V2IgnoresPlatformAndFamilyAndKeepsIdsVerbatim) {
    DeviceSignatureInput in = doc_example_input();
    in.client_id = "OpenClaw-MacOS";  // only platform/family are normalised, never ids
    in.platform = "Darwin";
    in.device_family = "Mac";
    in.token = "T0k";
    EXPECT_EQ(build_device_payload_v2(in),
              "v2|abc|OpenClaw-MacOS|cli|operator|operator.read,operator.write|1700000000000|T0k|n1");
    EXPECT_EQ(build_device_payload_v3(in),
              "v3|abc|OpenClaw-MacOS|cli|operator|operator.read,operator.write|1700000000000|T0k|n1|darwin|mac");
}

// --- metadata normalisation ---

TEST(DeviceAuthMetadata, TrimsAndLowercasesAsciiOnly) {
    EXPECT_EQ(normalize_device_metadata("  Linux \t\r\n"), "linux");
    EXPECT_EQ(normalize_device_metadata("MacBookPro18,3"), "macbookpro18,3");
    EXPECT_EQ(normalize_device_metadata(""), "");
    EXPECT_EQ(normalize_device_metadata(" \t "), "");
    EXPECT_EQ(normalize_device_metadata("a B c"), "a b c");  // inner whitespace kept
}

TEST(DeviceAuthMetadata, NonAsciiUntouched) {
    // "ÄPFEL" (Ä = C3 84) and Greek "ΣΑ": only A-Z are lowered, as the reference /[A-Z]/ replace does.
    EXPECT_EQ(normalize_device_metadata("\xC3\x84PFEL"), "\xC3\x84pfel");
    EXPECT_EQ(normalize_device_metadata("\xCE\xA3\xCE\x91X"), "\xCE\xA3\xCE\x91x");
}

TEST(DeviceAuthMetadata, TrimsUnicodeSpacesLikeJavaScript) {
    // U+00A0, U+3000, U+FEFF, U+2028 around the value are removed by String.prototype.trim.
    EXPECT_EQ(normalize_device_metadata("\xC2\xA0\xE3\x80\x80iPad\xEF\xBB\xBF\xE2\x80\xA8"), "ipad");
    // U+200B (zero width space) is not whitespace in JS, so it stays.
    EXPECT_EQ(normalize_device_metadata("\xE2\x80\x8BX"), "\xE2\x80\x8Bx");
}

// --- keys and device ids ---

TEST(DeviceAuthKey, DeviceIdOfRfc8032Key) {
    auto key = normalize_public_key(kRfcKeyB64Url);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(std::vector<uint8_t>(key->begin(), key->end()),
              from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
    EXPECT_EQ(device_id_for(*key), kRfcKeySha256);
}

TEST(DeviceAuthKey, DeviceIdOfNodeKeyMatchesNode) { EXPECT_EQ(device_id_for(node_key()), kNodeDeviceId); }

TEST(DeviceAuthKey, PemBase64UrlAndStandardBase64AgreeOnRawKey) {
    auto from_url = normalize_public_key(kNodeKeyB64Url);
    auto from_std = normalize_public_key(kNodeKeyB64Std);
    auto from_pem = normalize_public_key(kNodeKeyPem);
    ASSERT_TRUE(from_url && from_std && from_pem);
    EXPECT_EQ(*from_url, *from_pem);
    EXPECT_EQ(*from_url, *from_std);
    EXPECT_EQ(public_key_base64url(*from_pem), kNodeKeyB64Url);
}

TEST(DeviceAuthKey, PemToleratesCrlfAndSurroundingWhitespace) {
    std::string pem =
        "  -----BEGIN PUBLIC KEY-----\r\nMCowBQYDK2VwAyEAZuLw9NenEzwPFUb6HVQwM1Gt6GRV+dQsFw1I+1uRTN8=\r\n"
        "-----END PUBLIC KEY-----\r\n";
    auto key = normalize_public_key(pem);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(*key, node_key());
}

TEST(DeviceAuthKey, RejectsBadKeys) {
    EXPECT_FALSE(normalize_public_key(""));
    EXPECT_FALSE(normalize_public_key("not base64 !!"));
    EXPECT_FALSE(normalize_public_key(kNodeKeyB64Url.substr(0, 42)));          // 31 bytes
    EXPECT_FALSE(normalize_public_key(std::string(kNodeKeyB64Url) + "AAAA"));  // 35 bytes
    // X25519 SPKI PEM: right shape, wrong algorithm OID.
    EXPECT_FALSE(normalize_public_key(
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAV4jygfe1+lkQhRX7019ec4kJXzFyHLd+g3CsHK2FtGs=\n"
        "-----END PUBLIC KEY-----\n"));
    // PEM-looking text that is not a public key block.
    EXPECT_FALSE(normalize_public_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
    EXPECT_FALSE(normalize_public_key("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n"));
    EXPECT_FALSE(normalize_public_key("-----BEGIN PUBLIC KEY-----"));
    // Over the 1024-char wire bound, even if the tail would be harmless.
    EXPECT_FALSE(normalize_public_key(std::string(kMaxPublicKeyChars + 1, 'A')));
}

// --- Ed25519 verification ---

TEST(DeviceAuthVerify, Rfc8032EmptyMessageVector) {
    auto key = normalize_public_key(kRfcKeyB64Url).value();
    auto sig = from_hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
        "24655141438e7a100b");
    EXPECT_TRUE(verify_ed25519(key, "", sig));
    EXPECT_FALSE(verify_ed25519(key, "x", sig));
}

TEST(DeviceAuthVerify, NodeSignaturesVerifyOverExactPayloads) {
    EXPECT_TRUE(verify_ed25519(node_key(), kNodePayloadV3, decode(kNodeSigV3)));
    EXPECT_TRUE(verify_ed25519(node_key(), kNodePayloadV2, decode(kNodeSigV2)));
    EXPECT_TRUE(verify_ed25519(normalize_public_key(kNodeKeyPem).value(), kNodePayloadV3, decode(kNodeSigV3Std)));
}

TEST(DeviceAuthVerify, TamperedPayloadFails) {
    std::string tampered(kNodePayloadV3);
    tampered.back() = 'X';
    EXPECT_FALSE(verify_ed25519(node_key(), tampered, decode(kNodeSigV3)));
    EXPECT_FALSE(verify_ed25519(node_key(), kNodePayloadV2, decode(kNodeSigV3)));  // signature of other payload
}

TEST(DeviceAuthVerify, WrongKeyFails) {
    auto other = normalize_public_key(kOtherKeyB64Url).value();
    EXPECT_FALSE(verify_ed25519(other, kNodePayloadV3, decode(kNodeSigV3)));
}

TEST(DeviceAuthVerify, FlippedOrTruncatedSignatureFails) {
    auto sig = decode(kNodeSigV3);
    auto flipped = sig;
    flipped[10] ^= 0x01;
    EXPECT_FALSE(verify_ed25519(node_key(), kNodePayloadV3, flipped));
    EXPECT_FALSE(verify_ed25519(node_key(), kNodePayloadV3, std::span(sig).first(63)));
    EXPECT_FALSE(verify_ed25519(node_key(), kNodePayloadV3, {}));
}

// --- verify_device_signature ---

TEST(DeviceAuthSignature, V3SignatureReportsV3) {
    EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV3, node_input()), DeviceSignatureVersion::v3);
}

TEST(DeviceAuthSignature, V2SignatureReportsV2) {
    EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV2, node_input()), DeviceSignatureVersion::v2);
}

TEST(DeviceAuthSignature, StandardBase64SignatureAccepted) {
    EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV3Std, node_input()), DeviceSignatureVersion::v3);
}

TEST(DeviceAuthSignature, RawPlatformIsNormalisedBeforeVerifying) {
    DeviceSignatureInput in = node_input();
    in.platform = " LINUX ";
    in.device_family = "IPHONE\n";
    EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV3, in), DeviceSignatureVersion::v3);
}

TEST(DeviceAuthSignature, AnyBoundFieldChangeFails) {
    auto check = [](auto mutate) {
        DeviceSignatureInput in = node_input();
        mutate(in);
        EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV3, in), DeviceSignatureVersion::none);
        EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV2, in), DeviceSignatureVersion::none);
    };
    check([](DeviceSignatureInput& in) { in.nonce = "n2"; });
    check([](DeviceSignatureInput& in) { in.token.clear(); });
    check([](DeviceSignatureInput& in) { in.signed_at_ms += 1; });
    check([](DeviceSignatureInput& in) { in.role = "node"; });
    check([](DeviceSignatureInput& in) { in.scopes = {"operator.write", "operator.read"}; });
    check([](DeviceSignatureInput& in) { in.client_mode = "ui"; });
    check([](DeviceSignatureInput& in) { in.device_id[0] = '7'; });
}

TEST(DeviceAuthSignature, V3OnlyFieldsDoNotAffectV2) {
    DeviceSignatureInput in = node_input();
    in.platform = "darwin";
    EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV3, in), DeviceSignatureVersion::none);
    EXPECT_EQ(verify_device_signature(node_key(), kNodeSigV2, in), DeviceSignatureVersion::v2);
}

TEST(DeviceAuthSignature, WrongKeyFails) {
    auto other = normalize_public_key(kOtherKeyB64Url).value();
    EXPECT_EQ(verify_device_signature(other, kNodeSigV3, node_input()), DeviceSignatureVersion::none);
}

TEST(DeviceAuthSignature, MalformedSignatureTextFails) {
    const auto key = node_key();
    const auto in = node_input();
    EXPECT_EQ(verify_device_signature(key, "", in), DeviceSignatureVersion::none);
    EXPECT_EQ(verify_device_signature(key, "%%%garbage%%%", in), DeviceSignatureVersion::none);
    EXPECT_EQ(verify_device_signature(key, kNodeSigV3.substr(0, 80), in), DeviceSignatureVersion::none);  // 60 bytes
    EXPECT_EQ(verify_device_signature(key, kNodeSigV3.substr(0, 85), in), DeviceSignatureVersion::none);  // bad length
    EXPECT_EQ(verify_device_signature(key, std::string(kNodeSigV3) + "AAAA", in), DeviceSignatureVersion::none);
    EXPECT_EQ(verify_device_signature(key, std::string(kMaxSignatureChars + 1, 'A'), in), DeviceSignatureVersion::none);
    std::string flipped(kNodeSigV3);
    flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(verify_device_signature(key, flipped, in), DeviceSignatureVersion::none);
}

}  // namespace
}  // namespace pincer::core
