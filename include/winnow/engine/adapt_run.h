#pragma once
// The run of a domain-adaptation method (act, cluster_baseline; adapt/adaptation.h): source
// training, then rounds of clustering the target and training on its pseudo-labels, with
// retrieval evaluation on the target test split after the source model and every round.
// `winnow train` comes here when method.name names such a method. The run folder holds:
//   config.toml        the fully resolved configuration
//   metrics.jsonl      one line per source epoch ("phase": "source") and per round ("phase":
//                      "round"; round 0 is the source model): clusters, outliers, cluster
//                      quality against the hidden identities, remember rate, the label
//                      precision of selected and rejected outliers, mAP and Rank-k
//   summary.json       target_map, target_rank1 (percent), the per-round history
//   pseudo_labels.csv  the last round's pseudo-label of every target sample
//   checkpoint/        the last finished source epoch or round (resume continues there)
#include <string>

#include <nlohmann/json.hpp>

#include "winnow/core/config.h"
#include "winnow/engine/trainer.h"

namespace winnow {

// RunOptions::stop_after_epochs counts source epochs and rounds alike.
RunResult run_adaptation(Config& config, const RunOptions& options);

// Retrieval scores (mAP, Rank-1/5/10) of a finished or interrupted adaptation run's last
// checkpoint on its target test split (`winnow evaluate`).
nlohmann::json evaluate_adaptation_run(const std::string& run_dir, Config& config);

// Reads and validates every key of an adaptation run without loading data; returns the
// resolved configuration (--print-config, resolve_without_data).
std::string resolve_adaptation_config(Config& config);

}  // namespace winnow
