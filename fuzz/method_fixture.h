#pragma once
// A small standard method (an MLP [2] -> [4] -> 2 classes, Adam, cross entropy) trained one
// epoch, and a valid checkpoint of it in a run folder: what the checkpoint harnesses load into.
#include <memory>
#include <string>

#include "fuzz_common.h"
#include "winnow/core/config.h"
#include "winnow/data/batcher.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/methods/method.h"

namespace winnow_fuzz {

struct MethodFixture {
  winnow::Dataset train;
  winnow::TrainContext context;
  std::unique_ptr<winnow::Method> method;
  std::string run_dir;
  std::string state_file;  // the valid state archive's path
  std::string state_name;  // its name, as trainer.json gives it

  MethodFixture() {
    torch::manual_seed(1);
    train.name = "fuzz";
    train.num_classes = 2;
    train.labels = torch::arange(32, torch::kInt64).remainder(2);
    train.inputs = torch::randn({32, 2}) + train.labels.unsqueeze(1).to(torch::kFloat32);
    context.train = &train;
    context.model_spec = winnow::ModelSpec{train.sample_shape(), train.num_classes};
    context.epochs = 1;
    context.seed = 1;
    auto config = winnow::Config::from_string(
        "[model]\nname = 'mlp'\nhidden = [4]\n[optim]\nname = 'adam'\nlr = 0.01\n[method]\nname = 'standard'\n");
    method = winnow::make_method(context, config);
    // One epoch, so the archive holds Adam's moments as well as the weights.
    winnow::Batcher batcher(train, 8, /*shuffle=*/true, 1);
    batcher.begin_epoch(0);
    method->set_training(true);
    method->train_epoch(0, batcher);
    run_dir = scratch_path("run");
    winnow::TrainerState state;
    state.epochs_done = 1;
    state.metrics.push_back({{"epoch", 1}, {"train_loss", 0.5}, {"epoch_seconds", 0.01}});
    winnow::save_checkpoint(run_dir, *method, state);
    state_name = "state-000001.pt";
    state_file = run_dir + "/checkpoint/" + state_name;
    if (!std::filesystem::exists(state_file)) {
      std::fprintf(stderr, "method fixture: save_checkpoint wrote no %s\n", state_file.c_str());
      std::abort();
    }
    // The valid checkpoint loads.
    winnow::load_checkpoint(run_dir, *method);
  }

  std::string trainer_json() const { return run_dir + "/checkpoint/trainer.json"; }
  std::string timing_json() const { return run_dir + "/checkpoint/timing.json"; }
};

}  // namespace winnow_fuzz
