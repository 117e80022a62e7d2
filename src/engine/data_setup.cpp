#include "winnow/engine/data_setup.h"

#include <cmath>

#include "winnow/core/error.h"

namespace winnow {
namespace {

// Seed streams (see derive_seed): one per purpose, so changing one never shifts another.
constexpr uint64_t kSubsetStream = 11;
constexpr uint64_t kValidationStream = 12;

LoadedData load_custom(const DataOptions& o) {
  if (o.format == "csv") {
    LoadedData out{load_csv(o.train, o.csv), std::nullopt};
    if (!o.test.empty()) {
      CsvOptions csv = o.csv;
      csv.num_classes = out.train.num_classes;
      out.test = load_csv(o.test, csv);
    }
    return out;
  }
  if (o.format == "folder") {
    ImageFolderOptions images = o.images;
    images.num_classes = o.num_classes;
    LoadedData out{load_image_folder(o.train, images), std::nullopt};
    if (!o.test.empty()) out.test = load_image_folder_like(o.test, out.train, images);
    return out;
  }
  if (o.format == "cifar") {
    LoadedData out{load_cifar_binary({o.train}, o.cifar100), std::nullopt};
    if (!o.test.empty()) out.test = load_cifar_binary({o.test}, o.cifar100);
    return out;
  }
  auto load = [&](const std::string& x, const std::string& y, int64_t k) {
    return o.format == "idx" ? load_idx(x, y, k == 0 ? 10 : k) : load_npy(x, y, k);
  };
  LoadedData out{load(o.train, o.train_labels, o.num_classes), std::nullopt};
  if (!o.test.empty()) out.test = load(o.test, o.test_labels, out.train.num_classes);
  return out;
}

}  // namespace

DataOptions DataOptions::from_config(Config& config) {
  DataOptions o;
  std::vector<std::string> names = named_datasets();
  names.push_back("custom");
  o.name = config.get_choice("data.name", o.name, names);
  if (o.name == "custom") {
    o.format = config.get_choice("data.format", o.format, {"idx", "cifar", "csv", "npy", "folder"});
    o.num_classes = config.get<int64_t>("data.num_classes", 0);
    require(o.num_classes >= 0, "data.num_classes = {}: must be >= 0 (0: from the labels)", o.num_classes);
    o.train = config.get<std::string>("data.train", "");
    require(!o.train.empty(), "data.name = \"custom\" needs data.train (the training file)");
    o.test = config.get<std::string>("data.test", "");
    if (o.format == "csv") {
      o.csv.label_column = config.get<std::string>("data.label_column", o.csv.label_column);
      o.csv.header = config.get_choice("data.header", o.csv.header, {"auto", "yes", "no"});
      const std::string delimiter = config.get<std::string>("data.delimiter", ",");
      require(delimiter.size() == 1, "data.delimiter = \"{}\": must be one character", delimiter);
      o.csv.delimiter = delimiter[0];
      o.csv.num_classes = o.num_classes;
    } else if (o.format == "cifar") {
      o.cifar100 = config.get<bool>("data.cifar100", false);
    } else if (o.format == "folder") {
      // data.train / data.test: a folder of class subfolders, or a list file of "path label" lines.
      o.images.channels = config.get<int64_t>("data.channels", 0);
      require(o.images.channels == 0 || o.images.channels == 1 || o.images.channels == 3,
              "data.channels = {}: allowed 0 (auto: 1 if every image is grey, else 3), 1 or 3", o.images.channels);
      o.images.image_size = config.get<int64_t>("data.image_size", 0);
      require(o.images.image_size >= 0, "data.image_size = {}: must be >= 0 (0: every image has the same size)",
              o.images.image_size);
      o.images.cache = config.get<std::string>("data.cache", "");
      o.images.max_pixels = config.get<int64_t>("data.max_image_pixels", o.images.max_pixels);
      require(o.images.max_pixels > 0, "data.max_image_pixels = {}: must be > 0", o.images.max_pixels);
    } else {
      o.train_labels = config.get<std::string>("data.train_labels", "");
      require(!o.train_labels.empty(), "data.format = \"{}\" needs data.train_labels", o.format);
      o.test_labels = config.get<std::string>("data.test_labels", "");
      require(o.test.empty() == o.test_labels.empty(), "data.test and data.test_labels must be given together");
    }
  } else {
    o.root = config.get<std::string>("data.root", "");
  }
  o.noisy_labels = config.get<std::string>("data.noisy_labels", "");
  o.subset = config.get<int64_t>("data.subset", 0);
  require(o.subset >= 0, "data.subset = {}: must be >= 0 (0: every training sample)", o.subset);
  o.val_fraction = config.get<double>("data.val_fraction", o.val_fraction);
  require(o.val_fraction >= 0 && o.val_fraction < 1, "data.val_fraction = {}: allowed [0, 1)", o.val_fraction);
  o.normalize = config.get<bool>("data.normalize", true);
  const std::string augment = config.get_choice("data.augment", "none", {"none", "crop_flip", "crop", "flip"});
  if (augment == "crop_flip" || augment == "crop") {
    o.augment.crop_padding = config.get<int64_t>("data.crop_padding", 4);
    require(o.augment.crop_padding > 0, "data.crop_padding = {}: must be > 0", o.augment.crop_padding);
  }
  o.augment.horizontal_flip = (augment == "crop_flip" || augment == "flip");
  return o;
}

NoiseSetup NoiseSetup::from_config(Config& config, uint64_t run_seed) {
  NoiseSetup setup;
  setup.model = make_noise(config);
  if (setup.model) {
    setup.seed = static_cast<uint64_t>(config.get<int64_t>("noise.seed", static_cast<int64_t>(run_seed)));
    setup.rate = config.get_optional<double>("noise.rate");
  }
  return setup;
}

LoadedData load_data(const DataOptions& o) {
  if (o.name == "custom") return load_custom(o);
  auto named = load_named(o.name, o.root);
  return LoadedData{std::move(named.train), std::move(named.test)};
}

PreparedData prepare_data(const DataOptions& options, const NoiseSetup& noise, uint64_t seed) {
  LoadedData loaded = load_data(options);
  Dataset full = std::move(loaded.train);
  if (!options.noisy_labels.empty()) load_label_override(full, options.noisy_labels, /*keep_as_truth=*/true);

  torch::Tensor origin = torch::arange(full.size(), torch::kInt64);
  if (options.subset > 0 && options.subset < full.size()) {
    auto generator = at::detail::createCPUGenerator(derive_seed(seed, kSubsetStream));
    origin = std::get<0>(torch::randperm(full.size(), generator, torch::kInt64).slice(0, 0, options.subset).sort());
    full = full.subset(origin);
  }

  PreparedData prepared;
  if (noise.model) {
    require(options.noisy_labels.empty(), "noise.type = \"{}\" and data.noisy_labels both set: the labels "
            "are either simulated or given, not both", noise.model->name());
    NoiseResult result = noise.model->apply(full, noise.seed);
    apply_noise(full, result);
    prepared.noise = result;
    prepared.noise_description = noise.model->describe();
    prepared.noise_rate = noise.rate;
  }

  {
    // A seeded random fraction of the (noisy) training set becomes the validation split;
    // both keep the file order, and their positions in the file are kept for samples.csv.
    auto generator = at::detail::createCPUGenerator(derive_seed(seed, kValidationStream));
    auto order = torch::randperm(full.size(), generator, torch::kInt64);
    const int64_t n_val =
        static_cast<int64_t>(std::llround(options.val_fraction * static_cast<double>(full.size())));
    auto val_index = std::get<0>(order.slice(0, 0, n_val).sort());
    auto train_index = std::get<0>(order.slice(0, n_val).sort());
    require(train_index.numel() > 0, "data.val_fraction = {} leaves no training samples", options.val_fraction);
    prepared.train = full.subset(train_index);
    prepared.val = full.subset(val_index);
    prepared.train_origin = origin.index_select(0, train_index);
    prepared.val_origin = origin.index_select(0, val_index);
  }
  prepared.test = std::move(loaded.test);

  if (options.normalize) {
    prepared.normalizer = Normalizer::fit(prepared.train);
    prepared.normalizer.apply(prepared.train);
    if (prepared.val.size() > 0) prepared.normalizer.apply(prepared.val);
    if (prepared.test) prepared.normalizer.apply(*prepared.test);
  }
  prepared.augment = options.augment;
  require(!options.augment.enabled() || prepared.train.inputs.dim() == 4,
          "data.augment needs image inputs [N, C, H, W]; this data set has {} dimensions per sample",
          prepared.train.inputs.dim() - 1);
  return prepared;
}

}  // namespace winnow
