// The oracles: each judges one property of ../DESIGN's list, only if the
// scenario selects it. A violation names the property (the verdict's id), says
// what was seen and expected, and carries the event index and virtual time.
#include <algorithm>

#include "engine/errors.h"
#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/frame_pool.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

std::string command_where(const Scenario& s, const Job& job, const Command& cmd) {
  return sim::cat("job '", job.spec->name, "' command '", cmd.text, "'",
                  cmd.line > 0 ? sim::cat(" (", s.path, ":", cmd.line, ")") : std::string(" (random workload)"));
}

std::string content_shape(std::string_view seen_in, const Diagnosis& d) {
  std::string out = sim::cat(seen_in, ": ", wrong_content_name(d.kind, seen_in == "read"));
  if (d.expected != nullptr) out += sim::cat(" (expected ", write_kind(*d.expected), ")");
  return out;
}

namespace {

// What was left over, without counts (they vary with the seed).
std::string hygiene_shape(const engine::BlockDriverState& bs) {
  std::string out;
  const auto add = [&](bool left, std::string_view what) {
    if (left) out += sim::cat(out.empty() ? "" : ", ", what);
  };
  add(!bs.tracked_requests.empty(), "tracked requests");
  add(bs.in_flight != 0, "in_flight");
  add(bs.serialising_in_flight != 0, "serialising_in_flight");
  add(bs.active_flush_req, "active flush");
  add(bs.io_plugged != 0, "plug");
  return out + " left";
}

}  // namespace

std::string command_verb(const Command& cmd) {
  std::string verb = format_command(cmd);
  // The command without its numbers: "aio_write -P 0x11 0 4k" -> "aio_write".
  const std::size_t space = verb.find(' ');
  std::string out = verb.substr(0, space);
  if (cmd.zeroes) out += " -z";
  if (cmd.fua) out += " -f";
  return out;
}

std::string expect_name(int ret) { return ret == 0 ? std::string("ok") : std::string(engine::errno_name(ret)); }

void ScenarioRun::violation(Oracle o, std::string shape, std::string message, std::vector<std::string> details) {
  if (!checking(o)) return;
  sim::Verdict v{sim::Verdict::Kind::kOracle, std::move(message), "", std::move(details)};
  v.id = std::string(oracle_name(o));
  v.shape = std::move(shape);
  // Inside the run a violation ends it at once (the event index points at it);
  // checks after the run only record it.
  if (!run_over_) world_.fail(std::move(v));
  world_.record_failure(std::move(v));
}

void ScenarioRun::observe(const sim::TraceEvent& e) {
  observe_driver_ops(e);
  if ((checking(Oracle::kSerialisation) || checking(Oracle::kDrain)) &&
      ((InFlightModel::kinds() >> static_cast<unsigned>(e.kind)) & 1u) != 0) {
    if (auto v = in_flight_.observe(world_.trace(), e)) violation(Oracle::kSerialisation, v->shape, v->message);
  }
}

// Driver errors where they arise, and allocations that failed (-ENOMEM traced
// as a fault of the node). A driver operation that fails after an operation it
// made below failed (raw passing up its file's error) only carries that error
// up: the error table judges the original, so an errno changed on the way up
// is the engine's doing.
void ScenarioRun::observe_driver_ops(const sim::TraceEvent& e) {
  const bool allocation = e.kind == sim::EventKind::kFaultFired && e.d == -ENOMEM;
  if (e.kind != sim::EventKind::kDriverIssue && e.kind != sim::EventKind::kDriverComplete && !allocation) return;
  std::vector<OpenDriverOp>& open = open_driver_ops_[e.co];
  const sim::Coroutine* co = world_.current_coroutine();
  // Driver operations are traced from the coroutine that issues and completes them.
  CommandState* state = co != nullptr && co->id() == e.co ? static_cast<CommandState*>(co->annotation()) : nullptr;
  if (e.kind == sim::EventKind::kDriverIssue) {
    open.push_back(OpenDriverOp{e.a, false, state != nullptr ? state->driver_errors.size() : 0});
    if (state != nullptr) state->driver_calls.push_back(DriverCall{e.label, e.label2, e.b, e.c, static_cast<unsigned>(e.d)});
    return;
  }
  bool derived = false;
  std::size_t errors_before = 0;
  if (e.kind == sim::EventKind::kDriverComplete) {
    const auto it = std::find_if(open.rbegin(), open.rend(), [&](const OpenDriverOp& o) { return o.op_id == e.a; });
    SIM_ASSERT(it != open.rend(), sim::cat("driver operation ", e.a, " completed in a coroutine that did not issue it"));
    derived = it->below_failed;
    errors_before = it->errors_before;
    open.erase(std::next(it).base());
  }
  if (open.empty()) open_driver_ops_.erase(e.co);
  if (e.d >= 0) return;
  // The operation that made this call sees a failure below it.
  if (auto up = open_driver_ops_.find(e.co); up != open_driver_ops_.end()) up->second.back().below_failed = true;
  if (derived) {
    // A filter's zero write answering -ENOTSUP carried up from below: its
    // layer (bdrv_co_do_pwrite_zeroes) falls back to a zeroed buffer, so
    // what failed below is absorbed there. A discard answering -ENOTSUP
    // (a format's table write below failed so) is absorbed likewise:
    // bdrv_co_pdiscard takes -ENOTSUP as "cannot discard", not an error.
    static sim::TraceLabel kZeroWrite("pwrite_zeroes");
    static sim::TraceLabel kDiscard("pdiscard");
    const bool absorbs = e.label == kZeroWrite.id(world_.trace()) || e.label == kDiscard.id(world_.trace());
    if (state != nullptr && e.d == -ENOTSUP && absorbs) {
      for (std::size_t i = errors_before; i < state->driver_errors.size(); ++i) {
        state->driver_errors[i].fallen_back_above = true;
      }
    }
    return;
  }
  if (state != nullptr) {
    static sim::TraceLabel kAllocation("allocation");
    const std::uint32_t op = allocation ? kAllocation.id(world_.trace()) : e.label;
    state->driver_errors.push_back(DriverError{static_cast<int>(e.d), op, e.label2});
  }
}

void ScenarioRun::check_read(const Job& job, const Command& cmd, std::uint64_t began,
                             absl::Span<const std::uint8_t> data) {
  // The engine first: a wrong value the writes do not allow is the engine's
  // failure, whatever the scenario expected to read. (The VM state has no
  // write history: only the expectation judges it.)
  const bool judged = checking(Oracle::kData) && !cmd.vmstate && job.checked->content_known;
  if (judged) {
    const WriteHistory& history = job.checked->history;
    const Cutoff cutoff{began, false};
    // Only a null node is read past its end (the parser lets requests go
    // there): bdrv_aligned_preadv fills what lies past the length with zeroes.
    const std::uint64_t inside = cmd.offset >= history.size() ? 0 : std::min<std::uint64_t>(data.size(), history.size() - cmd.offset);
    for (std::uint64_t i = inside; i < data.size(); ++i) {
      if (data[i] == 0) continue;
      violation(Oracle::kData, "read: past the end not zeroes",
                sim::cat(command_where(scenario_, job, cmd), " read ", sim::hex(data[i]), " at offset ", cmd.offset + i,
                         ", past the end of the node (", history.size(), " bytes), where the reference reads zeroes"));
      return;
    }
    const absl::Span<const std::uint8_t> within = data.subspan(0, inside);
    const bool held = inside == 0 || history.check(cmd.offset, within, cutoff, [&](std::uint64_t i, std::uint8_t v, const ByteValues& ok) {
      violation(Oracle::kData, content_shape("read", history.diagnose(i, cmd.offset, within, cutoff)),
                sim::cat(command_where(scenario_, job, cmd), " read ", sim::hex(v), " at offset ", i,
                         "; the writes before and during the read allow only ", describe_values(ok)));
    });
    if (!held) return;
  }
  // Then the scenario's own expectation (qemu-io's pattern verification).
  if (cmd.pattern) {
    // -s and -l narrow the bytes verified.
    const std::size_t end = cmd.verify_offset + cmd.verify_bytes.value_or(data.size() - cmd.verify_offset);
    for (std::size_t i = cmd.verify_offset; i < end; ++i) {
      if (data[i] == *cmd.pattern) continue;
      violation(Oracle::kExpect, "read -P: other data",
                sim::cat("read -P: ", command_where(scenario_, job, cmd), " read ", sim::hex(data[i]), " at offset ",
                         cmd.offset + i, ", expected pattern ", sim::hex(*cmd.pattern),
                         judged ? " (a value the writes allow: the expectation is wrong, not the engine)" : ""));
      return;
    }
  }
}

void ScenarioRun::check_expected_outcome(const Job& job, const Command& cmd, int ret) {
  if (!cmd.expect) return;
  const int got = ret < 0 ? ret : 0;
  if (got == *cmd.expect) return;
  violation(Oracle::kExpect, sim::cat(command_verb(cmd), " => ", expect_name(*cmd.expect)),
            sim::cat(command_where(scenario_, job, cmd), " ended with ", expect_name(got), ", expected ", expect_name(*cmd.expect)));
}

int ScenarioRun::ioctl_answer(const Job& job) const {
  // blk_co_ioctl asks bdrv_is_inserted, which looks at the whole subtree.
  if (job.backend != nullptr && subtree_ejected(*job.node)) return -ENOMEDIUM;
  // bdrv_co_ioctl: a node without a driver, or whose driver has no ioctl,
  // answers -ENOTSUP; raw passes it to its file; a mem node with `ioctl` takes it.
  const Node* n = job.node;
  for (std::size_t depth = 0; depth <= nodes_.size(); ++depth) {
    if (media_[n->index].ejected) return -ENOTSUP;
    const NodeSpec& spec = *n->spec;
    if (spec.driver == NodeSpec::Driver::kMem) return spec.mem.ioctl == drivers::MemConfig::Ioctl::kNone ? -ENOTSUP : 0;
    if (spec.driver != NodeSpec::Driver::kRaw) return -ENOTSUP;
    const auto file = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& k) { return k->spec->name == spec.file; });
    SIM_ASSERT(file != nodes_.end(), "raw without a file node (the parser refuses it)");
    n = file->get();
  }
  SIM_ASSERT(false, "a cycle of raw nodes (the parser refuses them)");
  return -ENOTSUP;
}

void ScenarioRun::judge_errors(const Job& job, const Command& cmd, int ret, const CommandState& state) {
  if (cmd.op == Command::Op::kTruncate) return;  // judged when it ran (resized)
  if (cmd.op == Command::Op::kIoctl) {
    // No fault rule touches an ioctl: its answer follows from the graph.
    if (medium_changes(*job.node) != state.medium_changes) return;
    if (const int must = ioctl_answer(job); ret != must) {
      violation(Oracle::kErrors, "ioctl: wrong answer",
                sim::cat(command_where(scenario_, job, cmd), " answered ", expect_name(ret), ", but the node's driver "
                         "chain answers ", expect_name(must)));
    }
    return;
  }
  // The medium events: a node without a medium fails requests with
  // -ENOMEDIUM, a read-only one fails writes and discards with -EPERM, and no
  // driver is asked. A change during the command allows either outcome.
  const bool changed = medium_changes(*job.node) != state.medium_changes;
  const bool writes = cmd.op == Command::Op::kWrite || cmd.op == Command::Op::kDiscard;
  const bool request = cmd.op == Command::Op::kRead || writes;
  if (ret == -ENOMEDIUM && (changed || subtree_ejected(*job.node))) return;
  if (ret == -EPERM && writes && (changed || subtree_read_only(*job.node))) return;
  // A backend checks the range (blk_check_byte_request) after the medium and
  // before the node's read-only check: past the device's end it says -EIO.
  const bool resized = resizes_[data_home(*job.node).index] != 0;
  const std::size_t i = job.node->index;
  const std::uint64_t size = std::max(scenario_.node_size(*job.node->spec), grown_[i]);
  const bool backend_range = job.backend != nullptr && cmd.op != Command::Op::kFlush && !cmd.vmstate && !resized;
  const bool past_end = backend_range && (cmd.offset > size || cmd.bytes > size - cmd.offset);
  if (!changed && request && !cmd.vmstate) {
    const MediumState& own = media_[job.node->index];
    const int must = own.ejected ? -ENOMEDIUM : (own.read_only && writes && !past_end) ? -EPERM : 0;
    if (must != 0 && ret != must) {
      violation(Oracle::kErrors, sim::cat(command_verb(cmd), ": ", own.ejected ? "no medium" : "read-only", " not refused"),
                sim::cat(command_where(scenario_, job, cmd), " ended with ", expect_name(ret < 0 ? ret : 0), " on node '",
                         job.node->spec->name, "', which is ", own.ejected ? "ejected" : "read-only", " (expected ",
                         engine::errno_name(must), ")"));
      return;
    }
  }
  // The fix of request-end-overflow: bdrv_check_byte_request refuses a request
  // whose end passes BDRV_MAX_LENGTH with -EIO, and no driver is asked; a
  // backend's own check passes it when the device is that long.
  // (Offsets stay below 2^63 and lengths below 2^31: the sum fits.)
  if (request && !cmd.vmstate && fix_on(engine::Fix::kMaxLength) &&
      cmd.offset + cmd.bytes > static_cast<std::uint64_t>(engine::BDRV_MAX_LENGTH)) {
    if (ret != -EIO) {
      violation(Oracle::kErrors, sim::cat(command_verb(cmd), ": past the largest length not refused"),
                sim::cat(command_where(scenario_, job, cmd), " ends past BDRV_MAX_LENGTH (", engine::BDRV_MAX_LENGTH,
                         "), but ended with ", expect_name(ret < 0 ? ret : 0), " instead of -EIO"));
    }
    return;
  }
  // A backend refuses a request past the device's end itself, with -EIO
  // (blk_check_byte_request): no driver is asked.
  // After a truncate the device's length is a moving target: a backend's
  // -EIO (past the end as it was when the request was checked) may be right.
  if (job.backend != nullptr && resized && ret == -EIO && cmd.op != Command::Op::kFlush) return;
  if (backend_range) {
    // A write past the end grew the node: from when it completed; while one
    // is in flight, or grew it during this command, either answer is right.
    const bool growing = grown_at_[i] >= state.began || in_flight_.request_ends_past(job.node->bs->trace_label(), size);
    if (past_end) {
      if (ret != -EIO && !growing) {
        violation(Oracle::kErrors, sim::cat(command_verb(cmd), ": past the end not refused"),
                  sim::cat(command_where(scenario_, job, cmd), " ends past the device's ", size, " bytes, but ended with ",
                           expect_name(ret < 0 ? ret : 0), " instead of the backend's -EIO"));
      }
      return;
    }
  }
  // Every other driver error meets the error table (error_table.cc): errors
  // it passes up must fail the command with that errno; errors the reference
  // falls back from or ignores must not fail it.
  const sim::Trace& trace = world_.trace();
  std::vector<int> must_reach;
  // With the fix of cor-max-transfer, copy-on-read asks block status piece
  // by piece and takes a failed query as unallocated (QEMU's
  // bdrv_co_do_copy_on_readv since cb2e28780c), while bdrv_aligned_preadv's
  // own query still passes its error up: either outcome is right.
  std::vector<int> may_reach;
  const bool cor_pieces = fix_on(engine::Fix::kCopyOnReadMaxTransfer) && state.copies_on_read;
  std::string seen;
  for (const DriverError& de : state.driver_errors) {
    const ErrorSite site = error_site(job, de.node);
    const ErrorRule& rule = error_rule_for(trace.text(de.op), de.error, site);
    const ErrorFate fate = de.fallen_back_above ? ErrorFate::kFallBack : rule.fate;
    // Below a quorum child other than the last, a command other than a read
    // may have failed to allocate in a read (a write's read-modify-write,
    // which the quorum reads child after child) or in a child's write.
    const bool quorum_write_allocation =
        site == ErrorSite::kQuorumNotLast && trace.text(de.op) == "allocation" && cmd.op != Command::Op::kRead;
    const bool either = (cor_pieces && fate == ErrorFate::kPassUp && trace.text(de.op) == "block_status") ||
                        quorum_write_allocation;
    seen += sim::cat(seen.empty() ? "" : ", ", trace.text(de.op), " ", engine::errno_name(de.error), " on '",
                     trace.text(de.node), "' (", either ? "pass up or absorbed" : error_fate_name(fate),
                     de.fallen_back_above ? " above" : "", ")");
    if (either) {
      may_reach.push_back(de.error);
    } else if (fate == ErrorFate::kPassUp) {
      must_reach.push_back(de.error);
    }
  }
  if (ret < 0 && std::find(may_reach.begin(), may_reach.end(), ret) != may_reach.end()) return;
  const std::string verb = command_verb(cmd);
  if (ret < 0 && must_reach.empty()) {
    violation(Oracle::kErrors,
              sim::cat(verb, ": ", state.driver_errors.empty() ? "failed, no driver error" : "failed, driver errors absorbed"),
              sim::cat(command_where(scenario_, job, cmd), " failed with ", engine::errno_name(ret),
                       state.driver_errors.empty() ? ", but no driver below it failed"
                                                   : sim::cat(", but the only driver errors below it (", seen,
                                                              ") are ones the reference absorbs")));
  } else if (ret >= 0 && !must_reach.empty()) {
    violation(Oracle::kErrors, sim::cat(verb, ": ", engine::errno_name(must_reach.front()), " swallowed"),
              sim::cat(command_where(scenario_, job, cmd), " succeeded, but a driver below it failed with ",
                       engine::errno_name(must_reach.front()), ": the error was swallowed (driver errors: ", seen, ")"));
  } else if (ret < 0 && std::find(must_reach.begin(), must_reach.end(), ret) == must_reach.end()) {
    violation(Oracle::kErrors, sim::cat(verb, ": ", engine::errno_name(must_reach.front()), " became ", engine::errno_name(ret)),
              sim::cat(command_where(scenario_, job, cmd), " failed with ", engine::errno_name(ret),
                       ", but the driver errors the reference passes up are others (", seen, ")"));
  }
}

// A discard is advisory: the model lets a discarded byte keep any value it
// may have held. But when the whole range reached the disk below (the trace's
// driver discards on the node storing the data cover it, none failed) and
// that disk zeroes what it discards (a mem node with discard = "zero"), the
// zeroes are a write like any other: a flush must make them durable.
void ScenarioRun::keep_discard_if_carried_out(const Job& job, const Command& cmd, const CommandState& state) {
  const Node& home = data_home(*job.node);
  if (home.mem == nullptr || !home.spec->mem.discard || home.spec->mem.discard_advisory) return;
  if (!state.driver_errors.empty() || cmd.bytes == 0) return;
  const sim::Trace& trace = world_.trace();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pieces;
  for (const DriverCall& call : state.driver_calls) {
    if (call.node == home.bs->trace_label() && trace.text(call.op) == "pdiscard") {
      pieces.emplace_back(call.offset, call.offset + call.bytes);
    }
  }
  std::sort(pieces.begin(), pieces.end());
  std::uint64_t covered = cmd.offset;
  for (const auto& [lo, hi] : pieces) {
    if (lo > covered) break;
    covered = std::max(covered, hi);
  }
  if (covered >= cmd.offset + cmd.bytes) job.checked->history.discard_carried_out(state.record);
}

ErrorSite ScenarioRun::error_site(const Job& job, std::uint32_t node_label) const {
  // The files below every format the command can reach (and what lies below
  // them) are asked for block status only to refine the format's answer.
  for (std::size_t i : job.node->subtree) {
    const Node& format = *nodes_[i];
    if (format.spec->driver != NodeSpec::Driver::kCow) continue;
    // Its file and data file as the graph is now (replace_node moves them).
    for (const engine::BdrvChild* edge : format.bs->children) {
      if (edge->kind != engine::ChildRole::kFile && edge->kind != engine::ChildRole::kData) continue;
      for (std::size_t k : node_of(*edge->bs).subtree) {
        if (nodes_[k]->bs->trace_label() == node_label) return ErrorSite::kStatusRefinement;
      }
    }
  }
  // Every child of a quorum but its last, and what lies below them.
  for (std::size_t i : job.node->subtree) {
    const NodeSpec& quorum = *nodes_[i]->spec;
    if (quorum.driver != NodeSpec::Driver::kQuorum) continue;
    for (std::size_t c = 0; c + 1 < quorum.children.size(); ++c) {
      for (std::size_t k : node_named_const(quorum.children[c]).subtree) {
        if (nodes_[k]->bs->trace_label() == node_label) return ErrorSite::kQuorumNotLast;
      }
    }
  }
  return ErrorSite::kAnywhere;
}

std::vector<std::size_t> ScenarioRun::with_replicas(std::size_t home) const {
  std::vector<std::size_t> all{home};
  for (const auto& n : nodes_) {
    const NodeSpec& spec = *n->spec;
    if (spec.driver != NodeSpec::Driver::kQuorum || data_home(*n).index != home) continue;
    for (std::size_t c = 1; c < spec.children.size(); ++c) {
      const std::size_t replica = data_home(node_named_const(spec.children[c])).index;
      if (std::find(all.begin(), all.end(), replica) == all.end()) all.push_back(replica);
    }
  }
  return all;
}

bool ScenarioRun::read_from_diverged_replica(const Job& job, const CommandState& state) const {
  if (!job.checked->replicas_diverged) return false;
  const std::vector<std::size_t> images = with_replicas(job.history);
  for (const DriverCall& call : state.driver_calls) {
    for (std::size_t i = 1; i < images.size(); ++i) {
      if (call.node == nodes_[images[i]]->bs->trace_label()) return true;
    }
  }
  return false;
}

const Node& ScenarioRun::data_child(const Node& filter) const {
  // The edge as it is now: replace_node moves a file edge to another node.
  const engine::BlockDriverState& bs = *filter.bs;
  const engine::BdrvChild* edge = nullptr;
  switch (filter.spec->driver) {
    case NodeSpec::Driver::kTop: edge = bs.backing; break;
    case NodeSpec::Driver::kQuorum:
      edge = static_cast<const drivers::QuorumFilter&>(*filter.driver).children().front();
      break;
    default: edge = bs.file; break;
  }
  SIM_ASSERT(filter.spec->is_filter() && edge != nullptr && edge->bs != nullptr,
             "a filter node without its child (the parser checks references; filters' edges are never detached)");
  return node_of(*edge->bs);
}

const Node& ScenarioRun::data_home(const Node& node) const {
  // Filters (raw, fault, top, quorum) pass offsets through unchanged; a format maps them.
  const Node* n = &node;
  for (std::size_t depth = 0; depth < nodes_.size(); ++depth) {
    if (!n->spec->is_filter()) return *n;
    n = &data_child(*n);
  }
  SIM_ASSERT(false, "a cycle of file links (the parser rejects cycles)");
  return node;
}

bool ScenarioRun::chained_below(std::uint32_t upper, std::uint32_t lower) const {
  const auto labelled = std::find_if(nodes_.begin(), nodes_.end(),
                                     [&](const auto& n) { return n->bs->trace_label() == upper; });
  if (labelled == nodes_.end()) return false;
  // Quorum writes each child from a coroutine of its own: its children's
  // writes cannot be told from other users' there, so the walk stops at it.
  const Node* n = labelled->get();
  for (std::size_t depth = 0; depth < nodes_.size(); ++depth) {
    if (!n->spec->is_filter() || n->spec->driver == NodeSpec::Driver::kQuorum || n->deleted) return false;
    n = &data_child(*n);
    if (n->bs->trace_label() == lower) return true;
  }
  SIM_ASSERT(false, "a cycle of file links (the parser rejects cycles)");
  return false;
}

const Node* ScenarioRun::identity_mem(const Node& node) const {
  const Node& home = data_home(node);
  return home.mem != nullptr ? &home : nullptr;
}

// After a successful flush, a crash must keep every write that completed before
// the flush began: the medium's durable image is judged as the durability oracle
// would judge it after a crash. Only nodes stored 1:1 on a mem node are checked
// here; formats are covered by the durability oracle at crash events.
void ScenarioRun::check_flush_order(std::string_view what, std::uint64_t began, const std::vector<std::size_t>& covered) {
  if (!checking(Oracle::kFlushOrder)) return;
  for (std::size_t index : covered) {
    const Node* mem = identity_mem(*nodes_[index]);
    if (mem == nullptr || !mem->mem->can_flush() || !mem->mem->media().write_cache()) continue;
    // Bytes no write touched since the known content cannot have changed
    // durably here; the final-image check covers stray writes.
    const WriteHistory& history = checked_.at(index).history;
    bool held = true;
    for (const auto& range : history.written_ranges()) {
      // (Named, not bound: clang 14 cannot capture a structured binding.)
      const std::uint64_t begin = range.first;
      const std::uint64_t end = range.second;
      if (end == begin) continue;  // an empty write's range
      std::vector<std::uint8_t> durable(end - begin);
      mem->mem->media().read_durable(begin, durable.size(), durable.data());
      const Cutoff cutoff{began, false};
      const bool unsafe_before = checked_.at(index).flushed_under_no_flush;
      held = history.check(begin, durable, cutoff, [&](std::uint64_t i, std::uint8_t v, const ByteValues& ok) {
        violation(Oracle::kFlushOrder,
                  content_shape("durable after flush", history.diagnose(i, begin, durable, cutoff)) +
                      (unsafe_before ? " after a flush under cache.no-flush" : ""),
                  sim::cat(what, " succeeded, but a crash now would leave byte ", i, " of '", mem->spec->name, "' as ",
                           sim::hex(v), "; the writes completed before the flush began allow only ", describe_values(ok)));
      });
      if (!held) break;
    }
    if (!held) return;
  }
}

void ScenarioRun::check_drained(std::string_view what, const std::vector<std::size_t>& nodes) {
  // From the trace first (the oracle's own model), then the engine's counters
  // (which also see requests not yet tracked).
  for (std::size_t i : nodes) {
    const std::uint32_t label = nodes_[i]->bs->trace_label();
    const std::size_t requests = in_flight_.requests_on(label);
    const std::size_t ops = in_flight_.driver_ops_on(label);
    if (requests != 0 || ops != 0) {
      violation(Oracle::kDrain, "in flight after drained_begin",
                sim::cat(what, " returned, but the trace shows ", requests, " requests and ", ops,
                         " driver operations still in flight on node '", nodes_[i]->spec->name, "'"));
      return;
    }
  }
  for (std::size_t i : nodes) {
    const engine::BlockDriverState& bs = *nodes_[i]->bs;
    if (bs.in_flight != 0 || !bs.tracked_requests.empty()) {
      violation(Oracle::kDrain, "in flight after drained_begin", sim::cat(what, " returned, but node '", bs.node_name(), "' has in_flight ", bs.in_flight,
                                         " and ", bs.tracked_requests.size(), " tracked requests"));
      return;
    }
  }
  // A quiesced node has told its parents, and they theirs (block.c's child
  // roles forward drains to the parent node): every backend above a drained
  // node that is quiesced is quiesced too.
  for (const auto& job : jobs_) {
    if (job->backend == nullptr || job->backend->quiesce_counter() > 0) continue;
    for (std::size_t i : job->node->subtree) {
      if (nodes_[i]->bs->quiesce_counter == 0 || std::find(nodes.begin(), nodes.end(), i) == nodes.end()) continue;
      violation(Oracle::kDrain, "parent not quiesced",
                sim::cat(what, " returned with node '", nodes_[i]->spec->name, "' quiesced, but job '", job->spec->name,
                         "''s backend on '", job->node->spec->name,
                         "' above it was never told (drained_begin callbacks: ", job->backend->drained_begins(), ")"));
      return;
    }
  }
}

namespace {

// The first byte at or after `from` inside `w` that surely held something
// else than zeroes while `w` ran, or `w`'s end: it held it when `w` began,
// and no other write over it was in flight meanwhile (one may have zeroed it
// first). bdrv_make_zero, which skips what block status calls zeroes, must
// have written there; elsewhere it may have written nothing.
std::uint64_t next_surely_not_zero(const WriteHistory& history, const WriteRecord& w, std::uint64_t from) {
  const std::uint64_t end = std::min(w.offset + w.bytes, history.size());
  while (from < end) {
    const std::uint64_t at = history.first_excluding(0, from, end, Cutoff{w.issued, false, w.issued});
    if (at == end) return end;
    from = at;
    for (const WriteRecord& o : history.all_records()) {
      if (&o == &w || o.offset > at || o.offset + o.bytes <= at) continue;
      const bool settled_before = o.completed != kNeverSettles && o.completed < w.issued;
      if (!settled_before && o.issued < w.completed) from = std::max(from, o.offset + o.bytes);
    }
    if (from == at) return at;
  }
  return end;
}

}  // namespace

void ScenarioRun::check_dirty_bitmaps() {
  for (const BitmapWatch& b : bitmaps_) {
    // The writes the model knows on this node: those of jobs whose data lands
    // 1:1 on it (its own jobs and those above it through raw and fault).
    auto checked = checked_.find(b.node);
    if (checked == checked_.end()) continue;
    const std::uint64_t g = b.bitmap->granularity();
    const auto& records = checked->second.history.all_records();
    for (const WriteRecord& w : records) {
      if (w.discard || w.truncation || w.completed == kNeverSettles || w.bytes == 0) continue;
      // A truncate after the write began cut the bitmap at its new length.
      std::uint64_t kept = UINT64_MAX;
      for (const WriteRecord& t : records) {
        if (t.truncation && t.issued > w.issued) kept = std::min(kept, (t.offset + g - 1) / g);
      }
      bool inside = false;  // issued and completed within one enabled span
      for (const auto& [from, to] : b.enabled) inside = inside || (from < w.issued && w.completed < to);
      if (!inside) continue;
      const std::uint64_t last = (w.offset + w.bytes - 1) / g;
      for (std::uint64_t chunk = w.offset / g; chunk <= last && chunk < kept; ++chunk) {
        if (w.skips_zeroes) {
          const std::uint64_t at = next_surely_not_zero(checked->second.history, w, std::max(chunk * g, w.offset));
          if (at >= w.offset + w.bytes) break;
          chunk = at / g;
          if (chunk >= kept) break;
        }
        if (b.bitmap->get(static_cast<std::int64_t>(chunk * g))) continue;
        violation(Oracle::kDirtyBitmaps, sim::cat(write_kind(w), ": not dirty"),
                  sim::cat("dirty bitmap '", b.name, "' of node '", nodes_[b.node]->spec->name, "': the ", write_kind(w),
                           " of [", w.offset, ", +", w.bytes, ") succeeded while it was enabled, but chunk ", chunk, " (",
                           chunk * g, "..", chunk * g + g - 1, ") is clean"));
        return;
      }
    }
  }
}

void ScenarioRun::check_drains_ended() {
  for (const auto& job : jobs_) {
    const BlockBackend* blk = job->backend.get();
    if (blk == nullptr) continue;
    if (blk->unbalanced() || blk->quiesce_counter() != 0 || blk->drained_begins() != blk->drained_ends()) {
      violation(Oracle::kDrain, "parent drain callbacks unbalanced",
                sim::cat("job '", job->spec->name, "''s backend ends with quiesce_counter ", blk->quiesce_counter(), " after ",
                         blk->drained_begins(), " drained_begin and ", blk->drained_ends(), " drained_end callbacks",
                         blk->unbalanced() ? " (a drained_end came without its drained_begin)" : ""));
      return;
    }
  }
  // Every drained section ended: each node's quiesce counter is back to zero
  // (deleted nodes too) and every AioContext takes external events again.
  for (const auto& n : nodes_) {
    if (n->bs->quiesce_counter == 0) continue;
    violation(Oracle::kDrain, "quiesce counter left raised",
              sim::cat("node '", n->spec->name, "' ends with quiesce_counter ", n->bs->quiesce_counter,
                       ": a drained section of it (or of a node below it) never ended"));
    return;
  }
  for (const auto& ctx : world_.contexts()) {
    if (ctx->external_disable_count() == 0) continue;
    violation(Oracle::kDrain, "external events left disabled",
              sim::cat("AioContext '", ctx->name(), "' ends with aio_disable_external counted ", ctx->external_disable_count(),
                       " times more than aio_enable_external"));
    return;
  }
}

void ScenarioRun::check_guest_entry(const Job& job, const Command& cmd) {
  for (std::size_t i : job.node->subtree) {
    if (const Node* d = drained_over(*nodes_[i])) {
      violation(Oracle::kDrain, "guest request while drained", sim::cat(command_where(scenario_, job, cmd), " was submitted while node '",
                                         nodes_[i]->spec->name, "' is drained (a section on '", d->spec->name, "')"));
      return;
    }
  }
}

void ScenarioRun::check_durability(const std::vector<bool>& crashed) {
  SIM_ASSERT(checks_in_progress_, "the durability check reads as the harness: prepare_for_checks first");
  bool held = true;
  for (auto& entry : checked_) {
    const std::size_t index = entry.first;
    CheckedNode& checked = entry.second;
    if (!checked.stores) continue;  // a null node has nothing to lose
    const auto hit = [&](const Node& n) {
      for (std::size_t k : n.subtree) {
        if (crashed[k]) return true;
      }
      return false;
    };
    // A disk below it the crash left running keeps its volatile cache: the
    // writes it holds there are part of the content read now.
    const auto spared = [&](const Node& n) {
      for (std::size_t k : n.subtree) {
        const drivers::MemDriver* mem = nodes_[k]->mem;
        if (!crashed[k] && mem != nullptr && mem->media().oldest_volatile_write() != UINT64_MAX) return true;
      }
      return false;
    };
    // The node, then each quorum replica of it: whatever a crash hit must
    // keep what was flushed. Unflushed writes may survive on one and not on
    // another, so the replicas are not compared again after it; and once a
    // crash parted them, the history follows the data home's content (it is
    // rebased on it), which says nothing of what a replica keeps.
    std::vector<std::uint8_t> home_content;
    bool home_hit = false;
    const bool parted = checked.replicas_diverged;
    const std::vector<std::size_t> images = with_replicas(index);
    for (const std::size_t k : images) {
      const Node& node = *nodes_[k];
      if (!hit(node) || (k != index && parted)) continue;
      if (k != index) checked.replicas_diverged = true;
      // Aligned as a guest's buffer is: whether a direct-I/O driver bounces it
      // must not depend on where the heap put it.
      IoBuffer content(checked.history.size());
      const int ret = engine::bdrv_pread(*node.root, 0, content.data(), static_cast<int>(content.size()));
      if (ret < 0) {
        violation(Oracle::kDurability, "unreadable after crash", sim::cat("after the crash, node '", node.spec->name,
                                                "' cannot be read: ", engine::errno_name(ret)));
        held = false;
        break;
      }
      const Cutoff cutoff{checked.durable_cutoff, true};
      const bool judged = !checked.volatile_base;
      held = !judged || checked.history.check(0, content, cutoff, [&](std::uint64_t i, std::uint8_t v, const ByteValues& ok) {
        violation(Oracle::kDurability,
                  content_shape("after crash", checked.history.diagnose(i, 0, content, cutoff)) +
                      (checked.flushed_under_no_flush ? " after a flush under cache.no-flush" : "") +
                      // Where the data lives: a format's second child, which flushes must reach too.
                      (node.spec->data_file.empty() ? "" : " in a data file") +
                      (k != index ? " in a quorum replica" : ""),
                  sim::cat("after crash ", crashes_, ", byte ", i, " of node '", node.spec->name, "' is ", sim::hex(v),
                           "; the writes flushed (or FUA) before it allow only ", describe_values(ok)));
      });
      if (!held) break;
      if (k == index) {
        home_hit = true;
        home_content.assign(content.begin(), content.end());
      }
    }
    if (!held) break;
    if (!home_hit) continue;
    checked.replicas_diverged = checked.replicas_diverged || images.size() > 1;
    checked.history.rebase(std::move(home_content));
    // A copy-on-read's clusters, unflushed, may have been dropped with their
    // table entries: what was copied before says nothing of the allocation now.
    checked.copied.clear();
    checked.durable_cutoff = 0;
    // Judged or not, what it holds now is its content; where a disk below it
    // the crash spared still caches writes, part of that is volatile.
    checked.volatile_base = spared(*nodes_[index]);
    checked.rebased_at = world_.now_ns();
  }
}

// A power cut judged, not done: what each cut mem node would hold if the
// power failed now, with requests in flight (cached writes and writes in the
// driver survive by the mode), checked against what was flushed or FUA; the
// run goes on unchanged. Nothing polls, so it can happen at any moment. The
// parser lets only raw and fault nodes stand between a job and a cut node.
void ScenarioRun::check_power_cut(const EventSpec& e) {
  ++power_cuts_;
  for (auto& entry : checked_) {
    const Node* home = identity_mem(*nodes_[entry.first]);
    if (home == nullptr || (!e.node.empty() && home->spec->name != e.node)) continue;
    CheckedNode& checked = entry.second;
    const drivers::SparseImage image = home->mem->power_cut_image(e.mode);
    std::vector<std::uint8_t> content(checked.history.size());
    image.read(0, content.size(), content.data());
    const Cutoff cutoff{checked.durable_cutoff, true};
    const bool held = checked.history.check(0, content, cutoff, [&](std::uint64_t i, std::uint8_t v, const ByteValues& ok) {
      violation(Oracle::kDurability, content_shape("after power cut", checked.history.diagnose(i, 0, content, cutoff)),
                sim::cat("power cut ", power_cuts_, " (", drivers::crash_mode_name(e.mode), ", at ", world_.now_ns(),
                         " ns, ", home->mem->writes_in_flight(), " writes in the driver): byte ", i, " of node '",
                         home->spec->name, "' would be ", sim::hex(v),
                         "; the writes flushed (or FUA) before it allow only ", describe_values(ok)));
    });
    if (!held) return;
  }
}

void ScenarioRun::check_final_images() {
  if (!checking(Oracle::kData)) return;  // a whole-node read: not worth it unjudged
  // Read what the guest would see, through the engine, with faults disarmed.
  for (auto& n : nodes_) {
    if (n->fault != nullptr) n->fault->disarm();
  }
  // A piece at a time, in order (the first wrong byte is still the one
  // reported): one buffer reused, rather than a node-sized one to fault in.
  constexpr std::uint64_t kPiece = 4 << 20;
  IoBuffer data;  // aligned: see check_durability
  for (const auto& entry : checked_) {
    const CheckedNode& checked = entry.second;
    if (!checked.content_known) continue;
    // The node, and its quorum replicas unless a crash may have parted them.
    std::vector<std::size_t> images = with_replicas(entry.first);
    if (checked.replicas_diverged) images.resize(1);
    for (const std::size_t index : images) {
      Node& node = *nodes_[index];
      // The whole node; or, for a huge one (the parser lets jobs write to it only
      // on a mem node without an image or a crash, so it started as zeroes),
      // what was written and whatever else its medium stores: the rest are holes.
      WriteHistory::Ranges ranges{{0, checked.history.size()}};
      if (checked.history.size() > kMaxCheckedNodeBytes) {
        // A null node stores nothing: only what writes would have put there
        // (none are recorded) and nothing else.
        SIM_ASSERT(node.mem != nullptr || !checked.stores, "jobs write to huge nodes only on mem or null (the parser checks)");
        ranges = checked.history.written_ranges();
        if (node.mem != nullptr) {
          for (const auto& r : node.mem->media().visible().stored_ranges()) ranges.push_back(r);
        }
        std::sort(ranges.begin(), ranges.end());
      }
      std::uint64_t done = 0;  // ranges may overlap: each byte is read once
      for (const auto& [begin, range_end] : ranges) {
        const std::uint64_t end = std::min(range_end, checked.history.size());  // failed writes past the end
        for (std::uint64_t offset = std::max(begin, done); offset < end; offset += kPiece) {
          data.resize(std::min(kPiece, end - offset));
          const int ret = engine::bdrv_pread(*node.root, static_cast<std::int64_t>(offset), data.data(),
                                             static_cast<int>(data.size()));
          if (ret < 0) {
            violation(Oracle::kData, "final image unreadable",
                      sim::cat("final image of node '", node.spec->name, "' could not be read at ", offset, ": ",
                               engine::errno_name(ret)));
            return;
          }
          const bool held =
              checked.history.check(offset, data, Cutoff{}, [&](std::uint64_t i, std::uint8_t v, const ByteValues& ok) {
                violation(Oracle::kData,
                          content_shape("final image", checked.history.diagnose(i, offset, data, Cutoff{})) +
                              (index != entry.first ? " in a quorum replica" : ""),
                          sim::cat("final image of node '", node.spec->name, "': byte ", i, " is ", sim::hex(v),
                                   ", but the writes to it allow only ", describe_values(ok), " (a lost or misplaced write)"));
              });
          if (!held) return;
        }
        done = std::max(done, end);
      }
    }
  }
}

void ScenarioRun::note_growth(const Job& job, const Command& cmd, int ret) {
  if (ret < 0 || cmd.op != Command::Op::kWrite || cmd.vmstate) return;
  const std::uint64_t end = (cmd.offset + cmd.bytes + 511) / 512 * 512;  // the end sector's
  using D = NodeSpec::Driver;
  for (const Node* n = job.node; n != nullptr;) {
    if (end > std::max(scenario_.node_size(*n->spec), grown_[n->index])) {
      grown_[n->index] = end;
      grown_at_[n->index] = world_.now_ns();
    }
    const NodeSpec& spec = *n->spec;
    const std::string& below = spec.driver == D::kTop ? spec.backing : spec.file;
    n = (spec.driver == D::kRaw || spec.driver == D::kFault || spec.driver == D::kTop) && !below.empty()
            ? &node_named_const(below)
            : nullptr;
  }
}

void ScenarioRun::check_hygiene(std::uint64_t frames_before) {
  for (const auto& node : nodes_) {
    const engine::BlockDriverState& bs = *node->bs;
    if (!bs.tracked_requests.empty() || bs.in_flight != 0 || bs.serialising_in_flight != 0 || bs.active_flush_req ||
        bs.io_plugged != 0) {
      violation(Oracle::kHygiene, hygiene_shape(bs),
                sim::cat("node '", bs.node_name(), "' ends with ", bs.tracked_requests.size(), " tracked requests, in_flight ",
                         bs.in_flight, ", serialising_in_flight ", bs.serialising_in_flight,
                         bs.active_flush_req ? ", an active flush" : "", bs.io_plugged != 0 ? ", still plugged" : ""));
      return;
    }
  }
  if (sim::FramePool::live_frames() != frames_before) {
    violation(Oracle::kHygiene, "frames leaked",
              sim::cat(sim::FramePool::live_frames() - frames_before, " coroutine frames leaked"));
  }
}

}  // namespace scenarios
