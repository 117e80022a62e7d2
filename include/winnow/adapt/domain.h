#pragma once
// The data of unsupervised domain adaptation by clustering (asymmetric co-teaching and its
// clustering baseline): a labelled source domain, an unlabelled target domain, and a target
// test split for retrieval (query and gallery), as in cross-domain person re-identification.
//
// Two ways to get them:
//  - a domain setting on any labelled data set: data.source_classes and data.target_classes
//    (disjoint class indices, like the identities of two re-ID data sets). Source-class training
//    samples keep their labels; target-class training samples lose theirs (kept hidden, only to
//    score the clustering); target-class test samples are split (seeded) into query and gallery.
//  - the user's own unlabelled target file: data.target (NPY features, or CSV where every column
//    is a feature), with optional data.target_labels (hidden truth, for scoring only) and an
//    optional labelled target test file (data.target_test, data.target_test_labels) for retrieval.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/data/dataset.h"
#include "winnow/engine/data_setup.h"

namespace winnow {

struct DomainOptions {
  std::vector<int64_t> source_classes;  // empty with data.target: every class of the labelled set
  std::vector<int64_t> target_classes;
  std::string target, target_labels;            // the user's own unlabelled target samples
  std::string target_test, target_test_labels;  // their labelled test samples (optional)
  double query_fraction = 0.2;                  // share of the target test samples used as queries

  // Reads the [data] keys above; `data` must be read first (the format of the target file).
  static DomainOptions from_config(Config& config, const DataOptions& data);
  bool user_target() const { return !target.empty(); }
};

struct DomainData {
  Dataset source;                        // labelled; labels 0..S-1 in the order of source_classes
  std::vector<int64_t> source_class_ids; // the original class of each source label
  torch::Tensor target;                  // inputs of the unlabelled target training samples
  torch::Tensor target_truth;            // int64 [N] hidden identities (scoring only); may be undefined
  torch::Tensor target_origin;           // int64 [N] position in its file (pseudo_labels.csv)
  // Retrieval on the target test split; undefined when there is none.
  torch::Tensor query, query_ids, gallery, gallery_ids;
  std::vector<std::string> class_names;  // of the original labels, where known

  bool has_retrieval() const { return query.defined() && query.size(0) > 0 && gallery.size(0) > 0; }
  bool has_target_truth() const { return target_truth.defined(); }
};

// Loads the labelled set (and the target file), splits the domains, normalises every input
// with the mean and deviation of all training inputs (source and target: no labels involved).
DomainData prepare_domain(const DataOptions& data, const DomainOptions& domain, uint64_t seed);

}  // namespace winnow
