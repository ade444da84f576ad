"""Train a small SRN-DeblurNet for a few dozen steps on synthetic blur (a smoke run; the
shipped weights took 49 minutes), then restore a photo with it.

    python examples/train_network.py [OUT_DIR]
"""

import sys
from pathlib import Path

import numpy as np

from pydeblur import SRNDeblur, degrade, psf, psnr, sample_image
from pydeblur.io import imwrite
from pydeblur.nets import SyntheticBlurDataset
from pydeblur.synth import PSFSampler
from pydeblur.viz import montage

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples-out")
photos = out / "train_photos"
for name in ("astronaut", "coffee", "chelsea", "rocket"):
    if not (photos / f"{name}.png").exists():
        imwrite(photos / f"{name}.png", sample_image(name))
sampler = PSFSampler(["trajectory"], max_size=13)
train = SyntheticBlurDataset(photos, crop=64, length=4 * 8, sampler=sampler, noise_sigma=(0.0, 0.01), seed=0)
net = SRNDeblur(size="small", epochs=3, steps_per_epoch=8, batch_size=4, crop_size=64, lr=5e-4,
                progress=False).fit_dataset(train)
for record in net.history_:
    print(record)
blurry, sharp, _ = degrade(sample_image("camera")[100:356, 100:356], psf=psf.trajectory(13, rng=4),
                           noise_sigma=0.01, rng=0)
restored = np.clip(net.restore(blurry), 0, 1)
print(f"after {3 * 8} steps: blurry {psnr(blurry, sharp):.2f} dB, restored {psnr(restored, sharp):.2f} dB")
net.save(out / "srn-tiny.safetensors", overwrite=True)
path = imwrite(out / "train_network.png", montage([blurry, restored], ["blurry", "SRN after 24 steps"]),
               overwrite=True)
print(f"wrote {out / 'srn-tiny.safetensors'} and {path}")
