#include "peer_group.h"

#include <exception>
#include <filesystem>
#include <thread>

#include <ATen/CPUGeneratorImpl.h>

#include "winnow/core/error.h"
#include "winnow/dist/process_group.h"
#include "winnow/eval/metrics.h"
#include "winnow/report/files.h"

namespace winnow {
namespace fs = std::filesystem;

std::shared_ptr<Network> load_teacher(const std::string& path, const ModelSpec& spec, torch::Device device) {
  require(!path.empty(), "method.teacher is required: a finished `standard` run folder (or its checkpoint file)");
  fs::path run_dir = path;
  fs::path state_file;
  if (fs::is_regular_file(run_dir)) {
    state_file = run_dir;
    run_dir = run_dir.parent_path().parent_path();  // <run>/checkpoint/state-*.pt
  }
  const fs::path config_path = run_dir / "config.toml";
  require(fs::exists(config_path), "method.teacher = '{}': no config.toml in {} (the teacher must be a winnow run)",
          path, run_dir.string());
  Config teacher_config = Config::from_file(config_path.string());
  const auto method = teacher_config.get<std::string>("method.name", "standard");
  require(method == "standard", "method.teacher = '{}': the teacher run used method '{}'; only `standard` runs "
          "(one network under archive key \"network\") can teach", path, method);
  if (state_file.empty()) {
    const fs::path trainer = run_dir / "checkpoint" / "trainer.json";
    require(fs::exists(trainer), "method.teacher = '{}': no checkpoint ({} is missing)", path, trainer.string());
    state_file = run_dir / "checkpoint" / read_json(trainer.string()).at("state_file").get<std::string>();
  }
  // The teacher's initial weights are overwritten by the checkpoint; restoring the global
  // generator afterwards keeps the students' initialisation independent of the teacher.
  auto generator = at::detail::getDefaultCPUGenerator();
  const auto generator_state = generator.get_state();
  auto teacher = make_model(spec, teacher_config);
  generator.set_state(generator_state);
  try {
    torch::serialize::InputArchive archive, net;
    archive.load_from(state_file.string());
    archive.read("network", net);
    teacher->load(net);
  } catch (const c10::Error& e) {
    fail("method.teacher = '{}': cannot load {} into a {} for inputs of this data set: {}", path, state_file.string(),
         teacher->describe(), e.what_without_backtrace());
  }
  teacher->to(device);
  teacher->eval();
  for (auto& p : teacher->parameters()) p.set_requires_grad(false);
  return teacher;
}

PeerGroup::PeerGroup(const TrainContext& context, Config& config, const std::string& name, int64_t fixed_peers,
                     bool with_teacher)
    : Method(context), name_(name) {
  int64_t peers = fixed_peers;
  if (fixed_peers <= 0) {
    peers = config.get<int64_t>("method.peers", 2);
    require(peers >= 2, "method.peers = {}: {} needs at least 2 networks", peers, name);
    parallel_ = config.get<bool>("method.parallel", false);
    require(!parallel_ || dist::world_size() == 1,
            "method.parallel = true runs the peers on threads, whose gradient all-reduces would interleave "
            "across the {} processes; in a multi-process run leave it false", dist::world_size());
    test_network_option_ = config.get<int64_t>("method.test_network", -1);
    require(test_network_option_ >= -1 && test_network_option_ < peers,
            "method.test_network = {}: allowed are -1 (best on the noisy validation split) and 0..{}",
            test_network_option_, peers - 1);
    chosen_ = std::max<int64_t>(test_network_option_, 0);
  }
  const auto model_name = config.get<std::string>("model.name", "mlp");
  model_names_ = config.get<std::vector<std::string>>("method.peer_models", {});
  if (model_names_.empty()) model_names_.assign(static_cast<size_t>(peers), model_name);
  require(static_cast<int64_t>(model_names_.size()) == peers,
          "method.peer_models has {} names; it needs one per network ({})", model_names_.size(), peers);

  if (with_teacher) {
    teacher_path_ = config.get<std::string>("method.teacher", "");
    teacher_ = load_teacher(teacher_path_, context.model_spec, context.device);
  }
  for (const auto& model : model_names_) {
    std::shared_ptr<Network> network;
    if (model == model_name) {
      network = make_model(context.model_spec, config);
    } else {
      // Another architecture: the [model] section with its name replaced. Options that only
      // that architecture reads take their defaults.
      Config peer_config = config;
      peer_config.set<std::string>("model.name", model);
      network = make_model(context.model_spec, peer_config);
    }
    network->to(context.device);
    optimizers_.push_back(
        make_optimizer(OptimizerSpec{network->parameters(), context.epochs, context.noise_rate, context.noise_source}, config));
    networks_.push_back(std::move(network));
  }
  schedule_ = Schedule::from_config(config, context.epochs, optimizers_.at(0)->param_groups().at(0).options().get_lr());
}

std::string PeerGroup::describe() const {
  std::string nets;
  for (size_t k = 0; k < networks_.size(); ++k) nets += fmt::format("{}[{}] {}", k ? ", " : "", k, networks_[k]->describe());
  return fmt::format("{}: {} | schedule {}{}{}", name_, nets, schedule_.describe(),
                     teacher_ ? fmt::format(" | teacher {} from {}", teacher_->describe(), teacher_path_) : "",
                     parallel_ ? " | parallel peers" : "");
}

torch::Tensor PeerGroup::predict(const torch::Tensor& inputs) { return networks_.at(chosen_)->forward(inputs); }

void PeerGroup::set_training(bool training) {
  for (auto& network : networks_) network->train(training);
}

void PeerGroup::save(torch::serialize::OutputArchive& archive) const {
  for (size_t k = 0; k < networks_.size(); ++k) {
    torch::serialize::OutputArchive net, opt;
    networks_[k]->save(net);
    optimizers_[k]->save(opt);
    archive.write(fmt::format("network{}", k), net);
    archive.write(fmt::format("optimizer{}", k), opt);
  }
  if (teacher_) {
    torch::serialize::OutputArchive teacher;
    teacher_->save(teacher);
    archive.write("teacher", teacher);
  }
  archive.write("test_network", torch::tensor(chosen_, torch::kInt64));
}

void PeerGroup::load(torch::serialize::InputArchive& archive) {
  for (size_t k = 0; k < networks_.size(); ++k) {
    torch::serialize::InputArchive net, opt;
    archive.read(fmt::format("network{}", k), net);
    archive.read(fmt::format("optimizer{}", k), opt);
    networks_[k]->load(net);
    optimizers_[k]->load(opt);
  }
  if (teacher_) {
    torch::serialize::InputArchive teacher;
    archive.read("teacher", teacher);
    teacher_->load(teacher);
    for (auto& p : teacher_->parameters()) p.set_requires_grad(false);
  }
  torch::Tensor chosen;
  archive.read("test_network", chosen);
  chosen_ = chosen.item<int64_t>();
}

SampleScores PeerGroup::score_samples(const Dataset& train) {
  torch::Tensor mean;
  for (auto& network : networks_) {
    auto probs = predict_probabilities(*network, train, context_.device, context_.eval_batch_size);
    mean = mean.defined() ? mean + probs : probs;
  }
  mean = mean / static_cast<double>(networks_.size());
  SampleScores scores;
  scores.clean_score = mean.gather(1, train.labels.unsqueeze(1)).squeeze(1);
  scores.predicted = mean.argmax(1);
  scores.suspect = scores.predicted.ne(train.labels);
  return scores;
}

void PeerGroup::for_each_peer(const std::function<void(size_t)>& fn) {
  if (!parallel_ || networks_.size() < 2) {
    for (size_t k = 0; k < networks_.size(); ++k) fn(k);
    return;
  }
  std::vector<std::exception_ptr> errors(networks_.size());
  std::vector<std::thread> threads;
  for (size_t k = 0; k < networks_.size(); ++k) {
    threads.emplace_back([&, k] {
      try {
        fn(k);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

torch::Tensor PeerGroup::teacher_logits(const torch::Tensor& inputs) {
  torch::NoGradGuard no_grad;
  return teacher_->forward(inputs);
}

PeerGroup::EpochSums PeerGroup::begin_epoch(int64_t epoch) {
  for (auto& optimizer : optimizers_) schedule_.apply(*optimizer, epoch);
  set_training(true);
  if (teacher_) teacher_->eval();
  const auto on_device = torch::TensorOptions().device(context_.device);
  EpochSums sums;
  for (size_t k = 0; k < networks_.size(); ++k) {
    sums.loss.push_back(torch::zeros({}, on_device.dtype(torch::kFloat64)));
    sums.correct.push_back(torch::zeros({}, on_device.dtype(torch::kInt64)));
    sums.correct_true.push_back(torch::zeros({}, on_device.dtype(torch::kInt64)));
  }
  return sums;
}

void PeerGroup::record(EpochSums& sums, size_t k, const torch::Tensor& loss, const torch::Tensor& logits,
                       const Batch& batch, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  auto predicted = logits.detach().argmax(1);
  sums.loss[k] += loss.detach().to(torch::kFloat64) * batch.labels.size(0);
  sums.correct[k] += predicted.eq(labels).sum();
  if (context_.train->has_true_labels()) {
    auto y_true = context_.train->true_labels.index_select(0, batch.indices).to(context_.device);
    sums.correct_true[k] += predicted.eq(y_true).sum();
  }
}

EpochLog PeerGroup::finish_epoch(const EpochSums& sums) {
  EpochLog log;
  const double seen = static_cast<double>(std::max<int64_t>(sums.seen, 1));
  const bool truth = context_.train->has_true_labels();
  const size_t n = networks_.size();
  double loss = 0, accuracy = 0, true_accuracy = 0;
  std::vector<double> train_accuracy(n), val_accuracy(n);
  for (size_t k = 0; k < n; ++k) {
    train_accuracy[k] = 100.0 * sums.correct[k].item<int64_t>() / seen;
    loss += sums.loss[k].item<double>() / seen / n;
    accuracy += train_accuracy[k] / n;
    if (truth) true_accuracy += 100.0 * sums.correct_true[k].item<int64_t>() / seen / n;
  }
  log.add("lr", optimizers_.at(0)->param_groups().at(0).options().get_lr());
  log.add("train_loss", loss);
  log.add("train_accuracy", accuracy);
  if (truth) log.add("train_true_accuracy", true_accuracy);
  if (n < 2) return log;
  const bool have_val = context_.val && context_.val->size() > 0;
  for (size_t k = 0; k < n; ++k) {
    log.add(fmt::format("net{}_train_accuracy", k), train_accuracy[k]);
    if (have_val) {
      val_accuracy[k] = accuracy_percent(
          predict_probabilities(*networks_[k], *context_.val, context_.device, context_.eval_batch_size),
          context_.val->labels);
      log.add(fmt::format("net{}_val_accuracy", k), val_accuracy[k]);
    }
    if (context_.test && context_.test->size() > 0) {
      // Reported only, never used to choose.
      log.add(fmt::format("net{}_test_accuracy", k),
              accuracy_percent(predict_probabilities(*networks_[k], *context_.test, context_.device,
                                                     context_.eval_batch_size),
                               context_.test->labels));
    }
  }
  if (test_network_option_ >= 0) {
    chosen_ = test_network_option_;
  } else if (have_val) {
    chosen_ = 0;
    for (size_t k = 1; k < n; ++k) {
      if (val_accuracy[k] > val_accuracy[chosen_]) chosen_ = static_cast<int64_t>(k);
    }
  }
  log.add("test_network", static_cast<double>(chosen_));
  return log;
}

}  // namespace winnow
