// The control socket against misbehaving clients: garbage, wrong types, oversize requests,
// hang-ups mid-request, clients that never read or never send, and its file permissions.
// The server runs on an EventLoop that the test pumps between client actions.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "base/error.h"
#include "switch/ctl_server.h"
#include "switch/event_loop.h"

namespace tapswitch {
namespace {

std::string temp_path(const char* tag) {
  return "/tmp/tapswitch-ctl-test-" + std::to_string(::getpid()) + "-" + tag + ".sock";
}

class Harness {
 public:
  explicit Harness(const char* tag, CtlServerOptions opts = {}, size_t reply_size = 0)
      : server(temp_path(tag), opts), reply_size_(reply_size) {
    server.attach(loop, [this](const CtlRequest& r) {
      ++calls;
      if (!r.argv.empty() && r.argv[0] == "unknown") return CtlReply::failure("unknown command");
      CtlReply out;
      std::string joined;
      for (const auto& a : r.argv) joined += (joined.empty() ? "" : " ") + a;
      out.text = reply_size_ ? std::string(reply_size_, 'x') : joined;
      out.data = {{"argv", r.argv}};
      return out;
    });
  }

  UniqueFd connect_client() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", server.path().c_str());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    pump();  // accept
    return fd;
  }

  void pump(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) loop.run_once(1);
  }

  // Sends raw bytes (all of them), pumping the server meanwhile.
  void send_all(int fd, const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) off += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN) FAIL() << "send: " << std::strerror(errno);
      pump(1);
    }
  }

  // Reads one reply line (pumping the server), or "" at EOF.
  std::string read_line(int fd) {
    for (int i = 0; i < 5000; ++i) {
      size_t nl = pending_.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return line;
      }
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        pending_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) return "";
      pump(1);
    }
    ADD_FAILURE() << "no reply";
    return "";
  }

  // True once the server has closed the connection (reading what it sent until EOF).
  bool closed_by_server(int fd) {
    for (int i = 0; i < 5000; ++i) {
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN) return true;
      if (n < 0) pump(1);
    }
    return false;
  }

  EventLoop loop;
  CtlServer server;
  int calls = 0;

 private:
  size_t reply_size_;
  std::string pending_;
};

nlohmann::json parse(const std::string& line) { return nlohmann::json::parse(line); }

std::string error_of(const std::string& line) {
  auto j = parse(line);
  EXPECT_FALSE(j["ok"].get<bool>()) << line;
  return j.value("error", "");
}

TEST(CtlServer, AnswersTextAndJson) {
  Harness h("basic");
  UniqueFd c = h.connect_client();
  h.send_all(c.get(), R"({"argv": ["show", "ports"]})" "\n" R"({"argv": ["show", "ports"], "json": true})" "\n");
  auto a = parse(h.read_line(c.get()));
  EXPECT_TRUE(a["ok"].get<bool>());
  EXPECT_EQ(a["text"], "show ports");
  auto b = parse(h.read_line(c.get()));
  EXPECT_EQ(b["data"]["argv"][1], "ports");
}

TEST(CtlServer, BadRequestsGetErrorsAndTheConnectionStaysUsable) {
  Harness h("bad");
  UniqueFd c = h.connect_client();
  static const char kNul[] = "{\"argv\": [\"a\0b\"]}";
  const std::pair<std::string, std::string> cases[] = {
      {"garbage", "not valid JSON"},
      {"{\"argv\": [\"sh", "not valid JSON"},
      {"[1, 2]", "expected {\"argv\""},
      {"{\"argv\": \"show ports\"}", "expected {\"argv\""},
      {"{\"args\": [\"show\"]}", "expected {\"argv\""},
      {"{\"argv\": [\"show\", 7]}", "argv must hold strings"},
      {"{\"argv\": [\"show\"], \"json\": \"yes\"}", "json must be true or false"},
      {"{\"argv\": [\"\xff\xfe\"]}", "not valid JSON"},
      {std::string(kNul, sizeof kNul - 1), "not valid JSON"},
      {std::string(30000, '[') + std::string(30000, ']'), "expected {\"argv\""},
      {"{\"argv\": [\"unknown\"]}", "unknown command"},
  };
  for (const auto& [req, want] : cases) {
    h.send_all(c.get(), req + "\n");
    std::string err = error_of(h.read_line(c.get()));
    EXPECT_NE(err.find(want), std::string::npos) << "request " << req.substr(0, 40) << " -> " << err;
  }
  EXPECT_EQ(h.calls, 1);  // only the well-formed unknown command reached the handler
  h.send_all(c.get(), "\n  \n{\"argv\": [\"still\", \"here\"]}\n");
  EXPECT_EQ(parse(h.read_line(c.get()))["text"], "still here");
}

TEST(CtlServer, OversizedRequestIsRefusedAndClosed) {
  Harness h("big");
  UniqueFd c = h.connect_client();
  std::string big = "{\"argv\": [\"" + std::string(CtlServer::kMaxRequest + 100, 'a') + "\"]}\n";
  h.send_all(c.get(), big);
  EXPECT_NE(error_of(h.read_line(c.get())).find("request too large"), std::string::npos);
  EXPECT_TRUE(h.closed_by_server(c.get()));
  EXPECT_EQ(h.server.clients(), 0u);
  EXPECT_EQ(h.calls, 0);
}

TEST(CtlServer, EndlessLineWithoutNewlineIsRefused) {
  Harness h("endless");
  UniqueFd c = h.connect_client();
  h.send_all(c.get(), std::string(CtlServer::kMaxRequest + 20000, 'z'));
  EXPECT_NE(error_of(h.read_line(c.get())).find("request too large"), std::string::npos);
  EXPECT_TRUE(h.closed_by_server(c.get()));
}

TEST(CtlServer, HalfRequestThenHangUp) {
  Harness h("half");
  {
    UniqueFd c = h.connect_client();
    h.send_all(c.get(), "{\"argv\": [\"show\", \"po");
  }  // closed
  h.pump(10);
  EXPECT_EQ(h.server.clients(), 0u);
  EXPECT_EQ(h.calls, 0);
  UniqueFd d = h.connect_client();  // the server still serves
  h.send_all(d.get(), "{\"argv\": [\"ok\"]}\n");
  EXPECT_EQ(parse(h.read_line(d.get()))["text"], "ok");
}

TEST(CtlServer, LastRequestWithoutNewlineIsAnsweredAtShutdown) {
  Harness h("shutwr");
  UniqueFd c = h.connect_client();
  h.send_all(c.get(), "{\"argv\": [\"a\"]}\n{\"argv\": [\"b\"]}");
  ::shutdown(c.get(), SHUT_WR);
  EXPECT_EQ(parse(h.read_line(c.get()))["text"], "a");
  EXPECT_EQ(parse(h.read_line(c.get()))["text"], "b");
  EXPECT_TRUE(h.closed_by_server(c.get()));
}

TEST(CtlServer, IdleClientIsDisconnectedWhileOthersAreServed) {
  CtlServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(100);
  Harness h("idle", o);
  UniqueFd stuck = h.connect_client();
  UniqueFd busy = h.connect_client();
  EXPECT_EQ(h.server.clients(), 2u);
  h.send_all(busy.get(), "{\"argv\": [\"x\"]}\n");
  EXPECT_EQ(parse(h.read_line(busy.get()))["text"], "x");
  // Only the stuck one goes; the busy one keeps making progress.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (h.server.clients() == 2 && std::chrono::steady_clock::now() < deadline) {
    h.send_all(busy.get(), "{\"argv\": [\"y\"]}\n");
    EXPECT_EQ(parse(h.read_line(busy.get()))["text"], "y");
    h.loop.run_once(20);
  }
  EXPECT_TRUE(h.closed_by_server(stuck.get()));
}

TEST(CtlServer, ClientThatNeverReadsIsHeldBackNotBuffered) {
  CtlServerOptions o;
  o.max_pending_output = 256 * 1024;
  Harness h("noread", o, 64 * 1024);  // every reply is 64 KiB
  UniqueFd c = h.connect_client();
  ::fcntl(c.get(), F_SETFL, O_NONBLOCK);
  const std::string req = "{\"argv\": [\"r\"], \"pad\": \"" + std::string(1000, 'p') + "\"}\n";
  // Write requests without reading until the socket refuses more: the server must stop reading
  // them (and so stop producing replies) rather than buffer replies without bound.
  int sent = 0;
  for (int i = 0; i < 20000; ++i) {
    ssize_t n = ::send(c.get(), req.data(), req.size(), MSG_NOSIGNAL);
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN);
      h.pump(5);
      n = ::send(c.get(), req.data(), req.size(), MSG_NOSIGNAL);
      if (n < 0) break;
    }
    ASSERT_EQ(static_cast<size_t>(n), req.size());
    ++sent;
    h.pump(1);
  }
  EXPECT_LT(sent, 20000) << "the server kept reading from a client that never reads";
  EXPECT_LT(h.calls, 40) << "replies were produced without bound";
  // Once the client reads, every request is answered, in order.
  for (int i = 0; i < sent; ++i) {
    auto j = parse(h.read_line(c.get()));
    ASSERT_TRUE(j["ok"].get<bool>());
    ASSERT_EQ(j["text"].get<std::string>().size(), 64u * 1024);
  }
  EXPECT_EQ(h.calls, sent);
}

TEST(CtlServer, TooManyClientsAreTurnedAway) {
  Harness h("many");
  std::vector<UniqueFd> held;
  for (size_t i = 0; i < CtlServer::kMaxClients; ++i) held.push_back(h.connect_client());
  UniqueFd extra = h.connect_client();
  EXPECT_NE(error_of(h.read_line(extra.get())).find("too many"), std::string::npos);
  held.clear();
  h.pump(10);
  UniqueFd again = h.connect_client();
  h.send_all(again.get(), "{\"argv\": [\"back\"]}\n");
  EXPECT_EQ(parse(h.read_line(again.get()))["text"], "back");
}

TEST(CtlServer, SocketIsPrivateByDefault) {
  Harness h("mode");
  struct stat st{};
  ASSERT_EQ(::stat(h.server.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST(CtlServer, GroupOpensItToTheGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the socket to another group";
  CtlServerOptions o;
  o.group = "users";  // gid 100 on Debian
  Harness h("group", o);
  struct stat st{};
  ASSERT_EQ(::stat(h.server.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, 100u);
}

TEST(CtlServer, UnknownGroupFailsBeforeCreatingTheSocket) {
  CtlServerOptions o;
  o.group = "no-such-group-tapswitch";
  const std::string path = temp_path("nogroup");
  try {
    CtlServer s(path, o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--ctl-group: there is no group named 'no-such-group-tapswitch'"),
              std::string::npos)
        << e.what();
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace tapswitch
