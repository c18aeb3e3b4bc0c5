"""A variational autoencoder in the style of pytorch/examples' ``vae/main.py``, small and fast.

    python benchmarks/coursework/vae.py [--epochs 2] [--train-size 1024] [--data DIR]

A plain PyTorch program (``import torch``): ``tests/test_coursework.py`` runs this same file on
minigen with only its imports changed. Its own map-style ``Dataset`` reads MNIST's IDX files
(by default the real digits bundled with minigen) and, as many students' datasets do, returns
NumPy values: ``(float32 array (1, 28, 28) in [0, 1], the label as a NumPy uint8)``, which
the DataLoader's default collation turns into tensors.
"""

import argparse
import gzip
from pathlib import Path

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

SAMPLE = Path(__file__).resolve().parents[2] / "minigen" / "data" / "mnist_sample"


def read_idx(path):
    """An IDX file (gzipped) as a uint8 array: images (N, 28, 28), labels (N,)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def to_unit_interval(image):
    """uint8 (28, 28) -> float32 (1, 28, 28) in [0, 1], as torchvision's ToTensor."""
    return image[None].astype(np.float32) / np.float32(255)


class Digits(torch.utils.data.Dataset):
    def __init__(self, root, split="train", transform=to_unit_interval, size=None):
        prefix = {"train": "train", "test": "t10k"}[split]
        self.images = read_idx(Path(root) / f"{prefix}-images-idx3-ubyte.gz")[:size]
        self.labels = read_idx(Path(root) / f"{prefix}-labels-idx1-ubyte.gz")[:size]
        self.transform = transform

    def __len__(self):
        return self.labels.shape[0]

    def __getitem__(self, idx):
        return self.transform(self.images[idx]), self.labels[idx]


class VAE(nn.Module):
    def __init__(self, hidden=200, latent=10):
        super().__init__()

        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return BCE + KLD


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(f'Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} '
                  f'({100. * batch_idx / len(train_loader):.0f}%)]\t'
                  f'Loss: {loss.item() / len(data):.6f}')

    train_loss /= len(train_loader.dataset)
    print(f'====> Epoch: {epoch} Average loss: {train_loss:.4f}')
    return train_loss


def test(args, model, device, test_loader):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(-1, 1, 28, 28)[:n]])
                assert comparison.shape == (2 * n, 1, 28, 28)

    test_loss /= len(test_loader.dataset)
    print(f'====> Test set loss: {test_loss:.4f}')
    return test_loss


def main(argv=None):
    parser = argparse.ArgumentParser(description='VAE MNIST Example (small)')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N')
    parser.add_argument('--epochs', type=int, default=2, metavar='N')
    parser.add_argument('--no-cuda', action='store_true', default=False)
    parser.add_argument('--seed', type=int, default=1, metavar='S')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N')
    parser.add_argument('--data', default=str(SAMPLE), help='folder of the IDX files')
    parser.add_argument('--train-size', type=int, default=1024)
    parser.add_argument('--test-size', type=int, default=500)
    args = parser.parse_args(argv)
    args.cuda = not args.no_cuda and torch.cuda.is_available()

    torch.manual_seed(args.seed)

    device = torch.device("cuda" if args.cuda else "cpu")

    kwargs = {'num_workers': 1, 'pin_memory': True} if args.cuda else {}
    train_loader = torch.utils.data.DataLoader(
        Digits(args.data, "train", size=args.train_size),
        batch_size=args.batch_size, shuffle=True, **kwargs)
    test_loader = torch.utils.data.DataLoader(
        Digits(args.data, "test", size=args.test_size),
        batch_size=args.batch_size, shuffle=True, **kwargs)

    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    history = {'train_loss': [], 'test_loss': []}
    for epoch in range(1, args.epochs + 1):
        history['train_loss'].append(train(args, model, device, train_loader, optimizer, epoch))
        history['test_loss'].append(test(args, model, device, test_loader))
        with torch.no_grad():
            sample = torch.randn(64, model.fc3.in_features).to(device)
            sample = model.decode(sample).cpu()
            assert sample.shape == (64, 784)
    return history


if __name__ == "__main__":
    main()
