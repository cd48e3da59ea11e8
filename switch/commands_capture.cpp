// capture start|status|stop: the daemon's half of `tapswitchctl capture`.
#include <unistd.h>

#include <charconv>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "switch/commands.h"
#include "switch/switch.h"

namespace tapswitch {

namespace {

uint64_t number(const std::string& what, const std::string& v) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) fail("{}: '{}' is not a number", what, v);
  return n;
}

nlohmann::json status_json(const CaptureReport& r) {
  const CaptureStatus& s = r.status;
  nlohmann::json j = {{"id", s.id}, {"port", s.port}, {"written", s.written}, {"dropped", s.dropped}, {"done", s.done}};
  if (!s.error.empty()) j["error"] = s.error;
  if (!r.ended.empty()) j["ended"] = r.ended;
  return j;
}

CommandOutput reply(const CaptureReport& r) {
  const CaptureStatus& s = r.status;
  CommandOutput out;
  out.data = status_json(r);
  out.text = fmt::format("capture {} on {}: {} frames written, {} dropped{}{}{}\n", s.id, s.port, s.written, s.dropped,
                         s.done ? ", done" : "", r.ended.empty() ? "" : " (" + r.ended + ")",
                         s.error.empty() ? "" : " (" + s.error + ")");
  return out;
}

CommandOutput capture_start(Switch& sw, const CtlRequest& req, const std::vector<std::string>& args) {
  if (args.empty()) fail("usage: capture start PORT [--dir rx|tx|both] [--count N] [--snaplen N]");
  CaptureOptions opt;
  opt.port = args[0];
  for (size_t i = 1; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) fail("capture: {} needs a value", args[i]);
    const std::string& k = args[i];
    const std::string& v = args[i + 1];
    if (k == "--dir") {
      if (v == "rx") opt.tx = false;
      else if (v == "tx") opt.rx = false;
      else if (v != "both") fail("capture: --dir '{}' is not rx, tx or both", v);
    } else if (k == "--count") {
      opt.count = number("--count", v);
    } else if (k == "--snaplen") {
      uint64_t n = number("--snaplen", v);
      if (n < 14 || n > 65535) fail("capture: --snaplen {} is not between 14 and 65535", n);
      opt.snaplen = static_cast<uint32_t>(n);
    } else {
      fail("capture: unknown option '{}'", k);
    }
  }
  UniqueFd fd(req.fd >= 0 ? ::dup(req.fd) : -1);
  uint64_t id = sw.capture_manager().start(opt, std::move(fd), req.client);
  CommandOutput out;
  out.data = {{"id", id}};
  out.text = fmt::format("capture {} started on {}\n", id, opt.port);
  return out;
}

}  // namespace

void add_capture_commands(std::vector<Command>& out, Switch& sw) {
  out.push_back({{"capture", "start"}, "PORT [--dir rx|tx|both] [--count N] [--snaplen N]",
                 "start writing a port's frames as pcapng to the file passed with the request "
                 "(use: tapswitchctl capture PORT -w FILE)",
                 nullptr, [&sw](const CtlRequest& r, const std::vector<std::string>& a) { return capture_start(sw, r, a); }});
  out.push_back({{"capture", "status"}, "ID", "frames written and dropped by a capture",
                 [&sw](const std::vector<std::string>& a) {
                   if (a.size() != 1) fail("usage: capture status ID");
                   return reply(sw.capture_manager().status(number("capture", a[0])));
                 }});
  out.push_back({{"capture", "stop"}, "ID", "stop a capture and close its file",
                 [&sw](const std::vector<std::string>& a) {
                   if (a.size() != 1) fail("usage: capture stop ID");
                   return reply(sw.capture_manager().stop(number("capture", a[0])));
                 }});
}

}  // namespace tapswitch
