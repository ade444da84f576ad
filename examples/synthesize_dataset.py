"""Synthesise a paired dataset (GoPro layout) from sharp photos, reproducibly from a seed.

    python examples/synthesize_dataset.py [OUT_DIR]
"""

import sys
from pathlib import Path

from pydeblur import sample_image
from pydeblur.io import imread, imwrite
from pydeblur.synth import PSFSampler, synthesize_folder
from pydeblur.viz import montage

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples-out")
photos = out / "sharp_photos"
for name in ("astronaut", "coffee", "chelsea"):
    path = photos / f"{name}.png"
    if not path.exists():
        imwrite(path, sample_image(name))
manifest = synthesize_folder(photos, out / "pairs", per_image=2, seed=0,
                             sampler=PSFSampler(["trajectory", "motion", "defocus"], max_size=25),
                             noise_sigma=0.01, gamma=2.2, jpeg_quality=90, progress=False)
print(f"{len(manifest)} pairs in {out / 'pairs'} (re-running resumes and reuses them)")
blurs = sorted((out / "pairs").glob("*/blur/*.png"))[:4]
panels = [imread(p)[:200, :200] for p in blurs]
path = imwrite(out / "dataset.png", montage(panels, [p.parent.parent.name for p in blurs]), overwrite=True)
print(f"wrote {path}")
