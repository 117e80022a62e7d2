// model.pt: every run writes its test-time network as a PyTorch state dict. Debian's
// python3-torch loads it into python/winnow_torch.py's module and must give winnow's logits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "test_helpers.h"
#include "winnow/data/batcher.h"
#include "winnow/data/loaders.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/run_setup.h"
#include "winnow/engine/trainer.h"
#include "winnow/report/files.h"
#include "winnow/report/npy.h"

using namespace winnow;
using winnow_test::TempDir;

// One model of winnow's registry: `model_toml` is appended to its [model] table and
// `python_args` are winnow_torch.load's shape arguments besides num_classes.
struct ExportCase {
  std::string name;  // the test's name
  std::string model;
  int64_t samples;   // Fashion-MNIST training images (cnn9 and the ResNets: a few batches)
  std::string model_toml;
  std::string python_args;
};

// A failure names the case (gtest would print its bytes).
void PrintTo(const ExportCase& c, std::ostream* out) { *out << c.name; }

class ModelExport : public ::testing::TestWithParam<ExportCase> {};

TEST_P(ModelExport, PyTorchLoadsModelPtAndComputesWinnowsLogits) {
  const ExportCase c = GetParam();
  TempDir dir("export");
  // The first Fashion-MNIST training images as a custom .npy data set: with no test split the
  // run evaluates only its small validation split (the named data set's 10,000 test images,
  // evaluated after the epoch and again for the confusion matrix, take minutes on one thread
  // for cnn9 and the ResNets).
  const auto fashion = load_named("fashion-mnist");
  write_npy(dir / "train_x.npy", fashion.train.inputs.slice(0, 0, c.samples).contiguous());
  write_npy(dir / "train_y.npy", fashion.train.labels.slice(0, 0, c.samples).contiguous());
  auto config = Config::from_string(fmt::format(R"(
[data]
name = "custom"
format = "npy"
train = "{}"
train_labels = "{}"
num_classes = 10
[model]
name = "{}"
{}
[method]
name = "coteaching"
forget_rate = 0.2
test_network = "second"
[train]
epochs = 1
batch_size = 64
threads = 1
eval_batch_size = 256
precision = "fp32"
)", dir / "train_x.npy", dir / "train_y.npy", c.model, c.model_toml));
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  run_training(config, options);
  ASSERT_TRUE(std::filesystem::exists(dir / "run/model.pt"));

  // winnow's logits on 32 test images (normalised as the run normalises), from the run's
  // last checkpoint.
  Config saved = Config::from_file(dir / "run/config.toml");
  auto run = build_run(saved, {}, dir / "run");
  load_checkpoint(dir / "run", *run->method);
  Dataset probe = fashion.test.subset(torch::arange(32, torch::kInt64));
  run->data.normalizer.apply(probe);
  auto x = probe.inputs.contiguous();
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    run->method->set_training(false);
    logits = run->method->predict(x);
  }
  write_npy(dir / "x.npy", x);
  write_npy(dir / "logits.npy", logits.contiguous());

  const std::string shape = (c.model == "mlp" ? "in_features=784, num_classes=10" : "num_classes=10") +
                            (c.python_args.empty() ? "" : ", " + c.python_args);
  const std::string script = fmt::format(
      "import sys; sys.path.insert(0, '{}/python'); import numpy as np, torch, winnow_torch\n"
      "state = torch.load('{}')\n"
      "assert isinstance(state, dict), type(state)\n"
      "m = winnow_torch.load('{}', '{}', {})\n"
      "out = m(torch.from_numpy(np.load('{}'))).detach().numpy()\n"
      "diff = float(np.abs(out - np.load('{}')).max())\n"
      "print('keys', sorted(state)[:3], 'max |diff|', diff)\n"
      "sys.exit(0 if diff < 1e-4 else 1)\n",
      WINNOW_SOURCE_DIR, dir / "run/model.pt", dir / "run/model.pt", c.model, shape, dir / "x.npy", dir / "logits.npy");
  {
    std::ofstream out(dir / "check.py");
    out << script;
  }
  const std::string command = "/usr/bin/python3 " + (dir / "check.py") + " > " + (dir / "check.txt") + " 2>&1";
  const int status = std::system(command.c_str());
  const std::string output = winnow::read_text(dir / "check.txt");
  EXPECT_EQ(status, 0) << output;
  std::cout << c.name << ": " << output;
}

// Every model of `winnow list`. cnn9's default 3x3 tail needs 28x28 inputs; its 1x1 tail
// (model.tail_kernel = 1) is another architecture, so it has its own case.
INSTANTIATE_TEST_SUITE_P(
    Models, ModelExport,
    ::testing::Values(ExportCase{"mlp", "mlp", 600, "", ""}, ExportCase{"cnn4", "cnn4", 600, "", ""},
                      ExportCase{"lenet5", "lenet5", 600, "", ""}, ExportCase{"cnn9", "cnn9", 128, "", ""},
                      ExportCase{"cnn9_tail1", "cnn9", 128, "tail_kernel = 1", "tail_kernel=1"},
                      ExportCase{"resnet18", "resnet18", 128, "", ""},
                      ExportCase{"preact_resnet18", "preact_resnet18", 128, "", ""}),
    [](const ::testing::TestParamInfo<ExportCase>& info) { return info.param.name; });

// `winnow predict`: on the run's test split its accuracy is the run's; on a file of raw inputs
// (the same images, un-normalised) it gives the same predictions; a wrong shape is a clear error.
TEST(Predict, AppliesARunToItsTestSplitAndToNewInputs) {
  TempDir dir("predict");
  auto config = Config::from_string(R"(
[data]
name = "fashion-mnist"
subset = 600
[model]
name = "mlp"
[train]
epochs = 1
threads = 1
)");
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  auto result = run_training(config, options);

  auto test = winnow_test::run_cli("predict --run " + (dir / "run") + " --out " + (dir / "test.csv"));
  ASSERT_EQ(test.status, 0) << test.output;
  auto rows = winnow_test::read_lines(dir / "test.csv");
  ASSERT_EQ(rows.size(), 10001u);
  EXPECT_EQ(rows[0], "index,predicted,predicted_name,probability,label,label_name");
  int64_t correct = 0;
  std::vector<std::string> predicted;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::stringstream row(rows[i]);
    std::vector<std::string> f;
    for (std::string x; std::getline(row, x, ',');) f.push_back(x);
    ASSERT_EQ(f.size(), 6u) << rows[i];
    correct += f[1] == f[4];
    predicted.push_back(f[1]);
    EXPECT_GT(std::stod(f[3]), 0.09);
  }
  EXPECT_NEAR(100.0 * correct / 10000, result.summary["final_test_accuracy"].get<double>(), 1e-9);
  // Class names come from the data set (Fashion-MNIST's class 1 is "Trouser").
  bool named = false;
  for (size_t i = 1; i < rows.size(); ++i) named = named || rows[i].find(",1,Trouser,") != std::string::npos;
  EXPECT_TRUE(named);

  // The first 50 test images as raw inputs: undo the run's normalisation.
  Config saved = Config::from_file(dir / "run/config.toml");
  auto run = build_run(saved, {}, dir / "run");
  const auto& norm = run->data.normalizer;
  auto raw = run->data.test->inputs.slice(0, 0, 50) * norm.std + norm.mean;
  write_npy(dir / "new.npy", raw.contiguous());
  auto fresh = winnow_test::run_cli("predict --run " + (dir / "run") + " --input " + (dir / "new.npy") + " --out " +
                                    (dir / "new.csv"));
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  auto new_rows = winnow_test::read_lines(dir / "new.csv");
  ASSERT_EQ(new_rows.size(), 51u);
  EXPECT_EQ(new_rows[0], "index,predicted,predicted_name,probability");
  for (size_t i = 1; i < new_rows.size(); ++i) {
    EXPECT_EQ(new_rows[i].substr(0, new_rows[i].find(',', new_rows[i].find(',') + 1)),
              rows[i].substr(0, rows[i].find(',', rows[i].find(',') + 1)))
        << i;
  }

  write_npy(dir / "bad.npy", torch::zeros({3, 5}));
  auto bad = winnow_test::run_cli("predict --run " + (dir / "run") + " --input " + (dir / "bad.npy") + " --out " +
                                  (dir / "bad.csv"));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("samples have shape [5], the run was trained on [1, 28, 28]"), std::string::npos)
      << bad.output;
}
