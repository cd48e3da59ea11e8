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
  // Sends one request (with pass_fd attached when >= 0) and waits for its reply. Returns false
  // with error() set if the connection fails or the reply is malformed; a reply with ok=false
  // is still returned (true).
  bool request(const std::vector<std::string>& argv, bool json, nlohmann::json& reply, int pass_fd = -1);
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string buf_;
  std::string error_;
};

}  // namespace tapswitch
