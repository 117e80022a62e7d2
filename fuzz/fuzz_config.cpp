// The TOML run configuration (Config::from_string), `--set section.key=value` overrides
// (set_override), typed reads (get, get_optional, get_choice, is_auto), check_unknown and the
// resolved configuration. Input: NUL-separated parts: the TOML text, then up to 8 overrides.
//
// Beyond "success or winnow::Error" it checks one property: resolved_toml() (written as a
// run's config.toml, which `winnow train --resume` reads back) parses again, and the same reads
// of it resolve to the same text.
#include <map>
#include <sstream>

#include "fuzz_common.h"
#include "winnow/core/config.h"

namespace {

using winnow::Config;

enum Type { kBool, kString, kStrings, kInts, kDoubles, kInt, kDouble, kTypes };

// Reads `key` as `type`; true when the value had that type.
bool read_as(Config& config, const std::string& key, int type) {
  try {
    switch (type) {
      case kBool: config.get<bool>(key, false); break;
      case kString: config.get<std::string>(key, ""); break;
      case kStrings: config.get<std::vector<std::string>>(key, {}); break;
      case kInts: config.get<std::vector<int64_t>>(key, {}); break;
      case kDoubles: config.get<std::vector<double>>(key, {}); break;
      case kInt: config.get<int64_t>(key, 0); break;
      case kDouble: config.get<double>(key, 0.0); break;
    }
    return true;
  } catch (const winnow::Error&) {
    return false;
  }
}

bool is_bare_key(std::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Dotted paths of the leaves of `table` whose parts are all bare keys (the keys components
// read are such names), at most 64 of them.
void leaf_keys(const toml::table& table, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& [k, node] : table) {
    if (out.size() >= 64) return;
    if (!is_bare_key(k.str())) continue;
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      leaf_keys(*sub, key, out);
    } else if (key.find('.') != std::string::npos) {
      out.push_back(key);
    }
  }
}

// The reads of a run: fixed keys of every type, then every leaf key as each type in turn.
// Returns the type each key last resolved as (the value in force), for replaying the reads.
std::map<std::string, int> read_all(Config& config, const std::vector<std::string>& keys) {
  std::map<std::string, int> resolved;
  auto read_key = [&](const std::string& key, std::initializer_list<int> types) {
    for (int type : types) {
      if (read_as(config, key, type)) resolved[key] = type;
    }
  };
  read_key("train.epochs", {kInt});
  read_key("optim.lr", {kDouble});
  read_key("model.hidden", {kInts});
  read_key("method.forget_rates", {kDoubles});
  read_key("data.names", {kStrings});
  read_key("train.deterministic", {kBool});
  read_key("data.path", {kString});
  for (const auto& key : keys) {
    read_key(key, {kBool, kString, kStrings, kInts, kDoubles, kInt, kDouble});
  }
  return resolved;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

// The reads whose result is not only a value: "auto", a choice, an optional key.
static void read_special(Config& config, bool only_present) {
  if (!only_present || config.has("noise.rate")) {
    winnow_fuzz::expect_success_or_winnow_error([&] {
      if (!config.is_auto("noise.rate")) config.get<double>("noise.rate", 0.0);
    });
  }
  if (!only_present || config.has("data.format")) {
    winnow_fuzz::expect_success_or_winnow_error(
        [&] { config.get_choice("data.format", "idx", {"idx", "csv", "npy", "folder"}); });
  }
  winnow_fuzz::expect_success_or_winnow_error([&] { config.get_optional<int64_t>("train.patience"); });
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = winnow_fuzz::split_nul(data, size, 9);
  Config config;
  try {
    config = Config::from_string(parts[0], "fuzz.toml");
    for (size_t i = 1; i < parts.size(); ++i) config.set_override(parts[i]);
  } catch (const winnow::Error&) {
    return 0;
  }
  // What the tool does with a configuration besides reading keys.
  std::ostringstream raw;
  raw << config.raw();
  Config model_only = config.sections({"model", "data"});
  (void)model_only.has("model.name");

  std::vector<std::string> keys;
  leaf_keys(config.raw(), "", keys);
  read_special(config, /*only_present=*/false);
  const auto reads = read_all(config, keys);
  winnow_fuzz::expect_success_or_winnow_error([&] { config.check_unknown(); });

  // The resolved configuration reads back to itself.
  const std::string resolved = config.resolved_toml();
  Config again;
  try {
    again = Config::from_string(resolved, "resolved.toml");
  } catch (const winnow::Error& e) {
    std::fprintf(stderr, "\n*** resolved_toml() does not parse: %s\n--- resolved:\n%s\n", e.what(), resolved.c_str());
    std::abort();
  }
  read_special(again, /*only_present=*/true);
  for (const auto& [key, type] : reads) {
    if (!read_as(again, key, type)) {
      std::fprintf(stderr, "\n*** '%s' does not read back as type %d from:\n%s\n", key.c_str(), type,
                   resolved.c_str());
      std::abort();
    }
  }
  const std::string resolved_again = again.resolved_toml();
  if (resolved_again != resolved) {
    std::fprintf(stderr, "\n*** the resolved configuration changes when read back:\n%s\n--- became:\n%s\n",
                 resolved.c_str(), resolved_again.c_str());
    std::abort();
  }
  return 0;
}
