// Offsets at the far end of the reference's range, and null nodes (which
// store nothing, so nothing models their end).
#include <catch2/catch.hpp>

#include "library.h"

using testing::error_of;
using testing::parse;
using testing::replace;

namespace {

// A null node as large as bdrv_getlength can report, with a job reading and
// writing through a 4 KiB-aligned filter.
const std::string kHuge = R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "null"
size = 9223372036854775296
read_zeroes = true
latency_ns = 1000
[[node]]
name = "aligned"
driver = "fault"
file = "disk"
align = 4096
[[job]]
name = "j"
node = "aligned"
commands = ["write -P 1 0x7fffffffbfff0000 600", "read 0x7fffffffbfff0000 4k => ok"]
)";

}  // namespace

TEST_CASE("null nodes store nothing: writes are not held against their reads, which are judged only as zeroes") {
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "n"
driver = "null"
size = "1M"
read_zeroes = true
[[job]]
name = "a"
node = "n"
commands = ["aio_write -P 0xcd 0 4096", "aio_read 0 8192", "write -P 0x11 64k 4k", "read -P 0 64k 4k"]
)";
  // Before, the write history expected 0xcd where the null node reads zeroes:
  // a verdict against the engine for a scenario that is right.
  testing::require_holds(parse(text), 5);
  // Without read_zeroes a null read leaves the buffer as it was: unjudged.
  testing::require_holds(parse(replace(replace(text, "read_zeroes = true\n", ""), "read -P 0 64k 4k", "read 64k 4k")), 5);
  // A null node as large as bdrv_getlength reports; one byte more is refused.
  CHECK(parse(kHuge).find_node("disk")->size == 9223372036854775296ULL);
  CHECK_THAT(error_of(replace(kHuge, "9223372036854775296", "9223372036854775297")),
             Catch::Contains("size") && Catch::Contains("9223372036854775296"));
  // A mem node stays within 2^62, and a job may not write to a huge one with an image.
  CHECK_THAT(error_of(replace(replace(kHuge, "driver = \"null\"", "driver = \"mem\""), "read_zeroes = true\n", "")),
             Catch::Contains("size"));
}

TEST_CASE("a null node takes requests past its end and past INT64_MAX, and reads zeroes there") {
  const std::string text = replace(kHuge, R"(commands = ["write -P 1 0x7fffffffbfff0000 600", "read 0x7fffffffbfff0000 4k => ok"])",
                                   R"(commands = ["read 0x7ffffffffffff000 8k => ok", "read 0x7fffffffffffff00 0x100 => ok"])");
  const scenarios::Scenario s = parse(text);
  // The parser lets them through: the reference does (only bdrv_check_byte_request's checks apply).
  REQUIRE(s.jobs[0].commands.size() == 2);
  testing::require_holds(s, 3);
  // Just below BDRV_MAX_LENGTH (2^63 - 2^30) nothing wraps: writes read-modify-write and hold.
  testing::require_holds(parse(kHuge), 3);
}

TEST_CASE("requests whose range passes INT64_MAX: known defect request-end-overflow, gone with its later fix") {
  scenarios::Scenario s = testing::library("huge-offsets.toml");
  const auto r = testing::first_failure(s, 5);
  REQUIRE(r.has_value());
  CHECK(r->known_defect == "request-end-overflow");
  // Both shapes: the serialisation oracle's, and the reference's assertion
  // tripped by a zero write whose tail lands at a wrapped offset.
  bool assertion = false;
  bool unserialised = false;
  for (std::uint64_t seed = 0; seed < 30 && !(assertion && unserialised); ++seed) {
    const scenarios::RunResult run = testing::run(s, seed);
    REQUIRE_FALSE(run.verdict.ok());
    CHECK(run.known_defect == "request-end-overflow");
    assertion = assertion || run.verdict.id == "aligned_pwritev.within_overlap_start.wrapped";
    unserialised = unserialised || run.verdict.id == "serialisation";
  }
  CHECK(assertion);
  CHECK(unserialised);
  s.fixes = {engine::Fix::kMaxLength};
  testing::require_holds(s, 30);
  // With the fix a request ending past BDRV_MAX_LENGTH fails with -EIO, and
  // the errors oracle requires exactly that.
  scenarios::Scenario fixed = parse(replace(kHuge, "write -P 1 0x7fffffffbfff0000 600", "write -P 1 0x7fffffffc0000000 600"));
  fixed.fixes = {engine::Fix::kMaxLength};
  const scenarios::RunResult refused = testing::run(fixed, 0);
  INFO(refused.verdict.message);
  CHECK(refused.verdict.ok());
  scenarios::Scenario expects_ok = parse(replace(replace(kHuge, "write -P 1 0x7fffffffbfff0000 600", "write -P 1 0x7fffffffc0000000 600 => ok"),
                                                 "read 0x7fffffffbfff0000 4k => ok", "read 0 512"));
  expects_ok.fixes = {engine::Fix::kMaxLength};
  CHECK_THAT(testing::run(expects_ok, 0).verdict.message, Catch::Contains("EIO"));
}

TEST_CASE("direct I/O: bdrv_qiov_is_aligned decides what is bounced, and O_DIRECT's rule judges what reaches the disk") {
  scenarios::Scenario s = testing::library("direct-io.toml");
  // The 4Kn disk (512-byte memory alignment, 4 KiB blocks) meets the known defect.
  const auto r = testing::first_failure(s, 3);
  REQUIRE(r.has_value());
  CHECK(r->known_defect == "iov-length-alignment");
  CHECK(r->verdict.id == "driver.direct_buffer_length.memory_aligned");
  s.fixes = {engine::Fix::kIovLengthAlignment};
  testing::require_holds(s, 10);
  // A misaligned vector is bounced: one larger than memory_limit fails with
  // -ENOMEM, which the scenario expects (and the errors oracle requires of a
  // traced allocation failure); an aligned one of the same size is not.
  const std::string text = R"([scenario]
name = "t"
memory_limit = "64k"
[[node]]
name = "d"
size = "1M"
direct = true
request_alignment = 4096
min_mem_alignment = 4096
[[job]]
name = "j"
node = "d"
commands = ["writev -P 1 0 512 130560 => ENOMEM", "writev -P 2 128k 64k 64k => ok", "read -P 2 128k 128k",
            "readv 0 4k 124k => ok", "readv 0 2k 126k => ENOMEM"]
)";
  testing::require_holds(parse(text), 3);
  // Without direct I/O nothing is bounced.
  testing::require_holds(parse(replace(replace(replace(text, "direct = true\n", ""), "130560 => ENOMEM", "130560 => ok"),
                                       "126k => ENOMEM", "126k => ok")),
                         1);
  // direct needs the byte interface and whole sectors.
  CHECK_THAT(error_of(replace(text, "request_alignment = 4096", "request_alignment = 1")),
             Catch::Contains("direct") && Catch::Contains("request_alignment"));
  CHECK_THAT(error_of(replace(text, "direct = true", "direct = true\nstyle = \"sectors\"")), Catch::Contains("style"));
}
