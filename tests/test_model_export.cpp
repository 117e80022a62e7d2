// model.pt: every run writes its test-time network as a PyTorch state dict. Debian's
// python3-torch loads it into python/winnow_torch.py's module and must give winnow's logits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_helpers.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/run_setup.h"
#include "winnow/engine/trainer.h"
#include "winnow/report/files.h"
#include "winnow/report/npy.h"

using namespace winnow;
using winnow_test::TempDir;

class ModelExport : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelExport, PyTorchLoadsModelPtAndComputesWinnowsLogits) {
  const std::string model = GetParam();
  TempDir dir("export");
  auto config = Config::from_string(fmt::format(R"(
[data]
name = "fashion-mnist"
subset = 600
[model]
name = "{}"
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
)", model));
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  run_training(config, options);
  ASSERT_TRUE(std::filesystem::exists(dir / "run/model.pt"));

  // winnow's logits on 32 test images, from the run's last checkpoint.
  Config saved = Config::from_file(dir / "run/config.toml");
  auto run = build_run(saved, {}, dir / "run");
  load_checkpoint(dir / "run", *run->method);
  auto x = run->data.test->inputs.slice(0, 0, 32).contiguous();
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    run->method->set_training(false);
    logits = run->method->predict(x);
  }
  write_npy(dir / "x.npy", x);
  write_npy(dir / "logits.npy", logits.contiguous());

  const std::string shape = model == "mlp" ? "in_features=784, num_classes=10" : "num_classes=10";
  const std::string script = fmt::format(
      "import sys; sys.path.insert(0, '{}/python'); import numpy as np, torch, winnow_torch\n"
      "state = torch.load('{}')\n"
      "assert isinstance(state, dict), type(state)\n"
      "m = winnow_torch.load('{}', '{}', {})\n"
      "out = m(torch.from_numpy(np.load('{}'))).detach().numpy()\n"
      "diff = float(np.abs(out - np.load('{}')).max())\n"
      "print('keys', sorted(state)[:3], 'max |diff|', diff)\n"
      "sys.exit(0 if diff < 1e-4 else 1)\n",
      WINNOW_SOURCE_DIR, dir / "run/model.pt", dir / "run/model.pt", model, shape, dir / "x.npy", dir / "logits.npy");
  {
    std::ofstream out(dir / "check.py");
    out << script;
  }
  const std::string command = "/usr/bin/python3 " + (dir / "check.py") + " > " + (dir / "check.txt") + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << winnow::read_text(dir / "check.txt");
}

INSTANTIATE_TEST_SUITE_P(Models, ModelExport, ::testing::Values("mlp", "cnn4"));
