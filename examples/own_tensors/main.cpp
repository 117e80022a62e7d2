// winnow as a library: train a robust method on tensors you already have, then ask which of
// your labels are probably wrong. Built against the installed package (see CMakeLists.txt).
//
// The data here are synthetic so that the program can say how well it did: 3,000 samples of
// 3 Gaussian classes in 10 dimensions, with 20% of the labels flipped to another class. With
// your own data, fill `train.inputs` ([N, ...] float) and `train.labels` ([N] int64) instead.
#include <cstdio>

#include <winnow/core/config.h>
#include <winnow/data/batcher.h>
#include <winnow/methods/method.h>

int main() {
  torch::manual_seed(0);
  const int64_t n = 3000, classes = 3, features = 10;

  // Your data: inputs and the labels you were given (some wrong).
  auto truth = torch::randint(0, classes, {n}, torch::kInt64);
  auto centres = torch::randn({classes, features}) * 2.5;
  winnow::Dataset train;
  train.name = "own tensors";
  train.inputs = centres.index_select(0, truth) + torch::randn({n, features});
  auto flipped = torch::rand({n}) < 0.2;
  train.labels = torch::where(flipped, (truth + torch::randint(1, classes, {n}, torch::kInt64)) % classes, truth);
  train.num_classes = classes;
  train.class_names = {"ant", "bee", "cat"};

  // Co-teaching: two mlps that teach each other from their small-loss samples. The forget rate
  // is the share of wrong labels you expect (`winnow inspect` estimates it from the data).
  auto config = winnow::Config::from_string(R"(
    [model]
    name = "mlp"
    [method]
    name = "coteaching"
    forget_rate = 0.2
    num_gradual = 5
  )");
  winnow::TrainContext context;
  context.train = &train;
  context.model_spec = winnow::ModelSpec{train.sample_shape(), classes};
  context.epochs = 20;
  context.seed = 1;
  auto method = winnow::make_method(context, config);
  config.check_unknown();

  winnow::Batcher batcher(train, /*batch_size=*/128, /*shuffle=*/true, /*seed=*/1);
  for (int64_t epoch = 0; epoch < context.epochs; ++epoch) {
    batcher.begin_epoch(epoch);
    method->set_training(true);
    method->train_epoch(epoch, batcher);
  }

  // Every sample's belief that its label is right; the lowest are the suspects.
  winnow::SampleScores scores = method->score_samples(train);
  auto order = scores.clean_score.argsort();
  std::printf("%s\n", method->describe().c_str());
  std::printf("the 10 most suspicious labels:\n");
  for (int64_t i = 0; i < 10; ++i) {
    const int64_t k = order[i].item<int64_t>();
    std::printf("  sample %4ld: given %s, predicted %s, clean score %.3f%s\n", static_cast<long>(k),
                train.class_names[train.labels[k].item<int64_t>()].c_str(),
                train.class_names[scores.predicted[k].item<int64_t>()].c_str(), scores.clean_score[k].item<double>(),
                flipped[k].item<bool>() ? "  (really wrong)" : "");
  }
  const int64_t suspects = scores.suspect.sum().item<int64_t>();
  const int64_t caught = scores.suspect.logical_and(flipped).sum().item<int64_t>();
  const int64_t wrong = flipped.sum().item<int64_t>();
  std::printf("%ld suspects; %ld of them really wrong (precision %.3f), recall %.3f of %ld wrong labels\n",
              static_cast<long>(suspects), static_cast<long>(caught), suspects ? double(caught) / suspects : 0.0,
              double(caught) / wrong, static_cast<long>(wrong));
  // A zero exit only when the suspects are mostly the wrong labels: CI runs this program.
  return suspects > 0 && double(caught) / suspects > 0.8 && double(caught) / wrong > 0.8 ? 0 : 1;
}
