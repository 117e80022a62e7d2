"""winnow's models as torch.nn modules, for the model.pt a winnow run writes.

Every `winnow train` run writes model.pt: the state dict of its test-time network (the one
predict() applies; for a rule that averages two networks, the first). Parameter names and
shapes match these modules exactly, so in Python:

    import torch, winnow_torch
    model = winnow_torch.load("runs/x/model.pt", "mlp", in_features=784, num_classes=10)
    logits = model(x)          # x normalised as the run normalised it (data.normalize)

load() builds the module, loads the state dict strictly and returns it in eval mode. The
modules cover every model of `winnow list`; the forward passes are winnow's (src/models/*.cpp):

    model            class           shape arguments (besides num_classes)
    mlp              Mlp             in_features (C*H*W of a sample), hidden (default [256])
    cnn4             Cnn4            channels, height, width (default 1x28x28)
    lenet5           LeNet5          channels, height, width (default 1x28x28)
    cnn9             Cnn9            channels (default 1), tail_kernel (model.tail_kernel, 3)
    resnet18         ResNet18        channels (default 1; 3 for CIFAR)
    preact_resnet18  PreActResNet18  channels (default 1; 3 for CIFAR)

cnn9 and the ResNets pool globally (adaptive average pooling), so they take any image size
the run's network took; they also accept height and width (ignored) so that one call fits
every convolutional model. Dropout (cnn9's model.dropout) acts in training mode only, as in
winnow; the batch norms are torch's defaults (eps 1e-5, momentum 0.1), as winnow's. No model
normalises its input: feed inputs normalised as the run normalised them.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    """winnow's `mlp`: fc1..fcK with ReLU, then `classifier` (model.hidden, default [256])."""

    def __init__(self, in_features, num_classes, hidden=(256,)):
        super().__init__()
        widths = [in_features] + list(hidden)
        for i in range(len(hidden)):
            self.add_module(f"fc{i + 1}", nn.Linear(widths[i], widths[i + 1]))
        self.hidden = len(hidden)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        h = x.flatten(1)
        for i in range(self.hidden):
            h = F.relu(getattr(self, f"fc{i + 1}")(h))
        return self.classifier(h)


class Cnn4(nn.Module):
    """winnow's `cnn4`: 2x [conv3x3 - BN - ReLU - maxpool2], fc 128 - BN - ReLU, classifier."""

    def __init__(self, num_classes, channels=1, height=28, width=28):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * (height // 4) * (width // 4), 128)
        self.bn3 = nn.BatchNorm1d(128)
        self.classifier = nn.Linear(128, num_classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        h = F.max_pool2d(F.relu(self.bn2(self.conv2(h))), 2)
        return self.classifier(F.relu(self.bn3(self.fc1(h.flatten(1)))))


class LeNet5(nn.Module):
    """winnow's `lenet5`: conv5 (6, padded to keep 28x28) - pool - conv5 (16) - pool - 120 - 84."""

    def __init__(self, num_classes, channels=1, height=28, width=28):
        super().__init__()
        pad = 2 if height < 32 or width < 32 else 0
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=pad)
        self.conv2 = nn.Conv2d(6, 16, 5)
        h = ((height + 2 * pad - 4) // 2 - 4) // 2
        w = ((width + 2 * pad - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(16 * h * w, 120)
        self.fc2 = nn.Linear(120, 84)
        self.classifier = nn.Linear(84, num_classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.relu(self.fc2(F.relu(self.fc1(h.flatten(1)))))
        return self.classifier(h)


class Cnn9(nn.Module):
    """winnow's `cnn9`, the 9-layer CNN of Co-teaching: c1..c9 each followed by bn1..bn9 and
    LeakyReLU(0.01); 2x2 max pool and channel dropout after c3 and c6; c1-c6 3x3 with padding
    1, c7 3x3 unpadded, c8 and c9 tail_kernel x tail_kernel unpadded; global average pool,
    `classifier`."""

    CHANNELS = ((None, 128), (128, 128), (128, 128), (128, 256), (256, 256), (256, 256),
                (256, 512), (512, 256), (256, 128))

    def __init__(self, num_classes, channels=1, height=None, width=None, tail_kernel=3,
                 dropout=0.25):
        super().__init__()
        if tail_kernel not in (1, 3):
            raise ValueError(f"tail_kernel = {tail_kernel}: must be 3 or 1")
        self.dropout = dropout
        for i, (cin, cout) in enumerate(self.CHANNELS):
            kernel = 3 if i < 7 else tail_kernel
            padding = 1 if i < 6 else 0
            self.add_module(f"c{i + 1}", nn.Conv2d(cin or channels, cout, kernel, padding=padding))
            self.add_module(f"bn{i + 1}", nn.BatchNorm2d(cout))
        self.classifier = nn.Linear(128, num_classes)

    def features(self, x):
        h = x
        for i in range(9):
            h = getattr(self, f"c{i + 1}")(h)
            h = F.leaky_relu(getattr(self, f"bn{i + 1}")(h), 0.01)
            if i in (2, 5):
                h = F.dropout2d(F.max_pool2d(h, 2), self.dropout, training=self.training)
        return F.adaptive_avg_pool2d(h, 1).flatten(1)

    def forward(self, x):
        return self.classifier(self.features(x))


def _conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """ResNet-18's block: relu(bn1(conv1)) - bn2(conv2), plus the shortcut (identity, or
    shortcut.0 1x1 conv + shortcut.1 BN), then ReLU."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = _conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))
        else:
            self.shortcut = None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class PreActBlock(nn.Module):
    """Pre-activation block: relu(bn1(x)) - conv1 - relu(bn2) - conv2, plus the shortcut
    (identity, or shortcut.0, a 1x1 conv without BN applied to relu(bn1(x))); no ReLU after."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = _conv3x3(cin, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, 1)
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False))
        else:
            self.shortcut = None

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return out + shortcut


class _ResNet18(nn.Module):
    """winnow's CIFAR-form ResNet-18 skeleton: conv1 (3x3, stride 1) - bn1 - ReLU, no max
    pool, layer1..layer4 of two blocks (64, 128, 256, 512 channels, stride 2 from layer2),
    global average pool, `classifier`."""

    block = None

    def __init__(self, num_classes, channels=1, height=None, width=None):
        super().__init__()
        self.conv1 = _conv3x3(channels, 64, 1)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for stage, planes in enumerate((64, 128, 256, 512)):
            blocks = []
            for b in range(2):
                blocks.append(self.block(cin, planes, 2 if stage > 0 and b == 0 else 1))
                cin = planes
            self.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
        self.classifier = nn.Linear(512, num_classes)

    def features(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        return F.adaptive_avg_pool2d(h, 1).flatten(1)

    def forward(self, x):
        return self.classifier(self.features(x))


class ResNet18(_ResNet18):
    """winnow's `resnet18` (He et al. 2016, CIFAR form), basic blocks."""

    block = BasicBlock


class PreActResNet18(_ResNet18):
    """winnow's `preact_resnet18` (He et al., ECCV 2016; DivideMix's PreResNet18) as winnow
    builds it: the stem's bn1-ReLU, pre-activation blocks, and no BN-ReLU before the pool."""

    block = PreActBlock


MODELS = {"mlp": Mlp, "cnn4": Cnn4, "lenet5": LeNet5, "cnn9": Cnn9, "resnet18": ResNet18,
          "preact_resnet18": PreActResNet18}


def load(path, model, **shape):
    """The module `model` (a key of MODELS: every model of `winnow list`) with the weights of
    a run's model.pt, in eval mode. shape: mlp needs in_features, num_classes (and hidden if
    not [256]); the others num_classes and, where the run's input was not 1x28x28, channels
    (cnn4 and lenet5 also height, width; cnn9 tail_kernel if model.tail_kernel was 1)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; winnow_torch has {', '.join(MODELS)}")
    module = MODELS[model](**shape)
    module.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
    return module.eval()
