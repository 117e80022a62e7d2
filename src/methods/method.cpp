#include "winnow/methods/method.h"

#include "winnow/dist/data_parallel.h"

namespace winnow {

torch::Tensor map_batches(const torch::Tensor& inputs, int64_t batch_size, torch::Device device,
                          const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
  // In several processes each rank maps its shard of the rows and the results are gathered.
  return dist::map_rows(inputs, batch_size, device, fn);
}

torch::Tensor Method::predict_all_rules(const torch::Tensor& inputs) {
  std::vector<torch::Tensor> logits{predict(inputs)};
  for (const auto& variant : prediction_variants()) logits.push_back(predict_variant(variant, inputs));
  return torch::stack(logits);
}

torch::Tensor predict_probabilities(Network& network, const Dataset& data, torch::Device device,
                                    int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = network.is_training();
  network.eval();
  auto probs = map_batches(data.inputs, batch_size, device,
                           [&](const torch::Tensor& x) { return torch::softmax(network.forward(x), 1); });
  network.train(was_training);
  return probs;
}

SampleScores Method::score_samples(const Dataset& train) {
  torch::NoGradGuard no_grad;
  set_training(false);
  auto probs = map_batches(train.inputs, context_.eval_batch_size, context_.device,
                           [&](const torch::Tensor& x) { return torch::softmax(predict(x), 1); });
  SampleScores scores;
  scores.clean_score = probs.gather(1, train.labels.unsqueeze(1)).squeeze(1);
  scores.predicted = probs.argmax(1);
  scores.suspect = scores.predicted.ne(train.labels);
  return scores;
}

std::unique_ptr<Method> make_method(const TrainContext& context, Config& config) {
  std::string name = config.get<std::string>("method.name", "standard");
  return MethodRegistry::instance().get(name).factory(context, config);
}

}  // namespace winnow
