// CtlClient: tapswitchctl's connection to the control socket (one JSON line each way).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tapswitch {

class CtlClient {
 public:
  // Connects; on failure error() says why and connected() is false.
  explicit CtlClient(const std::string& path);
  ~CtlClient();
  CtlClient(const CtlClient&) = delete;
  CtlClient& operator=(const CtlClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends one request (with pass_fd attached when >= 0) and waits up to 10 s for its reply;
  // signals that interrupt the wait do not end it. Returns false with error() set if the
  // connection fails or the reply is malformed; a reply with ok=false is still returned (true).
  bool request(const std::vector<std::string>& argv, bool json, nlohmann::json& reply, int pass_fd = -1);
  const std::string& error() const { return error_; }
  // After a failed request: the switch closed the connection (it stopped, or went away).
  bool gone() const { return gone_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string buf_;
  std::string error_;
  bool gone_ = false;
};

}  // namespace tapswitch
