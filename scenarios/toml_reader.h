// Reads typed values out of a TOML tree; every error carries file:line:column
// and says what was expected.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <toml++/toml.h>

#include "scenarios/image_store.h"
#include "scenarios/names.h"
#include "scenarios/qemu_io.h"
#include "sim/str.h"

namespace scenarios {

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

// Reads typed values out of the TOML tree; every error carries file:line:column.
class Reader {
 public:
  explicit Reader(const std::string& path, const ImageStore* images = nullptr) : path_(path), images_(images) {}
  const std::string& path() const { return path_; }
  const ImageStore* images() const { return images_; }

  absl::Status read_bool(const toml::table& table, std::string_view key, bool& out, std::string_view where) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_boolean()) return error_at(*node, sim::cat(where, ".", key, ": expected true or false"));
    out = node->as_boolean()->get();
    return absl::OkStatus();
  }

  absl::Status error_at(const toml::source_region& where, const std::string& message) const {
    return absl::InvalidArgumentError(
        sim::cat(path_, ":", where.begin.line, ":", where.begin.column, ": ", message));
  }
  absl::Status error_at(const toml::node& node, const std::string& message) const {
    return error_at(node.source(), message);
  }

  // A file a scenario names (an image, a pattern file), by that name: from
  // the repro file's store when the scenario came with one, else from disk
  // relative to the scenario. Empty or above `max_bytes`: an error at `at`.
  absl::StatusOr<std::shared_ptr<const std::vector<std::uint8_t>>> read_data_file(const toml::node& at,
                                                                                    const std::string& name,
                                                                                    std::string_view what,
                                                                                    std::uint64_t max_bytes) const;


  // Reject keys a table does not know: a typo must not become a silent default.
  absl::Status check_keys(const toml::table& table, std::string_view where,
                          std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, value] : table) {
      bool known = false;
      for (std::string_view a : allowed) known = known || key.str() == a;
      if (!known) {
        std::string list;
        for (std::string_view a : allowed) list += sim::cat(list.empty() ? "" : ", ", a);
        return error_at(key.source(), sim::cat("unknown key '", key.str(), "' in ", where, " (expected one of: ",
                                               list, ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status read_string(const toml::table& table, std::string_view key, std::string& out, bool required,
                           std::string_view where) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      if (required) return error_at(table, sim::cat(where, " needs a '", key, "' (a string)"));
      return absl::OkStatus();
    }
    auto value = node->value<std::string>();
    if (!value || !node->is_string()) return error_at(*node, sim::cat(where, ".", key, ": expected a string"));
    out = *value;
    return absl::OkStatus();
  }

  // A string that names something: printable (scenarios/names.h), not empty,
  // at most kMaxNameBytes.
  absl::Status read_name(const toml::table& table, std::string_view key, std::string& out, bool required,
                         std::string_view where) const {
    std::string value;
    RETURN_IF_ERROR(read_string(table, key, value, required, where));
    const toml::node* node = table.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (value.empty()) return error_at(*node, sim::cat(where, ".", key, ": expected a name, got an empty string"));
    if (value.size() > kMaxNameBytes) {
      return error_at(*node, sim::cat(where, ".", key, ": expected at most ", kMaxNameBytes, " bytes, got ", value.size()));
    }
    if (std::string why = unprintable_reason(value); !why.empty()) {
      return error_at(*node, sim::cat(where, ".", key, ": names must be printable text: ", why));
    }
    out = std::move(value);
    return absl::OkStatus();
  }

  // An integer in [lo, hi]; with `sizes`, also a string such as "64k" or "1M".
  absl::Status read_uint(const toml::table& table, std::string_view key, std::uint64_t& out, std::uint64_t lo,
                         std::uint64_t hi, std::string_view where, bool sizes = false, bool required = false) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      if (required) return error_at(table, sim::cat(where, " needs '", key, "'"));
      return absl::OkStatus();
    }
    std::uint64_t value = 0;
    if (node->is_integer()) {
      std::int64_t v = node->as_integer()->get();
      if (v < 0) return error_at(*node, sim::cat(where, ".", key, ": expected ", lo, " to ", hi, ", got ", v));
      value = static_cast<std::uint64_t>(v);
    } else if (sizes && node->is_string()) {
      auto parsed = parse_qemu_io_number(node->as_string()->get());
      if (!parsed.ok()) return error_at(*node, sim::cat(where, ".", key, ": ", parsed.status().message()));
      value = *parsed;
    } else {
      return error_at(*node, sim::cat(where, ".", key, ": expected ", sizes ? "a size (e.g. 4096 or \"64k\")" : "an integer"));
    }
    if (value < lo || value > hi) {
      return error_at(*node, sim::cat(where, ".", key, ": expected ", lo, " to ", hi, ", got ", value));
    }
    out = value;
    return absl::OkStatus();
  }

  template <typename T>
  absl::Status read_small(const toml::table& table, std::string_view key, T& out, std::uint64_t lo, std::uint64_t hi,
                          std::string_view where, bool sizes = false) const {
    std::uint64_t v = out;
    absl::Status s = read_uint(table, key, v, lo, hi, where, sizes);
    if (s.ok()) out = static_cast<T>(v);
    return s;
  }

 private:
  const std::string& path_;
  const ImageStore* images_;
};

}  // namespace scenarios
