#include "base/inherited_fds.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

#include <fmt/format.h>

namespace tapswitch::inherited_fds {
namespace {

std::set<int>& on_offer() {
  static std::set<int> fds;
  return fds;
}

std::set<int>& taken() {
  static std::set<int> fds;
  return fds;
}

}  // namespace

void record() {
  std::set<int> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string n = e.path().filename().string();
    char* end = nullptr;
    const long fd = std::strtol(n.c_str(), &end, 10);
    if (end && *end == '\0' && fd > STDERR_FILENO) found.insert(static_cast<int>(fd));
  }
  // The directory's own fd was open while it was read: it is closed now.
  for (auto it = found.begin(); it != found.end();)
    it = ::fcntl(*it, F_GETFD) < 0 ? found.erase(it) : std::next(it);
  on_offer() = std::move(found);
  taken().clear();
}

std::string unavailable(int fd) {
  if (on_offer().count(fd)) return {};
  if (taken().count(fd)) return fmt::format("fd {} was adopted by a port already", fd);
  if (::fcntl(fd, F_GETFD) < 0) return fmt::format("fd {} is not open (was it passed to tapswitch?)", fd);
  return fmt::format("fd {} was not inherited by tapswitch from its parent, it is one of the switch's own (a "
                     "tapfd: port adopts only inherited fds)",
                     fd);
}

void adopted(int fd) {
  if (!on_offer().erase(fd)) return;
  ::close(fd);
  taken().insert(fd);
}

}  // namespace tapswitch::inherited_fds
