#include "winnow/models/network.h"

namespace winnow {

std::shared_ptr<Network> make_model(const ModelSpec& spec, Config& config) {
  std::string name = config.get<std::string>("model.name", "mlp");
  return ModelRegistry::instance().get(name).factory(spec, config);
}

}  // namespace winnow
