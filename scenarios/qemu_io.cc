#include "scenarios/qemu_io.h"

#include <charconv>
#include <optional>
#include <vector>

#include "engine/debug_event.h"
#include "engine/errors.h"
#include "scenarios/names.h"
#include "sim/str.h"

namespace scenarios {
namespace {

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t') {
      ++pos;
      continue;
    }
    std::size_t stop = text.find_first_of(" \t", pos);
    if (stop == std::string_view::npos) stop = text.size();
    words.push_back(text.substr(pos, stop - pos));
    pos = stop;
  }
  return words;
}

absl::Status error(std::string message) { return absl::InvalidArgumentError(message); }

constexpr std::string_view kVerbs =
    "read, readv, write, writev, aio_read, aio_readv, aio_write, aio_writev, discard, aio_discard, alloc, map, flush, "
    "aio_flush, sleep, ioctl, aio_ioctl, aio_cancel, make_zero, truncate, pwrite_sync, break, remove_break, resume or "
    "wait_break";

std::string flag_list(bool is_write) {
  std::string out;
  for (const RequestFlagName& f : request_flag_names()) {
    if (is_write || f.on_reads) out += sim::cat(out.empty() ? "" : ", ", f.name);
  }
  return out;
}

absl::StatusOr<unsigned> parse_request_flags(std::string_view text, bool is_write) {
  unsigned flags = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view name = text.substr(pos, comma - pos);
    const RequestFlagName* found = nullptr;
    for (const RequestFlagName& f : request_flag_names()) {
      if (f.name == name) found = &f;
    }
    if (found == nullptr || !(is_write || found->on_reads)) {
      return error(sim::cat(found == nullptr ? "unknown" : "not a read's", " request flag '", name, "' (expected ",
                            flag_list(is_write), ", separated by commas)"));
    }
    flags |= found->flag;
    pos = comma + 1;
  }
  return flags;
}

}  // namespace

const std::vector<RequestFlagName>& request_flag_names() {
  // The read path asserts that a read carries only these two (bdrv_aligned_preadv);
  // the write path takes every flag of the mask.
  static const std::vector<RequestFlagName> kNames = {
      {"copy_on_read", engine::BDRV_REQ_COPY_ON_READ, true},
      {"no_serialising", engine::BDRV_REQ_NO_SERIALISING, true},
      {"zero_write", engine::BDRV_REQ_ZERO_WRITE, false},
      {"may_unmap", engine::BDRV_REQ_MAY_UNMAP, false},
      {"fua", engine::BDRV_REQ_FUA, false},
      {"write_compressed", engine::BDRV_REQ_WRITE_COMPRESSED, false},
  };
  return kNames;
}

unsigned Command::engine_flags() const {
  unsigned flags = request_flags;
  if (fua) flags |= engine::BDRV_REQ_FUA;
  if (zeroes) flags |= engine::BDRV_REQ_ZERO_WRITE;
  if (unmap) flags |= engine::BDRV_REQ_MAY_UNMAP;
  if (compressed) flags |= engine::BDRV_REQ_WRITE_COMPRESSED;
  return flags;
}

absl::StatusOr<std::uint64_t> parse_qemu_io_number(std::string_view text) {
  std::uint64_t value = 0;
  int base = 10;
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || end == digits.data()) {
    return error(sim::cat("'", text, "' is not a number (expected e.g. 4096, 0x1000, 4k, 1M)"));
  }
  std::string_view suffix(end, static_cast<std::size_t>(digits.data() + digits.size() - end));
  int shift = 0;
  if (suffix.empty()) {
    shift = 0;
  } else if (suffix.size() == 1 && base == 10) {
    switch (suffix[0]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      case 'p': case 'P': shift = 50; break;
      case 'e': case 'E': shift = 60; break;
      default: return error(sim::cat("'", text, "' has an unknown size suffix (expected k, M, G, T, P or E)"));
    }
  } else {
    return error(sim::cat("'", text, "' is not a number (expected e.g. 4096, 0x1000, 4k, 1M)"));
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return error(sim::cat("'", text, "' is too large"));
  return value << shift;
}

absl::StatusOr<Command> parse_command(std::string_view text) {
  if (std::string why = unprintable_reason(text); !why.empty()) {
    return error(sim::cat("commands must be printable text: ", why));
  }
  Command cmd;
  cmd.text = std::string(text);
  // "... => OUTCOME": the expected result.
  if (const std::size_t arrow = text.find("=>"); arrow != std::string_view::npos) {
    std::vector<std::string_view> outcome = split_words(text.substr(arrow + 2));
    if (outcome.size() != 1) {
      return error(sim::cat("'=>' needs one outcome after it: ok or an errno (", engine::errno_names(), ")"));
    }
    if (outcome[0] == "ok") {
      cmd.expect = 0;
    } else if (auto e = engine::errno_from_name(outcome[0])) {
      cmd.expect = -*e;
    } else {
      return error(sim::cat("'=> ", outcome[0], "': expected ok or an errno (", engine::errno_names(), ")"));
    }
    text = text.substr(0, arrow);
  }
  std::vector<std::string_view> words = split_words(text);
  if (words.empty()) return error(sim::cat("empty command (expected ", kVerbs, ")"));
  std::string_view verb = words[0];
  if (verb == "read" || verb == "aio_read" || verb == "readv" || verb == "aio_readv") {
    cmd.op = Command::Op::kRead;
  } else if (verb == "write" || verb == "aio_write" || verb == "writev" || verb == "aio_writev") {
    cmd.op = Command::Op::kWrite;
  } else if (verb == "discard" || verb == "aio_discard") {
    cmd.op = Command::Op::kDiscard;
  } else if (verb == "sleep") {
    cmd.op = Command::Op::kSleep;
    if (words.size() != 2) return error("'sleep' expects MS (milliseconds of virtual time)");
    auto ms = parse_qemu_io_number(words[1]);
    if (!ms.ok() || *ms > kMaxSleepMs) {
      return error(sim::cat("'sleep ", words[1], "': expected milliseconds from 0 to ", kMaxSleepMs));
    }
    cmd.sleep_ms = *ms;
    return cmd;
  } else if (verb == "alloc") {
    // qemu-io's: sector-aligned, a sector unless COUNT is given.
    cmd.op = Command::Op::kAlloc;
    if (words.size() < 2 || words.size() > 3) return error("'alloc' expects OFFSET [COUNT]");
    auto offset = parse_qemu_io_number(words[1]);
    auto count = words.size() == 3 ? parse_qemu_io_number(words[2]) : absl::StatusOr<std::uint64_t>(512);
    if (!offset.ok()) return error(sim::cat("'alloc' offset: ", offset.status().message()));
    if (!count.ok()) return error(sim::cat("'alloc' count: ", count.status().message()));
    if (*offset % 512 != 0 || *offset > kMaxCommandOffset) {
      return error(sim::cat("'alloc' offset ", *offset, ": expected a multiple of 512 up to ", kMaxCommandOffset));
    }
    if (*count == 0 || *count % 512 != 0 || *count > kMaxCommandBytes) {
      return error(sim::cat("'alloc' count ", *count, ": expected a multiple of 512 from 512 to ", kMaxCommandBytes));
    }
    cmd.offset = *offset;
    cmd.bytes = *count;
    return cmd;
  } else if (verb == "map") {
    cmd.op = Command::Op::kMap;
    if (words.size() != 1) return error("'map' takes no arguments (it maps the whole node)");
    return cmd;
  } else if (verb == "ioctl" || verb == "aio_ioctl") {
    cmd.op = Command::Op::kIoctl;
    cmd.async = verb == "aio_ioctl";
    if (words.size() != 2) return error(sim::cat("'", verb, "' expects REQUEST (an ioctl number)"));
    auto request = parse_qemu_io_number(words[1]);
    if (!request.ok() || *request > kMaxIoctlRequest) {
      return error(sim::cat("'", verb, " ", words[1], "': expected an ioctl number from 0 to ", kMaxIoctlRequest));
    }
    cmd.ioctl_request = *request;
    return cmd;
  } else if (verb == "aio_cancel") {
    // aio_cancel [-a] [N]: the job's Nth latest aio command (1, the latest, by default).
    cmd.op = Command::Op::kAioCancel;
    std::size_t i = 1;
    if (i < words.size() && words[i] == "-a") {
      cmd.cancel_async = true;
      ++i;
    }
    if (i + 1 < words.size()) return error("'aio_cancel' expects [-a] [N]");
    if (i < words.size()) {
      auto back = parse_qemu_io_number(words[i]);
      if (!back.ok() || *back == 0 || *back > kMaxCancelBack) {
        return error(sim::cat("'aio_cancel ", words[i], "': expected which aio command back, from 1 (the latest) to ",
                              kMaxCancelBack));
      }
      cmd.cancel_back = static_cast<std::uint32_t>(*back);
    }
    return cmd;
  } else if (verb == "make_zero") {
    cmd.op = Command::Op::kMakeZero;
    if (words.size() > 2 || (words.size() == 2 && words[1] != "-u")) return error("'make_zero' expects [-u]");
    cmd.unmap = words.size() == 2;
    return cmd;
  } else if (verb == "truncate") {
    // qemu-io's truncate: blk_truncate to LENGTH (no preallocation).
    cmd.op = Command::Op::kTruncate;
    if (words.size() != 2) return error("'truncate' expects LENGTH");
    auto length = parse_qemu_io_number(words[1]);
    if (!length.ok() || *length > kMaxTruncateBytes) {
      return error(sim::cat("'truncate ", words[1], "': expected a length from 0 to ", kMaxTruncateBytes,
                            " bytes (suffixes k, M, G, T, P)"));
    }
    cmd.offset = *length;
    return cmd;
  } else if (verb == "pwrite_sync") {
    cmd.op = Command::Op::kWrite;
    cmd.write_sync = true;
  } else if (verb == "flush") {
    cmd.op = Command::Op::kFlush;
  } else if (verb == "aio_flush") {
    cmd.op = Command::Op::kAioFlush;
  } else if (verb == "break" || verb == "remove_break" || verb == "resume" || verb == "wait_break") {
    const std::size_t want = verb == "break" ? 3 : 2;
    if (words.size() != want) {
      return error(sim::cat("'", verb, "' expects ", verb == "break" ? "EVENT TAG" : "TAG"));
    }
    cmd.op = verb == "break" ? Command::Op::kBreak
             : verb == "remove_break" ? Command::Op::kRemoveBreak
             : verb == "resume" ? Command::Op::kResume
                                : Command::Op::kWaitBreak;
    if (verb == "break") {
      engine::BlkdebugEvent ev;
      if (!engine::blkdebug_event_from_name(words[1], &ev)) {
        return error(sim::cat("'break': unknown event '", words[1], "' (expected a blkdebug event such as pwritev or write_aio)"));
      }
      cmd.event = std::string(words[1]);
    }
    cmd.tag = std::string(words.back());
    return cmd;
  } else {
    return error(sim::cat("unknown command '", verb, "' (expected ", kVerbs, ")"));
  }
  cmd.async = verb.starts_with("aio_");
  const bool vectored = verb.ends_with("v");
  if (cmd.op == Command::Op::kFlush || cmd.op == Command::Op::kAioFlush) {
    if (words.size() != 1) return error(sim::cat("'", verb, "' takes no arguments"));
    return cmd;
  }

  const bool is_write = cmd.op == Command::Op::kWrite;
  // The options each verb takes, as qemu-io's getopt strings (minus the ones
  // that only change what it prints or how it times requests, which blksim
  // accepts with no effect: -q, -C), plus -F, blksim's own.
  std::string_view takes;
  if (cmd.op == Command::Op::kRead) {
    takes = vectored ? "PqCvF" : cmd.async ? "PqCvF" : "PlsqCvbF";
  } else if (cmd.write_sync) {
    takes = "PqC";  // bdrv_pwrite_sync takes a buffer and nothing else
  } else if (is_write) {
    takes = vectored ? "PfqCF" : cmd.async ? "PszucfqCF" : "PszucfqCbnF";
  } else {
    takes = "qC";
  }
  std::vector<std::string_view> operands;
  std::optional<std::uint64_t> verify_offset, verify_length;
  for (std::size_t i = 1; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (!w.starts_with("-") || w.size() < 2 || (w[1] >= '0' && w[1] <= '9')) {
      operands.push_back(w);
      continue;
    }
    // Letters may be combined (-zu), and an option's value may follow its letter (-P0x11).
    for (std::size_t k = 1; k < w.size(); ++k) {
      const char letter = w[k];
      if (takes.find(letter) == std::string_view::npos) {
        std::string supported;
        for (char t : takes) {
          const std::string_view value = t == 'P' ? " pattern" : t == 'F' ? " flags" : t == 'l' ? " length"
                                         : t == 's' ? (is_write ? " file" : " offset") : "";
          supported += sim::cat(supported.empty() ? "-" : ", -", std::string(1, t), value);
        }
        return error(sim::cat("'", verb, "': unsupported option '-", std::string(1, letter), "' (supported: ", supported,
                              ")"));
      }
      if (letter == 'n') {
        return error(sim::cat("'", verb, " -n': BDRV_REQ_NO_FALLBACK came after the reference (QEMU 4.0); the "
                              "reference's zero writes always may fall back"));
      }
      if (letter == 'P' || letter == 'F' || letter == 'l' || letter == 's') {
        std::string_view value = w.substr(k + 1);
        if (value.empty()) {
          if (i + 1 >= words.size()) {
            return error(sim::cat("'", verb, " -", std::string(1, letter), "' needs a value (e.g. ",
                                  letter == 'P' ? "-P 0x11" : letter == 'F' ? "-F no_serialising" : "-l 512", ")"));
          }
          value = words[++i];
        }
        if (letter == 's' && is_write) {
          cmd.source_file = std::string(value);
        } else if (letter == 'F') {
          auto flags = parse_request_flags(value, is_write);
          if (!flags.ok()) return error(sim::cat("'", verb, " -F ", value, "': ", flags.status().message()));
          cmd.request_flags |= *flags;
        } else {
          auto number = parse_qemu_io_number(value);
          if (letter == 'P' && (!number.ok() || *number > 0xff)) {
            return error(sim::cat("'", verb, " -P ", value, "': expected a pattern byte from 0 to 0xff"));
          }
          if (!number.ok()) return error(sim::cat("'", verb, " -", std::string(1, letter), "': ", number.status().message()));
          if (letter == 'P') cmd.pattern = static_cast<std::uint8_t>(*number);
          if (letter == 'l') verify_length = *number;
          if (letter == 's') verify_offset = *number;
        }
        break;  // the value took the rest of the word
      }
      switch (letter) {
        case 'f': cmd.fua = true; break;
        case 'z': cmd.zeroes = true; break;
        case 'u': cmd.unmap = true; break;
        case 'c': cmd.compressed = true; break;
        case 'b': cmd.vmstate = true; break;
        case 'v': cmd.dump = true; break;
        default: break;  // -q, -C: what qemu-io prints
      }
    }
  }
  // qemu-io's own exclusions.
  if ((verify_offset || verify_length) && !cmd.pattern) {
    return error(sim::cat("'", verb, "': -s and -l verify a pattern, so they need -P"));
  }
  if (cmd.vmstate && (cmd.zeroes || cmd.compressed || cmd.fua || cmd.request_flags != 0)) {
    return error(sim::cat("'", verb, " -b': the VM state takes plain reads and writes (no -z, -c, -f or -F)"));
  }
  if (cmd.zeroes && cmd.pattern) return error(sim::cat("'", verb, "': -z and -P cannot be given together"));
  if (!cmd.source_file.empty() && (cmd.pattern || cmd.zeroes || cmd.vmstate)) {
    return error(sim::cat("'", verb, " -s': a pattern file fills the buffer; not with -P, -z or -b"));
  }
  if (cmd.zeroes && cmd.compressed) return error(sim::cat("'", verb, "': -z and -c cannot be given together"));
  if (cmd.unmap && !cmd.zeroes) return error(sim::cat("'", verb, "': -u needs -z"));
  // The reference lets a read carry both, but no caller does: copy-on-read
  // without its serialising wait may write a stale cluster over a concurrent
  // write, a misuse of the flags and not a defect of the engine.
  constexpr unsigned kCorUnserialised = engine::BDRV_REQ_COPY_ON_READ | engine::BDRV_REQ_NO_SERIALISING;
  if (cmd.op == Command::Op::kRead && (cmd.request_flags & kCorUnserialised) == kCorUnserialised) {
    return error(sim::cat("'", verb, "': copy_on_read and no_serialising cannot be given together (copy-on-read "
                          "without its serialising wait overwrites concurrent writes; no caller passes both)"));
  }
  if (vectored ? operands.size() < 2 : operands.size() != 2) {
    return error(sim::cat("'", verb, "' expects OFFSET LENGTH", vectored ? " [LENGTH...]" : "", ", got ",
                          operands.size(), " operands"));
  }
  if (operands.size() - 1 > kMaxCommandParts) {
    return error(sim::cat("'", verb, "': ", operands.size() - 1, " buffers, expected at most ", kMaxCommandParts));
  }
  auto offset = parse_qemu_io_number(operands[0]);
  if (!offset.ok()) return error(sim::cat("'", verb, "' offset: ", offset.status().message()));
  if (*offset > kMaxCommandOffset) {
    return error(sim::cat("'", verb, "' offset ", *offset, ": expected at most ", kMaxCommandOffset));
  }
  std::uint64_t total = 0;
  for (std::size_t k = 1; k < operands.size(); ++k) {
    auto bytes = parse_qemu_io_number(operands[k]);
    if (!bytes.ok()) return error(sim::cat("'", verb, "' length: ", bytes.status().message()));
    // Each buffer, and the request, within the largest request (no overflow).
    if (*bytes > kMaxCommandBytes || total + *bytes > kMaxCommandBytes) {
      return error(sim::cat("'", verb, "' length ", *bytes, ": the request may have at most ", kMaxCommandBytes, " bytes"));
    }
    // A zero-length request is the reference's to judge (it takes them); one
    // buffer of a vector is not.
    if (*bytes == 0 && vectored) {
      return error(sim::cat("'", verb, "' length 0: expected 1 to ", kMaxCommandBytes, " bytes per buffer"));
    }
    total += *bytes;
    if (vectored) cmd.parts.push_back(*bytes);
  }
  cmd.offset = *offset;
  cmd.bytes = total;
  if (verify_offset || verify_length) {
    const std::uint64_t from = verify_offset.value_or(0);
    const std::uint64_t length = verify_length.value_or(total > from ? total - from : 0);
    if (from > total || length > total - from) {
      return error(sim::cat("'", verb, "': the verified range (-s ", from, " -l ", length, ") is outside the ", total,
                            " bytes read"));
    }
    cmd.verify_offset = from;
    cmd.verify_bytes = length;
  }
  return cmd;
}

namespace {

std::string format_request(const Command& c) {
  std::string verb;
  switch (c.op) {
    case Command::Op::kRead: verb = c.async ? "aio_read" : "read"; break;
    case Command::Op::kWrite: verb = c.write_sync ? "pwrite_sync" : c.async ? "aio_write" : "write"; break;
    case Command::Op::kIoctl: return sim::cat(c.async ? "aio_ioctl " : "ioctl ", c.ioctl_request);
    case Command::Op::kAioCancel:
      return sim::cat("aio_cancel", c.cancel_async ? " -a" : "", c.cancel_back != 1 ? sim::cat(" ", c.cancel_back) : "");
    case Command::Op::kMakeZero: return c.unmap ? "make_zero -u" : "make_zero";
    case Command::Op::kTruncate: return sim::cat("truncate ", c.offset);
    case Command::Op::kDiscard: verb = c.async ? "aio_discard" : "discard"; break;
    case Command::Op::kSleep: return sim::cat("sleep ", c.sleep_ms);
    case Command::Op::kAlloc: return sim::cat("alloc ", c.offset, " ", c.bytes);
    case Command::Op::kMap: return "map";
    case Command::Op::kFlush: return "flush";
    case Command::Op::kAioFlush: return "aio_flush";
    case Command::Op::kBreak: return sim::cat("break ", c.event, " ", c.tag);
    case Command::Op::kRemoveBreak: return sim::cat("remove_break ", c.tag);
    case Command::Op::kResume: return sim::cat("resume ", c.tag);
    case Command::Op::kWaitBreak: return sim::cat("wait_break ", c.tag);
  }
  std::string out = verb;
  if (c.vectored()) out += "v";
  if (c.pattern) out += sim::cat(" -P ", sim::hex(*c.pattern));
  if (!c.source_file.empty()) out += sim::cat(" -s ", c.source_file);
  if (c.zeroes) out += " -z";
  if (c.unmap) out += " -u";
  if (c.compressed) out += " -c";
  if (c.fua) out += " -f";
  if (c.vmstate) out += " -b";
  if (c.dump) out += " -v";
  if (c.verify_offset != 0) out += sim::cat(" -s ", c.verify_offset);
  if (c.verify_bytes) out += sim::cat(" -l ", *c.verify_bytes);
  if (c.request_flags != 0) {
    std::string names;
    for (const RequestFlagName& f : request_flag_names()) {
      if (c.request_flags & f.flag) names += sim::cat(names.empty() ? "" : ",", f.name);
    }
    out += sim::cat(" -F ", names);
  }
  out += sim::cat(" ", c.offset);
  if (!c.vectored()) return sim::cat(out, " ", c.bytes);
  for (std::uint64_t part : c.parts) out += sim::cat(" ", part);
  return out;
}

}  // namespace

std::string format_command(const Command& c) {
  std::string out = format_request(c);
  if (c.expect) out += sim::cat(" => ", *c.expect == 0 ? std::string("ok") : engine::errno_name(*c.expect).substr(1));
  return out;
}

}  // namespace scenarios
