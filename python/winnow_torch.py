"""winnow's models as torch.nn modules, for the model.pt a winnow run writes.

Every `winnow train` run writes model.pt: the state dict of its test-time network (the one
predict() applies; for a rule that averages two networks, the first). Parameter names and
shapes match these modules exactly, so in Python:

    import torch, winnow_torch
    model = winnow_torch.load("runs/x/model.pt", "mlp", in_features=784, num_classes=10)
    logits = model(x)          # x normalised as the run normalised it (data.normalize)

load() builds the module, loads the state dict strictly and returns it in eval mode. The
modules cover mlp (any hidden widths), cnn4 and lenet5; the forward passes are winnow's
(src/models/*.cpp).
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


def load(path, model, **shape):
    """The module `model` ("mlp", "cnn4", "lenet5") with the weights of a run's model.pt.
    shape: mlp needs in_features, num_classes (and hidden if not [256]); the others
    num_classes (and channels, height, width if not 1x28x28)."""
    make = {"mlp": Mlp, "cnn4": Cnn4, "lenet5": LeNet5}[model]
    module = make(**shape)
    module.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
    return module.eval()
