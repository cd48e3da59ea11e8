// Golden frames: every tests/golden/*.golden scenario replayed through the real Forwarder and
// Fdb (one test per file), plus tests that the runner and the parser themselves can fail.
//
// The directory is $TAPSWITCH_GOLDEN_DIR, else the source directory this was built from.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tests/golden/replay.h"
#include "tests/golden/scenario.h"

namespace tapswitch::test {
namespace {

std::string golden_dir() {
  if (const char* d = std::getenv("TAPSWITCH_GOLDEN_DIR"); d && *d) return d;
  return TAPSWITCH_GOLDEN_SOURCE_DIR;
}

std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(golden_dir(), ec))
    if (e.is_regular_file() && e.path().extension() == ".golden") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = std::filesystem::path(info.param).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Replay) {
  Scenario sc;
  try {
    sc = parse_scenario_file(GetParam());
  } catch (const ScenarioError& e) {
    FAIL() << e.what();
  }
  ASSERT_FALSE(sc.steps.empty()) << GetParam() << " checks nothing";
  replay(sc, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Files, Golden, ::testing::ValuesIn(golden_files()), test_name);
// An empty directory is reported by GoldenFiles.Found below, with the path.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

TEST(GoldenFiles, Found) {
  EXPECT_FALSE(golden_files().empty())
      << "no *.golden in " << golden_dir() << " (set TAPSWITCH_GOLDEN_DIR)";
}

// ---- the runner notices wrong expectations ----

// The failures replaying `text` reports, intercepted so that they do not fail this test.
std::vector<std::string> failures_of(const char* text) {
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    std::istringstream in(text);
    replay(parse_scenario(in, "inline"), "inline");
  }
  std::vector<std::string> out;
  for (int i = 0; i < results.size(); ++i) out.push_back(results.GetTestPartResult(i).message());
  return out;
}

::testing::AssertionResult Mentions(const std::vector<std::string>& failures, const std::string& what) {
  for (const auto& f : failures)
    if (f.find(what) != std::string::npos) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure() << "no failure mentions \"" << what << "\" among " << failures.size() << ":";
  for (const auto& f : failures) r << "\n" << f;
  return r;
}

// A broadcast from 02:00:00:00:00:01, 14 bytes.
#define BCAST "ffffffffffff 020000000001 88b5"

TEST(GoldenRunner, PassesACorrectScenario) {
  auto f = failures_of("ports a b c\nframe a " BCAST " -> flood b c\nfdb 02:00:00:00:00:01 vlan 0 -> a\n");
  EXPECT_TRUE(f.empty()) << f.front();
}

TEST(GoldenRunner, FailsOnAMissingEgressPort) {
  EXPECT_TRUE(Mentions(failures_of("ports a b c\nframe a " BCAST " -> flood b\n"), "frames out of c"));
}

TEST(GoldenRunner, FailsWhenAFloodIsNotMarked) {
  EXPECT_TRUE(Mentions(failures_of("ports a b c\nframe a " BCAST " -> b c\n"), "counters of a"));
}

TEST(GoldenRunner, FailsOnTheWrongDropReason) {
  EXPECT_TRUE(Mentions(failures_of("ports a\nframe a " BCAST " -> drop:runt\n"), "counters of a"));
}

TEST(GoldenRunner, FailsOnTheWrongFdbEntryOrCount) {
  EXPECT_TRUE(Mentions(
      failures_of("ports a b\nframe a " BCAST " -> flood b\nfdb 02:00:00:00:00:01 vlan 0 -> b\n"),
      "FDB entry of 02:00:00:00:00:01 vlan 0"));
  EXPECT_TRUE(Mentions(failures_of("ports a b\nframe a " BCAST " -> flood b\nfdb-count 2\n"), "FDB entries"));
}

TEST(GoldenRunner, ReportsTheScenarioLine) {
  EXPECT_TRUE(Mentions(failures_of("ports a b\n\nframe a " BCAST " -> flood b\nfdb-count 2\n"), "inline:4"));
}

// ---- the parser ----

Scenario parse(const std::string& text) {
  std::istringstream in(text);
  return parse_scenario(in, "t");
}

TEST(GoldenParser, ReadsFramesAcrossIndentedLinesAndComments) {
  Scenario sc = parse(
      "ports p0 p1 p2  # three\n"
      "frame p1\n"
      "  ffffffffffff 0200 00000001  # header\n"
      "\n"
      "  # a comment between continuation lines\n"
      "  88 B5\n"
      "  -> flood p2 p0\n"
      "frame p0 -> drop:runt\n"
      "fdb 02:00:00:00:00:0A vlan 10 -> none\n"
      "fdb-count 0\n");
  ASSERT_EQ(sc.ports.size(), 3u);
  ASSERT_EQ(sc.steps.size(), 4u);
  const auto& f = std::get<FrameStep>(sc.steps[0].what);
  EXPECT_EQ(sc.steps[0].line, 2);
  EXPECT_EQ(f.in, 1);
  EXPECT_EQ(f.bytes.size(), 14u);
  EXPECT_EQ(f.bytes[13], 0xb5);
  EXPECT_TRUE(f.flood);
  EXPECT_EQ(f.out, (std::vector<uint16_t>{0, 2}));
  const auto& r = std::get<FrameStep>(sc.steps[1].what);
  EXPECT_TRUE(r.bytes.empty());
  EXPECT_EQ(r.drop, DropReason::runt);
  const auto& c = std::get<FdbCheck>(sc.steps[2].what);
  EXPECT_EQ(c.mac[5], 0x0a);
  EXPECT_EQ(c.vlan, 10);
  EXPECT_EQ(c.port, kNoPort);
  EXPECT_EQ(std::get<FdbCountCheck>(sc.steps[3].what).entries, 0u);
}

TEST(GoldenParser, RejectsMistakesWithTheirLine) {
  const std::pair<const char*, const char*> bad[] = {
      {"frame p0 00 -> drop:runt\n", "t:1: `ports` must come first"},
      {"ports p0 p1\nframe p0 0 -> p1\n", "t:2: odd number of hex digits"},
      {"ports p0 p1\nframe p0 zz -> p1\n", "t:2: not hex"},
      {"ports p0 p1\nframe p0 00\n", "t:2: missing `->`"},
      {"ports p0 p1\nframe p0 00 -> p0\n", "t:2: a frame never leaves through its ingress port"},
      {"ports p0 p1\nframe p0 00 -> p2\n", "t:2: unknown port `p2`"},
      {"ports p0 p1\nframe p0 00 -> p1 p1\n", "t:2: port `p1` listed twice"},
      {"ports p0 p1\nframe p0 00 -> drop:tx_full\n", "t:2: unknown drop reason"},
      {"ports p0 p1\nframe p0 00 -> drop:runt p1\n", "t:2: a dropped frame goes nowhere"},
      {"ports p0 p1\nframe p0 00 -> flood\n", "t:2: `flood` needs the ports"},
      {"ports p0 p1\nfdb 02:00:00:00:00 vlan 0 -> p0\n", "t:2: bad MAC"},
      {"ports p0 p1\nfdb 02:00:00:00:00:01 vlan 4096 -> p0\n", "t:2: `4096` is out of range"},
      {"ports p0 p1\n\nbogus\n", "t:3: unknown statement `bogus`"},
      {"  ff\n", "t:1: indented line continues nothing"},
      {"ports p0 p0\n", "t:1: port `p0` named twice"},
      {"ports p0 none\n", "t:1: `none` is a keyword"},
      {"# nothing\n", "no `ports` statement"},
  };
  for (const auto& [text, msg] : bad) {
    try {
      parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ScenarioError& e) {
      EXPECT_NE(std::string(e.what()).find(msg), std::string::npos) << e.what() << "\nwanted: " << msg;
    }
  }
}

}  // namespace
}  // namespace tapswitch::test
