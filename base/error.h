// Errors of the control plane: configuration, port setup, control requests.
//
// Control-plane code reports a failure by throwing tapswitch::Error with a message a user can
// act on ("tap:vm1: interface exists and is not a tap"). The data path never throws; it
// returns counts and counts its drops.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace tapswitch {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tapswitch
