// The conformance harness without qemu-io: cases are deterministic and within
// blkdebug's rules, and compare() tells agreement, differences, shared
// assertions and documented differences apart.
#include <catch2/catch.hpp>

#include "scenarios/conformance/compare.h"

using conformance::Case;
using conformance::Outcome;
using conformance::SideResult;

TEST_CASE("conformance cases are a function of (seed, index) and respect blkdebug's rules") {
  for (std::uint64_t i = 0; i < 300; ++i) {
    const Case a = conformance::generate_case(7, i);
    const Case b = conformance::generate_case(7, i);
    REQUIRE(a.commands == b.commands);
    REQUIRE(conformance::initial_image(a) == conformance::initial_image(b));
    const conformance::Limits& l = a.limits;
    CHECK((l.align & (l.align - 1)) == 0);
    CHECK(l.max_transfer % l.align == 0);
    CHECK(l.opt_write_zero % l.align == 0);
    CHECK(l.max_write_zero % std::max(l.align, l.opt_write_zero == 0 ? 1u : l.opt_write_zero) == 0);
    CHECK(l.opt_discard % l.align == 0);
    CHECK(l.max_discard % std::max(l.align, l.opt_discard == 0 ? 1u : l.opt_discard) == 0);
    CHECK(a.commands.size() >= 3);
    CHECK(a.commands.size() <= static_cast<std::size_t>(conformance::kMaxCommands));
    for (const std::string& cmd : a.commands) {
      std::string verb;
      std::uint64_t offset = 0;
      std::uint64_t bytes = 0;
      conformance::split_command(cmd, verb, offset, bytes);
      CHECK(offset + bytes <= a.image_bytes);
      if (verb != "flush") CHECK(bytes >= 1);
    }
  }
  CHECK(conformance::generate_case(7, 1).commands != conformance::generate_case(8, 1).commands);
}

TEST_CASE("limits print as blkdebug options, scenario keys and prose") {
  conformance::Limits l;
  l.align = 512;
  l.max_transfer = 4096;
  l.opt_discard = 8192;
  CHECK(conformance::format_limits(l, conformance::LimitStyle::kBlkdebug) == "align=512,max-transfer=4096,opt-discard=8192");
  CHECK(conformance::format_limits(l, conformance::LimitStyle::kToml) == "align = 512\nmax_transfer = 4096\nopt_discard = 8192\n");
  CHECK(conformance::format_limits(l, conformance::LimitStyle::kHuman) == "align 512, max_transfer 4096, opt_discard 8192");
}

TEST_CASE("compare: agreement, a different result, different read bytes, a different image") {
  Case c;
  c.image_bytes = 8;
  c.commands = {"write -P 1 0 4", "read 2 2"};
  SideResult ours{{Outcome{0, {}}, Outcome{0, {1, 1}}}, std::vector<std::uint8_t>(8, 1), "", ""};
  SideResult theirs = ours;
  CHECK_FALSE(conformance::compare(c, ours, theirs).difference);

  theirs.outcomes[0].ret = -22;
  auto v = conformance::compare(c, ours, theirs);
  REQUIRE(v.difference);
  CHECK(v.difference->what == "command 1 `write -P 1 0 4`: blksim success, qemu-io -Invalid argument");

  theirs = ours;
  theirs.outcomes[1].data = {1, 9};
  v = conformance::compare(c, ours, theirs);
  REQUIRE(v.difference);
  CHECK(v.difference->what == "command 2 `read 2 2`: read bytes 3..3 (1) differ, first: blksim 0x01, qemu-io 0x09");

  theirs = ours;
  theirs.image[5] = 0;
  v = conformance::compare(c, ours, theirs);
  REQUIRE(v.difference);
  CHECK(v.difference->what.rfind("final image: bytes 5..5", 0) == 0);
}

TEST_CASE("compare: the same blkdebug assertion on both sides agrees, one side alone differs") {
  Case c;
  c.image_bytes = 65536;
  c.limits.align = 512;
  c.commands = {"write -P 1 0 512", "discard 1000 3000", "read 0 512"};
  SideResult ours{{Outcome{0, {}}}, {}, "blksim verdict: ... [blkdebug.discard_aligned]", "blkdebug_co_pdiscard"};
  SideResult theirs{{Outcome{0, {}}}, {}, "qemu-io: blkdebug.c:732: blkdebug_co_pdiscard: Assertion", "blkdebug_co_pdiscard"};
  auto v = conformance::compare(c, ours, theirs);
  CHECK_FALSE(v.difference);
  CHECK(v.shared_abort == "both stop at command 2 `discard 1000 3000` in blkdebug_co_pdiscard");

  SideResult ran_on{{Outcome{0, {}}, Outcome{0, {}}, Outcome{0, std::vector<std::uint8_t>(512, 1)}}, std::vector<std::uint8_t>(65536), "", ""};
  v = conformance::compare(c, ran_on, theirs);
  REQUIRE(v.difference);
  CHECK(v.explained.empty());  // an assertion, not the documented division by zero
  v = conformance::compare(c, ours, SideResult{ran_on.outcomes, ran_on.image, "", ""});
  REQUIRE(v.difference);
}

TEST_CASE("compare: qemu-io's division by zero in blkdebug without opt-discard is documented, narrowly") {
  Case c;
  c.image_bytes = 65536;
  c.limits.align = 512;
  c.commands = {"write -P 1 0 512", "discard 1000 3000"};
  SideResult ours{{Outcome{0, {}}, Outcome{0, {}}}, std::vector<std::uint8_t>(65536), "", ""};
  SideResult theirs{{Outcome{0, {}}}, {}, "qemu-io was killed by SIGFPE", "signal FPE"};
  auto v = conformance::compare(c, ours, theirs);
  REQUIRE(v.difference);
  CHECK(v.explained == "blkdebug divides by zero without opt-discard");
  c.limits.opt_discard = 4096;  // then the crash is not the documented one
  CHECK(conformance::compare(c, ours, theirs).explained.empty());
  c.limits.opt_discard = 0;
  theirs.outcomes[0].ret = -5;  // and the commands before the crash must still agree
  v = conformance::compare(c, ours, theirs);
  REQUIRE(v.difference);
  CHECK(v.explained.empty());
}
