#include "winnow/engine/predict.h"

#include <filesystem>

#include <fmt/ranges.h>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/run_setup.h"
#include "winnow/report/files.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {

std::string class_name(const Dataset& train, int64_t k) {
  return k < static_cast<int64_t>(train.class_names.size()) ? train.class_names[k] : std::to_string(k);
}

// A CSV field: names with a comma or a quote are quoted.
std::string field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

int64_t predict_run(const PredictOptions& options) {
  const std::string config_path = (fs::path(options.run_dir) / "config.toml").string();
  require(fs::exists(config_path), "--run {}: not a run folder (no config.toml)", options.run_dir);
  require(!options.out.empty(), "winnow predict needs --out FILE.csv");
  Config config = Config::from_file(config_path);
  for (const auto& assignment : options.overrides) config.set_override(assignment);
  require(!is_adaptation_method(config.get<std::string>("method.name", "standard")),
          "--run {}: a domain-adaptation run ranks a gallery; `winnow predict` applies classifiers", options.run_dir);
  auto run = build_run(config, {}, options.run_dir);
  load_checkpoint(options.run_dir, *run->method);
  const Dataset& train = run->data.train;

  Dataset data;
  std::vector<std::string> paths;  // the image files of a folder input, one per sample
  if (options.input.empty()) {
    require(run->data.test.has_value(), "--run {}: the run has no test split; give the inputs with --input FILE",
            options.run_dir);
    data = *run->data.test;
  } else {
    const std::string extension = fs::path(options.input).extension().string();
    require(fs::exists(options.input), "--input {}: no such file", options.input);
    if (fs::is_directory(options.input)) {
      // A folder of images: flat (unlabelled) or of class subfolders (labelled as a test split
      // is), decoded with the training images' channels and resized as they were.
      require(train.inputs.dim() == 4, "--input {}: a folder of images, but the run was trained on [{}], not images",
              options.input, fmt::join(train.sample_shape(), ", "));
      ImageFolderOptions images;
      images.channels = train.inputs.size(1);
      images.image_size = config.get<int64_t>("data.image_size", 0);
      images.max_pixels = config.get<int64_t>("data.max_image_pixels", images.max_pixels);
      if (holds_images(options.input)) {
        data.inputs = load_image_files(options.input, images, &paths);
      } else {
        Dataset labelled = load_image_folder_like(options.input, train, images, &paths);
        data.inputs = labelled.inputs;
        data.labels = labelled.labels;
      }
    } else if (extension == ".npy") {
      data.inputs = load_npy_features(options.input);
    } else if (extension == ".csv") {
      data.inputs = load_csv_features(options.input);
    } else {
      fail("--input {}: expected a .npy or a .csv of inputs, or a folder of images", options.input);
    }
    // The same shape per sample as the training inputs, and the run's normalisation.
    const auto expected = train.sample_shape();
    std::vector<int64_t> got(data.inputs.sizes().begin() + 1, data.inputs.sizes().end());
    require(got == expected, "--input {}: samples have shape [{}], the run was trained on [{}]", options.input,
            fmt::join(got, ", "), fmt::join(expected, ", "));
    data.inputs = data.inputs.to(torch::kFloat32);
    if (run->data.normalizer.mean.defined()) run->data.normalizer.apply(data);
  }

  torch::Tensor probabilities;
  {
    torch::NoGradGuard no_grad;
    run->method->set_training(false);
    probabilities = torch::softmax(
        map_batches(data.inputs, run->settings.eval_batch_size, run->settings.device,
                    [&](const torch::Tensor& x) { return run->method->predict(x); }),
        1);
  }
  auto [probability, predicted] = probabilities.max(1);
  const bool labelled = data.labels.defined() && data.labels.numel() == data.inputs.size(0);
  // A folder input's rows start with the image's path instead of the index.
  std::string csv = std::string(paths.empty() ? "index" : "path") +
                    (labelled ? ",predicted,predicted_name,probability,label,label_name\n"
                              : ",predicted,predicted_name,probability\n");
  const torch::Tensor probability_cpu = probability.contiguous();
  const torch::Tensor predicted_cpu = predicted.contiguous();
  auto p = probability_cpu.accessor<float, 1>();
  auto k = predicted_cpu.accessor<int64_t, 1>();
  torch::Tensor labels = labelled ? data.labels.to(torch::kInt64).contiguous() : torch::zeros({1}, torch::kInt64);
  auto l = labels.accessor<int64_t, 1>();
  for (int64_t i = 0; i < data.inputs.size(0); ++i) {
    const int64_t c = k[i];
    csv += fmt::format("{},{},{},{:.6f}", paths.empty() ? std::to_string(i) : field(paths[i]), c,
                       field(class_name(train, c)), p[i]);
    if (labelled) {
      const int64_t y = l[i];
      csv += fmt::format(",{},{}", y, field(class_name(train, y)));
    }
    csv += '\n';
  }
  atomic_write_text(options.out, csv);
  return data.inputs.size(0);
}

}  // namespace winnow
