// Errors of the control plane: configuration, port setup, control requests.
//
// Control-plane code reports a failure by throwing tapswitch::Error with a message a user can
// act on ("tap:vm1: interface exists and is not a tap"), in one printable line (fail()). The
// data path never throws; it returns counts and counts its drops.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace tapswitch {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// `text` as one printable line, for quoting what a user gave in a message: every byte of a
// control character (C0, DEL, C1), of U+2028/U+2029 (line breaks to some readers) or of
// anything that is not UTF-8 is written as \xNN; the rest (printable ASCII and UTF-8) stays.
// Printable text comes back unchanged, so it may be applied twice.
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t len = 0;  // of a printable character starting at i
    if (c >= 0x20 && c < 0x7f) {
      len = 1;
    } else if (c >= 0xc2 && c <= 0xf4) {
      const size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      uint32_t cp = c & (0x7f >> n);
      bool ok = i + n <= text.size();
      for (size_t k = 1; ok && k < n; ++k) {
        const auto d = static_cast<unsigned char>(text[i + k]);
        ok = (d & 0xc0) == 0x80;
        cp = cp << 6 | (d & 0x3f);
      }
      const uint32_t least = n == 2 ? 0xa0 : n == 3 ? 0x800 : 0x10000;  // below 0xa0: C1 controls
      if (ok && cp >= least && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) && cp != 0x2028 && cp != 0x2029)
        len = n;
    }
    if (len) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

// Throws Error with the formatted message made printable(): messages quote what users wrote
// (a port spec, a value, a command's words, a line of a config file), which may hold a line
// break, an escape sequence, a NUL (what() would end there) or bytes that are not UTF-8.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(printable(fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace tapswitch
