// Differential-test driver: parses each file named on the command line with pincer's JSON5 parser
// and prints "<file>\tOK <canonical>" or "<file>\tERR <message>", one line per file. The canonical
// form is shared with json5_diff.js: object keys sorted by code point, numbers as JavaScript
// prints the double (so int64 results are compared as JavaScript would see them), NaN/Infinity
// spelled out, and every non-printable-ASCII character as a \uXXXX UTF-16 escape.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "config/json5.hpp"

namespace {

std::u32string to_code_points(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
        for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
        out += cp;
        i += n;
    }
    return out;
}

void write_string(std::string& out, std::string_view s) {
    char buf[16];
    out += '"';
    for (char32_t cp : to_code_points(s)) {
        auto unit = [&](unsigned u) {
            if (u == '"' || u == '\\') {
                out += '\\';
                out += char(u);
            } else if (u < 0x20 || u > 0x7E) {
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += char(u);
            }
        };
        if (cp >= 0x10000) {
            unit(0xD800 + ((cp - 0x10000) >> 10));
            unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            unit(cp);
        }
    }
    out += '"';
}

void write_canonical(std::string& out, const boost::json::value& v) {
    using pincer::config::format_number;
    switch (v.kind()) {
        case boost::json::kind::null:
            out += "null";
            break;
        case boost::json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            break;
        case boost::json::kind::int64:
            out += format_number(double(v.get_int64()));
            break;
        case boost::json::kind::uint64:
            out += format_number(double(v.get_uint64()));
            break;
        case boost::json::kind::double_:
            out += format_number(v.get_double());
            break;
        case boost::json::kind::string:
            write_string(out, v.get_string());
            break;
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) out += ',';
                first = false;
                write_canonical(out, e);
            }
            out += ']';
            break;
        }
        case boost::json::kind::object: {
            std::vector<const boost::json::key_value_pair*> kvs;
            for (const auto& kv : v.get_object()) kvs.push_back(&kv);
            std::sort(kvs.begin(), kvs.end(),
                      [](auto* a, auto* b) { return to_code_points(a->key()) < to_code_points(b->key()); });
            out += '{';
            bool first = true;
            for (const auto* kv : kvs) {
                if (!first) out += ',';
                first = false;
                write_string(out, kv->key());
                out += ':';
                write_canonical(out, kv->value());
            }
            out += '}';
            break;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        if (!in) {
            std::cerr << "cannot read " << argv[i] << "\n";
            return 2;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        auto result = pincer::config::parse_json5(text);
        std::string line = argv[i];
        line += '\t';
        if (auto* err = std::get_if<pincer::config::Json5Error>(&result)) {
            line += "ERR " + err->message;
        } else {
            line += "OK ";
            write_canonical(line, std::get<boost::json::value>(result));
        }
        std::cout << line << '\n';
    }
    return 0;
}
