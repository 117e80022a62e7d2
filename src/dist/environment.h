#pragma once
// Integers from the job's environment (RANK, WORLD_SIZE, MASTER_PORT, ...), read alike by the
// workers (process_group.cpp) and the `--nproc` launcher (launch.cpp).
#include <cstdlib>
#include <optional>

#include "winnow/core/error.h"

namespace winnow::dist::detail {

// The variable `name` as an integer in [lowest, highest]; `fallback` when it is unset (an
// error naming the variables a job needs when there is none). Malformed or out of range: an
// error naming it.
inline int env_int(const char* name, int lowest, int highest, std::optional<int> fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) {
    require(fallback.has_value(), "{} is not set: a multi-process job needs RANK, WORLD_SIZE, MASTER_ADDR "
            "and MASTER_PORT (as torchrun sets them), or `winnow train --nproc N`", name);
    return *fallback;
  }
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  require(end && *end == '\0' && value >= lowest && value <= highest,
          "environment variable {}={}: expected an integer in [{}, {}]", name, text, lowest, highest);
  return static_cast<int>(value);
}

}  // namespace winnow::dist::detail
