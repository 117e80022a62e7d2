// DGD: grafting + distillation. A frozen teacher (a `standard` run) distils into `peers`
// students with the Hinton et al. (2015) loss, and the students graft among themselves after
// every epoch as in filter grafting (Meng et al., CVPR 2020). The loop is grafting.cpp's.
#include "peer_group.h"

namespace winnow {
namespace {

WINNOW_REGISTER(MethodRegistry, "dgd",
                "grafting + distillation: a teacher (a standard run) distils into N students that graft "
                "(peers 2, temperature 4, alpha 0.9)",
                [](const TrainContext& context, Config& config) { return make_grafting(context, config, true); });

}  // namespace
}  // namespace winnow
