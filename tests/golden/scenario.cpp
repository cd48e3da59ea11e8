#include "tests/golden/scenario.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>


namespace tapswitch::test {

namespace {

// A statement: its first line plus any indented continuation lines, comments removed.
struct Statement {
  int line;
  std::vector<std::string> tokens;
};

std::vector<Statement> split_statements(std::istream& in, const std::string& name) {
  std::vector<Statement> out;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    std::istringstream words(text);
    std::vector<std::string> tokens;
    for (std::string w; words >> w;) tokens.push_back(w);
    if (tokens.empty()) continue;
    if (std::isspace(static_cast<unsigned char>(text[0]))) {
      if (out.empty()) throw ScenarioError(name + ":" + std::to_string(line) + ": indented line continues nothing");
      out.back().tokens.insert(out.back().tokens.end(), tokens.begin(), tokens.end());
    } else {
      out.push_back({line, std::move(tokens)});
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  Scenario run(std::istream& in) {
    for (auto& st : split_statements(in, name_)) {
      line_ = st.line;
      statement(st.tokens);
    }
    if (sc_.ports.empty()) error("no `ports` statement");
    return std::move(sc_);
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    throw ScenarioError(name_ + ":" + std::to_string(line_) + ": " + what);
  }

  void statement(const std::vector<std::string>& t) {
    const std::string& kw = t[0];
    if (kw == "ports") return ports(t);
    if (sc_.ports.empty()) error("`ports` must come first");
    if (kw == "frame") return frame(t);
    if (kw == "fdb") return fdb(t);
    if (kw == "fdb-count") return fdb_count(t);
    error("unknown statement `" + kw + "`");
  }

  void ports(const std::vector<std::string>& t) {
    if (!sc_.ports.empty()) error("`ports` given twice");
    if (t.size() < 2) error("`ports` needs at least one port name");
    if (t.size() - 1 > kMaxPorts) error("too many ports");
    for (size_t i = 1; i < t.size(); ++i) {
      if (t[i] == "->" || t[i] == "flood" || t[i] == "none" || t[i].rfind("drop:", 0) == 0)
        error("`" + t[i] + "` is a keyword, not a port name");
      if (std::find(sc_.ports.begin(), sc_.ports.end(), t[i]) != sc_.ports.end())
        error("port `" + t[i] + "` named twice");
      sc_.ports.push_back(t[i]);
    }
  }

  uint16_t port(const std::string& name) const {
    auto it = std::find(sc_.ports.begin(), sc_.ports.end(), name);
    if (it == sc_.ports.end()) error("unknown port `" + name + "`");
    return static_cast<uint16_t>(it - sc_.ports.begin());
  }

  // frame PORT [HEX...] -> [flood] PORT... | drop:REASON
  void frame(const std::vector<std::string>& t) {
    if (t.size() < 3) error("usage: frame PORT HEX... -> PORTS | drop:REASON");
    FrameStep f;
    f.in = port(t[1]);
    size_t i = 2;
    for (; i < t.size() && t[i] != "->"; ++i) append_hex(t[i], f.bytes);
    if (i == t.size()) error("missing `->` and the expected outcome");
    ++i;
    if (i == t.size()) error("nothing after `->`");
    if (t[i].rfind("drop:", 0) == 0) {
      f.drop = drop_reason(t[i].substr(5));
      if (i + 1 != t.size()) error("a dropped frame goes nowhere: nothing may follow " + t[i]);
    } else {
      if (t[i] == "flood") {
        f.flood = true;
        if (++i == t.size()) error("`flood` needs the ports it reaches");
      }
      for (; i < t.size(); ++i) {
        uint16_t p = port(t[i]);
        if (p == f.in) error("a frame never leaves through its ingress port `" + t[i] + "`");
        if (std::find(f.out.begin(), f.out.end(), p) != f.out.end())
          error("port `" + t[i] + "` listed twice");
        f.out.push_back(p);
      }
      std::sort(f.out.begin(), f.out.end());
    }
    sc_.steps.push_back({line_, std::move(f)});
  }

  void append_hex(const std::string& tok, std::vector<uint8_t>& out) const {
    if (tok.size() % 2) error("odd number of hex digits in `" + tok + "`");
    for (size_t i = 0; i < tok.size(); i += 2) {
      int hi = hex_digit(tok[i]), lo = hex_digit(tok[i + 1]);
      if (hi < 0 || lo < 0) error("not hex: `" + tok + "`");
      out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
  }

  DropReason drop_reason(const std::string& r) const {
    // Only reasons decided at ingress: tx_full is an egress port's and not scripted here.
    for (DropReason d : {DropReason::runt, DropReason::same_port, DropReason::no_dest,
                         DropReason::filtered, DropReason::bad_source})
      if (r == to_string(d)) return d;
    error("unknown drop reason `" + r + "` (runt, same_port, no_dest, filtered, bad_source)");
  }

  // fdb MAC vlan N -> PORT | none
  void fdb(const std::vector<std::string>& t) {
    if (t.size() != 6 || t[2] != "vlan" || t[4] != "->") error("usage: fdb MAC vlan N -> PORT | none");
    FdbCheck c;
    c.mac = parse_mac(t[1]);
    c.vlan = static_cast<uint16_t>(number(t[3], 4095));
    c.port = t[5] == "none" ? kNoPort : port(t[5]);
    sc_.steps.push_back({line_, c});
  }

  // fdb-count N
  void fdb_count(const std::vector<std::string>& t) {
    if (t.size() != 2) error("usage: fdb-count N");
    sc_.steps.push_back({line_, FdbCountCheck{number(t[1], 1u << 30)}});
  }

  Mac parse_mac(const std::string& s) const {
    Mac m{};
    if (s.size() != 17) error("bad MAC `" + s + "` (want xx:xx:xx:xx:xx:xx)");
    for (size_t i = 0; i < 6; ++i) {
      int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
      if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) error("bad MAC `" + s + "`");
      m[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return m;
  }

  uint64_t number(const std::string& s, uint64_t max) const {
    if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), ::isdigit))
      error("bad number `" + s + "`");
    uint64_t v = std::stoull(s);
    if (v > max) error("`" + s + "` is out of range (max " + std::to_string(max) + ")");
    return v;
  }

  std::string name_;
  int line_ = 0;
  Scenario sc_;
};

}  // namespace

Scenario parse_scenario(std::istream& in, const std::string& name) { return Parser(name).run(in); }

Scenario parse_scenario_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScenarioError(path + ": cannot open");
  return parse_scenario(in, path);
}

}  // namespace tapswitch::test
