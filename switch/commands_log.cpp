// log level [LEVEL]
//
// Changes the level of tapswitch's log (spdlog, which also carries DPDK's messages) while the
// switch runs. Without LEVEL it shows the current one.
#include <spdlog/spdlog.h>

#include "base/error.h"
#include "switch/commands.h"

namespace tapswitch {

namespace {

constexpr const char* kLevelNames[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

std::string level_name(spdlog::level::level_enum l) {
  const auto sv = spdlog::level::to_string_view(l);
  std::string s(sv.data(), sv.size());
  return s == "warning" ? "warn" : s;
}

CommandOutput log_level(const std::vector<std::string>& args) {
  if (args.size() > 1) fail("usage: log level [trace|debug|info|warn|error|critical|off]");
  CommandOutput out;
  const std::string before = level_name(spdlog::get_level());
  if (args.empty()) {
    out.data = {{"level", before}};
    out.text = "log level " + before + "\n";
    return out;
  }
  const std::string& want = args[0];
  bool known = false;
  for (const char* n : kLevelNames) known |= want == n;
  if (!known) fail("log level: '{}' is not one of trace, debug, info, warn, error, critical, off", want);
  // The change itself is logged at info under whichever of the two levels shows it.
  const auto level = spdlog::level::from_str(want);
  if (level > spdlog::level::info) spdlog::info("log level changed from {} to {}", before, want);
  spdlog::set_level(level);
  if (level <= spdlog::level::info && want != before) spdlog::info("log level changed from {} to {}", before, want);
  out.data = {{"level", want}, {"previous", before}};
  out.text = "log level " + want + " (was " + before + ")\n";
  return out;
}

}  // namespace

void add_log_commands(std::vector<Command>& out) {
  out.push_back({{"log", "level"}, "[LEVEL]", "show or set the log level: trace debug info warn error critical off",
                 [](const std::vector<std::string>& a) { return log_level(a); }});
}

}  // namespace tapswitch
