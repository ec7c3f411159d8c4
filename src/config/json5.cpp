#include "config/json5.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <system_error>

namespace pincer::config {
namespace {

struct CodePointRange {
    char32_t first;
    char32_t last;
};
#include "json5_unicode.inc"

template <std::size_t N>
bool in_ranges(const CodePointRange (&table)[N], char32_t cp) {
    auto it = std::upper_bound(std::begin(table), std::end(table), cp,
                               [](char32_t c, const CodePointRange& r) { return c < r.first; });
    return it != std::begin(table) && cp <= std::prev(it)->last;
}

constexpr char32_t kEof = 0xFFFFFFFF;

bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char32_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char32_t c) { return is_digit(c) ? int(c - '0') : int((c | 0x20) - 'a' + 10); }

bool is_id_start(char32_t c) {
    if (c < 0x80) return is_ascii_letter(c) || c == '$' || c == '_';
    return in_ranges(kIdStart, c);
}

bool is_id_continue(char32_t c) {
    if (c < 0x80) return is_ascii_letter(c) || is_digit(c) || c == '$' || c == '_';
    return c == 0x200C || c == 0x200D || in_ranges(kIdContinue, c);
}

// json5's "default" lexer state: everything it skips between tokens.
bool is_blank(char32_t c) {
    switch (c) {
        case '\t':
        case '\v':
        case '\f':
        case ' ':
        case '\n':
        case '\r':
        case 0xA0:
        case 0xFEFF:
        case 0x2028:
        case 0x2029:
            return true;
        default:
            return c >= 0x80 && c != kEof && in_ranges(kSpaceSeparator, c);
    }
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

// Decodes one UTF-8 sequence at s[pos]; returns the code point and sets len, or returns kEof with
// len = 0 for an invalid sequence (overlong, surrogate, out of range, truncated).
char32_t decode_utf8(std::string_view s, std::size_t pos, std::size_t& len) {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80) {
        len = 1;
        return b0;
    }
    std::size_t n = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        n = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        len = 0;
        return kEof;
    }
    if (pos + n > s.size()) {
        len = 0;
        return kEof;
    }
    for (std::size_t i = 1; i < n; ++i) {
        const auto b = static_cast<unsigned char>(s[pos + i]);
        if ((b & 0xC0) != 0x80) {
            len = 0;
            return kEof;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        len = 0;
        return kEof;
    }
    len = n;
    return cp;
}

// Builds a UTF-8 string from code points and UTF-16 units: JavaScript concatenates \u escapes as
// UTF-16, so "\uD83D\uDE00" is one emoji; a surrogate left unpaired becomes U+FFFD.
class StringBuilder {
public:
    void push(char32_t cp) {
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            flush();
            pending_high_ = cp;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            if (pending_high_ != 0) {
                append_utf8(out_, 0x10000 + ((pending_high_ - 0xD800) << 10) + (cp - 0xDC00));
                pending_high_ = 0;
            } else {
                append_utf8(out_, 0xFFFD);
            }
        } else {
            flush();
            append_utf8(out_, cp);
        }
    }
    std::string finish() {
        flush();
        return std::move(out_);
    }

private:
    void flush() {
        if (pending_high_ != 0) append_utf8(out_, 0xFFFD);
        pending_high_ = 0;
    }
    std::string out_;
    char32_t pending_high_ = 0;
};

std::string format_char(char32_t c) {
    switch (c) {
        case '\'':
            return "\\'";
        case '"':
            return "\\\"";
        case '\\':
            return "\\\\";
        case '\b':
            return "\\b";
        case '\f':
            return "\\f";
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        case '\v':
            return "\\v";
        case '\0':
            return "\\0";
        case 0x2028:
            return "\\u2028";
        case 0x2029:
            return "\\u2029";
        default:
            break;
    }
    std::string out;
    if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out = "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    } else {
        append_utf8(out, c);
    }
    return out;
}

struct Failure {
    Json5Error error;
};

// A recursive-descent port of json5@2.2.3's lexer/parser state machine. Every error is raised at
// the same point json5 raises it, so line/column and wording match: json5 "reads" the offending
// character before reporting, hence positions name that character (1-based), or one past the end.
class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    boost::json::value parse_document() {
        skip_blank();
        if (peek() == kEof) fail_here();
        boost::json::value v = parse_value(0);
        skip_blank();
        if (peek() != kEof) fail_here();
        return v;
    }

private:
    char32_t peek() {
        if (pos_ >= text_.size()) return kEof;
        std::size_t len = 0;
        char32_t c = decode_utf8(text_, pos_, len);
        if (len == 0) fail("JSON5: invalid UTF-8", line_, column_ + 1);
        return c;
    }

    char32_t read() {
        const char32_t c = peek();
        if (c == '\n') {
            ++line_;
            column_ = 0;
        } else if (c == kEof) {
            ++column_;
        } else {
            column_ += c >= 0x10000 ? 2 : 1;  // json5 counts UTF-16 code units
        }
        if (c != kEof) {
            std::size_t len = 0;
            decode_utf8(text_, pos_, len);
            pos_ += len;
        }
        return c;
    }

    [[noreturn]] static void fail(std::string message, int line, int column) {
        message += " at " + std::to_string(line) + ":" + std::to_string(column);
        throw Failure{Json5Error{std::move(message), line, column}};
    }

    [[noreturn]] void invalid_char(char32_t c) {
        if (c == kEof) fail("JSON5: invalid end of input", line_, column_);
        fail("JSON5: invalid character '" + format_char(c) + "'", line_, column_);
    }

    // json5's invalidChar(read()): consume the offending character, then report it.
    [[noreturn]] void fail_here() { invalid_char(read()); }

    void expect_literal(std::string_view rest) {
        for (char ch : rest) {
            if (peek() != char32_t(ch)) fail_here();
            read();
        }
    }

    void skip_blank() {
        for (;;) {
            const char32_t c = peek();
            if (is_blank(c)) {
                read();
            } else if (c == '/') {
                read();
                const char32_t k = peek();
                if (k == '*') {
                    read();
                    skip_block_comment();
                } else if (k == '/') {
                    read();
                    skip_line_comment();
                } else {
                    fail_here();
                }
            } else {
                return;
            }
        }
    }

    void skip_block_comment() {
        for (;;) {
            char32_t c = peek();
            if (c == kEof) fail_here();
            read();
            if (c != '*') continue;
            for (;;) {
                c = peek();
                if (c == '*') {
                    read();
                } else if (c == '/') {
                    read();
                    return;
                } else if (c == kEof) {
                    fail_here();
                } else {
                    read();
                    break;
                }
            }
        }
    }

    void skip_line_comment() {
        for (;;) {
            const char32_t c = peek();
            if (c == kEof) return;
            read();
            if (c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029) return;
        }
    }

    boost::json::value parse_value(int depth) {
        const char32_t c = peek();
        switch (c) {
            case '{':
            case '[': {
                read();
                if (depth >= kMaxJson5Depth) {
                    fail("JSON5: nesting deeper than " + std::to_string(kMaxJson5Depth), line_, column_);
                }
                if (c == '{') return parse_object(depth + 1);
                return parse_array(depth + 1);
            }
            case 'n':
                read();
                expect_literal("ull");
                return nullptr;
            case 't':
                read();
                expect_literal("rue");
                return true;
            case 'f':
                read();
                expect_literal("alse");
                return false;
            case '-':
            case '+':
                read();
                return parse_signed_number(c == '-');
            case '.':
            case '0':
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9':
                return parse_number(false);
            case 'I':
                read();
                expect_literal("nfinity");
                return std::numeric_limits<double>::infinity();
            case 'N':
                read();
                expect_literal("aN");
                return std::numeric_limits<double>::quiet_NaN();
            case '"':
            case '\'':
                read();
                return boost::json::string(parse_string(c));
            default:
                fail_here();
        }
    }

    boost::json::value parse_signed_number(bool negative) {
        const char32_t c = peek();
        if (c == 'I') {
            read();
            expect_literal("nfinity");
            return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        }
        if (c == 'N') {
            read();
            expect_literal("aN");
            return std::numeric_limits<double>::quiet_NaN();
        }
        if (c != '.' && !is_digit(c)) fail_here();
        return parse_number(negative);
    }

    void read_digits(std::string& buf) {
        while (is_digit(peek())) buf += char(read());
    }

    // Called at '.' or a digit. Mirrors json5's zero/decimalInteger/decimalPoint/decimalFraction/
    // decimalExponent/hexadecimal states; the token simply ends at the first unexpected character.
    boost::json::value parse_number(bool negative) {
        std::string buf;
        bool integral = true;
        const char32_t first = read();
        buf += char(first);
        if (first == '.') {
            if (!is_digit(peek())) fail_here();
            integral = false;
            read_digits(buf);
        } else {
            if (first == '0') {
                const char32_t c = peek();
                if (c == 'x' || c == 'X') {
                    read();
                    if (!is_hex_digit(peek())) fail_here();
                    std::string hex;
                    while (is_hex_digit(peek())) hex += char(read());
                    return hex_number(hex, negative);
                }
            } else {
                read_digits(buf);
            }
            if (peek() == '.') {
                buf += char(read());
                integral = false;
                read_digits(buf);
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            buf += char(read());
            if (peek() == '+' || peek() == '-') buf += char(read());
            if (!is_digit(peek())) fail_here();
            read_digits(buf);
        }
        if (integral) {
            std::int64_t i = 0;
            auto [p, ec] = std::from_chars(buf.data(), buf.data() + buf.size(), i);
            if (ec == std::errc() && p == buf.data() + buf.size()) return negative ? -i : i;
        }
        return negative ? -decimal_to_double(buf) : decimal_to_double(buf);
    }

    static double decimal_to_double(const std::string& buf) {
        double d = 0;
        auto [p, ec] = std::from_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::general);
        if (ec != std::errc::result_out_of_range) return d;
        // Out of range means overflow or underflow; which one follows from the decimal exponent of
        // the first significant digit.
        const auto e_pos = buf.find_first_of("eE");
        const std::string mantissa = buf.substr(0, e_pos);
        long exponent = 0;
        if (e_pos != std::string::npos) {
            const char* s = buf.data() + e_pos + 1;
            if (*s == '+') ++s;
            // Clamp silly exponents; any value past +-1e6 decides the answer already.
            const std::string exp_text(s, buf.data() + buf.size());
            const bool neg = !exp_text.empty() && exp_text[0] == '-';
            const std::size_t digits = exp_text.size() - (neg ? 1 : 0);
            exponent = digits > 7 ? 10000000 : std::stol(exp_text.substr(neg ? 1 : 0));
            if (neg) exponent = -exponent;
        }
        const auto dot = mantissa.find('.');
        const std::size_t int_len = dot == std::string::npos ? mantissa.size() : dot;
        const auto nz = mantissa.find_first_not_of("0.");
        if (nz == std::string::npos) return 0.0;
        const long magnitude = nz < int_len ? long(int_len - nz) : -long(nz - int_len);
        return magnitude + exponent > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    }

    static boost::json::value hex_number(std::string_view hex, bool negative) {
        const auto nz = hex.find_first_not_of('0');
        if (nz == std::string_view::npos) return std::int64_t{0};
        hex.remove_prefix(nz);
        std::uint64_t u = 0;
        auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), u, 16);
        if (ec == std::errc() && u <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
            return negative ? -std::int64_t(u) : std::int64_t(u);
        }
        double d = 0;
        auto [p2, ec2] = std::from_chars(hex.data(), hex.data() + hex.size(), d, std::chars_format::hex);
        if (ec2 == std::errc::result_out_of_range) d = std::numeric_limits<double>::infinity();
        return negative ? -d : d;
    }

    // Called after the opening quote.
    std::string parse_string(char32_t quote) {
        StringBuilder out;
        for (;;) {
            const char32_t c = peek();
            if (c == '\\') {
                read();
                parse_escape(out);
            } else if (c == quote) {
                read();
                return out.finish();
            } else if (c == '\n' || c == '\r' || c == kEof) {
                fail_here();
            } else {
                out.push(read());
            }
        }
    }

    char32_t read_hex_escape(int digits) {
        char32_t value = 0;
        for (int i = 0; i < digits; ++i) {
            if (!is_hex_digit(peek())) fail_here();
            value = value * 16 + hex_value(read());
        }
        return value;
    }

    void parse_escape(StringBuilder& out) {
        const char32_t c = peek();
        switch (c) {
            case 'b':
                read();
                return out.push('\b');
            case 'f':
                read();
                return out.push('\f');
            case 'n':
                read();
                return out.push('\n');
            case 'r':
                read();
                return out.push('\r');
            case 't':
                read();
                return out.push('\t');
            case 'v':
                read();
                return out.push('\v');
            case '0':
                read();
                if (is_digit(peek())) fail_here();
                return out.push('\0');
            case 'x':
                read();
                return out.push(read_hex_escape(2));
            case 'u':
                read();
                return out.push(read_hex_escape(4));
            case '\n':
            case 0x2028:
            case 0x2029:
                read();
                return;  // line continuation
            case '\r':
                read();
                if (peek() == '\n') read();
                return;
            case kEof:
                fail_here();
            default:
                if (c >= '1' && c <= '9') fail_here();
                return out.push(read());  // identity escape: \a is "a"
        }
    }

    // \uXXXX inside an unquoted key; json5 reports a bad result at the backslash (column - 5).
    char32_t parse_identifier_escape(bool start) {
        if (peek() != 'u') fail_here();
        read();
        const char32_t u = read_hex_escape(4);
        const bool ok =
            u == '$' || u == '_' || (start ? is_id_start(u) : (u == 0x200C || u == 0x200D || is_id_continue(u)));
        if (!ok) {
            column_ -= 5;
            fail("JSON5: invalid identifier character", line_, column_);
        }
        return u;
    }

    std::string parse_key() {
        char32_t c = peek();
        if (c == '"' || c == '\'') {
            read();
            return parse_string(c);
        }
        std::string key;
        if (c == '\\') {
            read();
            append_utf8(key, parse_identifier_escape(true));
        } else if (is_id_start(c)) {
            append_utf8(key, read());
        } else {
            fail_here();
        }
        for (;;) {
            c = peek();
            if (c == '\\') {
                read();
                append_utf8(key, parse_identifier_escape(false));
            } else if (c != kEof && is_id_continue(c)) {
                append_utf8(key, read());
            } else {
                return key;
            }
        }
    }

    boost::json::value parse_object(int depth) {
        boost::json::object obj;
        for (;;) {
            skip_blank();
            if (peek() == '}') {
                read();
                return obj;
            }
            std::string key = parse_key();
            skip_blank();
            if (peek() != ':') fail_here();
            read();
            skip_blank();
            obj.insert_or_assign(key, parse_value(depth));
            skip_blank();
            const char32_t c = peek();
            if (c == '}') {
                read();
                return obj;
            }
            if (c != ',') fail_here();
            read();
        }
    }

    boost::json::value parse_array(int depth) {
        boost::json::array arr;
        for (;;) {
            skip_blank();
            if (peek() == ']') {
                read();
                return arr;
            }
            arr.push_back(parse_value(depth));
            skip_blank();
            const char32_t c = peek();
            if (c == ']') {
                read();
                return arr;
            }
            if (c != ',') fail_here();
            read();
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    int line_ = 1;
    int column_ = 0;
};

void write_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b >= 0x80) {
            std::size_t len = 0;
            decode_utf8(s, i, len);
            if (len == 0) {
                append_utf8(out, 0xFFFD);  // JSON text must be valid UTF-8
                ++i;
            } else {
                out.append(s.substr(i, len));
                i += len;
            }
            continue;
        }
        ++i;
        switch (b) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (b < 0x20) {
                    out += "\\u00";
                    out += kHex[b >> 4];
                    out += kHex[b & 0xF];
                } else {
                    out += char(b);
                }
        }
    }
    out += '"';
}

void write_pretty(std::string& out, const boost::json::value& v, int indent) {
    auto newline = [&](int level) {
        out += '\n';
        out.append(std::size_t(level) * 2, ' ');
    };
    switch (v.kind()) {
        case boost::json::kind::null:
            out += "null";
            break;
        case boost::json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            break;
        case boost::json::kind::int64:
            out += std::to_string(v.get_int64());
            break;
        case boost::json::kind::uint64:
            out += std::to_string(v.get_uint64());
            break;
        case boost::json::kind::double_: {
            const double d = v.get_double();
            out += std::isfinite(d) ? format_number(d) : "null";
            break;
        }
        case boost::json::kind::string:
            write_json_string(out, v.get_string());
            break;
        case boost::json::kind::array: {
            const auto& arr = v.get_array();
            if (arr.empty()) {
                out += "[]";
                break;
            }
            out += '[';
            for (std::size_t i = 0; i < arr.size(); ++i) {
                if (i > 0) out += ',';
                newline(indent + 1);
                write_pretty(out, arr[i], indent + 1);
            }
            newline(indent);
            out += ']';
            break;
        }
        case boost::json::kind::object: {
            const auto& obj = v.get_object();
            if (obj.empty()) {
                out += "{}";
                break;
            }
            out += '{';
            bool first = true;
            for (const auto& kv : obj) {
                if (!first) out += ',';
                first = false;
                newline(indent + 1);
                write_json_string(out, kv.key());
                out += ": ";
                write_pretty(out, kv.value(), indent + 1);
            }
            newline(indent);
            out += '}';
            break;
        }
    }
}

}  // namespace

Json5Result parse_json5(std::string_view text) {
    if (text.size() > kMaxJson5Bytes) {
        return Json5Error{"JSON5: input too large (" + std::to_string(text.size()) + " bytes, limit " +
                              std::to_string(kMaxJson5Bytes) + ")",
                          0, 0};
    }
    try {
        return Parser(text).parse_document();
    } catch (Failure& f) {
        return std::move(f.error);
    } catch (const std::bad_alloc&) {
        return Json5Error{"JSON5: out of memory", 0, 0};
    }
}

std::string serialize_pretty(const boost::json::value& v) {
    std::string out;
    write_pretty(out, v, 0);
    return out;
}

std::string format_number(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == 0) return "0";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
    const std::string_view sci(buf, std::size_t(res.ptr - buf));  // shortest round trip: "d.ddde+XX"
    const auto e_pos = sci.find('e');
    std::string digits;
    for (char ch : sci.substr(0, e_pos)) {
        if (ch != '.') digits += ch;
    }
    int exp10 = 0;
    const std::string_view exp_text = sci.substr(e_pos + 1);
    std::from_chars(exp_text.data() + (exp_text[0] == '+' ? 1 : 0), exp_text.data() + exp_text.size(), exp10);
    // ECMAScript Number::toString with k digits and decimal point position n.
    const int k = int(digits.size());
    const int n = exp10 + 1;
    std::string out = d < 0 ? "-" : "";
    if (k <= n && n <= 21) {
        out += digits;
        out.append(std::size_t(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, std::size_t(n));
        out += '.';
        out += digits.substr(std::size_t(n));
    } else if (-6 < n && n <= 0) {
        out += "0.";
        out.append(std::size_t(-n), '0');
        out += digits;
    } else {
        const int e = n - 1;
        out += digits[0];
        if (k > 1) {
            out += '.';
            out += digits.substr(1);
        }
        out += e >= 0 ? "e+" : "e-";
        out += std::to_string(e >= 0 ? e : -e);
    }
    return out;
}

}  // namespace pincer::config
