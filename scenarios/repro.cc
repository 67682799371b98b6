#include "scenarios/repro.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/image_codec.h"
#include "sim/str.h"

namespace scenarios {

Repro make_repro(const Scenario& scenario, const std::string& scenario_text, const RunOptions& options,
                 const RunResult& result) {
  Repro r;
  r.version = BLKSIM_VERSION;
  r.scenario_file = scenario.path;
  r.scenario_text = scenario_text;
  r.scenario_digest = content_digest(scenario_text);
  // Every file the scenario read (images, pattern files), by the name it gives.
  for (const auto& [name, bytes] : image_store_of(scenario)) {
    r.images.push_back(ReproImage{name, bytes, content_digest(*bytes)});
  }
  r.seed = options.seed;
  r.strategy = result.strategy == "replay" ? "replay" : options.strategy.value_or(scenario.strategy).to_string();
  r.tape = result.tape;
  for (engine::Mutant m : options.mutants) r.mutants.emplace_back(engine::mutant_name(m));
  for (engine::Fix f : options.fixes) r.fixes.emplace_back(engine::fix_name(f));
  r.verdict = std::string(sim::verdict_kind_name(result.verdict.kind));
  r.property = result.verdict.id;
  r.signature = sim::failure_signature(result.verdict);
  r.known_defect = result.known_defect;
  r.message = result.verdict.message;
  r.fingerprint = result.fingerprint;
  r.events = result.events;
  r.checkpoints = result.checkpoints;
  r.digests = result.digests;
  return r;
}

std::string repro_to_json(const Repro& r) {
  nlohmann::ordered_json j;
  j["blksim_repro"] = kReproFormat;
  j["version"] = r.version;
  j["reference"] = kReference;
  j["scenario_file"] = r.scenario_file;
  j["scenario_digest"] = r.scenario_digest;
  j["seed"] = r.seed;
  j["strategy"] = r.strategy;
  j["tape"] = r.tape.to_string();
  j["mutants"] = r.mutants;
  j["fixes"] = r.fixes;
  j["expected"] = {{"verdict", r.verdict},
                   {"property", r.property},
                   {"signature", r.signature},
                   {"known_defect", r.known_defect},
                   {"message", r.message},
                   {"fingerprint", sim::format_fingerprint(r.fingerprint)},
                   {"events", r.events}};
  std::vector<std::string> checkpoints;
  for (std::uint64_t c : r.checkpoints) checkpoints.push_back(sim::format_fingerprint(c));
  j["checkpoints"] = checkpoints;
  static const char kHex[] = "0123456789abcdef";
  std::string digests;
  digests.reserve(r.digests.size() * 4);
  for (std::uint16_t d : r.digests) {
    for (int shift = 12; shift >= 0; shift -= 4) digests += kHex[(d >> shift) & 0xf];
  }
  j["digests"] = digests;
  j["images"] = nlohmann::ordered_json::array();
  for (const ReproImage& im : r.images) {
    j["images"].push_back({{"name", im.name},
                           {"bytes", im.bytes->size()},
                           {"digest", im.digest},
                           {"zlib_base64", encode_image(*im.bytes)}});
  }
  j["scenario"] = r.scenario_text;
  return j.dump(2) + "\n";
}

namespace {

std::optional<std::uint64_t> parse_fingerprint(const std::string& text) {
  // As format_fingerprint writes it: 16 hex digits.
  if (text.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : text) {
    const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

// A JSON value that must be an integer in [0, 2^64): nlohmann converts 1e30
// and -1 to an unsigned integer without a word, so the type is checked first.
std::optional<std::uint64_t> unsigned_field(const nlohmann::json& j) {
  if (!j.is_number_unsigned()) return std::nullopt;
  return j.get<std::uint64_t>();
}

}  // namespace

absl::StatusOr<Repro> parse_repro(const std::string& text, const std::string& path) {
  const auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(sim::cat(path, ": not a usable blksim repro file: ", what));
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return bad(sim::cat("JSON syntax at byte ", e.byte, ": ", e.what()));
  } catch (const nlohmann::json::exception& e) {  // a number too large for any JSON type, say (found by fuzz_repro)
    return bad(e.what());
  }
  if (!j.is_object() || !j.contains("blksim_repro")) return bad("expected an object with \"blksim_repro\"");
  try {
    const auto format = unsigned_field(j.at("blksim_repro"));
    if (!format || *format < 1 || *format > static_cast<std::uint64_t>(kReproFormat)) {
      return bad(sim::cat("format ", j.at("blksim_repro").dump(), ", this blksim reads formats 1 to ", kReproFormat));
    }
    Repro r;
    r.format = static_cast<int>(*format);
    r.version = j.at("version").get<std::string>();
    r.scenario_file = j.at("scenario_file").get<std::string>();
    r.scenario_text = j.at("scenario").get<std::string>();
    const auto seed = unsigned_field(j.at("seed"));
    if (!seed) return bad(sim::cat("seed: expected an integer from 0 to 18446744073709551615, got ", j.at("seed").dump()));
    r.seed = *seed;
    r.strategy = j.at("strategy").get<std::string>();
    auto tape = sim::ChoiceTape::parse(j.at("tape").get<std::string>());
    if (!tape.ok()) return bad(sim::cat("tape: ", tape.status().message()));
    r.tape = *tape;
    r.mutants = j.at("mutants").get<std::vector<std::string>>();
    const auto& e = j.at("expected");
    r.verdict = e.at("verdict").get<std::string>();
    r.property = e.at("property").get<std::string>();
    r.message = e.at("message").get<std::string>();
    auto fp = parse_fingerprint(e.at("fingerprint").get<std::string>());
    if (!fp) return bad("expected.fingerprint: expected 16 hex digits");
    r.fingerprint = *fp;
    const auto events = unsigned_field(e.at("events"));
    if (!events) return bad(sim::cat("expected.events: expected a non-negative integer, got ", e.at("events").dump()));
    r.events = *events;
    const std::string digests = j.value("digests", std::string());
    if (digests.size() % 4 != 0) return bad("digests: expected 4 hex digits per event");
    for (std::size_t i = 0; i < digests.size(); i += 4) {
      std::uint16_t d = 0;
      for (std::size_t k = i; k < i + 4; ++k) {
        const char c = digests[k];
        const int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) return bad("digests: expected 4 hex digits per event");
        d = static_cast<std::uint16_t>(d * 16 + v);
      }
      r.digests.push_back(d);
    }
    for (const auto& c : j.at("checkpoints")) {
      auto v = parse_fingerprint(c.get<std::string>());
      if (!v) return bad("checkpoints: expected 16 hex digits each");
      r.checkpoints.push_back(*v);
    }
    if (r.format >= 2) {
      r.fixes = j.at("fixes").get<std::vector<std::string>>();
      r.signature = e.at("signature").get<std::string>();
      r.known_defect = e.at("known_defect").get<std::string>();
      r.scenario_digest = j.at("scenario_digest").get<std::string>();
      // The digests are checked before anything runs: an edited scenario or
      // image is reported as such, not as a divergence.
      if (content_digest(r.scenario_text) != r.scenario_digest) {
        return bad(sim::cat("the embedded scenario does not match scenario_digest ", r.scenario_digest,
                            " (it was edited after the repro was written; its digest is now ",
                            content_digest(r.scenario_text), ")"));
      }
      for (const auto& im : j.at("images")) {
        ReproImage image;
        image.name = im.at("name").get<std::string>();
        image.digest = im.at("digest").get<std::string>();
        const auto size = unsigned_field(im.at("bytes"));
        if (!size) return bad(sim::cat("images: '", image.name, "': bytes: expected a non-negative integer"));
        auto bytes = decode_image(im.at("zlib_base64").get<std::string>(), *size);
        if (!bytes.ok()) return bad(sim::cat("images: '", image.name, "': ", bytes.status().message()));
        if (content_digest(*bytes) != image.digest) {
          return bad(sim::cat("images: '", image.name, "' does not match its digest ", image.digest, " (now ",
                              content_digest(*bytes), ")"));
        }
        image.bytes = std::make_shared<const std::vector<std::uint8_t>>(*std::move(bytes));
        r.images.push_back(std::move(image));
      }
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return bad(sim::cat("missing or mistyped field (", e.what(), ")"));
  }
}

absl::StatusOr<Repro> load_repro(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return absl::InvalidArgumentError(sim::cat(path, ": is a directory, not a repro file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(sim::cat(path, ": cannot open repro file"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_repro(text.str(), path);
}

absl::StatusOr<Scenario> repro_scenario(const Repro& repro, const std::string& repro_path) {
  absl::StatusOr<Scenario> s;
  if (repro.format >= 2) {
    // The scenario and its images both come from the repro: nothing on disk is read.
    ImageStore images;
    for (const ReproImage& im : repro.images) images[im.name] = im.bytes;
    s = parse_scenario(repro.scenario_text, repro.scenario_file, &images);
  } else {
    // Format 1 carried no images: they are read relative to the original file.
    s = parse_scenario(repro.scenario_text, repro.scenario_file);
  }
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        sim::cat(repro_path, ": in the scenario text it embeds (positions are in that text, written from ",
                 repro.scenario_file, "): ", s.status().message()));
  }
  return s;
}

absl::StatusOr<RunOptions> repro_options(const Repro& repro, const std::string& repro_path) {
  RunOptions o;
  o.seed = repro.seed;
  auto strategy = sim::StrategySpec::parse(repro.strategy);
  if (!strategy.ok()) return absl::InvalidArgumentError(sim::cat(repro_path, ": strategy: ", strategy.status().message()));
  o.strategy = *strategy;
  if (strategy->kind == sim::StrategySpec::Kind::kReplay) o.tape = repro.tape;
  for (const std::string& name : repro.mutants) {
    auto m = engine::mutant_from_name(name);
    if (!m) return absl::InvalidArgumentError(sim::cat(repro_path, ": mutant '", name, "' is unknown to this blksim"));
    o.mutants.push_back(*m);
  }
  for (const std::string& name : repro.fixes) {
    auto f = engine::fix_from_name(name);
    if (!f) return absl::InvalidArgumentError(sim::cat(repro_path, ": fix '", name, "' is unknown to this blksim"));
    o.fixes.push_back(*f);
  }
  return o;
}

ReplayComparison compare_replay(const Repro& repro, const RunResult& result) {
  ReplayComparison c;
  if (repro.version != BLKSIM_VERSION) {
    c.version_note = sim::cat("the repro was written by blksim ", repro.version, ", this is blksim ", BLKSIM_VERSION);
  }
  if (result.fingerprint == repro.fingerprint && result.events == repro.events) {
    c.identical = true;
    c.summary = sim::cat("identical: ", result.events, " events, fingerprint ", sim::format_fingerprint(result.fingerprint));
    return c;
  }
  // The first checkpoint that differs bounds the first diverging event; the
  // per-event digests then name it.
  const std::size_t common = std::min(repro.checkpoints.size(), result.checkpoints.size());
  std::size_t k = 0;
  while (k < common && repro.checkpoints[k] == result.checkpoints[k]) ++k;
  const std::uint64_t from = k * kCheckpointEvents;
  const std::uint64_t to = std::min<std::uint64_t>((k + 1) * kCheckpointEvents, std::max(repro.events, result.events));
  for (std::uint64_t e = from; e < to && e < repro.digests.size() && e < result.digests.size(); ++e) {
    if (repro.digests[e] != result.digests[e]) {
      c.first_difference = e;
      break;
    }
  }
  if (!c.first_difference) {
    // Equal as far as both go: the shorter run ended where the other went on.
    const std::uint64_t shorter = std::min(repro.events, result.events);
    if (shorter >= from && shorter < to && shorter <= repro.digests.size() && shorter <= result.digests.size() &&
        repro.events != result.events) {
      c.first_difference = shorter;
    }
  }
  const std::string where = c.first_difference ? sim::cat("the first differing event is ", *c.first_difference)
                                               : sim::cat("the first differing event is in [", from, ", ", to, ")");
  c.summary = sim::cat("DIVERGED: ", where, " (repro: ", repro.events, " events, ", sim::format_fingerprint(repro.fingerprint),
                       "; replay: ", result.events, " events, ", sim::format_fingerprint(result.fingerprint), ")");
  if (!c.version_note.empty()) c.summary += sim::cat("; ", c.version_note);
  return c;
}

}  // namespace scenarios
