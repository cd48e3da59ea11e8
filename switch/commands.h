// The control commands behind tapswitchctl, shared by the control socket.
//
// A command is a sequence of words ("show fdb stats") followed by its arguments. Each produces
// JSON (for -j) or a readable text table from the same data. Handlers run on the control thread
// and throw Error for bad arguments; the server turns that into an error reply.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "switch/ctl_server.h"

namespace tapswitch {

class Switch;
struct PortStats;
struct SwitchPortTotals;

struct CommandOutput {
  nlohmann::json data;
  std::string text;
};

struct Command {
  std::vector<std::string> words;
  std::string usage;  // arguments after the words, for help
  std::string help;
  std::function<CommandOutput(const std::vector<std::string>& args)> run;
  // Instead of run, for commands that need the request itself (a passed fd, the client).
  std::function<CommandOutput(const CtlRequest& req, const std::vector<std::string>& args)> run_req = nullptr;
};

class Commands {
 public:
  explicit Commands(Switch& sw);
  CtlReply dispatch(const CtlRequest& req) const;
  const std::vector<Command>& list() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

// Registration, one function per area (commands_*.cpp).
void add_port_commands(std::vector<Command>& out, Switch& sw);
void add_fdb_commands(std::vector<Command>& out, Switch& sw);
void add_stats_commands(std::vector<Command>& out, Switch& sw);
void add_capture_commands(std::vector<Command>& out, Switch& sw);
void add_log_commands(std::vector<Command>& out);

// Shared formatting helpers.
std::string format_mac(const uint8_t mac[6]);
void expect_no_args(const std::vector<std::string>& args);
// Every drop reason of a port by name: the switch's own, then the port's (show ports, show stats).
std::vector<std::pair<std::string, uint64_t>> port_drops(const SwitchPortTotals& t, const PortStats& ps);

}  // namespace tapswitch
