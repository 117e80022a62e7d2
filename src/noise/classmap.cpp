// Class-map ("asymmetric") label noise: a user-given map of source class -> target class,
// each sample of a source class flipping to its target with probability r,
//   T_ss = 1 - r,   T_s,map(s) = r,   rows of unmapped classes are the identity.
// The presets are the maps of the literature. "mnist" and "cifar10" are those of Patrini et
// al., "Making deep neural networks robust to label noise: a loss correction approach",
// CVPR 2017: MNIST 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1; CIFAR-10 truck -> automobile (9 -> 1),
// bird -> airplane (2 -> 0), deer -> horse (4 -> 7), cat <-> dog (3 <-> 5). "fashion-mnist" is
// the analogous map of visually similar Fashion-MNIST classes used in later label-noise work:
// T-shirt -> shirt (0 -> 6), pullover -> coat (2 -> 4), sandal <-> sneaker (5 <-> 7).
#include <algorithm>
#include <cctype>
#include <sstream>
#include <utility>
#include <vector>

#include "common.h"
#include "winnow/core/error.h"
#include "winnow/noise/noise.h"

namespace winnow {
namespace {

using ClassMap = std::vector<std::pair<int64_t, int64_t>>;  // (source, target), in order given

struct Preset {
  const char* name;
  const char* pairs;
};
constexpr Preset kPresets[] = {
    {"fashion-mnist", "0:6,2:4,5:7,7:5"},
    {"mnist", "7:1,2:7,5:6,6:5,3:8"},
    {"cifar10", "9:1,2:0,3:5,5:3,4:7"},
};

std::string preset_names() {
  std::string out;
  for (const auto& preset : kPresets) {
    if (!out.empty()) out += ", ";
    out += preset.name;
  }
  return out;
}

std::string trim(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

// A non-negative decimal class index, or -1 where `text` is not one.
int64_t parse_class(const std::string& text) {
  if (text.empty() || text.size() > 9) return -1;
  for (char ch : text) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) return -1;
  }
  return std::stoll(text);
}

constexpr const char* kAllowed =
    "allowed: comma-separated src:dst pairs of class indices such as \"0:6,2:4\" (or an array "
    "[\"0:6\", \"2:4\"]), no class mapped to itself, each source at most once";

// Parses "src:dst" pairs; `map_text` is the map as the user wrote it, for messages.
ClassMap parse_pairs(const std::vector<std::string>& items, const std::string& map_text,
                     const std::string& source) {
  ClassMap pairs;
  for (const auto& raw : items) {
    std::string item = trim(raw);
    auto colon = item.find(':');
    int64_t src = colon == std::string::npos ? -1 : parse_class(trim(item.substr(0, colon)));
    int64_t dst = colon == std::string::npos ? -1 : parse_class(trim(item.substr(colon + 1)));
    require(src >= 0 && dst >= 0,
            "{}: noise.map = {}: cannot parse '{}' as src:dst ({}; presets: {})", source, map_text,
            item, kAllowed, preset_names());
    require(src != dst, "{}: noise.map = {}: '{}' maps class {} to itself ({})", source, map_text,
            item, src, kAllowed);
    for (const auto& [seen_src, seen_dst] : pairs) {
      require(seen_src != src, "{}: noise.map = {}: class {} is mapped twice ({} and {}) ({})",
              source, map_text, src, seen_dst, dst, kAllowed);
    }
    pairs.emplace_back(src, dst);
  }
  require(!pairs.empty(), "{}: noise.map = {} is empty ({}; presets: {})", source, map_text,
          kAllowed, preset_names());
  return pairs;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) items.push_back(item);
  if (!text.empty() && text.back() == ',') items.emplace_back();  // a trailing comma is an error
  return items;
}

class ClassMapNoise : public NoiseModel {
 public:
  ClassMapNoise(double rate, ClassMap pairs, std::string map_text, std::string preset)
      : rate_(rate),
        pairs_(std::move(pairs)),
        map_text_(std::move(map_text)),
        preset_(std::move(preset)) {}

  std::string name() const override { return "classmap"; }
  std::string describe() const override {
    std::string pairs;
    for (const auto& [src, dst] : pairs_) {
      pairs += fmt::format("{}{}:{}", pairs.empty() ? "" : ",", src, dst);
    }
    return fmt::format("classmap rate={} map={}{}", noise_detail::format_rate(rate_), pairs,
                       preset_.empty() ? "" : " (preset " + preset_ + ")");
  }

  NoiseResult apply(const Dataset& data, uint64_t seed) const override {
    torch::Tensor labels = noise_detail::checked_labels(data, name());
    const int64_t k = data.num_classes;
    check_range(k, data.name);
    // target[c] is the class c flips to (c itself where c is unmapped).
    torch::Tensor target = torch::arange(k, torch::kInt64);
    for (const auto& [src, dst] : pairs_) target[src] = dst;
    at::Generator generator = noise_detail::make_generator(seed);
    // One draw per sample, also for unmapped classes, so the draws do not depend on the map.
    torch::Tensor flip = torch::rand({labels.size(0)}, generator, torch::kFloat64).lt(rate_);
    torch::Tensor noisy = torch::where(flip, target.index_select(0, labels), labels);
    return summarize_noise(labels, noisy, k);
  }

  torch::Tensor expected_transition(int64_t num_classes) const override {
    check_range(num_classes, "");
    torch::Tensor t = torch::eye(num_classes, torch::kFloat64);
    for (const auto& [src, dst] : pairs_) {
      t[src][src] = 1.0 - rate_;
      t[src][dst] = rate_;
    }
    return t;
  }

 private:
  void check_range(int64_t num_classes, const std::string& data_name) const {
    for (const auto& [src, dst] : pairs_) {
      require(src < num_classes && dst < num_classes,
              "noise.map = {}: pair {}:{} names a class outside [0, {}]{} (allowed: class "
              "indices 0..{})",
              map_text_, src, dst, num_classes - 1,
              data_name.empty() ? "" : fmt::format(" of data set '{}'", data_name),
              num_classes - 1);
    }
  }

  double rate_;
  ClassMap pairs_;
  std::string map_text_;
  std::string preset_;  // empty unless the map was given by preset name
};

std::unique_ptr<NoiseModel> make_classmap(Config& config) {
  double rate = noise_detail::read_rate(config, "classmap", 0.0, 1.0);
  const toml::node* node = config.raw().at_path("noise.map").node();
  require(node != nullptr, "{}: noise.map is required for noise type 'classmap' ({}; presets: {})",
          config.source(), kAllowed, preset_names());
  std::vector<std::string> items;
  std::string map_text;
  std::string preset_name;
  if (node->is_array()) {
    items = config.get<std::vector<std::string>>("noise.map", {});
    std::vector<std::string> quoted;
    for (const auto& item : items) quoted.push_back("\"" + item + "\"");
    map_text = fmt::format("[{}]", fmt::join(quoted, ", "));
  } else {
    std::string text = config.get<std::string>("noise.map", "");
    map_text = "\"" + text + "\"";
    std::string wanted = trim(text);
    const auto* preset = std::find_if(std::begin(kPresets), std::end(kPresets),
                                      [&](const Preset& p) { return wanted == p.name; });
    if (preset != std::end(kPresets)) {
      preset_name = preset->name;
      items = split_commas(preset->pairs);
    } else {
      items = split_commas(text);
    }
  }
  return std::make_unique<ClassMapNoise>(rate, parse_pairs(items, map_text, config.source()),
                                         map_text, preset_name);
}

WINNOW_REGISTER(NoiseRegistry, "classmap",
                "each class in map (src:dst pairs or a preset: fashion-mnist, mnist, cifar10) "
                "flips to its target with probability rate",
                make_classmap);

}  // namespace
}  // namespace winnow
