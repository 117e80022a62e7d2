#pragma once
// The run configuration: one TOML schema for every method (`[data]`, `[noise]`, `[model]`,
// `[loss]`, `[method]`, `[optim]`, `[train]`), plus `--set section.key=value` overrides.
//
// Components read their keys with get(key, default). Each read records the key as known and
// the value in force, so that
//   - resolved() is the fully resolved configuration of the run (written to config.toml), and
//   - check_unknown() turns any key nobody read (a typo, an option of another loss) into an
//     error naming the key and the keys that section does have.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace winnow {

class Config {
 public:
  Config() = default;
  static Config from_file(const std::string& path);
  static Config from_string(const std::string& text, const std::string& source = "<string>");

  // Applies "section.key=value". The value is parsed as TOML (numbers, booleans, arrays,
  // quoted strings); anything that does not parse as TOML is taken as a bare string.
  void set_override(const std::string& assignment);
  // Sets a value programmatically (tests, sweeps), replacing any value present.
  template <typename T>
  void set(const std::string& key, const T& value);

  bool has(const std::string& key) const;
  // True where `key` holds the string "auto" (an option the run estimates from the data);
  // then the key counts as read and resolves to "auto".
  bool is_auto(const std::string& key);
  // A configuration holding only the given sections of this one (e.g. {"model"}), with no
  // key read yet: for a side computation (the noise estimate) that builds its own parts.
  Config sections(const std::vector<std::string>& names) const;

  // Typed reads. T is one of bool, int64_t, double, std::string, std::vector<int64_t>,
  // std::vector<double>, std::vector<std::string>. A value of the wrong type is an error
  // naming the key, the value and the expected type; integers are accepted for doubles.
  template <typename T>
  T get(const std::string& key, const T& default_value);
  template <typename T>
  std::optional<T> get_optional(const std::string& key);
  // A string that must be one of `allowed`.
  std::string get_choice(const std::string& key, const std::string& default_value,
                         const std::vector<std::string>& allowed);

  // Throws winnow::Error for the first key present in the file or the overrides that no
  // component read.
  void check_unknown() const;

  // The values in force for every key read so far, as TOML text.
  std::string resolved_toml() const;
  const toml::table& raw() const { return table_; }
  const std::string& source() const { return source_; }

 private:
  const toml::node* find(const std::string& key) const;
  void mark(const std::string& key);
  template <typename T>
  void record(const std::string& key, const T& value);

  toml::table table_;
  toml::table resolved_;
  std::set<std::string> known_;
  std::string source_ = "<defaults>";
};

}  // namespace winnow
