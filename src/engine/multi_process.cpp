#include "multi_process.h"

#include <functional>
#include <sstream>

#include "winnow/dist/data_parallel.h"

namespace winnow {
namespace {

std::string checksum(const torch::Tensor& t) {
  if (!t.defined() || t.numel() == 0) return "empty";
  auto values = t.to(torch::kCPU, torch::kFloat64);
  // The plain sum and a position-weighted one: a permutation of the rows changes the second.
  auto weights = torch::arange(1, values.numel() + 1, torch::kFloat64).remainder(1009).add(1);
  return fmt::format("{}:{:.6g}:{:.6g}", fmt::join(t.sizes(), "x"), values.sum().item<double>(),
                     (values.reshape({-1}) * weights).sum().item<double>());
}

}  // namespace

std::string config_fingerprint(const Config& config) {
  std::ostringstream text;
  text << config.raw();
  return fmt::format("{:016x}", std::hash<std::string>{}(text.str()));
}

std::string data_fingerprint(const PreparedData& data) {
  return fmt::format("train {} labels {}; val {}; test {}", checksum(data.train.inputs), checksum(data.train.labels),
                     checksum(data.val.labels), data.test ? checksum(data.test->labels) : "none");
}

EpochLog average_log(const EpochLog& log) {
  std::vector<double> values;
  for (const auto& [key, value] : log.values()) values.push_back(value);
  values = dist::average_values(values);
  EpochLog out;
  for (size_t i = 0; i < values.size(); ++i) out.add(log.values()[i].first, values[i]);
  return out;
}

}  // namespace winnow
