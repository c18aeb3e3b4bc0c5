"""A digit classifier in the style of pytorch/examples' ``mnist/main.py``, small and fast.

    python benchmarks/coursework/classifier.py [--epochs 1] [--train-size 1024] [--data DIR]

A plain PyTorch program (``import torch``): ``tests/test_coursework.py`` runs this same file on
minigen with only its imports changed. Its own map-style ``Dataset`` reads the IDX files
(``train-images-idx3-ubyte.gz`` ...) from ``--data``, by default the 4,000 + 1,000 real MNIST
digits bundled with minigen, and returns ``(transform(image), int label)``: the transform is
torchvision's ``ToTensor()`` then ``Normalize((0.1307,), (0.3081,))``, written out.
"""

import argparse
import gzip
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset

SAMPLE = Path(__file__).resolve().parents[2] / "minigen" / "data" / "mnist_sample"


def read_idx(path):
    """An IDX file (gzipped) as a uint8 array: images (N, 28, 28), labels (N,)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


class MNISTDigits(Dataset):
    """MNIST from a folder of IDX files; ``dataset[i]`` is ``(transform(image), label)``."""

    def __init__(self, root, train=True, transform=None, size=None):
        prefix = "train" if train else "t10k"
        self.images = read_idx(Path(root) / f"{prefix}-images-idx3-ubyte.gz")[:size]
        self.labels = read_idx(Path(root) / f"{prefix}-labels-idx1-ubyte.gz")[:size]
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])


def to_normalized_tensor(image):
    """uint8 (28, 28) -> float32 (1, 28, 28), standardised with MNIST's mean and std."""
    x = torch.tensor(image, dtype=torch.float32).div(255).unsqueeze(0)
    return (x - 0.1307) / 0.3081


class Net(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, 1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(2 * width * 12 * 12, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % args.log_interval == 0:
            print(f'Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} '
                  f'({100. * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}')
            if args.dry_run:
                break
    return losses


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    accuracy = correct / len(test_loader.dataset)
    print(f'\nTest set: Average loss: {test_loss:.4f}, '
          f'Accuracy: {correct}/{len(test_loader.dataset)} ({100. * accuracy:.0f}%)\n')
    return test_loss, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example (small)')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N')
    parser.add_argument('--test-batch-size', type=int, default=500, metavar='N')
    parser.add_argument('--epochs', type=int, default=2, metavar='N')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M')
    parser.add_argument('--no-accel', action='store_true', help='disables the accelerator')
    parser.add_argument('--dry-run', action='store_true', help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N')
    parser.add_argument('--save-model', default=None, metavar='PATH')
    parser.add_argument('--data', default=str(SAMPLE), help='folder of the IDX files')
    parser.add_argument('--train-size', type=int, default=1024)
    parser.add_argument('--test-size', type=int, default=1000)
    args = parser.parse_args(argv)

    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    train_kwargs = {'batch_size': args.batch_size, 'shuffle': True}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_accel:
        accel_kwargs = {'num_workers': 1, 'pin_memory': True}
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)

    dataset1 = MNISTDigits(args.data, train=True, transform=to_normalized_tensor,
                           size=args.train_size)
    dataset2 = MNISTDigits(args.data, train=False, transform=to_normalized_tensor,
                           size=args.test_size)
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    history = {'train_loss': [], 'test_loss': [], 'accuracy': []}
    for epoch in range(1, args.epochs + 1):
        history['train_loss'] += train(args, model, device, train_loader, optimizer, epoch)
        test_loss, accuracy = test(model, device, test_loader)
        history['test_loss'].append(test_loss)
        history['accuracy'].append(accuracy)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), args.save_model)
    return history


if __name__ == '__main__':
    main()
