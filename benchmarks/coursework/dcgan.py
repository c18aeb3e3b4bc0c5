"""A DCGAN in the style of pytorch/examples' ``dcgan/main.py``, on 28x28 digits, tiny and fast.

    python benchmarks/coursework/dcgan.py [--niter 1] [--train-size 512] [--outf DIR]

A plain PyTorch program (``import torch``): ``tests/test_coursework.py`` runs this same file on
minigen with only its imports changed. Its own map-style ``Dataset`` reads MNIST's IDX files
(by default the real digits bundled with minigen) and returns ``(image, label)`` with the image
scaled to [-1, 1] for the generator's tanh: torchvision's ``ToTensor()`` then
``Normalize((0.5,), (0.5,))``, written out. The networks are the example's, for 28x28 images
(three layers each instead of five) and narrow (``--ngf 8 --ndf 8``).
"""

import argparse
import gzip
import os
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data

SAMPLE = Path(__file__).resolve().parents[2] / "minigen" / "data" / "mnist_sample"


def read_idx(path):
    """An IDX file (gzipped) as a uint8 array: images (N, 28, 28), labels (N,)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


class Compose:
    """torchvision's transforms.Compose: the transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


def to_tensor(image):
    """uint8 (28, 28) -> float32 (1, 28, 28) in [0, 1]."""
    return torch.from_numpy(image.astype(np.float32) / 255.0).unsqueeze(0)


def normalize(x, mean=0.5, std=0.5):
    return (x - mean) / std


class DigitImages(torch.utils.data.Dataset):
    def __init__(self, root, transform=None, size=None):
        self.images = read_idx(Path(root) / "train-images-idx3-ubyte.gz")[:size]
        self.labels = read_idx(Path(root) / "train-labels-idx1-ubyte.gz")[:size]
        self.transform = transform

    def __getitem__(self, index):
        image, target = self.images[index], int(self.labels[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, target

    def __len__(self):
        return len(self.images)


# custom weights initialization called on netG and netD
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, ngpu, nz, ngf, nc=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 7 x 7
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 14 x 14
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 28 x 28
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output


class Discriminator(nn.Module):
    def __init__(self, ngpu, ndf, nc=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is (nc) x 28 x 28
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 14 x 14
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 7 x 7
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)

        return output.view(-1, 1).squeeze(1)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--dataroot', default=str(SAMPLE), help='folder of the IDX files')
    parser.add_argument('--workers', type=int, help='number of data loading workers', default=2)
    parser.add_argument('--batchSize', type=int, default=64, help='input batch size')
    parser.add_argument('--nz', type=int, default=16, help='size of the latent z vector')
    parser.add_argument('--ngf', type=int, default=8)
    parser.add_argument('--ndf', type=int, default=8)
    parser.add_argument('--niter', type=int, default=2, help='number of epochs to train for')
    parser.add_argument('--lr', type=float, default=0.0002, help='learning rate')
    parser.add_argument('--beta1', type=float, default=0.5, help='beta1 for adam')
    parser.add_argument('--cuda', action='store_true', default=False, help='enables cuda')
    parser.add_argument('--dry-run', action='store_true', help='check a single training cycle')
    parser.add_argument('--ngpu', type=int, default=1, help='number of GPUs to use')
    parser.add_argument('--outf', default=None, help='folder for model checkpoints')
    parser.add_argument('--manualSeed', type=int, default=1, help='manual seed')
    parser.add_argument('--train-size', type=int, default=512)
    opt = parser.parse_args(argv)
    print(opt)

    if opt.outf is not None:
        os.makedirs(opt.outf, exist_ok=True)
    random.seed(opt.manualSeed)
    torch.manual_seed(opt.manualSeed)

    if torch.cuda.is_available() and not opt.cuda:
        print("WARNING: You have a CUDA device, so you should probably run with --cuda")

    dataset = DigitImages(opt.dataroot, size=opt.train_size,
                          transform=Compose([to_tensor, normalize]))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize,
                                             shuffle=True, num_workers=int(opt.workers))
    device = torch.device("cuda:0" if opt.cuda else "cpu")
    ngpu, nz = int(opt.ngpu), int(opt.nz)

    netG = Generator(ngpu, nz, int(opt.ngf)).to(device)
    netG.apply(weights_init)
    netD = Discriminator(ngpu, int(opt.ndf)).to(device)
    netD.apply(weights_init)

    criterion = nn.BCELoss()

    fixed_noise = torch.randn(opt.batchSize, nz, 1, 1, device=device)
    real_label = 1.
    fake_label = 0.

    # setup optimizer
    optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

    history = {'loss_D': [], 'loss_G': [], 'D_x': [], 'D_G_z': [], 'fake_mean': []}
    for epoch in range(opt.niter):
        for i, data in enumerate(dataloader, 0):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = data[0].to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label,
                               dtype=real_cpu.dtype, device=device)

            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            # train with fake
            noise = torch.randn(batch_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            print(f'[{epoch}/{opt.niter}][{i}/{len(dataloader)}] Loss_D: {errD.item():.4f} '
                  f'Loss_G: {errG.item():.4f} D(x): {D_x:.4f} '
                  f'D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}')
            history['loss_D'].append(errD.item())
            history['loss_G'].append(errG.item())
            history['D_x'].append(D_x)
            history['D_G_z'].append(D_G_z1)
            with torch.no_grad():
                history['fake_mean'].append(netG(fixed_noise).mean().item())

            if opt.dry_run:
                break
        # do checkpointing
        if opt.outf is not None:
            torch.save(netG.state_dict(), f'{opt.outf}/netG_epoch_{epoch}.pth')
            torch.save(netD.state_dict(), f'{opt.outf}/netD_epoch_{epoch}.pth')
    return history


if __name__ == '__main__':
    main()
