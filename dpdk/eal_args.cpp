#include "dpdk/eal_args.h"

#include <algorithm>

#include "base/error.h"

namespace tapswitch {

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote) fail("unterminated quote in '{}'", s);
  if (in_word) words.push_back(std::move(cur));
  return words;
}

std::string format_cpuset(const std::vector<unsigned>& cpus_in) {
  std::vector<unsigned> cpus = cpus_in;
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

namespace {

bool names_option(const std::vector<std::string>& args, std::initializer_list<const char*> opts) {
  for (const auto& a : args) {
    for (const char* o : opts) {
      std::string opt = o;
      if (a == opt) return true;
      // --opt=value, and -lVALUE for short options
      if (opt.rfind("--", 0) == 0 ? a.rfind(opt + "=", 0) == 0
                                  : (a.size() > opt.size() && a.rfind(opt, 0) == 0))
        return true;
    }
  }
  return false;
}

std::string lcores_map(const EalArgsInput& in) {
  const std::string all = "(" + format_cpuset(in.allowed_cpus) + ")";
  std::string map = "0@" + all;
  for (unsigned w = 0; w < in.workers; ++w) {
    map += ',' + std::to_string(w + 1) + '@';
    map += in.worker_cpus.empty() ? all : "(" + std::to_string(in.worker_cpus[w]) + ")";
  }
  return map;
}

}  // namespace

std::vector<std::string> build_eal_args(const EalArgsInput& in) {
  std::vector<std::string> args;
  if (in.user.empty()) {
    args = {"--no-huge", "--no-pci", "--no-shconf", "-m", std::to_string(in.memory_mb),
            "--log-level=lib.eal:notice"};
  } else {
    args = split_words(in.user);
  }
  if (!names_option(args, {"-l", "-c", "--lcores"})) {
    args.push_back("--lcores=" + lcores_map(in));
  }
  if (!names_option(args, {"--file-prefix"})) {
    args.push_back("--file-prefix=" + in.file_prefix);
  }
  return args;
}

}  // namespace tapswitch
