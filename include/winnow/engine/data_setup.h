#pragma once
// From the [data] and [noise] sections to the tensors a run trains on: load, simulate noise
// (recording what flipped), split off the noisy validation set, normalise.
#include <memory>
#include <optional>
#include <string>

#include "winnow/core/config.h"
#include "winnow/data/batcher.h"
#include "winnow/data/dataset.h"
#include "winnow/data/loaders.h"
#include "winnow/noise/noise.h"

namespace winnow {

// Every [data] key, read and validated before any file is opened.
struct DataOptions {
  std::string name = "fashion-mnist";  // a named data set, or "custom"
  std::string root;                    // folder of a named data set ("": its default)
  // custom data
  std::string format = "csv";          // idx, cifar, csv, npy, folder
  std::string train, train_labels, test, test_labels;
  int64_t num_classes = 0;
  CsvOptions csv;
  bool cifar100 = false;
  // folder: data.channels (0: auto), data.image_size (0: keep), data.cache ("": off)
  ImageFolderOptions images;
  // the user's own noisy labels for the training file (its labels become the truth)
  std::string noisy_labels;
  int64_t subset = 0;                  // random subset of the training file; 0: all
  double val_fraction = 0.1;           // noisy validation split
  bool normalize = true;
  AugmentOptions augment;

  static DataOptions from_config(Config& config);
};

struct PreparedData {
  Dataset train;               // noisy labels; true_labels where known
  Dataset val;                 // noisy validation split (may be empty)
  std::optional<Dataset> test; // clean test set where the data has one
  // Position of each train/val sample in the full training file (samples.csv uses these).
  torch::Tensor train_origin;
  torch::Tensor val_origin;
  // Present when noise was simulated.
  std::optional<NoiseResult> noise;
  std::string noise_description = "none";
  std::optional<double> noise_rate;  // the configured rate of a simulation
  AugmentOptions augment;
  Normalizer normalizer;
};

// The noise simulation of [noise] (nullptr for "none") and its seed (noise.seed, default
// the run seed).
struct NoiseSetup {
  std::unique_ptr<NoiseModel> model;
  uint64_t seed = 0;
  std::optional<double> rate;
  static NoiseSetup from_config(Config& config, uint64_t run_seed);
};

// Loads the training (and test) data as `options` say, without noise or splits.
struct LoadedData {
  Dataset train;
  std::optional<Dataset> test;
};
LoadedData load_data(const DataOptions& options);

PreparedData prepare_data(const DataOptions& options, const NoiseSetup& noise, uint64_t seed);

}  // namespace winnow
