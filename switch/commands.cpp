#include "switch/commands.h"

#include <rte_ether.h>

#include <algorithm>

#include "base/error.h"
#include "switch/switch.h"
#include "switch/text_table.h"

namespace tapswitch {

std::string format_mac(const uint8_t mac[6]) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4],
                     mac[5]);
}

void expect_no_args(const std::vector<std::string>& args) {
  if (!args.empty()) fail("unexpected argument '{}'", args.front());
}

std::vector<std::pair<std::string, uint64_t>> port_drops(const SwitchPortTotals& t, const PortStats& ps) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (unsigned i = 0; i < kDropReasons; ++i) out.emplace_back(to_string(static_cast<DropReason>(i)), t.drops[i]);
  out.insert(out.end(), {{"rx_nombuf", ps.rx_nombuf},
                         {"rx_oversize", ps.rx_oversize},
                         {"rx_missed", ps.rx_missed},
                         {"rx_errors", ps.rx_errors},
                         {"tx_errors", ps.tx_errors},
                         {"tx_link_down", ps.tx_link_down}});
  return out;
}

Commands::Commands(Switch& sw) {
  commands_.push_back(Command{{"help"}, "", "list the commands", [this](const std::vector<std::string>& args) {
                                expect_no_args(args);
                                CommandOutput out;
                                out.data = nlohmann::json::array();
                                TextTable t({"COMMAND", "DESCRIPTION"});
                                for (const auto& c : commands_) {
                                  std::string words;
                                  for (const auto& w : c.words) words += (words.empty() ? "" : " ") + w;
                                  if (!c.usage.empty()) words += " " + c.usage;
                                  out.data.push_back({{"command", words}, {"help", c.help}});
                                  t.row({words, c.help});
                                }
                                out.text = t.render();
                                return out;
                              }});
  add_port_commands(commands_, sw);
  add_fdb_commands(commands_, sw);
  add_stats_commands(commands_, sw);
  add_capture_commands(commands_, sw);
  add_log_commands(commands_);
}

CtlReply Commands::dispatch(const CtlRequest& req) const {
  // The longest command whose words prefix the request wins ("show fdb stats" over "show fdb").
  const Command* best = nullptr;
  for (const auto& c : commands_) {
    if (c.words.size() > req.argv.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), req.argv.begin())) continue;
    if (!best || c.words.size() > best->words.size()) best = &c;
  }
  if (!best) {
    std::string what;
    for (const auto& a : req.argv) what += (what.empty() ? "" : " ") + a;
    if (what.empty()) return CtlReply::failure("empty command (try 'help')");
    // The first words of a longer command ("show", "port"): say what may follow.
    std::vector<std::string> next;
    for (const auto& c : commands_)
      if (c.words.size() > req.argv.size() && std::equal(req.argv.begin(), req.argv.end(), c.words.begin()) &&
          std::find(next.begin(), next.end(), c.words[req.argv.size()]) == next.end())
        next.push_back(c.words[req.argv.size()]);
    if (!next.empty()) return CtlReply::failure(fmt::format("'{}' needs one of: {}", what, fmt::join(next, " | ")));
    // The words may hold control characters (tapswitchctl prints the error to a terminal).
    return CtlReply::failure("unknown command '" + printable(what) + "' (try 'help')");
  }
  std::vector<std::string> args(req.argv.begin() + static_cast<long>(best->words.size()), req.argv.end());
  CommandOutput out = best->run_req ? best->run_req(req, args) : best->run(args);
  CtlReply r;
  r.data = std::move(out.data);
  r.text = std::move(out.text);
  return r;
}

}  // namespace tapswitch
