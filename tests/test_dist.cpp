// Multi-process data parallelism (dist/): the pieces in one process, then real jobs of two
// processes on loopback through the command line: the same training as one process, every
// method's run folder, a killed rank, and bad launches.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_helpers.h"
#include "winnow/core/error.h"
#include "winnow/dist/data_parallel.h"
#include "winnow/dist/process_group.h"
#include "winnow/dist/sync_batch_norm.h"
#include "winnow/report/files.h"
#include "winnow/report/npy.h"

using namespace winnow;
using winnow_test::read_lines;
using winnow_test::run_cli;
using winnow_test::TempDir;

namespace {

// 1500 Fashion-MNIST samples, 40% symmetric noise, the mlp (no dropout, no batch norm: one
// process and two compute the same function of the same global batches).
const std::string kRun =
    "--set data.name=fashion-mnist --set data.subset=1500 --set data.val_fraction=0.2 "
    "--set noise.type=symmetric --set noise.rate=0.4 --set model.name=mlp --set train.epochs=2 "
    "--set train.batch_size=64 --set train.seed=7 --set train.threads=1 --quiet --dist-timeout 60";

// An unused TCP port on loopback (the kernel's pick; free again once the socket closes).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// clean_score by sample index from a samples.csv.
std::map<int64_t, double> clean_scores(const std::string& path) {
  std::map<int64_t, double> out;
  auto rows = read_lines(path);
  for (size_t i = 1; i < rows.size(); ++i) {
    std::stringstream row(rows[i]);
    std::vector<std::string> f;
    for (std::string field; std::getline(row, field, ',');) f.push_back(field);
    out[std::stoll(f[1])] = std::stod(f[6]);
  }
  return out;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1); else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1); else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(Dist, ShardsAreBalancedContiguousAndCoverEveryRow) {
  for (int64_t rows : {2, 7, 64, 65, 127}) {
    for (int world : {1, 2, 3, 4}) {
      if (rows < world) continue;
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        auto shard = dist::shard_of(rows, r, world);
        EXPECT_EQ(shard.begin, next);
        EXPECT_GE(shard.size(), rows / world);
        EXPECT_LE(shard.size(), rows / world + 1);
        next = shard.end;
      }
      EXPECT_EQ(next, rows);
    }
  }
}

TEST(Dist, OneProcessIsTheIdentity) {
  ASSERT_EQ(dist::world_size(), 1);
  auto x = torch::arange(10);
  EXPECT_TRUE(torch::equal(dist::take_shard(x), x));
  auto mapped = dist::map_rows(torch::arange(10).unsqueeze(1).to(torch::kFloat32), 3, torch::kCPU,
                               [](const torch::Tensor& t) { return t * 2; });
  EXPECT_TRUE(torch::equal(mapped.squeeze(1), torch::arange(10).to(torch::kFloat32) * 2));
  EXPECT_EQ(dist::average_values({1.5, 2.0}), (std::vector<double>{1.5, 2.0}));
  EXPECT_EQ(dist::sum_across_ranks(5), 5);
  EXPECT_EQ(dist::broadcast_string("x", "key"), "x");
  EXPECT_NO_THROW(dist::require_same("anything", "a"));
}

TEST(Dist, JobFromTheEnvironment) {
  {
    ScopedEnv world("WORLD_SIZE", nullptr);
    EXPECT_FALSE(dist::job_from_environment().has_value());
  }
  ScopedEnv world("WORLD_SIZE", "2"), rank("RANK", "1"), local("LOCAL_RANK", "1"), local_world("LOCAL_WORLD_SIZE", "2"),
      addr("MASTER_ADDR", "10.0.0.5"), port("MASTER_PORT", "29501"), hosted("WINNOW_STORE_HOSTED", nullptr);
  auto job = dist::job_from_environment();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->rank, 1);
  EXPECT_EQ(job->world_size, 2);
  EXPECT_EQ(job->local_rank, 1);
  EXPECT_EQ(job->local_world_size, 2);
  EXPECT_EQ(job->master_addr, "10.0.0.5");
  EXPECT_EQ(job->master_port, 29501);
  EXPECT_FALSE(job->store_hosted);
  {
    ScopedEnv bad("RANK", "2");
    try {
      dist::job_from_environment();
      FAIL() << "RANK=2 in a world of 2 was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("RANK=2"), std::string::npos) << e.what();
    }
  }
  {
    ScopedEnv bad("MASTER_PORT", "http");
    EXPECT_THROW(dist::job_from_environment(), Error);
  }
  {
    ScopedEnv none("MASTER_ADDR", nullptr);
    EXPECT_THROW(dist::job_from_environment(), Error);
  }
}

// The global-batch normalisation, in one process, is torch's batch norm: output, input and
// parameter gradients, and the running statistics.
TEST(Dist, SyncedBatchNormIsBatchNormOfTheWholeBatch) {
  torch::manual_seed(3);
  auto x = torch::randn({6, 4, 5, 5}).mul(2).add(1).requires_grad_(true);
  auto weight = torch::rand({4}).add(0.5).requires_grad_(true);
  auto bias = torch::randn({4}).requires_grad_(true);
  auto running_mean = torch::zeros({4}), running_var = torch::ones({4});
  auto tracked = torch::zeros({}, torch::kLong);
  auto y = dist::synced_batch_norm(x, running_mean, running_var, tracked, weight, bias, 0.1, 1e-5);
  auto probe = torch::randn_like(y);
  auto grads = torch::autograd::grad({(y * probe).sum()}, {x, weight, bias});

  auto x2 = x.detach().clone().requires_grad_(true);
  auto w2 = weight.detach().clone().requires_grad_(true), b2 = bias.detach().clone().requires_grad_(true);
  auto mean2 = torch::zeros({4}), var2 = torch::ones({4});
  auto y2 = torch::batch_norm(x2, w2, b2, mean2, var2, /*training=*/true, 0.1, 1e-5, false);
  auto grads2 = torch::autograd::grad({(y2 * probe).sum()}, {x2, w2, b2});
  EXPECT_TRUE(torch::allclose(y, y2, 1e-4, 1e-5));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(grads[i], grads2[i], 1e-3, 1e-4)) << i;
  EXPECT_TRUE(torch::allclose(running_mean, mean2, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(running_var, var2, 1e-5, 1e-6));
  EXPECT_EQ(tracked.item<int64_t>(), 1);
}

// The standard method in 2 processes, global batch 64 (32 per rank), against 1 process with
// batch 64: the same steps up to the order of float sums.
TEST(DistJob, TwoProcessesTrainAsOneDoes) {
  TempDir dir("dist");
  auto one = run_cli("train " + kRun + " --out " + (dir / "one"));
  ASSERT_EQ(one.status, 0) << one.output;
  auto two = run_cli("train --nproc 2 " + kRun + " --out " + (dir / "two"));
  ASSERT_EQ(two.status, 0) << two.output;

  auto summary_one = read_json(dir / "one/summary.json");
  auto summary_two = read_json(dir / "two/summary.json");
  EXPECT_EQ(summary_one["world_size"], 1);
  EXPECT_EQ(summary_two["world_size"], 2);
  EXPECT_NEAR(summary_two["final_test_accuracy"].get<double>(), summary_one["final_test_accuracy"].get<double>(), 0.3);
  auto metrics_one = read_lines(dir / "one/metrics.jsonl");
  auto metrics_two = read_lines(dir / "two/metrics.jsonl");
  ASSERT_EQ(metrics_one.size(), 2u);
  ASSERT_EQ(metrics_two.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    auto a = nlohmann::json::parse(metrics_one[e]);
    auto b = nlohmann::json::parse(metrics_two[e]);
    EXPECT_NEAR(b["train_loss"].get<double>(), a["train_loss"].get<double>(), 1e-4 * a["train_loss"].get<double>());
    EXPECT_NEAR(b["val_loss"].get<double>(), a["val_loss"].get<double>(), 1e-3 * a["val_loss"].get<double>());
    EXPECT_GT(b["all_reduce_megabytes"].get<double>(), 0.0);
  }
  // Every sample's clean score, gathered from both ranks, matches the one-process run.
  auto scores_one = clean_scores(dir / "one/samples.csv");
  auto scores_two = clean_scores(dir / "two/samples.csv");
  ASSERT_EQ(scores_one.size(), 1200u);
  ASSERT_EQ(scores_two.size(), 1200u);
  double worst = 0;
  for (const auto& [index, score] : scores_one) worst = std::max(worst, std::abs(scores_two.at(index) - score));
  EXPECT_LT(worst, 2e-3);

  // fp16 gradient compression: half the all-reduce bytes, and close to (not equal to) one process.
  auto half = run_cli("train --nproc 2 " + kRun + " --set train.gradient_compression=fp16 --out " + (dir / "half"));
  ASSERT_EQ(half.status, 0) << half.output;
  auto last_one = nlohmann::json::parse(metrics_one.back());
  auto last_half = nlohmann::json::parse(read_lines(dir / "half/metrics.jsonl").back());
  auto last_two = nlohmann::json::parse(metrics_two.back());
  EXPECT_NEAR(last_half["all_reduce_megabytes"].get<double>(), last_two["all_reduce_megabytes"].get<double>() / 2, 1e-6);
  EXPECT_NEAR(last_half["val_loss"].get<double>(), last_one["val_loss"].get<double>(), 1e-2 * last_one["val_loss"].get<double>());
  EXPECT_EQ(read_json(dir / "half/summary.json")["gradient_compression"], "fp16");
}

// A batch-norm model (cnn4, fp32) with train.sync_batchnorm: two processes normalise over the
// global batch and train as one process does.
TEST(DistJob, SyncBatchNormTrainsAsOneProcessDoes) {
  TempDir dir("dist");
  // 640 + 200 synthetic 28x28 images (a class-dependent pattern plus noise): a fast test set.
  torch::manual_seed(5);
  for (const auto& [split, n] : {std::pair<std::string, int64_t>{"train", 640}, {"test", 200}}) {
    auto labels = torch::randint(0, 10, {n}, torch::kInt64);
    auto patterns = torch::randn({10, 1, 28, 28});
    write_npy(dir / (split + "_x.npy"), patterns.index_select(0, labels) + torch::randn({n, 1, 28, 28}));
    write_npy(dir / (split + "_y.npy"), labels);
  }
  const std::string run = kRun + " --set data.name=custom --set data.format=npy --set data.subset=0 --set data.train=" +
                          (dir / "train_x.npy") + " --set data.train_labels=" + (dir / "train_y.npy") +
                          " --set data.test=" + (dir / "test_x.npy") + " --set data.test_labels=" +
                          (dir / "test_y.npy") + " --set data.num_classes=10 --set model.name=cnn4 --set train.epochs=1 "
                          "--set train.precision=fp32 --set train.sync_batchnorm=true";
  auto one = run_cli("train " + run + " --out " + (dir / "one"));
  ASSERT_EQ(one.status, 0) << one.output;
  auto two = run_cli("train --nproc 2 " + run + " --out " + (dir / "two"));
  ASSERT_EQ(two.status, 0) << two.output;
  auto a = nlohmann::json::parse(read_lines(dir / "one/metrics.jsonl").at(0));
  auto b = nlohmann::json::parse(read_lines(dir / "two/metrics.jsonl").at(0));
  EXPECT_NEAR(b["train_loss"].get<double>(), a["train_loss"].get<double>(), 1e-4 * a["train_loss"].get<double>());
  EXPECT_NEAR(b["val_loss"].get<double>(), a["val_loss"].get<double>(), 2e-3 * a["val_loss"].get<double>());
  EXPECT_EQ(read_json(dir / "two/summary.json")["sync_batchnorm"], true);
}

// The other methods run in two processes and write a complete run folder.
TEST(DistJob, SelectionAndCollaborativeMethodsRun) {
  TempDir dir("dist");
  for (const std::string method : {"coteaching_plus", "dividemix", "dml"}) {
    std::string extra = " --set method.name=" + method;
    if (method == "dividemix") extra += " --set method.warm_up=1";
    auto result = run_cli("train --nproc 2 " + kRun + extra + " --out " + (dir / method));
    ASSERT_EQ(result.status, 0) << method << ": " << result.output;
    auto summary = read_json(dir / (method + "/summary.json"));
    EXPECT_EQ(summary["world_size"], 2) << method;
    EXPECT_GT(summary["final_test_accuracy"].get<double>(), 40.0) << method;
    EXPECT_EQ(read_lines(dir / (method + "/samples.csv")).size(), 1201u) << method;
  }
}

TEST(DistJob, AKilledRankStopsTheJobWithAClearErrorAndTheCheckpointSurvives) {
  TempDir dir("dist");
  const std::string out = dir / "run";
  // Long enough to be killed in the middle: 20 epochs of the mlp.
  const std::string command = std::string(WINNOW_CLI_PATH) + " train --nproc 2 " + kRun +
                              " --set train.epochs=20 --out " + out + " > " + (dir / "log.txt") + " 2>&1";
  const pid_t launcher = ::fork();
  if (launcher == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait for the first checkpoint, then kill rank 1 (found by its RANK=1 environment).
  const auto start = std::chrono::steady_clock::now();
  while (!std::filesystem::exists(out + "/checkpoint/trainer.json") &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(out + "/checkpoint/trainer.json")) << winnow::read_text(dir / "log.txt");
  pid_t victim = -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::stringstream rest(line.substr(close + 2));
    std::string state;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent != launcher) continue;
    std::ifstream environ(entry.path() / "environ");
    std::string env((std::istreambuf_iterator<char>(environ)), std::istreambuf_iterator<char>());
    if (env.find(std::string("RANK=1") + '\0') != std::string::npos && env.find("LOCAL_RANK=1") != std::string::npos) {
      victim = std::stoi(name);
    }
  }
  ASSERT_GT(victim, 0) << "rank 1 of the launcher " << launcher << " not found";
  ::kill(victim, SIGKILL);
  int status = 0;
  const auto killed_at = std::chrono::steady_clock::now();
  ::waitpid(launcher, &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  const std::string log = winnow::read_text(dir / "log.txt");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << log;
  EXPECT_LT(seconds, 30.0) << "the job took " << seconds << " s to stop after a rank was killed";
  EXPECT_NE(log.find("rank 1 of 2 (pid " + std::to_string(victim) + ") was killed by signal 9"), std::string::npos)
      << log;
  // The last good checkpoint is intact: the run resumes (in two processes) to the end.
  auto resumed = run_cli("train --nproc 2 --resume " + out + " --quiet --set train.epochs=3");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
}

TEST(DistJob, BadLaunchesAreClearErrors) {
  TempDir dir("dist");
  // Ranks started by hand (torchrun's variables) with different configs: both refuse.
  const int port = free_port();
  const std::string base = std::string(WINNOW_CLI_PATH) + " train " + kRun + " --out " + (dir / "run");
  auto rank_command = [&](int rank, const std::string& extra) {
    return fmt::format("WORLD_SIZE=2 RANK={} MASTER_ADDR=127.0.0.1 MASTER_PORT={} {} {} > {} 2>&1", rank, port,
                       base, extra, dir / ("rank" + std::to_string(rank) + ".txt"));
  };
  const int status = std::system((rank_command(0, "") + " & " + rank_command(1, "--set train.seed=8") + "; wait").c_str());
  (void)status;
  const std::string rank0 = winnow::read_text(dir / "rank0.txt");
  const std::string rank1 = winnow::read_text(dir / "rank1.txt");
  EXPECT_NE((rank0 + rank1).find("the ranks disagree on the configuration"), std::string::npos) << rank0 << rank1;

  // --nproc on a port that is taken.
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = 0;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::listen(fd, 1);
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    // With the port pinned there, the launcher cannot serve the store.
    auto pinned = run_cli("train --nproc 2 " + kRun + " --out " + (dir / "pinned"),
                          fmt::format("MASTER_PORT={}", ntohs(address.sin_port)));
    ::close(fd);
    EXPECT_NE(pinned.status, 0);
    EXPECT_NE(pinned.output.find("cannot serve the rendezvous store"), std::string::npos) << pinned.output;
    EXPECT_NE(pinned.output.find("MASTER_PORT"), std::string::npos) << pinned.output;
  }
  // --nproc inside a job.
  auto nested = run_cli("train --nproc 2 " + kRun + " --out " + (dir / "nested"),
                        fmt::format("WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT={}", port));
  EXPECT_NE(nested.status, 0);
  EXPECT_NE(nested.output.find("--nproc 2 starts its own processes"), std::string::npos) << nested.output;
}
