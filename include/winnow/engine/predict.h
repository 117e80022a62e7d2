#pragma once
// `winnow predict`: a trained run applied to data: its own test split, a file of new inputs
// (NPY, or CSV of feature columns), or a folder of images (flat, or of class subfolders),
// normalised as the run's training data was. Writes one CSV row per sample: index (a folder's
// rows: the image's path), predicted class and its name, the predicted class's probability,
// and the given label where the data has one.
#include <cstdint>
#include <string>
#include <vector>

namespace winnow {

struct PredictOptions {
  std::string run_dir;
  std::vector<std::string> overrides;  // --set for the run's config (device, eval batch size, ...)
  std::string input;                   // .npy, .csv or a folder of images; empty: the run's test split
  std::string out;                     // the CSV to write
};

// Returns the number of samples predicted.
int64_t predict_run(const PredictOptions& options);

}  // namespace winnow
