#include "winnow/losses/loss.h"

namespace winnow {

std::shared_ptr<Loss> make_loss(const LossSpec& spec, Config& config) {
  std::string name = config.get<std::string>("loss.name", "ce");
  return LossRegistry::instance().get(name).factory(spec, config);
}

}  // namespace winnow
