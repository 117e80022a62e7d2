#include "winnow/adapt/adaptation.h"

#include <algorithm>

#include "winnow/core/error.h"
#include "winnow/losses/triplet.h"

namespace winnow {
namespace {

// Seed streams (derive_seed) of the adaptation's random draws.
constexpr uint64_t kSourceBatchStream = 41;
constexpr uint64_t kRoundStream = 42;

}  // namespace

AdaptOptions AdaptOptions::from_config(Config& config) {
  AdaptOptions o;
  o.rounds = config.get<int64_t>("method.rounds", o.rounds);
  require(o.rounds >= 0, "method.rounds = {}: must be >= 0 (0: evaluate the source model alone)", o.rounds);
  o.round_epochs = config.get<int64_t>("method.round_epochs", o.round_epochs);
  require(o.round_epochs >= 1, "method.round_epochs = {}: must be >= 1", o.round_epochs);
  o.instances = config.get<int64_t>("method.instances", o.instances);
  require(o.instances >= 2, "method.instances = {}: K samples per identity must be >= 2 (a triplet needs a "
          "positive)", o.instances);
  o.margin = config.get<double>("method.margin", o.margin);
  require(o.margin >= 0, "method.margin = {}: must be >= 0", o.margin);
  o.lr = config.get<double>("method.lr", o.lr);
  require(o.lr > 0, "method.lr = {}: must be > 0", o.lr);
  o.source_lr = config.get<double>("method.source_lr", o.source_lr);
  require(o.source_lr > 0, "method.source_lr = {}: must be > 0", o.source_lr);
  o.embedding_dim = config.get<int64_t>("method.embedding_dim", o.embedding_dim);
  require(o.embedding_dim >= 1, "method.embedding_dim = {}: must be >= 1", o.embedding_dim);
  auto& c = o.clustering;
  c.rerank.k1 = config.get<int64_t>("method.k1", c.rerank.k1);
  require(c.rerank.k1 >= 1, "method.k1 = {}: must be >= 1", c.rerank.k1);
  c.rerank.k2 = config.get<int64_t>("method.k2", c.rerank.k2);
  require(c.rerank.k2 >= 1, "method.k2 = {}: must be >= 1 (1: no local query expansion)", c.rerank.k2);
  c.rerank.lambda = config.get<double>("method.lambda", c.rerank.lambda);
  require(c.rerank.lambda >= 0 && c.rerank.lambda <= 1, "method.lambda = {}: allowed [0, 1]", c.rerank.lambda);
  c.rho = config.get<double>("method.rho", c.rho);
  require(c.rho > 0 && c.rho <= 1, "method.rho = {}: allowed (0, 1]", c.rho);
  c.min_samples = config.get<int64_t>("method.min_samples", c.min_samples);
  require(c.min_samples >= 1, "method.min_samples = {}: must be >= 1", c.min_samples);
  return o;
}

AdaptationMethod::AdaptationMethod(const AdaptContext& context, const AdaptOptions& options, Config& config)
    : context_(context), options_(options), augmenter_(context.augment) {
  require(context.batch_size % options.instances == 0,
          "train.batch_size = {} must be a multiple of method.instances = {} (batches of P identities x K)",
          context.batch_size, options.instances);
  main_ = make_network(config);
  source_optimizer_ = std::make_unique<torch::optim::Adam>(main_->parameters(),
                                                           torch::optim::AdamOptions(options.source_lr));
  optimizer_ = std::make_unique<torch::optim::Adam>(main_->parameters(), torch::optim::AdamOptions(options.lr));
}

ReIdNetwork AdaptationMethod::make_network(Config& config) const {
  const auto& source = context_.data->source;
  ModelSpec spec{source.sample_shape(), source.num_classes};
  spec.execution = context_.execution;
  ReIdNetwork network(make_model(spec, config), spec.input_shape, options_.embedding_dim, source.num_classes);
  network->to(context_.device);
  return network;
}

torch::Tensor AdaptationMethod::target_batch(const torch::Tensor& index, torch::Generator& generator) const {
  auto x = context_.data->target.index_select(0, index);
  if (augmenter_.options().enabled()) x = augmenter_(x, generator);
  return x.to(context_.device);
}

torch::Generator AdaptationMethod::round_generator(int64_t round, int64_t epoch) const {
  return at::detail::createCPUGenerator(
      derive_seed(context_.seed, kRoundStream, static_cast<uint64_t>(round * 100000 + epoch)));
}

EpochLog AdaptationMethod::train_source_epoch(int64_t epoch) {
  // With class-level identities (a few source classes, thousands of samples each) a random
  // batch already holds positives and negatives for the triplet loss, and one epoch is one
  // pass over the source; the P x K sampler is for the many small pseudo-classes of the rounds.
  const auto& source = context_.data->source;
  auto generator = at::detail::createCPUGenerator(derive_seed(context_.seed, kSourceBatchStream,
                                                              static_cast<uint64_t>(epoch)));
  auto order = torch::randperm(source.size(), generator, torch::kInt64);
  main_->train();
  double loss_sum = 0, triplet_sum = 0;
  int64_t correct = 0, seen = 0;
  for (int64_t start = 0; start < source.size(); start += context_.batch_size) {
    auto index = order.slice(0, start, std::min(source.size(), start + context_.batch_size));
    if (index.numel() < 2) break;  // batch norm needs two samples
    auto x = source.inputs.index_select(0, index);
    if (augmenter_.options().enabled()) x = augmenter_(x, generator);
    x = x.to(context_.device);
    auto y = source.labels.index_select(0, index).to(context_.device);
    auto out = main_->forward(x);
    auto triplet = batch_hard_triplet(out.pooled, y, options_.margin).loss.mean();
    auto loss = torch::nn::functional::cross_entropy(out.logits, y) + triplet;
    source_optimizer_->zero_grad();
    loss.backward();
    source_optimizer_->step();
    const int64_t b = index.numel();
    loss_sum += loss.item<double>() * static_cast<double>(b);
    triplet_sum += triplet.item<double>() * static_cast<double>(b);
    correct += out.logits.detach().argmax(1).eq(y).sum().item<int64_t>();
    seen += b;
  }
  EpochLog log;
  log.add("train_loss", seen ? loss_sum / static_cast<double>(seen) : 0.0);
  log.add("train_triplet_loss", seen ? triplet_sum / static_cast<double>(seen) : 0.0);
  log.add("train_accuracy", seen ? 100.0 * static_cast<double>(correct) / static_cast<double>(seen) : 0.0);
  return log;
}

void AdaptationMethod::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive net, source_opt, opt;
  main_->save(net);
  source_optimizer_->save(source_opt);
  optimizer_->save(opt);
  archive.write("main", net);
  archive.write("source_optimizer", source_opt);
  archive.write("optimizer", opt);
}

void AdaptationMethod::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive net, source_opt, opt;
  archive.read("main", net);
  archive.read("source_optimizer", source_opt);
  archive.read("optimizer", opt);
  main_->load(net);
  source_optimizer_->load(source_opt);
  optimizer_->load(opt);
}

bool is_adaptation_method(const std::string& name) { return AdaptationRegistry::instance().contains(name); }

std::unique_ptr<AdaptationMethod> make_adaptation(const AdaptContext& context, Config& config) {
  const std::string name = config.get<std::string>("method.name", "act");
  return AdaptationRegistry::instance().get(name).factory(context, config);
}

double remember_rate(double start, int64_t round, int64_t rounds) {
  if (rounds <= 0) return 1.0;
  return std::min(1.0, start + (1.0 - start) * static_cast<double>(round + 1) / static_cast<double>(rounds));
}

}  // namespace winnow
