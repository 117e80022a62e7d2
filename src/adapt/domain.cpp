#include "winnow/adapt/domain.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/batcher.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace {

// Seed streams (derive_seed) of the domain split.
constexpr uint64_t kSubsetStream = 11;  // the same subset of the training file as a `train` run
// 31 is also estimation's fold stream (estimate/out_of_sample.cpp); the two never draw in one
// run, and the benchmark's query/gallery split (bench/RESULTS.md) was made with it.
constexpr uint64_t kQueryStream = 31;

void check_classes(const std::vector<int64_t>& classes, const char* key, int64_t num_classes) {
  std::set<int64_t> seen;
  for (int64_t c : classes) {
    require(c >= 0 && c < num_classes, "{} holds class {}: allowed 0 to {} ({} classes)", key, c,
            num_classes - 1, num_classes);
    require(seen.insert(c).second, "{} names class {} twice", key, c);
  }
}

// Bool [N]: labels that are one of `classes`.
torch::Tensor in_classes(const torch::Tensor& labels, const std::vector<int64_t>& classes) {
  auto mask = torch::zeros_like(labels, torch::kBool);
  for (int64_t c : classes) mask.logical_or_(labels.eq(c));
  return mask;
}

torch::Tensor load_features(const std::string& path, const char* key, const CsvOptions& csv) {
  auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".npy") || ends_with(".npy.gz")) return load_npy_features(path);
  if (ends_with(".csv") || ends_with(".csv.gz")) return load_csv_features(path, csv);
  fail("{} = \"{}\": unknown format; allowed: .npy (features [N, ...]) or .csv (every column a feature)", key,
       path);
}

// A seeded random `fraction` of the target test samples become queries, the rest the gallery
// (disjoint, as in re-ID benchmarks). Every class keeps at least one gallery sample where it can.
void split_query_gallery(DomainData& out, const torch::Tensor& inputs, const torch::Tensor& ids, double fraction,
                         uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(derive_seed(seed, kQueryStream));
  const int64_t n = inputs.size(0);
  auto order = torch::randperm(n, generator, torch::kInt64);
  const int64_t queries = std::min<int64_t>(n - 1, std::llround(fraction * static_cast<double>(n)));
  require(queries >= 1, "data.query_fraction = {} leaves no query among {} target test samples", fraction, n);
  auto query_index = std::get<0>(order.slice(0, 0, queries).sort());
  auto gallery_index = std::get<0>(order.slice(0, queries).sort());
  out.query = inputs.index_select(0, query_index);
  out.query_ids = ids.index_select(0, query_index);
  out.gallery = inputs.index_select(0, gallery_index);
  out.gallery_ids = ids.index_select(0, gallery_index);
}

}  // namespace

DomainOptions DomainOptions::from_config(Config& config, const DataOptions& data) {
  DomainOptions o;
  o.source_classes = config.get<std::vector<int64_t>>("data.source_classes", {});
  o.target = config.get<std::string>("data.target", "");
  if (o.user_target()) {
    o.target_labels = config.get<std::string>("data.target_labels", "");
    o.target_test = config.get<std::string>("data.target_test", "");
    if (!o.target_test.empty()) {
      o.target_test_labels = config.get<std::string>("data.target_test_labels", "");
      require(!o.target_test_labels.empty(),
              "data.target_test = \"{}\" needs data.target_test_labels (the identities that score retrieval)",
              o.target_test);
    }
  } else {
    o.target_classes = config.get<std::vector<int64_t>>("data.target_classes", {});
    require(!o.source_classes.empty() && !o.target_classes.empty(),
            "domain adaptation needs a target domain: either data.source_classes and data.target_classes "
            "(disjoint class lists of the labelled set, e.g. [0, 1, 2, 3, 4] and [5, 6, 7, 8, 9]) or "
            "data.target (your unlabelled file)");
    for (int64_t c : o.source_classes) {
      require(std::find(o.target_classes.begin(), o.target_classes.end(), c) == o.target_classes.end(),
              "class {} is in both data.source_classes and data.target_classes; the domains must be disjoint", c);
    }
  }
  o.query_fraction = config.get<double>("data.query_fraction", o.query_fraction);
  require(o.query_fraction > 0 && o.query_fraction < 1, "data.query_fraction = {}: allowed (0, 1)",
          o.query_fraction);
  require(data.noisy_labels.empty(),
          "data.noisy_labels is not used by domain adaptation: its noise comes from clustering the target");
  return o;
}

DomainData prepare_domain(const DataOptions& data, const DomainOptions& domain, uint64_t seed) {
  LoadedData loaded = load_data(data);
  Dataset full = std::move(loaded.train);
  torch::Tensor origin = torch::arange(full.size(), torch::kInt64);
  if (data.subset > 0 && data.subset < full.size()) {
    auto generator = at::detail::createCPUGenerator(derive_seed(seed, kSubsetStream));
    origin = std::get<0>(torch::randperm(full.size(), generator, torch::kInt64).slice(0, 0, data.subset).sort());
    full = full.subset(origin);
  }
  const int64_t k = full.num_classes;
  std::vector<int64_t> source_classes = domain.source_classes;
  if (source_classes.empty()) {
    for (int64_t c = 0; c < k; ++c) source_classes.push_back(c);
  }
  check_classes(source_classes, "data.source_classes", k);
  check_classes(domain.target_classes, "data.target_classes", k);

  DomainData out;
  out.class_names = full.class_names;
  out.source_class_ids = source_classes;
  {
    // Source labels become 0..S-1 in the order of data.source_classes.
    auto relabel = torch::full({k}, -1, torch::kInt64);
    for (size_t s = 0; s < source_classes.size(); ++s) relabel[source_classes[s]] = static_cast<int64_t>(s);
    auto index = in_classes(full.labels, source_classes).nonzero().squeeze(1);
    require(index.numel() > 0, "data.source_classes: no training sample has one of these classes");
    out.source.name = full.name + " (source)";
    out.source.inputs = full.inputs.index_select(0, index);
    out.source.labels = relabel.index_select(0, full.labels.index_select(0, index));
    out.source.num_classes = static_cast<int64_t>(source_classes.size());
    for (int64_t c : source_classes) {
      if (!full.class_names.empty()) out.source.class_names.push_back(full.class_names[static_cast<size_t>(c)]);
    }
  }

  torch::Tensor test_inputs, test_ids;
  if (domain.user_target()) {
    CsvOptions csv = data.csv;
    out.target = load_features(domain.target, "data.target", csv);
    out.target_origin = torch::arange(out.target.size(0), torch::kInt64);
    if (!domain.target_labels.empty()) {
      out.target_truth = detail::read_label_file(domain.target_labels);
      require(out.target_truth.size(0) == out.target.size(0), "data.target_labels '{}' holds {} labels for the {} "
              "samples of '{}'", domain.target_labels, out.target_truth.size(0), out.target.size(0), domain.target);
    }
    if (!domain.target_test.empty()) {
      test_inputs = load_features(domain.target_test, "data.target_test", csv);
      test_ids = detail::read_label_file(domain.target_test_labels);
      require(test_ids.size(0) == test_inputs.size(0), "data.target_test_labels '{}' holds {} labels for the {} "
              "samples of '{}'", domain.target_test_labels, test_ids.size(0), test_inputs.size(0), domain.target_test);
    }
  } else {
    auto index = in_classes(full.labels, domain.target_classes).nonzero().squeeze(1);
    require(index.numel() > 0, "data.target_classes: no training sample has one of these classes");
    out.target = full.inputs.index_select(0, index);
    out.target_truth = full.labels.index_select(0, index);
    out.target_origin = origin.index_select(0, index);
    if (loaded.test) {
      auto test_index = in_classes(loaded.test->labels, domain.target_classes).nonzero().squeeze(1);
      test_inputs = loaded.test->inputs.index_select(0, test_index);
      test_ids = loaded.test->labels.index_select(0, test_index);
    }
  }
  const auto shape = out.source.sample_shape();
  auto same_shape = [&](const torch::Tensor& x, const std::string& what) {
    require(x.dim() >= 1 && std::vector<int64_t>(x.sizes().begin() + 1, x.sizes().end()) == shape,
            "{}: samples have shape [{}], but the labelled source samples have [{}]", what,
            fmt::join(x.sizes().slice(1), ", "), fmt::join(shape, ", "));
  };
  same_shape(out.target, domain.user_target() ? domain.target : "target");
  require(out.target.size(0) >= 2, "the target domain holds {} sample; clustering needs at least 2",
          out.target.size(0));
  if (test_inputs.defined() && test_inputs.size(0) >= 2) {
    same_shape(test_inputs, domain.user_target() ? domain.target_test : "target test");
    split_query_gallery(out, test_inputs, test_ids, domain.query_fraction, seed);
  }

  if (data.normalize) {
    // Statistics of every training input, source and target alike (no label is involved).
    Dataset all;
    all.name = "source and target";
    all.inputs = torch::cat({out.source.inputs, out.target});
    auto normalizer = Normalizer::fit(all);
    auto apply = [&](torch::Tensor& x) {
      if (x.defined()) x = (x - normalizer.mean) / normalizer.std;
    };
    apply(out.source.inputs);
    apply(out.target);
    apply(out.query);
    apply(out.gallery);
  }
  out.source.validate();
  return out;
}

}  // namespace winnow
