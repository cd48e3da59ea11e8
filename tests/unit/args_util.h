// Parsing a tapswitch command line from a list of strings, for the option tests.
#pragma once

#include <string>
#include <vector>

#include "switch/config.h"

namespace tapswitch::test {

// parse_args() of "tapswitch" followed by `args`; throws Error as parse_args does.
inline ParsedArgs parse_argv(std::vector<std::string> args) {
  args.insert(args.begin(), "tapswitch");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

}  // namespace tapswitch::test
